package converters

import (
	"cmp"
	"math/rand"
	"slices"
	"testing"
)

// TestSortIndicesIsTheSequentialSort: sorting on all cores (runs sorted apart, then
// merged) gives the order one sequential sort gives, with many equal keys.
func TestSortIndicesIsTheSequentialSort(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 1, 100, parallelSortMin, parallelSortMin*3 + 7} {
		keys := make([]int, n)
		for i := range keys {
			keys[i] = r.Intn(50)
		}
		compare := func(i, j int) int { return cmp.Or(cmp.Compare(keys[i], keys[j]), i-j) }
		want, got := make([]int, n), make([]int, n)
		for i := range want {
			want[i], got[i] = i, i
		}
		r.Shuffle(n, func(i, j int) { got[i], got[j] = got[j], got[i] })
		slices.SortFunc(want, compare)
		sortIndices(got, compare)
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: parallel sort differs from the sequential one", n)
		}
	}
}
