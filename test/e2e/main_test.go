package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/go-logr/logr"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/dataplane/local"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// env is shared by every scene of the package: one Envoy, one xDS server, one set of
// backends. Scenes replace the whole configuration, so they run one after another.
var env *testEnv

type testEnv struct {
	stack     *local.Stack
	httpPort  int
	httpsPort int
	backends  map[string]*echo.Server
	auth      *echo.AuthHandler
	mirror    *echo.AuthHandler
	ca        *echo.CA
	// certPEM/keyPEM are a certificate for *.example.com and example.com from ca.
	certPEM, keyPEM []byte
	// deadPort is a loopback port nothing listens on.
	deadPort int
}

func TestMain(m *testing.M) {
	os_exit := func(code int) { os.Exit(code) }
	if isShort() {
		fmt.Println("e2e: skipped with -short (needs Envoy)")
		os_exit(0)
	}
	envoyPath, err := envoy.FindForTest()
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "e2e: Envoy is required on CI and could not be installed: %v\n", err)
			os_exit(1)
		}
		fmt.Printf("e2e: skipped, Envoy not available: %v\n", err)
		os_exit(0)
	}
	e, err := startEnv(envoyPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		os_exit(1)
	}
	env = e
	code := m.Run()
	e.stop()
	os_exit(code)
}

func isShort() bool {
	for _, a := range os.Args[1:] {
		if a == "-test.short" || a == "-test.short=true" {
			return true
		}
	}
	return false
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// reserveDeadPort binds a loopback TCP port without listening on it, for the whole test
// run: a connection to it is refused, as to a dead endpoint, and unlike a port that was merely
// free a moment ago, no other process (another package's Envoy, run in parallel) can take it.
// The socket is closed when the test binary exits.
func reserveDeadPort() (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return 0, fmt.Errorf("reserving a dead port: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return 0, fmt.Errorf("reserving a dead port: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return 0, fmt.Errorf("reserving a dead port: %w", err)
	}
	return sa.(*syscall.SockaddrInet4).Port, nil
}

func startEnv(envoyPath string) (*testEnv, error) {
	e := &testEnv{backends: map[string]*echo.Server{}}
	var err error
	if e.httpPort, err = freePort(); err != nil {
		return nil, err
	}
	if e.httpsPort, err = freePort(); err != nil {
		return nil, err
	}
	if e.deadPort, err = reserveDeadPort(); err != nil {
		return nil, err
	}
	if e.ca, err = echo.NewCA(); err != nil {
		return nil, err
	}
	if e.certPEM, e.keyPEM, err = e.ca.Issue("example.com", "*.example.com"); err != nil {
		return nil, err
	}
	for _, name := range []string{"web", "api", "v2", "errors", "solver", "pool-a", "pool-b"} {
		s, err := echo.Start(name, "127.0.0.1:0", echo.NewHandler(name), nil)
		if err != nil {
			return nil, err
		}
		e.backends[name] = s
	}
	selfSigned, _, _, err := echo.SelfSignedCert("secure-backend.internal")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"tls-backend"} {
		s, err := echo.Start(name, "127.0.0.1:0", echo.NewHandler(name), &selfSigned)
		if err != nil {
			return nil, err
		}
		e.backends[name] = s
	}
	e.auth = echo.NewAuthHandler("auth")
	if e.backends["auth"], err = echo.Start("auth", "127.0.0.1:0", e.auth, nil); err != nil {
		return nil, err
	}
	e.mirror = echo.NewAuthHandler("mirror")
	if e.backends["mirror"], err = echo.Start("mirror", "127.0.0.1:0", e.mirror, nil); err != nil {
		return nil, err
	}
	workDir, err := os.MkdirTemp("", "gatebridge-e2e-")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e.stack, err = local.Start(ctx, local.Config{
		EnvoyPath: envoyPath,
		PortMap:   map[int32]uint32{80: uint32(e.httpPort), 443: uint32(e.httpsPort)},
		WorkDir:   workDir,
		Log:       logr.Discard(),
		// For debugging a case: Envoy's log is then in workDir.
		EnvoyLogLevel: os.Getenv("GATEBRIDGE_E2E_ENVOY_LOG_LEVEL"),
	})
	if err != nil {
		return nil, fmt.Errorf("starting the data plane: %w", err)
	}
	return e, nil
}

func (e *testEnv) stop() {
	if e.stack != nil {
		_ = e.stack.Stop(5 * time.Second)
	}
	for _, b := range e.backends {
		_ = b.Close()
	}
}

// sceneData is what scene templates can use.
type sceneData struct{ e *testEnv }

// Port is the port of a backend, for EndpointSlices.
func (d sceneData) Port(name string) int {
	b := d.e.backends[name]
	if b == nil {
		panic("no backend " + name)
	}
	_, p, _ := net.SplitHostPort(b.Addr)
	var n int
	fmt.Sscanf(p, "%d", &n)
	return n
}

// DeadPort is a port nothing listens on.
func (d sceneData) DeadPort() int { return d.e.deadPort }

// Cert and Key are base64 PEM of the *.example.com certificate.
func (d sceneData) Cert() string { return b64(d.e.certPEM) }
func (d sceneData) Key() string  { return b64(d.e.keyPEM) }

