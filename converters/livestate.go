package converters

import (
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// The migration state read back from a cluster. The controller writes it on every Ingress
// it converts (gatebridge.dev/state); `gatebridge report --kubeconfig` reads it here, in
// the converter's package, so that the command-line binary does not link the controller
// (cmd/gatebridge's doc comment says why that matters).

// MigrationFailed is the state of an Ingress asked to migrate whose objects the controller
// could not write (its StateFailed): the conversion alone never gives it.
const MigrationFailed MigrationState = "failed"

// ConvertDropIn is Convert of DropIn(in, class): the conversion as the controller makes it,
// Ingresses of a gatebridge IngressClass included, with opts.IngressClass ("nginx" when
// empty) the class converted.
func ConvertDropIn(in Input, opts Options) Result {
	// DropIn records each drop-in Ingress's own class, which its report keeps.
	return Convert(DropIn(in, opts.withDefaults().IngressClass), opts)
}

// WeightFromState is the native share a gatebridge.dev/state value says ("migrating 25%":
// 25, "native": 100), and whether it says one.
func WeightFromState(state string) (int, bool) {
	if state == string(MigrationNative) {
		return 100, true
	}
	rest, ok := strings.CutPrefix(state, string(MigrationMigrating)+" ")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(rest, "%"))
	if err != nil || n < 0 || n > 100 {
		return 0, false
	}
	return n, true
}

// MigrationFromState reads a gatebridge.dev/state value back ("migrating 25%", "native",
// "observed", "refused", "failed"); false for anything else.
func MigrationFromState(state string) (Migration, bool) {
	switch s := MigrationState(state); s {
	case MigrationObserved, MigrationRefused, MigrationFailed:
		return Migration{State: s}, true
	case MigrationNative:
		return Migration{State: s, Weight: 100}, true
	}
	if n, ok := WeightFromState(state); ok {
		return Migration{State: MigrationMigrating, Weight: n}, true
	}
	return Migration{}, false
}

// LiveMigrations sets, in a report of a cluster's Ingresses (`gatebridge report
// --kubeconfig`), the migration state of each Ingress to the one the controller wrote on
// it (gatebridge.dev/state): what is in force, failed writes included, rather than what
// the annotations ask for. Ingresses without the annotation keep what the conversion said.
func LiveMigrations(ings []networkingv1.Ingress, r *Report) {
	byKey := make(map[string]*networkingv1.Ingress, len(ings))
	for i := range ings {
		byKey[ings[i].Namespace+"/"+ings[i].Name] = &ings[i]
	}
	for i := range r.Ingresses {
		rep := &r.Ingresses[i]
		ing := byKey[rep.Namespace+"/"+rep.Name]
		if ing == nil || rep.Verdict == VerdictSkipped {
			continue
		}
		m, ok := MigrationFromState(ing.Annotations[gbv1.StateAnnotation])
		if !ok {
			continue
		}
		m.Sticky = m.State == MigrationMigrating && ing.Annotations[gbv1.StickyAnnotation] == "true"
		rep.Migration = &m
	}
}
