package apiserver

import (
	"fmt"
	"strings"
	"testing"
)

// portableKinds are the kinds convert --portable may emit: the Gateway API's standard
// channel (v1.6.3) and the ConfigMap holding a BackendTLSPolicy's CA.
var portableKinds = map[string]bool{
	"gateway.networking.k8s.io/GatewayClass": true, "gateway.networking.k8s.io/Gateway": true,
	"gateway.networking.k8s.io/ListenerSet": true, "gateway.networking.k8s.io/HTTPRoute": true,
	"gateway.networking.k8s.io/GRPCRoute": true, "gateway.networking.k8s.io/TLSRoute": true,
	"gateway.networking.k8s.io/ReferenceGrant": true, "gateway.networking.k8s.io/BackendTLSPolicy": true,
	"/ConfigMap": true,
}

// TestPortableOutputIsStandardAndAccepted converts every golden case and the real-world
// corpus (whole and file by file) with --portable, and checks that only standard kinds
// come out and that the API server, with the Gateway API standard CRDs only for those
// kinds, accepts every object.
func TestPortableOutputIsStandardAndAccepted(t *testing.T) {
	c := requireAPIServer(t)
	d := newDryRunner(c)
	var sets []inputSet
	for _, s := range inputSets(t) {
		if s.group == "golden" || s.group == "real-world" || s.group == "examples" {
			s.conv.Portable = true
			sets = append(sets, s)
		}
	}
	var problems []string
	objects, ingresses, portable := 0, 0, 0
	for _, s := range sets {
		out, err := convertSet(s, t.TempDir())
		if err != nil {
			t.Errorf("%s %s: %v", s.group, s.name, err)
			continue
		}
		if s.group == "real-world" && s.name == "test/corpus/real-world --include-unclassed" {
			ingresses, portable = out.res.Report.Totals.Ingresses, out.res.Report.Totals.Portable
		}
		objects += len(out.objects)
		for _, u := range out.objects {
			if k := u.GroupVersionKind().Group + "/" + u.GetKind(); !portableKinds[k] {
				problems = append(problems, fmt.Sprintf("%s %s: %s is not a standard kind", s.group, s.name, describe(u)))
			}
		}
		for i, v := range d.check(out.objects) {
			if v.err != nil {
				problems = append(problems, fmt.Sprintf("%s %s: %s: %v", s.group, s.name, describe(out.objects[i]), v.err))
			}
		}
	}
	t.Logf("%d input sets with --portable, %d objects; the whole corpus: %d of %d Ingresses portable", len(sets), objects, portable, ingresses)
	if len(problems) > 0 {
		t.Errorf("--portable output:\n  %s", strings.Join(problems, "\n  "))
	}
}
