package sources

import "testing"

// FuzzDecode: splitting and decoding arbitrary bytes never panics.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\n---\nkind: List\nitems: [{}]\n"))
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Service"}]}`))
	f.Add([]byte("---\n--- # c\n- a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range splitDocuments("fuzz", data) {
			_ = decodeDocument(d)
		}
	})
}
