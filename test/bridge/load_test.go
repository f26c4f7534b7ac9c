package bridge

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loadReport is what test/bridge/loadgen prints (its Report).
type loadReport struct {
	Final    bool                        `json:"final"`
	Requests int64                       `json:"requests"`
	OK       int64                       `json:"ok"`
	Failures map[string]int64            `json:"failures"`
	Samples  map[string][]string         `json:"samples"`
	Sides    map[string]map[string]int64 `json:"sides"`
	Statuses map[string]int64            `json:"statuses"`
}

func (r loadReport) failed() int64 {
	var n int64
	for _, v := range r.Failures {
		n += v
	}
	return n
}

// errorStatuses names the responses other than 2xx between two reports ("" when none).
func errorStatuses(before, after loadReport) string {
	var out []string
	for code, n := range after.Statuses {
		if d := n - before.Statuses[code]; d > 0 && !strings.HasPrefix(code, "2") {
			out = append(out, fmt.Sprintf("%d× %s", d, code))
		}
	}
	if len(out) == 0 {
		return ""
	}
	sort.Strings(out)
	return " (this step: " + strings.Join(out, ", ") + ")"
}

// loadProc is a running loadgen.
type loadProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	reports chan loadReport
	stderr  *syncBuffer
	stopped bool
}

