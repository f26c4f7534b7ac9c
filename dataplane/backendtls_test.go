package dataplane_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// TestBackendTLSPolicyStatuses checks the status of the policies of the backendtls golden
// cases: Accepted and ResolvedRefs with the Gateway API's reasons, one ancestor per
// Gateway whose routes use a targeted Service.
func TestBackendTLSPolicyStatuses(t *testing.T) {
	want := map[string]string{
		// verify
		"apps/secure-port":        "gw Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs",
		"apps/secure-whole":       "gw Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs",
		"apps/secure-whole-newer": "gw Accepted=False/Conflicted ResolvedRefs=True/ResolvedRefs",
		"apps/san":                "gw Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs",
		"apps/public":             "gw Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs",
		"apps/grpc":               "gw Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs",
		// fail-closed
		"apps/missing": "gw Accepted=False/NoValidCACertificate ResolvedRefs=False/InvalidCACertificateRef",
		"apps/empty":   "gw Accepted=False/NoValidCACertificate ResolvedRefs=False/InvalidCACertificateRef",
		"apps/garbage": "gw Accepted=False/NoValidCACertificate ResolvedRefs=False/InvalidCACertificateRef",
		"apps/kind":    "gw Accepted=False/NoValidCACertificate ResolvedRefs=False/InvalidKind",
		"apps/partly":  "gw Accepted=True/Accepted ResolvedRefs=False/InvalidCACertificateRef",
		// invalid: fields the API server refuses
		"apps/upper":    "gw Accepted=False/Invalid ResolvedRefs=True/ResolvedRefs",
		"apps/long":     "gw Accepted=False/Invalid ResolvedRefs=True/ResolvedRefs",
		"apps/relative": "gw Accepted=False/Invalid ResolvedRefs=True/ResolvedRefs",
		"apps/mixed":    "gw Accepted=False/Invalid ResolvedRefs=True/ResolvedRefs",
		"apps/valid":    "gw Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs",
	}
	got := map[string]string{}
	for _, c := range []string{"testdata/backendtls-verify.in.yaml", "testdata/backendtls-fail-closed.in.yaml", "testdata/backendtls-invalid.in.yaml"} {
		loaded, err := sources.ReadPaths([]string{c}, sources.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := pipeline.Build(loaded, converters.Options{}).Model
		for _, st := range dataplane.BackendTLSPolicyStatuses(m, "") {
			var parts []string
			for _, a := range st.Ancestors {
				parts = append(parts, a.GatewayName)
				for _, cond := range a.Conditions {
					if cond.ObservedGeneration != st.Generation {
						t.Errorf("%s/%s: condition %s observedGeneration %d, want %d", st.Namespace, st.Name, cond.Type, cond.ObservedGeneration, st.Generation)
					}
					parts = append(parts, fmt.Sprintf("%s=%s/%s", cond.Type, cond.Status, cond.Reason))
				}
			}
			got[st.Namespace+"/"+st.Name] = strings.Join(parts, " ")
		}
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d policies judged, want %d: %v", len(got), len(want), got)
	}
}

// TestBackendTLSPolicyWithoutRoutes: a policy no route of ours uses has no ancestor.
func TestBackendTLSPolicyWithoutRoutes(t *testing.T) {
	loaded, err := sources.ReadPaths([]string{"testdata/backendtls-verify.in.yaml"}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := pipeline.Build(loaded, converters.Options{}).Model
	m.HTTPRoutes = nil
	for _, st := range dataplane.BackendTLSPolicyStatuses(m, "") {
		if len(st.Ancestors) != 0 {
			t.Errorf("%s/%s: ancestors %+v without routes", st.Namespace, st.Name, st.Ancestors)
		}
	}
	if n := len(dataplane.BackendTLSPolicyStatuses(m, "other.dev/controller")); n == 0 {
		t.Errorf("policies are judged whatever the controller; got none")
	}
}
