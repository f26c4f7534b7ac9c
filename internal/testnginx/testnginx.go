package testnginx

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// EnvVar names the nginx binary to use (hack/nginx.sh prints one).
const EnvVar = "GATEBRIDGE_NGINX"

// Header is the request header nginx adds to every request it proxies, set to
// Options.Name: at an echo backend, a request with it came through nginx (the fallback), one
// without it was served by Envoy natively.
const Header = "X-Testnginx"

// DefaultBackendBody is what nginx answers, with 404, for a host no Route names — the body
// of ingress-nginx's default backend.
const DefaultBackendBody = "default backend - 404"

// Route is one host and path nginx proxies, as ingress-nginx does for an Ingress path.
type Route struct {
	// Host is the exact host (server_name).
	Host string
	// Path is a prefix location; "" is "/".
	Path string
	// Backend is the "host:port" requests are proxied to (plain HTTP/1.1).
	Backend string
}

// Options configure Start.
type Options struct {
	// Nginx is the nginx binary; "" finds it (see Find).
	Nginx string
	// Address is the address both ports listen on; "" is 127.0.0.1.
	Address string
	// Name is the value of Header on proxied requests; "" is "nginx".
	Name string
	// Routes are the hosts and paths served.
	Routes []Route
	// CertHosts are extra names for the TLS certificate (it always covers the routes'
	// hosts).
	CertHosts []string
}

// Server is a running nginx (see Start).
type Server struct {
	// Name is Options.Name.
	Name string
	// HTTPAddr and TLSAddr are "address:port" of the plain-HTTP and the TLS port.
	HTTPAddr, TLSAddr string
	HTTPPort, TLSPort int
	// CertPEM is the self-signed certificate the TLS port serves for every host, and
	// Certificate the same parsed.
	CertPEM     []byte
	Certificate *x509.Certificate
	// Dir is nginx's prefix: nginx.conf, access.log, error.log.
	Dir string

	cmd      *exec.Cmd
	stderr   *lockedBuffer
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

// Entry is one line of the access log: what nginx received.
type Entry struct {
	Time       string `json:"time"`
	RemoteAddr string `json:"remote_addr"`
	Method     string `json:"method"`
	// Host is the Host header as received; ServerName the server block that answered
	// ("_" for the default server).
	Host       string `json:"host"`
	ServerName string `json:"server_name"`
	// RequestURI is the request target as received (path and query, not decoded); Query
	// the query without "?".
	RequestURI string `json:"request_uri"`
	Query      string `json:"query"`
	// Scheme is "http" or "https" (the port it came in on); SNI the TLS server name.
	Scheme     string `json:"scheme"`
	ServerPort string `json:"server_port"`
	SNI        string `json:"sni"`
	// The forwarded headers as received (before nginx appends or sets its own).
	XForwardedFor   string `json:"x_forwarded_for"`
	XForwardedProto string `json:"x_forwarded_proto"`
	XForwardedHost  string `json:"x_forwarded_host"`
	XForwardedPort  string `json:"x_forwarded_port"`
	// Bucket is the x-gatebridge-bucket request header as received (the bridge must
	// remove it: "" expected).
	Bucket string `json:"x_gatebridge_bucket"`
	Status int    `json:"status"`
	// RequestLength is the length of the whole request (line, headers, body) as received;
	// ContentLength the Content-Length header ("" when chunked or absent).
	RequestLength int64  `json:"request_length"`
	ContentLength string `json:"content_length"`
	// Upstream is the backend address nginx proxied to ("" when it answered itself).
	Upstream string `json:"upstream"`
}

// Find returns the nginx binary: $GATEBRIDGE_NGINX, else nginx on PATH, else
// /usr/sbin/nginx (not on every user's PATH).
func Find() (string, error) {
	if v := os.Getenv(EnvVar); v != "" {
		p, err := exec.LookPath(v)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvVar, v, err)
		}
		return filepath.Abs(p)
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return filepath.Abs(p)
	}
	if p, err := exec.LookPath("/usr/sbin/nginx"); err == nil {
		return p, nil
	}
	return "", errors.New("nginx not found: set " + EnvVar + " or install it with hack/nginx.sh (Debian: apt-get install -y nginx-light)")
}

// Require returns the nginx binary for t, or skips or fails t: skipped with -short; when
// nginx is missing, failed with CI=true, skipped elsewhere.
func Require(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real nginx; skipped with -short")
	}
	p, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and nginx is required: %v", err)
		}
		t.Skipf("needs a real nginx: %v", err)
	}
	return p
}

// StartT is Start for one test: nginx is found with Require, stopped when t ends, and its
// error log is logged when t failed.
func StartT(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Nginx == "" {
		o.Nginx = Require(t)
	}
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nginx error log (%s):\n%s", s.Dir, s.ErrorLog())
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stopping nginx: %v", err)
		}
	})
	return s
}

// Start runs nginx with o in a new temporary directory and returns once both ports accept
// connections. Stop stops it and removes the directory.
func Start(o Options) (*Server, error) {
	if o.Nginx == "" {
		p, err := Find()
		if err != nil {
			return nil, err
		}
		o.Nginx = p
	}
	if o.Address == "" {
		o.Address = "127.0.0.1"
	}
	if o.Name == "" {
		o.Name = "nginx"
	}
	for _, r := range o.Routes {
		if err := checkRoute(r); err != nil {
			return nil, err
		}
	}
	// A port free a moment ago may be taken before nginx binds it: try again with others.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(o)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "Address already in use") {
			break
		}
	}
	return nil, lastErr
}

