package sources

import "testing"

// FuzzDecode: splitting, limiting, decoding and merging arbitrary bytes never panics, and
// what is merged never holds one object twice.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\n---\nkind: List\nitems: [{}]\n"))
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Service"}]}`))
	f.Add([]byte("---\n--- # c\n- a\n"))
	f.Add([]byte("{apiVersion: v1, kind: Service, metadata: {name: a}}\n---\n{apiVersion: v1, kind: Service, metadata: {name: a}}\n"))
	f.Add([]byte("apiVersion: networking.k8s/v1\nkind: ingress\nmetadata: {name: a}\nspec: {rules: [{http: {paths: [{backend: {service: {port: {number: 99999999999}}}}]}}]}\n"))
	f.Add([]byte(`[{"apiVersion":"v1","kind":"Secret","data":{"a":"!"}},{"kind":"Ingres","metadata":{"name":"x"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs := documentsOf("fuzz", data, Options{MaxDocumentSize: 4096})
		results := make([]decoded, len(docs))
		for i, d := range docs {
			results[i] = decodeDocument(d)
		}
		l := merge([][]decoded{results}, Options{})
		seen := map[string]bool{}
		for _, o := range l.Input.Ingresses {
			if key := o.Namespace + "/" + o.Name; seen[key] {
				t.Fatalf("Ingress %s kept twice", key)
			} else {
				seen[key] = true
			}
		}
		_, _, _ = peekIdentity(data, false)
		_, _, _ = peekIdentity(data, true)
	})
}
