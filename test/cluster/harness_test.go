package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// waitFor bounds every poll of the suite.
const waitFor = 60 * time.Second

// harness is one cluster: the API server, the controller command, Envoy and backends.
type harness struct {
	t          *testing.T
	env        *testenv.Env
	kubeconfig string
	ns         string

	xdsPort, authzPort, metricsPort, healthPort int
	httpPort, adminPort                         int
	// httpsPort is Envoy's port 443 (set by startEnvoy).
	httpsPort int

	backends map[string]*backend
	envoy    *envoy.Process
	ctrl     *controllerProcess
	// controllerArgs are added to the controller's command line.
	controllerArgs []string
}

// backend is an echo server that counts the requests it received.
type backend struct {
	srv      *echo.Server
	requests atomic.Int64
}

func (b *backend) port() int { return b.srv.Port() }

func newHarness(t *testing.T, env *testenv.Env) *harness {
	h := &harness{t: t, env: env, kubeconfig: env.KubeconfigFile(t), backends: map[string]*backend{}}
	for _, p := range []*int{&h.xdsPort, &h.authzPort, &h.metricsPort, &h.healthPort, &h.httpPort, &h.adminPort} {
		*p = freePort(t)
	}
	t.Cleanup(func() {
		h.t = t // subtests reassign it
		h.stopController()
		h.deleteRoutingObjects()
	})
	return h
}

// routingKinds are the kinds a test and its controller leave in the test's namespace that
// a later controller on the same API server would serve.
var routingKinds = []struct{ group, version, kind string }{
	{"networking.k8s.io", "v1", "Ingress"},
	{"gateway.networking.k8s.io", "v1", "HTTPRoute"},
	{"gateway.networking.k8s.io", "v1", "GRPCRoute"},
	{"gatebridge.dev", "v1alpha1", "TrafficPolicy"},
	{"gatebridge.dev", "v1alpha1", "RouteFilter"},
}

