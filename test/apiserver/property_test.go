package apiserver

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/gatebridge-dev/gatebridge/annotations"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/parallel"
	"github.com/gatebridge-dev/gatebridge/test/ingressgen"
)

var (
	propertySeed = flag.Int64("property-seed", 0, "seed of the random Ingress sets (0: $GATEBRIDGE_PROPERTY_SEED, else a new one, logged)")
	propertySets = flag.Int("property-sets", 0, "number of random Ingress sets (0: $GATEBRIDGE_PROPERTY_SETS, else 2000)")
	propertySet  = flag.Int("property-set", -1, "check only this set of the seed and log its input (-1: $GATEBRIDGE_PROPERTY_SET, else all)")
)

// propertyConfig resolves the flags, then the environment, then the defaults.
func propertyConfig(t *testing.T) (seed int64, sets, only int) {
	t.Helper()
	seed, sets, only = *propertySeed, *propertySets, *propertySet
	envInt := func(name string) (int64, bool) {
		v := os.Getenv(name)
		if v == "" {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q is not an integer", name, v)
		}
		return n, true
	}
	if seed == 0 {
		if n, ok := envInt("GATEBRIDGE_PROPERTY_SEED"); ok {
			seed = n
		} else {
			seed = time.Now().UnixNano() % 1_000_000_007
		}
	}
	if sets == 0 {
		sets = 2000
		if n, ok := envInt("GATEBRIDGE_PROPERTY_SETS"); ok {
			sets = int(n)
		}
	}
	if only < 0 {
		if n, ok := envInt("GATEBRIDGE_PROPERTY_SET"); ok {
			only = int(n)
		}
	}
	return seed, sets, only
}

// propertyCase is one generated set, converted.
type propertyCase struct {
	set     ingressgen.Set
	out     *converted
	err     error
	invalid []string // property violations found without the API server
}

