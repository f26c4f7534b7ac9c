package bench

import (
	"fmt"
	"testing"

	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// BenchmarkTranslate is full translation of 1,000 and 10,000 HTTPRoutes (2 rules each,
// 200 hostnames) to Envoy resources.
func BenchmarkTranslate(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			m := GenerateRoutes(n, 8080)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				out := dataplane.Translate(m, dataplane.Options{})
				if len(out.Problems) > 0 {
					b.Fatalf("problems: %v", out.Problems[0])
				}
			}
		})
	}
}

// BenchmarkTranslateOneChange is the translation after one HTTPRoute changed, by a
// Translator that remembers the previous translation (what `gatebridge run` and the
// controller do).
func BenchmarkTranslateOneChange(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			m := GenerateRoutes(n, 8080)
			tr := dataplane.NewTranslator(dataplane.Options{})
			tr.Translate(m)
			b.ReportAllocs()
			b.ResetTimer()
			c := 0
			for b.Loop() {
				i := (c * 7919) % n
				m.HTTPRoutes[i] = Route(i, fmt.Sprintf("change-%d", c))
				c++
				if out := tr.Translate(m); len(out.Problems) > 0 {
					b.Fatalf("problems: %v", out.Problems[0])
				}
			}
		})
	}
}
