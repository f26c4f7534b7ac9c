package converters_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// encodeResult is a Result as bytes: objects as YAML, then the report as JSON.
func encodeResult(t *testing.T, res converters.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := converters.EncodeObjects(&b, res.Objects, "yaml"); err != nil {
		t.Fatal(err)
	}
	rep, err := json.MarshalIndent(res.Report, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b.Write(rep)
	refused, err := json.MarshalIndent(res.RefusedLocations, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b.Write(refused)
	return b.Bytes()
}

// goldenInputs reads every golden case's input and options.
func goldenInputs(t *testing.T) map[string]struct {
	in   converters.Input
	opts converters.Options
} {
	t.Helper()
	cases, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	out := map[string]struct {
		in   converters.Input
		opts converters.Options
	}{}
	for _, path := range cases {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		opts, sopts := caseOptions(t, raw)
		loaded, err := sources.ReadPaths([]string{path}, sopts)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(path), ".in.yaml")] = struct {
			in   converters.Input
			opts converters.Options
		}{loaded.Input, opts}
	}
	return out
}

// TestPartsChangeNothing: converting in parts (tied Ingresses together, the rest apart)
// gives what converting everything as one part gives, for every golden case — the parts
// miss no tie between Ingresses that the cases exercise.
func TestPartsChangeNothing(t *testing.T) {
	for name, c := range goldenInputs(t) {
		got := encodeResult(t, converters.Convert(c.in, c.opts))
		want := encodeResult(t, converters.ConvertAsOnePart(c.in, c.opts))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: in parts:\n%s", name, firstDiff(want, got))
		}
	}
}

// TestIncrementalMatchesConvert edits the Ingresses of every golden case one at a time —
// paths, hosts, names, ages, TLS, aliases, canaries, regex mode, removals, copies — and
// checks after every edit that Incremental gives Convert's bytes.
func TestIncrementalMatchesConvert(t *testing.T) {
	for name, c := range goldenInputs(t) {
		if len(c.in.Ingresses) == 0 {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(name))
		rng := rand.New(rand.NewSource(int64(h.Sum64())))
		inc := converters.NewIncremental(c.opts)
		in := c.in
		in.Ingresses = append([]networkingv1.Ingress(nil), c.in.Ingresses...)
		inc.Convert(in, nil)
		for step := range 16 {
			changed := map[string]bool{}
			what := editIngresses(&in, rng, step, c.opts.AnnotationsPrefix, changed)
			if step%7 == 6 {
				changed = nil // sometimes everything, as after a Service change
			}
			got := encodeResult(t, inc.Convert(in, changed))
			want := encodeResult(t, converters.Convert(in, c.opts))
			if !bytes.Equal(got, want) {
				t.Fatalf("%s, step %d (%s): incremental:\n%s", name, step, what, firstDiff(want, got))
			}
		}
	}
}

// editIngresses makes one random edit of in's Ingresses and names the Ingresses it touched
// in changed.
func editIngresses(in *converters.Input, rng *rand.Rand, step int, prefix string, changed map[string]bool) string {
	if prefix == "" {
		prefix = annotations.DefaultPrefix
	}
	ings := in.Ingresses
	if len(ings) == 0 {
		ings = append(ings, networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "fresh"}})
	}
	i := rng.Intn(len(ings))
	other := &ings[rng.Intn(len(ings))]
	otherHost := "new.example.com"
	if len(other.Spec.Rules) > 0 {
		otherHost = other.Spec.Rules[0].Host
	}
	ing := ings[i].DeepCopy()
	changed[ing.Namespace+"/"+ing.Name] = true
	setAnnotation := func(k, v string) {
		if ing.Annotations == nil {
			ing.Annotations = map[string]string{}
		}
		if _, ok := ing.Annotations[prefix+"/"+k]; ok && v == "" {
			delete(ing.Annotations, prefix+"/"+k)
			return
		}
		ing.Annotations[prefix+"/"+k] = v
	}
	var what string
	switch kind := rng.Intn(12); kind {
	case 0:
		in.Ingresses = append(ings[:i:i], ings[i+1:]...)
		return "remove " + ing.Name
	case 1:
		what = "path"
		for ri := range ing.Spec.Rules {
			if r := &ing.Spec.Rules[ri]; r.HTTP != nil && len(r.HTTP.Paths) > 0 {
				r.HTTP.Paths[0].Path += fmt.Sprintf("/x%d", step)
				break
			}
		}
	case 2:
		what = "host to " + otherHost
		if len(ing.Spec.Rules) > 0 {
			ing.Spec.Rules[0].Host = otherHost
		}
	case 3:
		what = "use-regex"
		setAnnotation("use-regex", map[bool]string{true: "true", false: ""}[rng.Intn(2) == 0])
	case 4:
		ing.Name += fmt.Sprintf("-r%d", step)
		what = "rename to " + ing.Name
	case 5:
		what = "oldest"
		ing.CreationTimestamp = metav1.Unix(int64(step), 0)
	case 6:
		what = "tls"
		if len(ing.Spec.TLS) > 0 {
			ing.Spec.TLS = nil
		} else if len(ing.Spec.Rules) > 0 {
			ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{ing.Spec.Rules[0].Host}, SecretName: fmt.Sprintf("tls-%d", step)}}
		}
	case 7:
		ing.Name += fmt.Sprintf("-copy%d", step)
		what = "copy as " + ing.Name
		changed[ing.Namespace+"/"+ing.Name] = true
		in.Ingresses = append(ings, *ing)
		return what
	case 8:
		what = "canary"
		setAnnotation("canary", map[bool]string{true: "true", false: ""}[rng.Intn(2) == 0])
		setAnnotation("canary-weight", "30")
	case 11:
		what = "takes the first rule of " + other.Name
		if len(other.Spec.Rules) > 0 {
			ing.Spec.Rules = append([]networkingv1.IngressRule{*other.Spec.Rules[0].DeepCopy()}, ing.Spec.Rules...)
		}
	case 9:
		what = "server-alias " + otherHost
		setAnnotation("server-alias", otherHost)
	default:
		what = "from-to-www-redirect"
		setAnnotation("from-to-www-redirect", "true")
	}
	changed[ing.Namespace+"/"+ing.Name] = true
	ings[i] = *ing
	in.Ingresses = ings
	return what
}

