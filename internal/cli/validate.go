package cli

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/validation"
)

// registerValidateFlag registers --validate, off by default for report and convert alike:
// running the CRDs' own schemas and CEL rules (package validation) costs far more than the
// conversion. On the 5,000-Ingress benchmark input (about 16,000 objects: 10,000 HTTPRoutes,
// 78 ListenerSets of 64 listeners) it takes about 8 s more CPU time than the whole report
// without it (1.3 s): ~0.2 ms per object for decoding and the OpenAPI schema, ~0.6 ms per
// HTTPRoute, ~30 ms per ListenerSet of 64 listeners, whose uniqueness rules compare every
// pair of listeners. That is far beyond the 25% a default may cost, so validation is asked
// for, as a dry run before applying.
func registerValidateFlag(fs *flag.FlagSet, v *bool, isReport bool) {
	const what = "check every object against the CRDs' OpenAPI schemas and CEL rules as the API server would, offline"
	if isReport {
		fs.BoolVar(v, "validate", false, what+", and report what it would refuse (slow on large inputs: 5,000 Ingresses take about 4 s more on 2 idle cores, 8 s of CPU time)")
		return
	}
	fs.BoolVar(v, "validate", false, what+", and leave out what it would refuse (slow on large inputs: 5,000 Ingresses take about 4 s more on 2 idle cores, 8 s of CPU time)")
}

// validationHeadroom is how much memory validation may take above what the process holds
// when it starts before the garbage collector runs: the schema and CEL evaluation allocate
// ~200 KB of short-lived garbage per object, and collecting it at the command's usual pace
// (GOGC 75) costs ~30% more CPU time, while a fixed headroom keeps the peak bounded
// whatever the input size (5,000 Ingresses: +75 MB peak RSS).
const validationHeadroom = 128 << 20

// gcPolicy is the garbage collector's setting while some validation runs: the first
// collectLess changes it, the last restore puts the saved settings back, so overlapping
// calls (tests run commands concurrently) never leave the process with the collector off.
var gcPolicy struct {
	sync.Mutex
	users   int
	percent int
	limit   int64
}

// collectLess lets the heap grow by validationHeadroom before the garbage collector runs,
// unless GOGC or GOMEMLIMIT are set; the returned function restores the settings (call it
// once).
func collectLess() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gcPolicy.Lock()
	defer gcPolicy.Unlock()
	gcPolicy.users++
	if gcPolicy.users == 1 {
		gcPolicy.limit = debug.SetMemoryLimit(heldMemory() + validationHeadroom)
		gcPolicy.percent = debug.SetGCPercent(-1)
	}
	return sync.OnceFunc(func() {
		gcPolicy.Lock()
		defer gcPolicy.Unlock()
		if gcPolicy.users--; gcPolicy.users == 0 {
			debug.SetGCPercent(gcPolicy.percent)
			debug.SetMemoryLimit(gcPolicy.limit)
		}
	})
}

// heldMemory is the memory the Go runtime holds, counted as the memory limit counts it:
// everything it mapped less what it gave back to the OS.
func heldMemory() int64 {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(sample)
	return int64(sample[0].Value.Uint64()) - int64(sample[1].Value.Uint64())
}

// validateOutput, when enabled, checks every object of res offline against the CRDs' own
// schemas and CEL rules (package validation: what kube-apiserver runs on create) and takes
// out of res what the API server would refuse, so that neither convert's output nor the
// report promise an object that `kubectl apply` would reject. The problems become findings
// of severity error (see refuseInvalidObjects). It returns the problems found.
func validateOutput(res *converters.Result, enabled bool) []validation.Problem {
	if !enabled {
		return nil
	}
	defer collectLess()()
	problems := validation.Validate(customObjects(res.Objects))
	if len(problems) > 0 {
		refuseInvalidObjects(res, problems)
	}
	return problems
}

// customObjects are the objects of CRD kinds, which the validator has schemas for: the
// ConfigMaps --portable emits (a BackendTLSPolicy's CA, free-form data under a name the
// converter checks) are left out.
func customObjects(objs []client.Object) []client.Object {
	out := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		if _, ok := o.(*corev1.ConfigMap); !ok {
			out = append(out, o)
		}
	}
	return out
}

// objectKey names an emitted object.
type objectKey struct{ kind, namespace, name string }

func (k objectKey) String() string {
	if k.namespace == "" {
		return k.kind + " " + k.name
	}
	return k.kind + " " + k.namespace + "/" + k.name
}

