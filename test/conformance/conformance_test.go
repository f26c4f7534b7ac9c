package conformance

import (
	"os"
	"testing"

	"sigs.k8s.io/gateway-api/conformance"
)

// TestConformance is the unmodified official suite with its own flags
// (--gateway-class, --conformance-profiles, --report-output…). It runs against the
// cluster in $KUBECONFIG, which the driver (cmd/gatebridge-conformance, `make
// conformance`) starts and sets, with GATEBRIDGE_CONFORMANCE=1.
func TestConformance(t *testing.T) {
	if os.Getenv("GATEBRIDGE_CONFORMANCE") != "1" {
		t.Skip("run through `make conformance` (go run ./cmd/gatebridge-conformance): it starts the cluster, gatebridge and Envoy first")
	}
	conformance.RunConformance(t)
}