// TestIncrementalListenerShift: a TLS host added before the others moves every later
// listener one place, across the Gateway/ListenerSet boundaries, so parts that did not
// change must be rebuilt with their new parentRefs; removing the last objects drops the
// Gateway and the certificate findings that came with it.
func TestIncrementalListenerShift(t *testing.T) {
	prefix := networkingv1.PathTypePrefix
	ingress := func(name, host string, tls bool) networkingv1.Ingress {
		class := "nginx"
		ing := networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, CreationTimestamp: metav1.Unix(1, 0)},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{Host: host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}}}
		if tls {
			ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}}} // no secretName: a certificate finding
		}
		return ing
	}
	opts := converters.Options{MaxListenersPerGateway: 3}
	var in converters.Input
	for i := range 8 {
		in.Ingresses = append(in.Ingresses, ingress(fmt.Sprintf("app-%d", i), fmt.Sprintf("h%d.example.com", i+1), true))
	}
	inc := converters.NewIncremental(opts)
	check := func(what string, changed map[string]bool) {
		t.Helper()
		got := encodeResult(t, inc.Convert(in, changed))
		want := encodeResult(t, converters.Convert(in, opts))
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: incremental:\n%s", what, firstDiff(want, got))
		}
	}
	check("first", nil)
	if res := converters.Convert(in, opts); len(res.Report.Ingresses) != 8 || res.Report.Totals.Exact+res.Report.Totals.Attention != 8 {
		t.Fatalf("the Ingresses are not converted: %+v", res.Report.Totals)
	}
	in.Ingresses = append(in.Ingresses, ingress("first", "a.example.com", true))
	check("TLS host in front", map[string]bool{"default/first": true})
	in.Ingresses = in.Ingresses[:len(in.Ingresses)-1]
	check("TLS host removed", map[string]bool{"default/first": true})
	removed := map[string]bool{}
	for _, ing := range in.Ingresses {
		removed[ing.Namespace+"/"+ing.Name] = true
	}
	kept := in.Ingresses
	in.Ingresses = nil
	check("all removed", removed)
	in.Ingresses = kept
	check("all back", removed)
	other := "other"
	in.Ingresses[0].Spec.IngressClassName = &other
	check("one skipped", map[string]bool{"default/app-0": true})
	// The same Ingress twice (two files list it; a cluster could not): one part, whatever
	// else they share, so that the output stays that of one conversion.
	twice := ingress("app-5", "elsewhere.example.com", false)
	twice.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "elsewhere"
	in.Ingresses = append(in.Ingresses, twice)
	check("duplicate added", map[string]bool{"default/app-5": true})
	in.Ingresses[len(in.Ingresses)-1].Spec.Rules[0].HTTP.Paths[0].Path = "/moved"
	check("duplicate edited", map[string]bool{"default/app-5": true})
}

