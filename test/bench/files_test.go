package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// changedPath is the new first path of Ingress i at change c: outside /r<i>, so that a
// probe of it is answered 404 until the change is served.
func changedPath(i, c int) string { return fmt.Sprintf("/x%d-c%d", i, c) }

// BenchmarkFileReload is `gatebridge run`'s work after one Ingress file changed, without
// Envoy: read (only the changed file is decoded), convert, translate. It reports each part.
func BenchmarkFileReload(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			skipLarge(b, n)
			dir := b.TempDir()
			if err := WriteIngressTree(dir, n, 8080); err != nil {
				b.Fatal(err)
			}
			rl := pipeline.NewReloader([]string{dir}, sources.Options{}, converters.Options{})
			tr := dataplane.NewTranslator(dataplane.Options{})
			first, err := rl.Next()
			if err != nil {
				b.Fatal(err)
			}
			tr.Translate(first.Result.Model)
			rl.Served()
			var build, translate time.Duration
			c := 0
			b.ResetTimer()
			for b.Loop() {
				i := (c * 7919) % n
				if err := WriteHostFile(dir, n, i%RouteHosts, map[int]string{i: changedPath(i, c)}); err != nil {
					b.Fatal(err)
				}
				c++
				start := time.Now()
				next, err := rl.Next()
				if err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				tr.Translate(next.Result.Model)
				rl.Served()
				build += mid.Sub(start)
				translate += time.Since(mid)
			}
			b.ReportMetric(float64(build.Microseconds())/1000/float64(c), "read+convert-ms/op")
			b.ReportMetric(float64(translate.Microseconds())/1000/float64(c), "translate-ms/op")
		})
	}
}

// BenchmarkFileChangeToServing is the figure measured the way a user meets it: the
// input is Ingress files (WriteIngressTree), one file is rewritten with one Ingress's path
// changed, and the time runs until a probe through Envoy is answered on the new path — read,
// convert, translate, publish, Envoy. p50, p99 and max of Changes changes.
func BenchmarkFileChangeToServing(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) { benchFileChange(b, n) })
	}
}

func benchFileChange(b *testing.B, n int) {
	skipLarge(b, n)
	s, port, backend := startStack(b)
	defer backend.Close()
	defer s.Stop(5 * time.Second)
	_, bp, _ := net.SplitHostPort(backend.Addr)
	bport, _ := strconv.Atoi(bp)
	dir := b.TempDir()
	if err := WriteIngressTree(dir, n, int32(bport)); err != nil {
		b.Fatal(err)
	}
	rl := pipeline.NewReloader([]string{dir}, sources.Options{}, converters.Options{})
	// serve is what `gatebridge run` does on a reload (cmd/gatebridge-server/run.go), with
	// Stack.Apply in its two steps, each timed: translate, then publish.
	tr := dataplane.NewTranslator(s.Options())
	var built, translated time.Duration // of the last serve
	serve := func() string {
		start := time.Now()
		next, err := rl.Next()
		if err != nil {
			b.Fatal(err)
		}
		built = time.Since(start)
		out := tr.Translate(next.Result.Model)
		translated = time.Since(start)
		_, v, err := s.Publish(out)
		if err != nil {
			b.Fatal(err)
		}
		rl.Served()
		return v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := s.WaitApplied(ctx, serve()); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 5 * time.Second}
	probe := func(i int, path string) bool {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s/probe", port, path), nil)
		req.Host = RouteHost(i)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		buf := make([]byte, 4096)
		k, _ := resp.Body.Read(buf)
		r, err := echo.Decode(buf[:k])
		return err == nil && resp.StatusCode == 200 && r.Path == path+"/probe"
	}
	if !probe(1, "/r1") {
		b.Fatal("the generated Ingresses are not served")
	}
	b.ResetTimer()
	for b.Loop() {
		var times []time.Duration
		for c := range Changes {
			i := (c * 7919) % n
			path := changedPath(i, c)
			if probe(i, path) {
				b.Fatalf("change %d: %s served before the change", c, path)
			}
			start := time.Now()
			if err := WriteHostFile(dir, n, i%RouteHosts, map[int]string{i: path}); err != nil {
				b.Fatal(err)
			}
			v := serve()
			published := time.Since(start)
			// When Envoy acknowledged the version: the split between the control plane's
			// time and Envoy's in the log below. The wait is on an event, not a poll.
			if err := s.XDS().WaitForAck(ctx, v); err != nil {
				b.Fatal(err)
			}
			acked := time.Since(start)
			for !probe(i, path) {
				if time.Since(start) > 30*time.Second {
					b.Fatalf("change %d not served after 30s", c)
				}
				time.Sleep(time.Millisecond)
			}
			times = append(times, time.Since(start))
			b.Logf("change %d: read and converted in %v, translated after %v, published after %v, acked after %v, served after %v", c, built, translated, published, acked, times[len(times)-1])
		}
		reportLatencies(b, times)
	}
}