// refuseInvalidObjects applies the problems to res:
//   - an object made for one or more Ingresses (IngressReport.Objects) refuses those
//     Ingresses: each gets a finding per problem, the verdict refused, and none of its
//     objects is emitted — a partial conversion would serve some of its paths and not others;
//     an Ingress that shares an object left out this way is refused too;
//   - a shared object (the Gateway, a ListenerSet, a ReferenceGrant, the Gateway-level
//     policy) is left out and each problem is a global finding.
//
// The totals follow.
func refuseInvalidObjects(res *converters.Result, problems []validation.Problem) {
	invalid := map[objectKey][]validation.Problem{}
	for _, p := range problems {
		k := objectKey{p.Kind, p.Namespace, p.Name}
		invalid[k] = append(invalid[k], p)
	}
	owners := map[objectKey][]int{}
	for i, ir := range res.Report.Ingresses {
		for _, o := range ir.Objects {
			k := objectKey{o.Kind, o.Namespace, o.Name}
			owners[k] = append(owners[k], i)
		}
	}
	rep := &res.Report
	drop := map[objectKey]bool{}
	refused := map[int]bool{}
	var refuse func(i int)
	refuse = func(i int) {
		if refused[i] {
			return
		}
		refused[i] = true
		for _, o := range rep.Ingresses[i].Objects {
			k := objectKey{o.Kind, o.Namespace, o.Name}
			drop[k] = true
			// Another Ingress whose routes hold this object loses it too.
			for _, j := range owners[k] {
				if j != i && !refused[j] {
					rep.Ingresses[j].Findings = append(rep.Ingresses[j].Findings, converters.Finding{Severity: converters.SeverityError,
						Message: fmt.Sprintf("%s is shared with Ingress %s/%s, which is not converted: the API server would refuse one of its objects; this Ingress is not converted either and its traffic stays on ingress-nginx",
							k, rep.Ingresses[i].Namespace, rep.Ingresses[i].Name)})
					refuse(j)
				}
			}
		}
	}
	keys := make([]objectKey, 0, len(invalid))
	for k := range invalid {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
	for _, k := range keys {
		drop[k] = true
		idx := owners[k]
		for _, p := range invalid[k] {
			if len(idx) == 0 {
				rep.Global = append(rep.Global, converters.Finding{Field: k.String() + " " + p.Field, Severity: converters.SeverityError,
					Message: fmt.Sprintf("the API server would refuse %s: %s; it is left out of the output, so whatever uses it does not work — this is a gatebridge bug, please report it with the input", k, apiWords(p))})
				continue
			}
			for _, i := range idx {
				rep.Ingresses[i].Findings = append(rep.Ingresses[i].Findings, converters.Finding{Severity: converters.SeverityError,
					Message: fmt.Sprintf("the API server would refuse %s, made from this Ingress: %s; nothing of this Ingress is emitted and its traffic stays on ingress-nginx — change the Ingress value that ends up there, and report it as a gatebridge bug", k, apiWords(p))})
			}
		}
		for _, i := range idx {
			refuse(i)
		}
	}
	for i := range refused {
		markRefused(rep, i)
	}
	kept := res.Objects[:0]
	for _, o := range res.Objects {
		k := objectKey{o.GetObjectKind().GroupVersionKind().Kind, o.GetNamespace(), o.GetName()}
		if drop[k] {
			if rep.Totals.Objects[k.kind]--; rep.Totals.Objects[k.kind] <= 0 {
				delete(rep.Totals.Objects, k.kind)
			}
			continue
		}
		kept = append(kept, o)
	}
	clear(res.Objects[len(kept):])
	res.Objects = kept
}

// markRefused makes Ingress i refused, with no objects, and keeps the totals right.
func markRefused(rep *converters.Report, i int) {
	ir := &rep.Ingresses[i]
	t := &rep.Totals
	switch ir.Verdict {
	case converters.VerdictExact:
		t.Exact--
	case converters.VerdictApproximate:
		t.Approximate--
	case converters.VerdictAttention:
		t.Attention--
	case converters.VerdictRefused:
		t.Refused--
	}
	t.Refused++
	ir.Verdict = converters.VerdictRefused
	if ir.Portable {
		ir.Portable = false
		t.Portable--
	}
	ir.Objects = []converters.ObjectRef{}
}

// apiWords is a problem as the API server words it: "field: message".
func apiWords(p validation.Problem) string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
}