// TestIncrementalUntoldChanges: an input that changed without being named in changed
// (Ingresses reordered, added or removed) breaks Incremental's contract; it must still not
// give a wrong result, only a full conversion.
func TestIncrementalUntoldChanges(t *testing.T) {
	for name, c := range goldenInputs(t) {
		if len(c.in.Ingresses) < 2 {
			continue
		}
		inc := converters.NewIncremental(c.opts)
		in := c.in
		inc.Convert(in, nil)
		reversed := slices.Clone(c.in.Ingresses)
		slices.Reverse(reversed)
		steps := map[string][]networkingv1.Ingress{
			"reversed":     reversed,
			"last removed": c.in.Ingresses[:len(c.in.Ingresses)-1],
			"first copied": append([]networkingv1.Ingress{*c.in.Ingresses[0].DeepCopy()}, c.in.Ingresses...),
		}
		for _, what := range slices.Sorted(maps.Keys(steps)) {
			in.Ingresses = steps[what]
			got := encodeResult(t, inc.Convert(in, map[string]bool{}))
			want := encodeResult(t, converters.Convert(in, c.opts))
			if !bytes.Equal(got, want) {
				t.Fatalf("%s, %s untold: incremental:\n%s", name, what, firstDiff(want, got))
			}
		}
	}
}

// TestIncrementalCollisions: an Ingress whose object would take another's name is refused
// (convert), and Incremental agrees with Convert when such a collision comes, stays while
// other Ingresses change, and goes.
func TestIncrementalCollisions(t *testing.T) {
	prefix := networkingv1.PathTypePrefix
	ingress := func(name, host string) networkingv1.Ingress {
		class := "nginx"
		return networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, CreationTimestamp: metav1.Unix(1, 0)},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, TLS: []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: name}},
				Rules: []networkingv1.IngressRule{{Host: host,
					IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
						Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}}}
	}
	var in converters.Input
	in.Ingresses = append(in.Ingresses, ingress("shop", "api.shop.com"), ingress("other", "other.example.com"))
	inc := converters.NewIncremental(converters.Options{})
	check := func(what string, changed map[string]bool, refused int) {
		t.Helper()
		res := inc.Convert(in, changed)
		got, want := encodeResult(t, res), encodeResult(t, converters.Convert(in, converters.Options{}))
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: incremental:\n%s", what, firstDiff(want, got))
		}
		if res.Report.Totals.Refused != refused {
			t.Fatalf("%s: %d refused, want %d", what, res.Report.Totals.Refused, refused)
		}
	}
	check("first", nil, 0)
	in.Ingresses = append(in.Ingresses, ingress("shop-api", "shop.com")) // HTTPRoute shop-api-shop-com, as shop's
	check("collision", map[string]bool{"default/shop-api": true}, 1)
	in.Ingresses[1].Spec.Rules[0].HTTP.Paths[0].Path = "/other"
	check("another Ingress edited", map[string]bool{"default/other": true}, 1)
	in.Ingresses[0].Spec.Rules[0].Host = "www.shop.com"
	check("collision gone", map[string]bool{"default/shop": true}, 0)
	in.Ingresses[0].Spec.Rules[0].Host = "api.shop.com"
	check("collision back", map[string]bool{"default/shop": true}, 1)
}

// TestIncrementalListenerNames: a.b.example.com has the listener https-a-b-example-com until
// a-b.example.com, first in hostname order, comes and takes the name; the part of
// a.b.example.com, unchanged, is built again with its new parentRefs, and again when the
// name comes back.
func TestIncrementalListenerNames(t *testing.T) {
	prefix := networkingv1.PathTypePrefix
	ingress := func(name, host string) networkingv1.Ingress {
		class := "nginx"
		return networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, CreationTimestamp: metav1.Unix(1, 0)},
			Spec: networkingv1.IngressSpec{IngressClassName: &class, TLS: []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: name}},
				Rules: []networkingv1.IngressRule{{Host: host,
					IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
						Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}}}
	}
	in := converters.Input{Ingresses: []networkingv1.Ingress{ingress("dots", "a.b.example.com")}}
	inc := converters.NewIncremental(converters.Options{})
	check := func(what string, changed map[string]bool) {
		t.Helper()
		got, want := encodeResult(t, inc.Convert(in, changed)), encodeResult(t, converters.Convert(in, converters.Options{}))
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: incremental:\n%s", what, firstDiff(want, got))
		}
	}
	check("first", nil)
	in.Ingresses = append(in.Ingresses, ingress("dashes", "a-b.example.com"))
	check("a-b.example.com takes the name", map[string]bool{"default/dashes": true})
	in.Ingresses = in.Ingresses[:1]
	check("and gives it back", map[string]bool{"default/dashes": true})
}