// TLSSecret is a kubernetes.io/tls Secret holding a certificate for hosts, issued by the
// test CA (the first host is the certificate's first DNS name, see expect.cert).
func (d sceneData) TLSSecret(ns, name string, hosts ...string) string {
	crt, key, err := d.e.ca.Issue(hosts...)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ntype: kubernetes.io/tls\ndata: {tls.crt: %s, tls.key: %s}\n", name, ns, b64(crt), b64(key))
}

// Service is a Service with one port 80 (target port = the backend's) and an
// EndpointSlice pointing at the named echo backends.
func (d sceneData) Service(ns, name string, backends ...string) string {
	var b strings.Builder
	port := d.Port(backends[0])
	fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec: {ports: [{name: http, port: 80, targetPort: %d}]}\n", name, ns, port)
	fmt.Fprintf(&b, "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: %s-1, namespace: %s, labels: {kubernetes.io/service-name: %s}}\naddressType: IPv4\nendpoints:\n", name, ns, name)
	for _, be := range backends {
		fmt.Fprintf(&b, "- {addresses: [127.0.0.1], conditions: {ready: true}}\n")
		_ = be
	}
	fmt.Fprintf(&b, "ports: [{name: http, port: %d}]\n", port)
	if len(backends) > 1 {
		// Different ports per endpoint need one slice per backend.
		b.Reset()
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec: {ports: [{name: http, port: 80, targetPort: http}]}\n", name, ns)
		for i, be := range backends {
			fmt.Fprintf(&b, "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: %s-%d, namespace: %s, labels: {kubernetes.io/service-name: %s}}\naddressType: IPv4\nendpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]\nports: [{name: http, port: %d}]\n", name, i, ns, name, d.Port(be))
		}
	}
	return b.String()
}

// buildScene renders a scene's YAML template, reads it as `gatebridge run` reads files and
// converts it.
func buildScene(t *testing.T, yamlTemplate string) pipeline.Result {
	t.Helper()
	return buildSceneWith(t, yamlTemplate, converters.Options{})
}

// buildSceneWith is buildScene converting with opts (e.g. --portable).
func buildSceneWith(t *testing.T, yamlTemplate string, opts converters.Options) pipeline.Result {
	t.Helper()
	tpl, err := template.New("scene").Parse(yamlTemplate)
	if err != nil {
		t.Fatalf("scene template: %v", err)
	}
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, sceneData{env}); err != nil {
		t.Fatalf("scene template: %v", err)
	}
	path := filepath.Join(t.TempDir(), "scene.yaml")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := sources.ReadPaths([]string{path}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Problems) > 0 {
		t.Fatalf("scene input problems: %+v", loaded.Problems)
	}
	return pipeline.Build(loaded, opts)
}

// apply serves a scene: the YAML template is rendered, read like `gatebridge run` reads
// files, converted, translated and published; apply returns once Envoy serves it.
func apply(t *testing.T, yamlTemplate string) {
	t.Helper()
	applyWith(t, yamlTemplate, converters.Options{})
}

// applyWith serves a scene as apply does, converted with opts (e.g. --portable).
func applyWith(t *testing.T, yamlTemplate string, opts converters.Options) pipeline.Result {
	t.Helper()
	res := buildSceneWith(t, yamlTemplate, opts)
	out, version, _, err := env.stack.Apply(res.Model)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	for _, ir := range res.Report.Ingresses {
		for _, f := range ir.Findings {
			if f.Severity != converters.SeverityInfo {
				t.Logf("conversion %s: Ingress %s/%s %s%s: %s", f.Severity, ir.Namespace, ir.Name, f.Annotation, f.Field, f.Message)
			}
		}
	}
	for _, p := range out.Problems {
		t.Logf("translation problem: %s", p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.stack.WaitApplied(ctx, version); err != nil {
		t.Fatal(err)
	}
	return res
}

// newClient sends requests to Envoy whatever the host: HTTP to the mapped port 80, HTTPS
// (SNI = host, verified against the test CA) to the mapped port 443; insecure skips certificate verification (for TLS passthrough to a
// backend with a self-signed certificate).
func newClient(https, insecure bool) *http.Client {
	port := env.httpPort
	if https {
		port = env.httpsPort
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
		},
		TLSClientConfig:   &tls.Config{RootCAs: env.ca.Pool(), InsecureSkipVerify: insecure},
		DisableKeepAlives: true,
	}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// result is what came back: the response and, when a backend answered, what it received.
type result struct {
	status  int
	header  http.Header
	body    []byte
	backend *echo.Response
	// cert is the first DNS name of the certificate the server presented (HTTPS only).
	cert string
}

// request describes one request.
type request struct {
	method  string
	url     string // "http://host/path?query" or "https://..."
	headers map[string]string
	body    string
	// chunked sends the body without Content-Length (chunked transfer encoding).
	chunked bool
	// insecure skips verifying the server certificate.
	insecure bool
}

func do(t *testing.T, r request) result {
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
		if r.chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
	}
	req, err := http.NewRequest(method, r.url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.headers {
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := newClient(strings.HasPrefix(r.url, "https://"), r.insecure).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, r.url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	res := result{status: resp.StatusCode, header: resp.Header, body: b}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 && len(resp.TLS.PeerCertificates[0].DNSNames) > 0 {
		res.cert = resp.TLS.PeerCertificates[0].DNSNames[0]
	}
	if resp.Header.Get("X-Echo-Server") != "" {
		if er, err := echo.Decode(b); err == nil {
			res.backend = &er
		}
	}
	return res
}

func b64(b []byte) string {
	return encodeBase64(b)
}
