package bridge

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/internal/testnginx"
	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// env is shared by the package's tests: the echo backends, the stand-in nginx in front of
// them, the binaries. Each test runs its own `gatebridge run` (its own Envoy) on its own
// files.
var env *testEnv

type testEnv struct {
	envoyPath  string
	gatebridge string // the built gatebridge binary
	loadgen    string // the built loadgen binary
	backends   map[string]*echo.Server
	nginx      *testnginx.Server
	ca         *echo.CA
	binDir     string
}

// backendNames are the echo backends; each is the Service of the same name in the files
// `run` serves, and the upstream of the nginx route of the host routes() names.
var backendNames = []string{"legacy", "refused", "unknown", "mixed-web", "mixed-api", "weighted", "shop", "extra", "secure", "secure-weighted", "legacy-tls", "sticky"}

// routes are what ingress-nginx (the stand-in) serves: every host of the tests — it still
// holds all Ingresses, migrated or not, as the real one does during a migration.
func routes(b map[string]*echo.Server) []testnginx.Route {
	return []testnginx.Route{
		{Host: "legacy.example.com", Path: "/", Backend: b["legacy"].Addr},
		{Host: "refused.example.com", Path: "/", Backend: b["refused"].Addr},
		{Host: "unknown.example.com", Path: "/", Backend: b["unknown"].Addr},
		{Host: "mixed.example.com", Path: "/", Backend: b["mixed-web"].Addr},
		{Host: "mixed.example.com", Path: "/api", Backend: b["mixed-api"].Addr},
		{Host: "weighted.example.com", Path: "/", Backend: b["weighted"].Addr},
		{Host: "shop.example.com", Path: "/", Backend: b["shop"].Addr},
		{Host: "extra.example.com", Path: "/", Backend: b["extra"].Addr},
		{Host: "secure.example.com", Path: "/", Backend: b["secure"].Addr},
		{Host: "secure-weighted.example.com", Path: "/", Backend: b["secure-weighted"].Addr},
		{Host: "legacy-tls.example.com", Path: "/", Backend: b["legacy-tls"].Addr},
		{Host: "sticky.example.com", Path: "/", Backend: b["sticky"].Addr},
	}
}

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if isShort() {
		fmt.Println("bridge: skipped with -short (needs Envoy and nginx)")
		return 0
	}
	missing := func(what string, err error) int {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "bridge: %s is required on CI: %v\n", what, err)
			return 1
		}
		fmt.Printf("bridge: skipped, %s not available: %v\n", what, err)
		return 0
	}
	envoyPath, err := envoy.FindForTest()
	if err != nil {
		return missing("Envoy", err)
	}
	nginxPath, err := testnginx.Find()
	if err != nil {
		return missing("nginx (hack/nginx.sh installs it)", err)
	}
	e, err := startEnv(envoyPath, nginxPath)
	if e != nil {
		defer e.stop()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bridge: %v\n", err)
		return 1
	}
	env = e
	return m.Run()
}

func isShort() bool {
	for _, a := range os.Args[1:] {
		if a == "-test.short" || a == "-test.short=true" {
			return true
		}
	}
	return false
}

func startEnv(envoyPath, nginxPath string) (*testEnv, error) {
	e := &testEnv{envoyPath: envoyPath, backends: map[string]*echo.Server{}}
	var err error
	if e.binDir, err = os.MkdirTemp("", "gatebridge-bridge-bin-"); err != nil {
		return e, err
	}
	e.gatebridge = filepath.Join(e.binDir, "gatebridge")
	e.loadgen = filepath.Join(e.binDir, "loadgen")
	// gatebridge run hands over to gatebridge-server, built beside it.
	if err := goBuild(e.binDir+string(filepath.Separator), "github.com/gatebridge-dev/gatebridge/cmd/gatebridge", "github.com/gatebridge-dev/gatebridge/cmd/gatebridge-server"); err != nil {
		return e, err
	}
	if err := goBuild(e.loadgen, "github.com/gatebridge-dev/gatebridge/test/bridge/loadgen"); err != nil {
		return e, err
	}
	if e.ca, err = echo.NewCA(); err != nil {
		return e, err
	}
	for _, name := range backendNames {
		s, err := echo.Start(name, "127.0.0.1:0", echo.NewHandler(name), nil)
		if err != nil {
			return e, err
		}
		e.backends[name] = s
	}
	e.nginx, err = testnginx.Start(testnginx.Options{Nginx: nginxPath, Routes: routes(e.backends)})
	if err != nil {
		return e, fmt.Errorf("starting nginx: %w", err)
	}
	return e, nil
}