// deleteRoutingObjects deletes the Ingresses and routes of the test's namespace. The API
// server is shared by the package's tests (and by the runs of go test -count=N), and it has
// no namespace or garbage collector: an Ingress left behind is older than the next run's
// for the same host and path, so it would win them (oldest first, as in ingress-nginx) with
// backends that are gone.
func (h *harness) deleteRoutingObjects() {
	if h.ns == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, k := range routingKinds {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(k.group + "/" + k.version)
		u.SetKind(k.kind)
		if err := h.env.Client.DeleteAllOf(ctx, u, client.InNamespace(h.ns)); err != nil {
			h.t.Logf("deleting the %ss of namespace %s: %v", k.kind, h.ns, err)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startBackend starts an echo backend on the machine's non-loopback address.
func (h *harness) startBackend(name string) *backend {
	b := &backend{}
	inner := echo.NewHandler(name)
	srv, err := echo.Start(name, net.JoinHostPort(hostIP, "0"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.requests.Add(1)
		inner.ServeHTTP(w, r)
	}), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = srv.Close() })
	b.srv = srv
	h.backends[name] = b
	return b
}

// serviceYAML is a Service with port 80 and an EndpointSlice pointing at the backend.
func (h *harness) serviceYAML(name string) string {
	port := h.backends[name].port()
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: %[2]s}
spec: {ports: [{name: http, port: 80, targetPort: %[3]d}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: %[1]s-1, namespace: %[2]s, labels: {kubernetes.io/service-name: %[1]s}}
addressType: IPv4
endpoints: [{addresses: [%[4]q], conditions: {ready: true}}]
ports: [{name: http, port: %[3]d}]
`, name, h.ns, port, hostIP)
}

// apply server-side applies the YAML documents (field manager "test").
func (h *harness) apply(docs string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			h.t.Fatalf("decoding %q: %v", doc, err)
		}
		if err := h.env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("test"), client.ForceOwnership); err != nil {
			h.t.Fatalf("applying %s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

// controllerProcess is `gatebridge controller` running.
type controllerProcess struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startController runs the controller command and waits until it is ready (informers
// synced, first snapshot published).
func (h *harness) startController() {
	h.t.Helper()
	cmd := exec.Command(binary, "controller", "--kubeconfig", h.kubeconfig,
		"--xds-port", fmt.Sprint(h.xdsPort), "--authz-port", fmt.Sprint(h.authzPort),
		"--metrics-port", fmt.Sprint(h.metricsPort), "--health-port", fmt.Sprint(h.healthPort),
		"--bind-address", "127.0.0.1", "--log-format", "text")
	cmd.Args = append(cmd.Args, h.controllerArgs...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("starting the controller: %v", err)
	}
	p := &controllerProcess{cmd: cmd, logs: logs, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	h.ctrl = p
	h.eventually("the controller to be ready", func() (bool, string) {
		select {
		case err := <-p.done:
			p.done <- err
			h.t.Fatalf("the controller exited: %v\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", h.healthPort))
		if err != nil {
			return false, err.Error()
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, string(body)
	})
}

// stopController stops the controller (SIGTERM) and waits for it to exit.
func (h *harness) stopController() {
	p := h.ctrl
	if p == nil {
		return
	}
	h.ctrl = nil
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		h.t.Errorf("the controller did not stop within 30 s after SIGTERM")
	}
	if h.t.Failed() {
		h.t.Logf("controller logs:\n%s", tail(p.logs.String(), 200))
	}
}

func tail(s string, lines int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// startEnvoy starts Envoy with the bootstrap `gatebridge envoy-bootstrap` prints: port 80
// of the Gateway on httpPort (carried to the controller in the node metadata).
func (h *harness) startEnvoy() {
	h.t.Helper()
	h.httpsPort = freePort(h.t)
	out, err := exec.Command(binary, "envoy-bootstrap", "--xds-server", fmt.Sprintf("127.0.0.1:%d", h.xdsPort),
		"--admin-port", fmt.Sprint(h.adminPort), "--http-port", fmt.Sprint(h.httpPort), "--https-port", fmt.Sprint(h.httpsPort)).Output()
	if err != nil {
		h.t.Fatalf("gatebridge envoy-bootstrap: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logOut io.Writer = io.Discard
	if os.Getenv("GATEBRIDGE_TEST_LOG") == "1" {
		logOut = os.Stderr
	}
	p, err := envoy.Start(ctx, envoy.ProcessOptions{EnvoyPath: envoyPath, Bootstrap: out, WorkDir: h.t.TempDir(),
		Stdout: logOut, Stderr: logOut, Logger: logr.Discard()})
	if err != nil {
		cancel()
		h.t.Fatalf("starting Envoy: %v", err)
	}
	h.envoy = p
	h.t.Cleanup(func() {
		_ = p.Stop(10 * time.Second)
		cancel()
		if h.t.Failed() {
			h.t.Logf("Envoy log:\n%s", tail(p.LogTail(), 60))
		}
	})
}

// response is what a request through Envoy got.
type response struct {
	status  int
	backend *echo.Response
	err     error
}

func (r response) String() string {
	switch {
	case r.err != nil:
		return r.err.Error()
	case r.backend != nil:
		return fmt.Sprintf("%d from %s, path %s", r.status, r.backend.Server, r.backend.Path)
	}
	return fmt.Sprintf("%d (no backend)", r.status)
}

// get sends GET path with Host host to Envoy's port 80.
func (h *harness) get(host, path string, headers ...string) response {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", h.httpPort, path), nil)
	if err != nil {
		return response{err: err}
	}
	req.Host = host
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode}
	if resp.Header.Get(echo.HeaderServer) != "" {
		if er, err := echo.Decode(body); err == nil {
			r.backend = &er
		}
	}
	return r
}

// eventually polls cond until it holds, for at most waitFor; detail says what was seen.
func (h *harness) eventually(what string, cond func() (bool, string)) {
	h.t.Helper()
	deadline := time.Now().Add(waitFor)
	var last string
	for {
		ok, detail := cond()
		if ok {
			return
		}
		last = detail
		if time.Now().After(deadline) {
			h.t.Fatalf("waited %s for %s; last seen: %s", waitFor, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// served waits until GET host+path is answered by backend with the path want.
func (h *harness) served(host, path, backendName, want string) {
	h.t.Helper()
	h.eventually(fmt.Sprintf("%s%s to reach %s as %s", host, path, backendName, want), func() (bool, string) {
		r := h.get(host, path)
		return r.status == http.StatusOK && r.backend != nil && r.backend.Server == backendName && r.backend.Path == want, r.String()
	})
}

// metrics returns the controller's /metrics.
func (h *harness) metrics() string {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", h.metricsPort))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
