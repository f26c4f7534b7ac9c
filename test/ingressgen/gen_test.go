package ingressgen

import (
	"reflect"
	"strings"
	"testing"
)

// TestSetForIsReproducible: a set is a function of (seed, index) alone, so a failure is
// reproduced from the two numbers a test logs.
func TestSetForIsReproducible(t *testing.T) {
	for i := 0; i < 50; i++ {
		a, b := SetFor(7, i), SetFor(7, i)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("set %d differs between two calls", i)
		}
	}
	if reflect.DeepEqual(SetFor(7, 1).Input, SetFor(8, 1).Input) {
		t.Error("seeds 7 and 8 give the same set 1")
	}
}

// TestAnnotationValuesCoverTheCatalog: every catalog annotation is drawn from, and most get
// both valid and invalid candidate values.
func TestAnnotationValuesCoverTheCatalog(t *testing.T) {
	both := 0
	for _, av := range catalogValues {
		if len(av.valid) == 0 && len(av.invalid) == 0 {
			t.Errorf("%s has no candidate values", av.name)
		}
		if len(av.valid) > 0 && len(av.invalid) > 0 {
			both++
		}
	}
	if both < len(catalogValues)/3 {
		t.Errorf("only %d of %d annotations get both valid and invalid values", both, len(catalogValues))
	}
	if len(Annotations()) != len(catalogValues) || !strings.Contains(strings.Join(Annotations(), ","), "rewrite-target") {
		t.Errorf("Annotations() = %v", Annotations())
	}
}
