// Command loadgen is the bridge tests' load generator, run as a second process: keep-alive
// HTTP(S) clients send GET requests to the given URLs, round robin, until SIGTERM or SIGINT,
// and count what came back. It prints one JSON Report per line on stdout: one on SIGUSR1 (a
// snapshot, the process goes on) and a last one at exit.
//
//	loadgen -url http://shop.example.com/ -url https://shop.example.com/x \
//	        -http-addr 127.0.0.1:8080 -https-addr 127.0.0.1:8443 -c 8 -insecure [-pause 1ms]
//
// A URL names the host the request is for (Host header, TLS server name); every http URL
// is sent to -http-addr and every https URL to -https-addr, as a DNS name pointing at the
// bridge would. Each connection (-c) is one client with its own keep-alive connection.
//
// What counts as a failure, by kind: "connect_refused" (ECONNREFUSED), "reset" (the
// connection reset or closed before a whole response: ECONNRESET, EPIPE, EOF), "timeout"
// (no whole response within -timeout), "non_2xx" (a response with another status) and
// "other". Like any HTTP client (browsers do the same), Go's transport sends a request again
// on a new connection when a reused keep-alive connection turned out to be closed before
// the request was written; such a request is not a failure, and nothing else is retried.
//
// A response from the echo backend (test/echo) is also counted by side: "fallback" when the
// backend received the -fallback-header (nginx adds it), else "native".
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// Report is what loadgen prints.
type Report struct {
	// Final is true for the report printed at exit.
	Final bool `json:"final"`
	// Requests counts the finished requests (OK + failures).
	Requests int64 `json:"requests"`
	OK       int64 `json:"ok"`
	// Failures counts failed requests by kind.
	Failures map[string]int64 `json:"failures"`
	// Samples holds up to five error messages per kind.
	Samples map[string][]string `json:"samples,omitempty"`
	// Sides counts successful echo responses by side ("native", "fallback"), per URL.
	Sides map[string]map[string]int64 `json:"sides"`
	// Statuses counts responses by status code.
	Statuses map[string]int64 `json:"statuses"`
}

// FailedTotal is the number of failed requests of any kind.
func (r Report) FailedTotal() int64 {
	var n int64
	for _, v := range r.Failures {
		n += v
	}
	return n
}

type counter struct {
	mu sync.Mutex
	r  Report
}

func newCounter() *counter {
	return &counter{r: Report{
		Failures: map[string]int64{"connect_refused": 0, "reset": 0, "timeout": 0, "non_2xx": 0, "other": 0},
		Samples:  map[string][]string{},
		Sides:    map[string]map[string]int64{},
		Statuses: map[string]int64{},
	}}
}

func (c *counter) fail(kind, sample string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.Requests++
	c.r.Failures[kind]++
	if len(c.r.Samples[kind]) < 5 {
		c.r.Samples[kind] = append(c.r.Samples[kind], sample)
	}
}

func (c *counter) status(code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.Statuses[fmt.Sprint(code)]++
}

func (c *counter) ok(u, side string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.Requests++
	c.r.OK++
	if side == "" {
		return
	}
	if c.r.Sides[u] == nil {
		c.r.Sides[u] = map[string]int64{}
	}
	c.r.Sides[u][side]++
}

func (c *counter) snapshot(final bool) Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.r
	r.Final = final
	b, _ := json.Marshal(r) // deep copy
	var out Report
	_ = json.Unmarshal(b, &out)
	return out
}

type urlList []string

func (u *urlList) String() string     { return strings.Join(*u, ",") }
func (u *urlList) Set(v string) error { *u = append(*u, v); return nil }

func main() {
	var (
		urls           urlList
		httpAddr       = flag.String("http-addr", "", "address every http:// URL is sent to (default: the URL's host)")
		httpsAddr      = flag.String("https-addr", "", "address every https:// URL is sent to (default: the URL's host)")
		conns          = flag.Int("c", 4, "concurrent clients, each with its own keep-alive connection")
		timeout        = flag.Duration("timeout", 10*time.Second, "time for one whole request and response")
		insecure       = flag.Bool("insecure", false, "do not verify server certificates")
		pause          = flag.Duration("pause", 0, "pause of each client between two requests (0: none; leaves CPU to the servers on a small machine)")
		fallbackHeader = flag.String("fallback-header", "X-Testnginx", "request header the echo backend received on requests that came through the fallback")
	)
	flag.Var(&urls, "url", "URL to request; repeatable")
	flag.Parse()
	if len(urls) == 0 || *conns < 1 {
		fmt.Fprintln(os.Stderr, "loadgen: give at least one -url and -c >= 1")
		os.Exit(2)
	}
	for _, u := range urls {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") {
			fmt.Fprintf(os.Stderr, "loadgen: %q is not an http(s) URL\n", u)
			os.Exit(2)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)

	c := newCounter()
	out := json.NewEncoder(os.Stdout)
	var outMu sync.Mutex
	print := func(r Report) {
		outMu.Lock()
		defer outMu.Unlock()
		_ = out.Encode(r)
	}
	go func() {
		for range usr1 {
			print(c.snapshot(false))
		}
	}()

	var wg sync.WaitGroup
	for i := 0; i < *conns; i++ {
		client := newClient(*httpAddr, *httpsAddr, *insecure, *timeout)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for n := i; ctx.Err() == nil; n++ {
				u := urls[n%len(urls)]
				one(client, u, *fallbackHeader, c)
				if *pause > 0 {
					time.Sleep(*pause)
				}
			}
			client.CloseIdleConnections()
		}(i)
	}
	fmt.Fprintf(os.Stderr, "loadgen: %d clients on %s\n", *conns, urls.String())
	wg.Wait()
	print(c.snapshot(true))
}

// one sends one request. A request is not started once the context is cancelled, and one
// in flight is finished (not cancelled), so that stopping counts no failure.
func one(client *http.Client, u, fallbackHeader string, c *counter) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		c.fail("other", err.Error())
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		c.fail(classify(err), err.Error())
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	c.status(resp.StatusCode)
	if err != nil {
		c.fail(classify(err), "reading the body: "+err.Error())
		return
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		c.fail("non_2xx", fmt.Sprintf("%s: %d %q", u, resp.StatusCode, snippet(body)))
		return
	}
	side := ""
	if r, err := echo.Decode(body); err == nil {
		side = "native"
		if r.Headers.Get(fallbackHeader) != "" {
			side = "fallback"
		}
	}
	c.ok(u, side)
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// classify names the kind of a transport error.
func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connect_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "reset"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "server closed") || strings.Contains(err.Error(), "connection reset"):
		return "reset"
	}
	return "other"
}

// newClient returns a client with one keep-alive connection per scheme, sent to the
// configured addresses whatever the URL's host.
func newClient(httpAddr, httpsAddr string, insecure bool, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			switch {
			case port == "443" && httpsAddr != "":
				addr = httpsAddr
			case port == "80" && httpAddr != "":
				addr = httpAddr
			}
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: insecure},
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		IdleConnTimeout:     5 * time.Minute,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
