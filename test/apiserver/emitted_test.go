package apiserver

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestEverythingConvertEmitsIsAccepted creates, with a server-side dry run and strict field
// validation (as `kubectl apply` does), every object `convert` emits for every golden case
// (with its directive's options), the fuzz seeds and corpora, manifests/examples and the
// real-world corpus, on the real kube-apiserver with the Gateway API standard CRDs and
// manifests/crds. It fails listing each rejected object with the API server's message, and
// each object on which offline validation (package validation) disagrees with the server.
func TestEverythingConvertEmitsIsAccepted(t *testing.T) {
	c := requireAPIServer(t)
	start := time.Now()
	sets := inputSets(t)
	d := newDryRunner(c)
	counts := map[string]*groupCounts{}
	var order []string
	var rejections, disagreements []string
	for _, s := range sets {
		out, err := convertSet(s, t.TempDir())
		if err != nil {
			t.Errorf("%s %s: %v", s.group, s.name, err)
			continue
		}
		gc := counts[s.group]
		if gc == nil {
			gc = &groupCounts{}
			counts[s.group] = gc
			order = append(order, s.group)
		}
		gc.inputs++
		gc.objects += len(out.objects)
		dups := duplicates(out.objects)
		verdicts := d.check(out.objects)
		rejected := 0
		for i, u := range out.objects {
			v := verdicts[i]
			if msg, dup := dups[i]; dup {
				rejections = append(rejections, fmt.Sprintf("%s %s: %s: %s", s.group, s.name, describe(u), msg))
				rejected++
				continue
			}
			if v.err != nil {
				rejections = append(rejections, fmt.Sprintf("%s %s: %s: %v", s.group, s.name, describe(u), v.err))
				rejected++
			}
			if msg := disagreement(v); msg != "" {
				disagreements = append(disagreements, fmt.Sprintf("%s %s: %s: %s", s.group, s.name, describe(u), msg))
			}
		}
		gc.rejected += rejected
		gc.accepted += len(out.objects) - rejected
		// The golden cases and fuzz seeds are many and small: only their totals are logged.
		if s.group == "examples" || s.group == "real-world" || rejected > 0 {
			t.Logf("%s %s: %d Ingresses, %d objects emitted: %d accepted, %d rejected",
				s.group, s.name, len(out.res.Report.Ingresses), len(out.objects), len(out.objects)-rejected, rejected)
		}
	}
	logCounts(t, order, counts)
	t.Logf("%d input sets, %d distinct objects sent to the API server, in %s", len(sets), d.requests, time.Since(start).Round(time.Millisecond))
	if len(rejections) > 0 {
		t.Errorf("the API server rejected %d emitted objects:\n  %s", len(rejections), strings.Join(rejections, "\n  "))
	}
	if len(disagreements) > 0 {
		t.Errorf("offline validation disagrees with the API server on %d objects:\n  %s", len(disagreements), strings.Join(disagreements, "\n  "))
	}
}

// unstructuredOf is a shorthand for tests that build objects as maps.
func unstructuredOf(m map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: m}
}