// startLoad runs loadgen against run's ports on urls until stop.
func (r *runProc) startLoad(t *testing.T, conns int, urls ...string) *loadProc {
	t.Helper()
	args := []string{"-c", fmt.Sprint(conns), "-insecure", "-pause", "1ms",
		"-http-addr", fmt.Sprintf("127.0.0.1:%d", r.httpPort), "-https-addr", fmt.Sprintf("127.0.0.1:%d", r.httpsPort)}
	for _, u := range urls {
		args = append(args, "-url", u)
	}
	l := &loadProc{t: t, cmd: exec.Command(env.loadgen, args...), reports: make(chan loadReport, 16), stderr: &syncBuffer{}}
	out, err := l.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	l.cmd.Stderr = l.stderr
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go l.read(out)
	t.Cleanup(func() {
		if !l.stopped {
			_ = l.cmd.Process.Kill()
			_ = l.cmd.Wait()
		}
	})
	// loadgen says it started once it handles SIGUSR1 (before, the signal would end it).
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(l.stderr.String(), "loadgen: ") {
		if time.Now().After(deadline) {
			t.Fatalf("loadgen did not start within 30s: %s", l.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return l
}

func (l *loadProc) read(out io.Reader) {
	defer close(l.reports)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		var r loadReport
		if err := json.Unmarshal(sc.Bytes(), &r); err == nil {
			l.reports <- r
		}
	}
}

// snapshot asks loadgen for its counts so far (SIGUSR1).
func (l *loadProc) snapshot() loadReport {
	l.t.Helper()
	if err := l.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		l.t.Fatalf("loadgen: %v\n%s", err, l.stderr.String())
	}
	select {
	case r, ok := <-l.reports:
		if !ok {
			l.t.Fatalf("loadgen exited\n%s", l.stderr.String())
		}
		return r
	case <-time.After(30 * time.Second):
		l.t.Fatalf("loadgen did not report within 30s of SIGUSR1\n%s", l.stderr.String())
	}
	return loadReport{}
}

// waitRequests waits until loadgen finished at least n more requests than in since, so that
// every step of a test is crossed by load (a count, not a duration).
func (l *loadProc) waitRequests(since loadReport, n int64) loadReport {
	l.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := l.snapshot()
		if r.Requests-since.Requests >= n {
			return r
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("loadgen finished only %d requests in 60s, want %d", r.Requests-since.Requests, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends loadgen (SIGTERM: requests in flight finish) and returns its final report.
func (l *loadProc) stop() loadReport {
	l.t.Helper()
	l.stopped = true
	if err := l.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		l.t.Fatal(err)
	}
	var final loadReport
	timeout := time.After(60 * time.Second)
	for {
		select {
		case r, ok := <-l.reports:
			if !ok {
				if err := l.cmd.Wait(); err != nil {
					l.t.Errorf("loadgen: %v\n%s", err, l.stderr.String())
				}
				if !final.Final {
					l.t.Fatalf("loadgen printed no final report\n%s", l.stderr.String())
				}
				return final
			}
			final = r
		case <-timeout:
			_ = l.cmd.Process.Kill()
			l.t.Fatalf("loadgen did not stop within 60s of SIGTERM")
		}
	}
}

// TestNoFailuresUnderLoad: while a second process (loadgen) sends requests without pause on
// keep-alive connections — plain HTTP to a migrating host and to a host that moves over and
// back, HTTPS to a migrated TLS host (terminated by Envoy) and to a not-migrated one (passed
// through to nginx by SNI) and to the host that moves — the Ingress files change step by
// step: weight 0 → 10 → 50 → 100 → 0, an Ingress with TLS added (served natively), removed
// (back to nginx), the migrate annotation removed (rollback) and put back; run reloads after
// each. Not one request fails, is reset or times out. Each step waits for run to report the
// reload served before the next, and is crossed by at least stepRequests requests (a count,
// not a duration).
func TestNoFailuresUnderLoad(t *testing.T) {
	const ns = "bridge"
	const stepRequests = 500
	shop := func(annotations string) string {
		return service(ns, "shop") + ingress(ns, "shop", "shop.example.com", "/", "shop", annotations, "")
	}
	r := startRun(t, map[string]string{
		"shop.yaml": shop(migrateWeight(0)),
		"secure.yaml": service(ns, "secure") + tlsSecret(t, ns, "secure-tls", "secure.example.com") +
			ingress(ns, "secure", "secure.example.com", "/", "secure", migrate, "secure-tls"),
		"legacy-tls.yaml": service(ns, "legacy-tls") + tlsSecret(t, ns, "legacy-tls", "legacy-tls.example.com") +
			ingress(ns, "legacy-tls", "legacy-tls.example.com", "/", "legacy-tls", "", "legacy-tls"),
	})
	extra := service(ns, "extra") + tlsSecret(t, ns, "extra-tls", "extra.example.com") +
		ingress(ns, "extra", "extra.example.com", "/", "extra", migrate+`, nginx.ingress.kubernetes.io/ssl-redirect: "false"`, "extra-tls")
	shopURLs := []string{"http://shop.example.com/", "http://shop.example.com/cart?item=1"}
	// With TLS, ingress-nginx (and so the converted Ingress) redirects HTTP to HTTPS by
	// default, which nginx here does not emulate: extra turns that off.
	extraURLs := []string{"http://extra.example.com/x", "https://extra.example.com/y"}
	urls := append(append(append([]string{}, shopURLs...), extraURLs...), "https://secure.example.com/s", "https://legacy-tls.example.com/l")
	load := r.startLoad(t, 8, urls...)
	last := load.waitRequests(loadReport{}, stepRequests)

	steps := []struct {
		name string
		edit func()
	}{
		{"weight 10", func() { r.write("shop.yaml", shop(migrateWeight(10))) }},
		{"weight 50", func() { r.write("shop.yaml", shop(migrateWeight(50))) }},
		{"weight 100", func() { r.write("shop.yaml", shop(migrateWeight(100))) }},
		{"weight 0", func() { r.write("shop.yaml", shop(migrateWeight(0))) }},
		{"Ingress extra (TLS) added, migrated", func() { r.write("extra.yaml", extra) }},
		{"shop at 100 (no weight) while extra is native", func() { r.write("shop.yaml", shop(migrate)) }},
		{"Ingress extra removed", func() { r.remove("extra.yaml") }},
		{"shop's migrate annotation removed (rollback)", func() { r.write("shop.yaml", shop("")) }},
		{"shop migrated again at 50", func() { r.write("shop.yaml", shop(migrateWeight(50))) }},
	}
	for _, s := range steps {
		r.change(s.edit)
		now := load.waitRequests(last, stepRequests)
		t.Logf("%-48s %6d requests during the step, %d failed so far%s", s.name+":", now.Requests-last.Requests, now.failed(), errorStatuses(last, now))
		last = now
	}
	final := load.stop()
	t.Logf("loadgen: %d requests, %d ok, failures %v, sides %v", final.Requests, final.OK, final.Failures, final.Sides)
	if final.failed() != 0 || final.OK != final.Requests {
		t.Errorf("%d of %d requests failed under load (%v); samples: %v", final.failed(), final.Requests, final.Failures, final.Samples)
		t.Logf("Envoy's counters of local replies and upstream failures (non-zero):\n%s", r.envoyStats(`no_route|none_healthy|no_cluster|_5xx|rq_503|rq_404|cx_connect_fail|_reset|rq_timeout|rq_retry`))
	}
	sides := func(urls ...string) map[string]int64 {
		out := map[string]int64{}
		for _, u := range urls {
			for side, n := range final.Sides[u] {
				out[side] += n
			}
		}
		return out
	}
	// Both sides served the migrating host, and the added Ingress was served natively.
	if s := sides(shopURLs...); s["native"] == 0 || s["fallback"] == 0 {
		t.Errorf("shop.example.com was served %v, want both natively and through nginx over the steps", s)
	}
	if s := sides(extraURLs...); s["native"] == 0 || s["fallback"] == 0 {
		t.Errorf("extra.example.com was served %v, want natively while its Ingress was migrated and through nginx otherwise", s)
	}
	if s := sides("https://secure.example.com/s"); s["fallback"] != 0 || s["native"] == 0 {
		t.Errorf("secure.example.com (migrated) was served %v, want only natively", s)
	}
	if s := sides("https://legacy-tls.example.com/l"); s["native"] != 0 || s["fallback"] == 0 {
		t.Errorf("legacy-tls.example.com (not migrated) was served %v, want only through nginx", s)
	}
}
