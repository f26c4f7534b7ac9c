package validation_test

import (
	"fmt"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/test/bench"
	"github.com/gatebridge-dev/gatebridge/validation"
)

// benchObjects is what convert emits for n generated benchmark Ingresses (test/bench), the
// input of hack/bench.sh.
func benchObjects(n int) []client.Object {
	ings, svcs := bench.Generate(n)
	return converters.Convert(converters.Input{Ingresses: ings, Services: svcs}, converters.Options{}).Objects
}

// BenchmarkValidateBenchInput validates convert's output for 1,000 benchmark Ingresses, all
// kinds together and each kind alone, with the validator as used (memoised) and with the CEL
// validators as the library builds them (library), for comparison under the same load.
func BenchmarkValidateBenchInput(b *testing.B) {
	objs := benchObjects(1000)
	var kinds []string
	var firsts []client.Object // one object of each kind
	byKind := map[string][]client.Object{}
	for _, o := range objs {
		k := o.GetObjectKind().GroupVersionKind().Kind
		if byKind[k] == nil {
			kinds = append(kinds, k)
			firsts = append(firsts, o)
		}
		byKind[k] = append(byKind[k], o)
	}
	library, err := validation.NewLibraryCEL()
	if err != nil {
		b.Fatal(err)
	}
	for _, variant := range []struct {
		name string
		v    *validation.Validator
	}{{"memoised", validation.Default()}, {"library", library}} {
		v := variant.v
		b.Run(variant.name, func(b *testing.B) {
			v.Validate(firsts) // build the kinds' validators once
			run := func(name string, objs []client.Object) {
				b.Run(fmt.Sprintf("%s/n=%d", name, len(objs)), func(b *testing.B) {
					b.ReportAllocs()
					cpu0 := cpuTime()
					for b.Loop() {
						if p := v.Validate(objs); len(p) > 0 {
							b.Fatalf("problems: %v", p[0])
						}
					}
					// CPU time (all threads, GC included) says more than wall time on a
					// shared machine.
					b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N*len(objs)), "cpu-µs/object")
				})
			}
			run("all", objs)
			for _, k := range kinds {
				run(k, byKind[k])
			}
		})
	}
}