// TestRandomIngressSetsAreAccepted converts a few thousand random Ingress sets (hostile hosts,
// paths, pathTypes, annotations of the catalog with valid and invalid values, Services with
// named and numbered ports, TLS, canaries, default backends) and checks that
//   - every emitted object is accepted by the API server (server-side dry run, strict fields),
//     and offline validation agrees with it;
//   - no object is emitted twice;
//   - a refused Ingress has no object, and a host only refused Ingresses name reaches no
//     Gateway, ListenerSet or route.
//
// The seed is logged; GATEBRIDGE_PROPERTY_SEED=S GATEBRIDGE_PROPERTY_SET=I (or the flags
// -property-seed, -property-set) check one set again and log its input.
func TestRandomIngressSetsAreAccepted(t *testing.T) {
	c := requireAPIServer(t)
	seed, n, only := propertyConfig(t)
	t.Logf("seed %d, %d sets (reproduce: GATEBRIDGE_PROPERTY_SEED=%d GATEBRIDGE_PROPERTY_SET=<set> go test ./test/apiserver -run %s)", seed, n, seed, t.Name())
	start := time.Now()
	indexes := make([]int, 0, n)
	if only >= 0 {
		indexes = append(indexes, only)
	} else {
		for i := 0; i < n; i++ {
			indexes = append(indexes, i)
		}
	}
	cases := make([]propertyCase, len(indexes))
	parallel.For(len(indexes), func(k int) {
		s := ingressgen.SetFor(seed, indexes[k])
		res := converters.Convert(s.Input, s.Options)
		objs, err := emitted(res.Objects)
		cases[k] = propertyCase{set: s, out: &converted{res: res, objects: objs}, err: err}
		if err == nil {
			cases[k].invalid = append(refusedLeaks(s.Input, s.Options, res, objs), converterBugs(res)...)
		}
	})
	converted := time.Since(start)
	if only >= 0 {
		logSetInput(t, cases[0].set)
	}

	var all []*unstructured.Unstructured
	for _, pc := range cases {
		if pc.err == nil {
			all = append(all, pc.out.objects...)
		}
	}
	d := newDryRunner(c)
	verdicts := d.check(all)

	var failures, disagreements []string
	counts := map[string]int{}
	failedSets := map[int]bool{}
	k := 0
	for _, pc := range cases {
		fail := func(msg string) {
			failures = append(failures, pc.set.Name()+": "+msg)
			failedSets[pc.set.Index] = true
		}
		if pc.err != nil {
			fail(pc.err.Error())
			continue
		}
		for _, msg := range pc.invalid {
			fail(msg)
		}
		dups := duplicates(pc.out.objects)
		for i, u := range pc.out.objects {
			v := verdicts[k]
			k++
			counts["objects"]++
			if msg, dup := dups[i]; dup {
				fail(describe(u) + ": " + msg)
			}
			if v.err != nil {
				counts["rejected"]++
				fail(fmt.Sprintf("%s rejected: %v", describe(u), v.err))
			}
			if msg := disagreement(v); msg != "" {
				disagreements = append(disagreements, fmt.Sprintf("%s: %s: %s", pc.set.Name(), describe(u), msg))
			}
		}
		for _, ir := range pc.out.res.Report.Ingresses {
			counts["ingresses"]++
			counts[string(ir.Verdict)]++
		}
	}
	t.Logf("%d sets, %d Ingresses (%d exact, %d approximate, %d needs-attention, %d refused, %d skipped), %d objects emitted, %d distinct sent to the API server, %d rejected; converted in %s, total %s",
		len(cases), counts["ingresses"], counts["exact"], counts["approximate"], counts["needs-attention"], counts["refused"], counts["skipped"],
		counts["objects"], d.requests, counts["rejected"], converted.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if len(failures) > 0 {
		t.Errorf("%d problems in %d of %d sets (seed %d):\n  %s", len(failures), len(failedSets), len(cases), seed, strings.Join(capped(failures, 60), "\n  "))
		var sets []int
		for i := range failedSets {
			sets = append(sets, i)
		}
		sort.Ints(sets)
		t.Logf("failing sets: %v", capped(sets, 40))
	}
	if len(disagreements) > 0 {
		t.Errorf("offline validation disagrees with the API server on %d objects:\n  %s", len(disagreements), strings.Join(capped(disagreements, 40), "\n  "))
	}
}

func capped[T any](xs []T, n int) []T {
	if len(xs) <= n {
		return xs
	}
	return xs[:n]
}

// logSetInput logs a set's input as YAML, for reproducing a failure as a golden case.
func logSetInput(t *testing.T, s ingressgen.Set) {
	t.Helper()
	var docs []string
	add := func(o any) {
		b, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	for i := range s.Input.IngressClasses {
		add(&s.Input.IngressClasses[i])
	}
	for i := range s.Input.Services {
		add(&s.Input.Services[i])
	}
	for i := range s.Input.Secrets {
		add(&s.Input.Secrets[i])
	}
	if s.Input.ControllerConfigMap != nil {
		add(s.Input.ControllerConfigMap)
	}
	for i := range s.Input.Ingresses {
		add(&s.Input.Ingresses[i])
	}
	t.Logf("%s, options %+v, input:\n%s", s.Name(), s.Options, strings.Join(docs, "---\n"))
}

// refusedLeaks checks that refused Ingresses produced nothing: no object listed or labelled
// as theirs, and no host that only refused Ingresses name (in a rule or a TLS section) in a
// listener or route.
func refusedLeaks(in converters.Input, opts converters.Options, res converters.Result, objs []*unstructured.Unstructured) []string {
	var out []string
	verdicts := map[string]converters.Verdict{}
	refused := map[string]bool{}
	for _, ir := range res.Report.Ingresses {
		key := ir.Namespace + "/" + ir.Name
		verdicts[key] = ir.Verdict
		if ir.Verdict == converters.VerdictRefused {
			refused[key] = true
			if len(ir.Objects) > 0 {
				out = append(out, fmt.Sprintf("refused Ingress %s lists %d objects", key, len(ir.Objects)))
			}
		}
	}
	if len(refused) == 0 {
		return out
	}
	claimed := map[string]bool{}      // every host a converted Ingress may name
	refusedHosts := map[string]bool{} // hosts of refused Ingresses
	prefix := opts.AnnotationsPrefix
	if prefix == "" {
		prefix = annotations.DefaultPrefix
	}
	for i := range in.Ingresses {
		ing := &in.Ingresses[i]
		v := verdicts[ing.Namespace+"/"+ing.Name]
		if v == converters.VerdictSkipped {
			continue
		}
		hosts := ingressHostnames(ing)
		if v == converters.VerdictRefused {
			for _, h := range hosts {
				refusedHosts[h] = true
			}
			continue
		}
		for _, a := range strings.Split(ing.Annotations[prefix+"/server-alias"], ",") {
			hosts = append(hosts, strings.ToLower(strings.TrimSpace(a)))
		}
		for _, h := range hosts {
			claimed[h] = true
			claimed["www."+h] = true
			claimed[strings.TrimPrefix(h, "www.")] = true
		}
	}
	for _, u := range objs {
		l := u.GetLabels()
		if key := l[converters.LabelSourceNamespace] + "/" + l[converters.LabelSourceIngress]; refused[key] {
			out = append(out, fmt.Sprintf("%s is labelled as made from refused Ingress %s", describe(u), key))
		}
		for _, h := range objectHostnames(u) {
			h = strings.ToLower(h)
			if refusedHosts[h] && !claimed[h] {
				out = append(out, fmt.Sprintf("%s names host %q, which only refused Ingresses name", describe(u), h))
			}
		}
	}
	return out
}

// ingressHostnames are the hosts of an Ingress's rules and TLS sections, lowercase.
func ingressHostnames(ing *networkingv1.Ingress) []string {
	var out []string
	for _, r := range ing.Spec.Rules {
		out = append(out, strings.ToLower(r.Host))
	}
	for _, t := range ing.Spec.TLS {
		for _, h := range t.Hosts {
			out = append(out, strings.ToLower(h))
		}
	}
	return out
}

// objectHostnames returns the listener hostnames of Gateways and ListenerSets and the
// hostnames of routes.
func objectHostnames(u *unstructured.Unstructured) []string {
	var out []string
	switch u.GetKind() {
	case "Gateway", "ListenerSet":
		ls, _, _ := unstructured.NestedSlice(u.Object, "spec", "listeners")
		for _, l := range ls {
			if m, ok := l.(map[string]any); ok {
				if h, ok := m["hostname"].(string); ok {
					out = append(out, h)
				}
			}
		}
	case "HTTPRoute", "TLSRoute":
		hs, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "hostnames")
		out = append(out, hs...)
	}
	return out
}

// TestOfflineValidationAgreesOnRejections: on objects the API server refuses — hand-made
// ones (ingressgen.InvalidObjects) and emitted objects with one field broken at random
// (ingressgen.Mutate) — offline validation reports the same causes, in the same words.
func TestOfflineValidationAgreesOnRejections(t *testing.T) {
	c := requireAPIServer(t)
	seed, _, _ := propertyConfig(t)
	t.Logf("seed %d", seed)
	var objs []*unstructured.Unstructured
	var what []string
	for _, ic := range ingressgen.InvalidObjects() {
		objs = append(objs, unstructuredOf(ic.Object))
		what = append(what, "hand-made: "+ic.Name)
	}
	r := rand.New(rand.NewSource(seed))
	for i := 0; len(objs) < 600 && i < 400; i++ {
		s := ingressgen.SetFor(seed, i)
		res := converters.Convert(s.Input, s.Options)
		emittedObjs, err := emitted(res.Objects)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range emittedObjs {
			if r.Intn(3) != 0 {
				continue
			}
			m := u.DeepCopy()
			did := ingressgen.Mutate(r, m.Object)
			objs = append(objs, m)
			what = append(what, fmt.Sprintf("%s, %s mutated: %s", s.Name(), describe(u), did))
		}
	}
	d := newDryRunner(c)
	verdicts := d.check(objs)
	rejected := 0
	for i, v := range verdicts {
		if v.err != nil {
			rejected++
		}
		if msg := disagreement(v); msg != "" {
			t.Errorf("%s: %s", what[i], msg)
		}
	}
	for i := range ingressgen.InvalidObjects() {
		if verdicts[i].err == nil {
			t.Errorf("%s: the API server accepts it; the case is not invalid", what[i])
		}
	}
	t.Logf("%d objects (%d hand-made), %d rejected by the API server; offline validation agrees on all but the failures above", len(objs), len(ingressgen.InvalidObjects()), rejected)
}

// converterBugs lists the findings in which the converter reports having dropped an object it
// made twice for one Ingress: its output guard keeps the API server from seeing the
// duplicate, so the dry runs alone would not show that bug.
func converterBugs(res converters.Result) []string {
	var out []string
	for _, ir := range res.Report.Ingresses {
		for _, f := range ir.Findings {
			if strings.Contains(f.Message, "a gatebridge bug") {
				out = append(out, fmt.Sprintf("Ingress %s/%s: %s", ir.Namespace, ir.Name, f.Message))
			}
		}
	}
	return out
}
