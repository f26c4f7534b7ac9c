package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// Fast leader election for the HA test: a follower takes a Lease its holder stopped
// renewing after 4 s instead of controller-runtime's 15 s.
var fastLease = []string{
	"--leader-election-lease-duration", "4s",
	"--leader-election-renew-deadline", "3s",
	"--leader-election-retry-period", "500ms",
}

// TestLeaderKilledLosesNoUpdate runs two controllers with --leader-elect and one Envoy
// joined to the follower. The leader is killed (SIGKILL: no Lease release, no graceful
// stop) right after an Ingress is annotated, and another is annotated while no replica
// leads: the follower takes the Lease and writes both, and Envoy serves them; what was
// served before keeps being served throughout.
func TestLeaderKilledLosesNoUpdate(t *testing.T) {
	env := require(t)
	h := newHarness(t, env)
	ctx := context.Background()
	if err := env.EnsureNamespace(ctx, gatewayNS); err != nil {
		t.Fatal(err)
	}
	h.ns = env.Namespace(t, "ha")
	for _, name := range []string{"before", "inflight", "leaderless"} {
		h.startBackend(name)
		h.apply(h.serviceYAML(name))
	}
	h.apply(`apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}`)

	a := h.startReplica("a")
	h.eventually("replica a to lead", func() (bool, string) { return a.leads(), a.leaderMetric() })
	b := h.startReplica("b")
	if b.leads() {
		t.Fatalf("replica b leads while a holds the Lease: %s", b.leaderMetric())
	}
	// Envoy joins the follower: it must keep serving through the failover, and get what
	// the new leader writes from the replica it is connected to.
	h.xdsPort = b.xdsPort
	h.startEnvoy()

	h.apply(h.plainIngress("before"))
	h.served("ha-before.example.com", "/x", "before", "/x")

	h.apply(h.plainIngress("inflight")) // the change in flight when the leader dies
	a.kill()
	killed := time.Now()
	h.apply(h.plainIngress("leaderless")) // made while no replica leads

	failures, polls := 0, 0
	h.eventually("replica b to lead and Envoy to serve both changes", func() (bool, string) {
		polls++
		if r := h.get("ha-before.example.com", "/x"); r.status != http.StatusOK || r.backend == nil || r.backend.Server != "before" {
			failures++
		}
		i := h.get("ha-inflight.example.com", "/y")
		l := h.get("ha-leaderless.example.com", "/z")
		ok := b.leads() &&
			i.status == http.StatusOK && i.backend != nil && i.backend.Server == "inflight" &&
			l.status == http.StatusOK && l.backend != nil && l.backend.Server == "leaderless"
		return ok, fmt.Sprintf("b: %s; in flight: %s; leaderless: %s", b.leaderMetric(), i, l)
	})
	t.Logf("after the kill, the follower led and Envoy served both changes within %s (%d polls)", time.Since(killed).Round(100*time.Millisecond), polls)
	if failures > 0 {
		t.Errorf("ha-before.example.com failed %d of %d requests during the failover; Envoy must keep serving it", failures, polls)
	}
	for _, name := range []string{"inflight", "leaderless"} {
		if n := h.backends[name].requests.Load(); n == 0 {
			t.Errorf("backend %s received no request", name)
		}
	}
	// The new leader keeps writing: a later change is served too.
	h.apply(h.plainIngressPath("leaderless", "/only"))
	h.eventually("the new leader's next change to be served", func() (bool, string) {
		r := h.get("ha-leaderless.example.com", "/z")
		return r.status == http.StatusNotFound && r.backend == nil, r.String()
	})
	h.served("ha-leaderless.example.com", "/only/z", "leaderless", "/only/z")
}

// plainIngress is a migrated Ingress of ha-<name>.example.com, / to Service name.
func (h *harness) plainIngress(name string) string { return h.plainIngressPath(name, "/") }

func (h *harness) plainIngressPath(name, path string) string {
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %[1]s
  namespace: %[2]s
  annotations: {gatebridge.dev/migrate: "true"}
spec:
  ingressClassName: nginx
  rules:
  - host: ha-%[1]s.example.com
    http:
      paths:
      - {path: %[3]s, pathType: Prefix, backend: {service: {name: %[1]s, port: {number: 80}}}}
`, name, h.ns, path)
}

// replica is one `gatebridge controller --leader-elect` on its own ports.
type replica struct {
	h                                           *harness
	name                                        string
	xdsPort, authzPort, metricsPort, healthPort int
	proc                                        *controllerProcess
}

// startReplica runs a leader-electing controller and waits until it is ready (every
// replica serves xDS, leader or not).
func (h *harness) startReplica(name string) *replica {
	h.t.Helper()
	r := &replica{h: h, name: name}
	for _, p := range []*int{&r.xdsPort, &r.authzPort, &r.metricsPort, &r.healthPort} {
		*p = freePort(h.t)
	}
	args := append([]string{"controller", "--kubeconfig", h.kubeconfig,
		"--xds-port", fmt.Sprint(r.xdsPort), "--authz-port", fmt.Sprint(r.authzPort),
		"--metrics-port", fmt.Sprint(r.metricsPort), "--health-port", fmt.Sprint(r.healthPort),
		"--bind-address", "127.0.0.1", "--log-format", "text", "--leader-elect"}, fastLease...)
	args = append(args, h.controllerArgs...)
	cmd := exec.Command(binary, args...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("starting replica %s: %v", name, err)
	}
	p := &controllerProcess{cmd: cmd, logs: logs, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	r.proc = p
	t := h.t
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			t.Logf("replica %s logs:\n%s", name, tail(logs.String(), 120))
		}
	})
	h.eventually("replica "+name+" to be ready", func() (bool, string) {
		select {
		case err := <-p.done:
			p.done <- err
			h.t.Fatalf("replica %s exited: %v\n%s", name, err, logs.String())
		default:
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", r.healthPort))
		if err != nil {
			return false, err.Error()
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, string(body)
	})
	return r
}

var leaderStatus = regexp.MustCompile(`(?m)^leader_election_master_status\{name="gatebridge-controller"\} (\S+)$`)

// leaderMetric is the replica's leader_election_master_status sample ("" when absent).
func (r *replica) leaderMetric() string {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", r.metricsPort))
	if err != nil {
		return "metrics: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := leaderStatus.FindSubmatch(b); m != nil {
		return "leader_election_master_status " + string(m[1])
	}
	return "no leader_election_master_status"
}

func (r *replica) leads() bool { return r.leaderMetric() == "leader_election_master_status 1" }

// kill ends the replica with SIGKILL: it neither releases the Lease nor finishes a write.
func (r *replica) kill() {
	r.h.t.Helper()
	if err := r.proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		r.h.t.Fatalf("killing replica %s: %v", r.name, err)
	}
	err := <-r.proc.done
	r.proc.done <- err
}

// stop ends the replica with SIGTERM (a no-op once it exited).
func (r *replica) stop() {
	select {
	case err := <-r.proc.done:
		r.proc.done <- err
		return
	default:
	}
	_ = r.proc.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.proc.done:
	case <-time.After(30 * time.Second):
		_ = r.proc.cmd.Process.Kill()
		<-r.proc.done
	}
}
