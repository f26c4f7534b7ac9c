package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/dataplane/local"
	"github.com/gatebridge-dev/gatebridge/internal/memorypolicy"
	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// BenchmarkChangeToServing measures, with real Envoy, the time from handing the data plane
// (local.Stack.Apply: translate with memory of the previous translation, validate, publish)
// a model in which one HTTPRoute changed to Envoy serving the change (a probe request sees
// the new header value): p50, p99 and max of Changes changes, reported as ms/change. The
// model has 1,000 or 10,000 HTTPRoutes.
func BenchmarkChangeToServing(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) { benchChange(b, n) })
	}
}

// startStack starts the data plane as `gatebridge run` and the controller run it: with
// their garbage collector pace (memorypolicy), which the memory figures depend on.
func startStack(tb testing.TB) (*local.Stack, int, *echo.Server) {
	if os.Getenv(heapProfileEnv) != "" {
		runtime.MemProfileRate = 1 // every allocation: the profile accounts for all of the heap
	}
	memorypolicy.ApplyServing(logr.Discard())
	envoyPath, err := envoy.FindForTest()
	if err != nil {
		tb.Skipf("Envoy not available: %v", err)
	}
	backend, err := echo.Start("backend", "127.0.0.1:0", echo.NewHandler("backend"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, _ := os.MkdirTemp("", "gatebridge-bench-")
	s, err := local.Start(context.Background(), local.Config{EnvoyPath: envoyPath, PortMap: map[int32]uint32{80: uint32(port)}, WorkDir: dir, Log: logr.Discard()})
	if err != nil {
		tb.Fatal(err)
	}
	return s, port, backend
}

func benchChange(b *testing.B, n int) {
	s, port, backend := startStack(b)
	defer backend.Close()
	defer s.Stop(5 * time.Second)
	_, bp, _ := net.SplitHostPort(backend.Addr)
	bport, _ := strconv.Atoi(bp)
	m := GenerateRoutes(n, int32(bport))
	started := time.Now()
	_, v, _, err := s.Apply(m)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := s.WaitApplied(ctx, v); err != nil {
		b.Fatal(err)
	}
	// Startup: the whole model translated from nothing, published, and acknowledged by
	// Envoy (mostly Envoy taking 10,000 routes at once).
	firstMs := float64(time.Since(started).Microseconds()) / 1000
	// The control plane is this process: translator, xDS server, auth service (and a small
	// echo backend). Its resident memory once the model is served is what a user pays.
	runtime.GC()
	rssMiB, anonMiB, fileMiB := residentMiB()
	// The live heap beside it: RSS also holds what the first, full translation freed and
	// the runtime has not returned yet. The model itself is part of the heap (a controller
	// holds its informers' objects).
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	heapMiB := float64(mem.HeapAlloc) / (1 << 20)
	if path := os.Getenv(heapProfileEnv); path != "" && n == 10000 {
		writeHeapProfile(b, path)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 5 * time.Second}
	probe := func(i int, want string) bool {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/r%d", port, i), nil)
		req.Host = RouteHost(i)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		buf := make([]byte, 4096)
		k, _ := resp.Body.Read(buf)
		r, err := echo.Decode(buf[:k])
		if err != nil {
			return false
		}
		return http.Header(r.Headers).Get("X-Tag") == want
	}
	b.ResetTimer()
	for b.Loop() {
		var times []time.Duration
		for c := range Changes {
			i := (c * 7919) % n
			tag := fmt.Sprintf("change-%d-%d", c, time.Now().UnixNano())
			m.HTTPRoutes[i] = Route(i, tag)
			start := time.Now()
			if _, _, _, err := s.Apply(m); err != nil {
				b.Fatal(err)
			}
			published := time.Since(start)
			for !probe(i, tag) {
				if time.Since(start) > 30*time.Second {
					b.Fatalf("change %d not served after 30s", c)
				}
				time.Sleep(time.Millisecond)
			}
			times = append(times, time.Since(start))
			b.Logf("change %d: translated and published in %v, served after %v", c, published, times[len(times)-1])
		}
		reportLatencies(b, times)
		// And once it has served the changes: the heap has grown back towards the
		// collector's goal, which is what the process holds from then on; VmHWM is the
		// highest the process ever held (startup included).
		afterMiB, _, _ := residentMiB()
		b.ReportMetric(afterMiB, "control-plane-RSS-after-changes-MiB")
		b.ReportMetric(peakResidentMiB(), "control-plane-peak-RSS-MiB")
		b.ReportMetric(firstMs, "first-publish-ms")
		b.ReportMetric(rssMiB, "control-plane-RSS-MiB")
		b.ReportMetric(anonMiB, "control-plane-RSS-anon-MiB")
		b.ReportMetric(fileMiB, "control-plane-RSS-file-MiB")
		b.ReportMetric(heapMiB, "control-plane-heap-MiB")
	}
}

// Changes is how many one-route changes the change→serving benchmarks time: enough for a
// p99 that is not simply the maximum of a handful.
const Changes = 100

// reportLatencies reports the p50, p99 and maximum of times (which it sorts).
func reportLatencies(b *testing.B, times []time.Duration) {
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	at := func(q float64) float64 {
		i := int(q*float64(len(times))+0.5) - 1 // nearest rank
		return float64(times[max(0, min(i, len(times)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms/change")
	b.ReportMetric(at(0.99), "p99-ms/change")
	b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "max-ms/change")
}

// heapProfileEnv names a file for BenchmarkChangeToServing to write the control plane's heap
// profile to, once the model of 10,000 routes is served, every allocation counted (slower):
// what holds the control-plane memory (go tool pprof -sample_index=inuse_space -top FILE).
const heapProfileEnv = "GATEBRIDGE_BENCH_HEAP_PROFILE"

func writeHeapProfile(b *testing.B, path string) {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// peakResidentMiB reads this process's highest resident set size so far (VmHWM).
func peakResidentMiB() float64 {
	return statusMiB()["VmHWM:"]
}

// residentMiB reads this process's resident set size (VmRSS) from /proc, and its parts:
// anonymous memory (the Go heap and runtime) and mapped files (the executable's pages).
func residentMiB() (rss, anon, file float64) {
	st := statusMiB()
	if st == nil {
		return -1, -1, -1
	}
	return st["VmRSS:"], st["RssAnon:"], st["RssFile:"]
}

// statusMiB reads the sizes in /proc/self/status, in MiB, by field ("VmRSS:"); nil when it
// cannot be read.
func statusMiB() map[string]float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	sizes := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == "kB" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			sizes[f[0]] = kb / 1024
		}
	}
	return sizes
}