func checkRoute(r Route) error {
	if r.Host == "" || strings.ContainsAny(r.Host, " ;{}\"'") {
		return fmt.Errorf("testnginx: route host %q is not a host name", r.Host)
	}
	if r.Path != "" && (!strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, " ;{}\"'")) {
		return fmt.Errorf("testnginx: route %s path %q is not an absolute path", r.Host, r.Path)
	}
	if _, _, err := net.SplitHostPort(r.Backend); err != nil {
		return fmt.Errorf("testnginx: route %s%s backend %q: %w", r.Host, r.Path, r.Backend, err)
	}
	return nil
}

func start(o Options) (*Server, error) {
	dir, err := os.MkdirTemp("", "gatebridge-nginx-")
	if err != nil {
		return nil, err
	}
	// nginx's workers run as an unprivileged user when the master is root: they must be
	// able to reach the prefix.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	s := &Server{Name: o.Name, Dir: dir, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if s.HTTPPort, err = freePort(o.Address); err != nil {
		return fail(err)
	}
	if s.TLSPort, err = freePort(o.Address); err != nil {
		return fail(err)
	}
	s.HTTPAddr = net.JoinHostPort(o.Address, strconv.Itoa(s.HTTPPort))
	s.TLSAddr = net.JoinHostPort(o.Address, strconv.Itoa(s.TLSPort))

	hosts := append(routeHosts(o.Routes), o.CertHosts...)
	if len(hosts) == 0 {
		hosts = []string{"nginx.invalid"}
	}
	_, certPEM, keyPEM, err := echo.SelfSignedCert(hosts...)
	if err != nil {
		return fail(err)
	}
	s.CertPEM = certPEM
	block, _ := pem.Decode(certPEM)
	if s.Certificate, err = x509.ParseCertificate(block.Bytes); err != nil {
		return fail(err)
	}
	files := map[string][]byte{
		"tls.crt":    certPEM,
		"tls.key":    keyPEM,
		"nginx.conf": []byte(config(o, s, dir)),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fail(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o777); err != nil {
		return fail(err)
	}
	_ = os.Chmod(filepath.Join(dir, "tmp"), 0o777) // umask
	for _, f := range []string{"access.log", "error.log"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o666); err != nil {
			return fail(err)
		}
	}

	conf := filepath.Join(dir, "nginx.conf")
	s.cmd = exec.Command(o.Nginx, "-p", dir+"/", "-c", conf, "-e", filepath.Join(dir, "error.log"))
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	// Its own process group: Stop can end the master and its workers together.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("starting nginx %s: %w", o.Nginx, err))
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitListening(10 * time.Second); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitListening(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, addr := range []string{s.HTTPAddr, s.TLSAddr} {
		for {
			select {
			case <-s.exited:
				return fmt.Errorf("nginx exited at start (%v): %s%s", s.waitErr, s.stderr.String(), s.ErrorLog())
			default:
			}
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("nginx does not listen on %s after %s: %s%s", addr, timeout, s.stderr.String(), s.ErrorLog())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// Stop stops nginx gracefully (SIGQUIT: requests in flight finish), after five seconds by
// force, and removes its directory. It is safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		defer os.RemoveAll(s.Dir)
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		_ = s.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			// The master and its workers: the process group Start made for them.
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
			s.stopErr = fmt.Errorf("nginx did not stop within 5s of SIGQUIT; killed")
		}
	})
	return s.stopErr
}

// ErrorLog returns nginx's error log so far.
func (s *Server) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "error.log"))
	return string(b)
}

// AccessLog returns every request logged so far, oldest first. nginx writes a line when a
// request is finished, which may be a moment after the client read the response: see
// WaitFor.
func (s *Server) AccessLog() ([]Entry, error) {
	b, err := os.ReadFile(filepath.Join(s.Dir, "access.log"))
	if err != nil {
		return nil, err
	}
	var out []Entry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			// A line being written: the last one, incomplete.
			if !bytes.HasSuffix(b, []byte("\n")) && bytes.HasSuffix(b, line) {
				break
			}
			return nil, fmt.Errorf("access log line %q: %w", line, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// WaitFor returns the first access log entry match accepts, waiting up to timeout for it
// to be written.
func (s *Server) WaitFor(timeout time.Duration, match func(Entry) bool) (Entry, error) {
	deadline := time.Now().Add(timeout)
	for {
		entries, err := s.AccessLog()
		if err != nil {
			return Entry{}, err
		}
		for _, e := range entries {
			if match(e) {
				return e, nil
			}
		}
		if time.Now().After(deadline) {
			return Entry{}, fmt.Errorf("no matching nginx access log entry within %s (%d entries)", timeout, len(entries))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pool returns a certificate pool holding nginx's certificate, for a client that should
// trust nginx (and only nginx).
func (s *Server) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.Certificate)
	return p
}

func routeHosts(routes []Route) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range routes {
		if !seen[r.Host] {
			seen[r.Host] = true
			out = append(out, r.Host)
		}
	}
	return out
}

func freePort(address string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(address, "0"))
	if err != nil {
		return 0, fmt.Errorf("testnginx: a free port on %s: %w", address, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer collects nginx's stdout and stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