func (e *testEnv) stop() {
	if e.nginx != nil {
		if err := e.nginx.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "bridge: stopping nginx: %v\n", err)
		}
	}
	for _, b := range e.backends {
		_ = b.Close()
	}
	if e.binDir != "" {
		os.RemoveAll(e.binDir)
	}
}

// goBuild builds pkg into out with the go command on PATH (the one running the tests under
// go test and make test).
func goBuild(out string, pkgs ...string) error {
	cmd := exec.Command("go", append([]string{"build", "-o", out}, pkgs...)...)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, b)
	}
	return nil
}

// ---- gatebridge run ----

// runProc is one `gatebridge run --fallback … --fallback-tls …` on a directory of files.
type runProc struct {
	t                   *testing.T
	dir                 string
	httpPort, httpsPort int
	adminPort           int
	cmd                 *exec.Cmd
	stdout, stderr      *syncBuffer
	exited              chan struct{}
}

// startRun writes files (name → YAML) into a new directory and runs gatebridge on it with
// nginx as the fallback, returning once the first configuration is served.
func startRun(t *testing.T, files map[string]string) *runProc {
	t.Helper()
	r := &runProc{t: t, dir: t.TempDir(), stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	for name, content := range files {
		r.write(name, content)
	}
	r.httpPort, r.httpsPort, r.adminPort = freePort(t), freePort(t), freePort(t)
	r.cmd = exec.Command(env.gatebridge, "run", "-f", r.dir,
		"--fallback", env.nginx.HTTPAddr, "--fallback-tls", env.nginx.TLSAddr,
		"--http-port", fmt.Sprint(r.httpPort), "--https-port", fmt.Sprint(r.httpsPort),
		"--admin-port", fmt.Sprint(r.adminPort), "--envoy", env.envoyPath)
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(r.stop)
	r.waitServing(1)
	return r
}

// servingRE counts the reloads run reported served (it logs "serving" once Envoy
// acknowledged a version).
const servingMsg = `"msg"="serving"`

func (r *runProc) servedCount() int { return strings.Count(r.stderr.String(), servingMsg) }

// waitServing waits until run reported at least n configurations served.
func (r *runProc) waitServing(n int) {
	r.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for r.servedCount() < n {
		select {
		case <-r.exited:
			r.t.Fatalf("gatebridge run exited (%v) before serving configuration %d\nstdout:\n%s\nstderr:\n%s", r.cmd.ProcessState, n, r.stdout.String(), r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("gatebridge run did not report configuration %d served within 60s\nstdout:\n%s\nstderr:\n%s", n, r.stdout.String(), r.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// change applies edit (writes and removals of files) and waits until run served the
// result: one more "serving" than before.
func (r *runProc) change(edit func()) {
	r.t.Helper()
	before := r.servedCount()
	edit()
	r.waitServing(before + 1)
}

// write replaces a file at once (rename), so that run never reads half of it.
func (r *runProc) write(name, content string) {
	r.t.Helper()
	tmp := filepath.Join(filepath.Dir(r.dir), "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(r.dir, name)); err != nil {
		r.t.Fatal(err)
	}
}

func (r *runProc) remove(name string) {
	r.t.Helper()
	if err := os.Remove(filepath.Join(r.dir, name)); err != nil {
		r.t.Fatal(err)
	}
}

func (r *runProc) stop() {
	if r.cmd.Process == nil {
		return
	}
	select {
	case <-r.exited:
	default:
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.exited:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			<-r.exited
			r.t.Errorf("gatebridge run did not stop within 15s of SIGTERM")
		}
	}
	if r.t.Failed() {
		r.t.Logf("gatebridge run stdout:\n%s\nstderr:\n%s", r.stdout.String(), tail(r.stderr.String(), 8000))
	}
}

// envoyStats returns the non-zero counters of run's Envoy whose names match pattern (a
// regular expression), one "name: value" a line, for failure messages.
func (r *runProc) envoyStats(pattern string) string {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/stats?usedonly&filter=%s", r.adminPort, url.QueryEscape(pattern)))
	if err != nil {
		return "(Envoy's stats: " + err.Error() + ")"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasSuffix(l, ": 0") && !strings.Contains(l, "histogram") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// ---- YAML of the scenes ----

// service is a Service (port 80) and its EndpointSlice pointing at the named echo backend.
func service(ns, name string) string {
	port := env.backends[name].Port()
	return fmt.Sprintf(`---
apiVersion: v1
kind: Service
metadata: {name: %[2]s, namespace: %[1]s}
spec: {ports: [{name: http, port: 80, targetPort: %[3]d}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: %[2]s-1, namespace: %[1]s, labels: {kubernetes.io/service-name: %[2]s}}
addressType: IPv4
ports: [{name: http, port: %[3]d}]
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
`, ns, name, port)
}

// ingress is an Ingress of class nginx for host and path → service:80, with annotations
// (written as a YAML flow map's entries) and, when tlsSecret is set, a TLS section.
func ingress(ns, name, host, path, svc, annotations, tlsSecret string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: %s\n  namespace: %s\n", name, ns)
	if annotations != "" {
		fmt.Fprintf(&b, "  annotations: {%s}\n", annotations)
	}
	fmt.Fprintf(&b, "spec:\n  ingressClassName: nginx\n")
	if tlsSecret != "" {
		fmt.Fprintf(&b, "  tls: [{hosts: [%s], secretName: %s}]\n", host, tlsSecret)
	}
	fmt.Fprintf(&b, "  rules:\n  - host: %s\n    http:\n      paths:\n      - {path: %s, pathType: Prefix, backend: {service: {name: %s, port: {number: 80}}}}\n", host, path, svc)
	return b.String()
}

const migrate = `gatebridge.dev/migrate: "true"`

func migrateWeight(w int) string { return fmt.Sprintf(`%s, gatebridge.dev/weight: "%d"`, migrate, w) }

// tlsSecret is a kubernetes.io/tls Secret for hosts issued by the test CA.
func tlsSecret(t *testing.T, ns, name string, hosts ...string) string {
	crt, key, err := env.ca.Issue(hosts...)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ntype: kubernetes.io/tls\ndata: {tls.crt: %s, tls.key: %s}\n", name, ns, b64(crt), b64(key))
}

// ---- clients ----

// client sends every http URL to run's HTTP port and every https URL to its HTTPS port,
// whatever the host, with keep-alive; it does not verify certificates (the tests check
// which certificate was presented themselves).
func (r *runProc) client() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			port := r.httpPort
			if strings.HasSuffix(addr, ":443") {
				port = r.httpsPort
			}
			return dialer.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		MaxIdleConnsPerHost: 16,
	}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// result is one response: what the echo backend received (nil when no echo backend
// answered), and the server certificate (HTTPS).
type result struct {
	status  int
	header  http.Header
	body    []byte
	backend *echo.Response
	cert    *x509.Certificate
}

// fallback tells whether the request came through nginx (it adds its marker).
func (res result) fallback() bool {
	return res.backend != nil && res.backend.Headers.Get(testnginx.Header) != ""
}

func (res result) String() string {
	return fmt.Sprintf("%d %s", res.status, snippet(res.body))
}

func snippet(b []byte) string {
	s := string(bytes.TrimSpace(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func do(t *testing.T, c *http.Client, req *http.Request) result {
	t.Helper()
	res, err := send(c, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// send sends req and reads the whole response.
func send(c *http.Client, req *http.Request) (result, error) {
	resp, err := c.Do(req)
	if err != nil {
		return result{}, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, fmt.Errorf("%s %s: reading the body: %w", req.Method, req.URL, err)
	}
	res := result{status: resp.StatusCode, header: resp.Header, body: b}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		res.cert = resp.TLS.PeerCertificates[0]
	}
	if resp.Header.Get(echo.HeaderServer) != "" {
		if er, err := echo.Decode(b); err == nil {
			res.backend = &er
		}
	}
	return res, nil
}

func get(t *testing.T, c *http.Client, url string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

var uniqueSeq atomic.Int64

// uniqueID is a token for one request, unique in the process and across runs (nginx's
// access log is shared by the package's tests), to find its access log line.
func uniqueID(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), uniqueSeq.Add(1))
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

// syncBuffer is a bytes.Buffer safe for concurrent writes.
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
