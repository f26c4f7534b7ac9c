package dataplane_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/dataplane/envoy/envoytest"
	"github.com/gatebridge-dev/gatebridge/dataplane/local"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// TestEnvoyAcceptsWhatValidates is the real Envoy's word on the checks the translator makes
// (field rules, headers, regular expressions: dataplane.Validate and the per-route checks):
// every golden case, and every field of FuzzTranslateValues with a set of hostile values, is
// translated, published to one real Envoy and must be acknowledged — a NACK is what those
// checks exist to prevent (Envoy refuses the whole push).
func TestEnvoyAcceptsWhatValidates(t *testing.T) {
	envoyPath := envoytest.Require(t)
	type model struct {
		name string
		m    *dataplane.Model
	}
	var models []model
	ins, _ := filepath.Glob("testdata/*.in.yaml")
	for _, in := range ins {
		loaded, err := sources.ReadPaths([]string{in}, sources.Options{})
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, model{filepath.Base(in), pipeline.Build(loaded, converters.Options{}).Model})
	}
	hostile := []string{"\n", "%", "((", "Host", `\x{100}`, "a b", strings.Repeat("[^/]+/", 2000)}
	for i, set := range valueSetters() {
		for _, v := range hostile {
			for _, n := range []int64{-1, 80} {
				m := valuesModel()
				set(m, v, n)
				models = append(models, model{"field " + strconv.Itoa(i) + " = " + strconv.QuoteToASCII(v[:min(len(v), 12)]) + ", " + strconv.Itoa(int(n)), m})
			}
		}
	}
	var all []*dataplane.Model
	for _, md := range models {
		all = append(all, md.m)
	}
	stack := startStack(t, envoyPath, all...)
	for _, md := range models {
		if err := applyAndWait(stack, md.m); err != nil {
			t.Fatalf("%s: %v", md.name, err)
		}
	}
	t.Logf("%d translations published, each acknowledged by Envoy", len(models))
}

// TestChangedClusterWarmsAtOnce: a cluster that is changed, or added over a load assignment
// Envoy already has, is sent with that load assignment again (xds resend.go), so Envoy warms
// it at once instead of waiting out its EDS initial fetch timeout (15 s) — during which, over
// ADS, it would hold back every listener and route update too. Envoy counts those waits:
// its init_fetch_timeout counters must stay at zero.
func TestChangedClusterWarmsAtOnce(t *testing.T) {
	envoyPath := envoytest.Require(t)
	stack := startStack(t, envoyPath, valuesModel())
	steps := []struct {
		name   string
		change func(p *v1alpha1.TrafficPolicySpec)
	}{
		{"first", func(p *v1alpha1.TrafficPolicySpec) {}},
		// Session affinity adds a ring-hash cluster over the Service's load assignment.
		{"affinity added", func(p *v1alpha1.TrafficPolicySpec) {
			p.SessionAffinity = &v1alpha1.SessionAffinityPolicy{CookieName: "SESSION", Mode: "balanced"}
		}},
		// A connect timeout changes that cluster.
		{"connect timeout changed", func(p *v1alpha1.TrafficPolicySpec) {
			p.SessionAffinity = &v1alpha1.SessionAffinityPolicy{CookieName: "SESSION", Mode: "balanced"}
			p.Timeouts = &v1alpha1.TimeoutPolicy{Connect: &metav1.Duration{Duration: 3 * time.Second}}
		}},
		// And without affinity, the Service's own cluster changes.
		{"affinity removed", func(p *v1alpha1.TrafficPolicySpec) {
			p.Timeouts = &v1alpha1.TimeoutPolicy{Connect: &metav1.Duration{Duration: 7 * time.Second}}
		}},
	}
	for _, step := range steps {
		m := valuesModel()
		step.change(&m.TrafficPolicies[0].Spec)
		if err := applyAndWait(stack, m); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		// After each step: the counters of a cluster go with it.
		timeouts, err := envoyCounters(stack.AdminURL(), "init_fetch_timeout")
		if err != nil {
			t.Fatal(err)
		}
		if len(timeouts) == 0 {
			t.Fatal("Envoy reports no init_fetch_timeout counters; the check would see nothing")
		}
		for name, n := range timeouts {
			if n != 0 {
				t.Errorf("%s: %s = %d: a cluster waited for its load assignment", step.name, name, n)
			}
		}
	}
}

// startStack starts a local stack (xDS server and a real Envoy) with a free port for every
// Gateway port of models.
func startStack(t *testing.T, envoyPath string, models ...*dataplane.Model) *local.Stack {
	t.Helper()
	portMap := map[int32]uint32{}
	for _, m := range models {
		for _, gw := range m.Gateways {
			for _, l := range gw.Spec.Listeners {
				if _, ok := portMap[int32(l.Port)]; !ok && l.Port >= 1 && l.Port <= 65535 {
					portMap[int32(l.Port)] = freeTCPPort(t)
				}
			}
		}
	}
	stack, err := local.Start(context.Background(), local.Config{EnvoyPath: envoyPath, PortMap: portMap, WorkDir: t.TempDir(), Log: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop(5 * time.Second) })
	return stack
}

// applyAndWait translates and publishes m, and waits for Envoy to acknowledge it.
func applyAndWait(stack *local.Stack, m *dataplane.Model) error {
	_, version, _, err := stack.Apply(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return stack.XDS().WaitForAck(ctx, version)
}

// envoyCounters reads the counters whose name contains filter from Envoy's admin /stats.
func envoyCounters(adminURL, filter string) (map[string]int64, error) {
	resp, err := http.Get(adminURL + "/stats?filter=" + filter)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]int64{}
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		name, value, ok := strings.Cut(lines.Text(), ": ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(value, 10, 64); err == nil {
			out[name] = n
		}
	}
	return out, lines.Err()
}

func freeTCPPort(t *testing.T) uint32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint32(l.Addr().(*net.TCPAddr).Port)
}
