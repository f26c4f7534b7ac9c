package dataplane

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// TestSortedValuesWithPrevious: sorting with the previous result as a hint gives the full
// sort's result, whatever was added, removed or replaced since.
func TestSortedValuesWithPrevious(t *testing.T) {
	type res struct{ name, v string }
	name := func(r *res) string { return r.name }
	rng := rand.New(rand.NewSource(1))
	m := map[string]*res{}
	var prev []*res
	for step := range 200 {
		for range rng.Intn(5) {
			n := fmt.Sprintf("r%03d", rng.Intn(300))
			switch rng.Intn(3) {
			case 0:
				delete(m, n)
			default:
				m[n] = &res{n, fmt.Sprint(step)}
			}
		}
		got := sortedValues(m, prev, name, nil)
		want := sortedValues(m, nil, name, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("step %d: with the previous order %v, want %v", step, got, want)
		}
		prev = got
	}
}
