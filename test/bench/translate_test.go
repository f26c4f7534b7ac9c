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
