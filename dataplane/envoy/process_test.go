package envoy_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/dataplane/envoy/envoytest"
)

// unusedAddr returns a loopback address where nothing listens.
func unusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func bootstrap(t *testing.T, fetchTimeout time.Duration) []byte {
	t.Helper()
	b, err := envoy.Bootstrap(envoy.BootstrapOptions{
		NodeID:              t.Name(),
		XDSAddress:          unusedAddr(t),
		AdminAddress:        "127.0.0.1:0",
		InitialFetchTimeout: fetchTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLifecycle starts Envoy with no ADS server and a short initial fetch timeout: it
// becomes LIVE once the CDS and LDS fetches have timed out, answers its admin endpoint,
// and exits cleanly and at once on Stop. It runs in parallel with TestNoXDSServer, so two
// Envoys run side by side.
func TestLifecycle(t *testing.T) {
	path := envoytest.Require(t)
	t.Parallel()
	ctx := t.Context()

	if v, err := envoy.Version(ctx, path); err != nil || v != envoy.WantVersion {
		t.Errorf("Version(%s) = %q, %v; want %s", path, v, err, envoy.WantVersion)
	}

	p, err := envoy.Start(ctx, envoy.ProcessOptions{
		EnvoyPath:   path,
		Bootstrap:   bootstrap(t, 200*time.Millisecond),
		WorkDir:     t.TempDir(),
		LogLevel:    "info",
		Concurrency: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("Envoy's log:\n%s", p.LogTail())
		}
	}()
	if !strings.HasPrefix(p.AdminURL(), "http://127.0.0.1:") || p.Pid() <= 0 {
		t.Errorf("AdminURL %q, Pid %d", p.AdminURL(), p.Pid())
	}
	if pgid, err := syscall.Getpgid(p.Pid()); err != nil || pgid != p.Pid() {
		t.Errorf("Envoy's process group = %d, %v; want its own (%d)", pgid, err, p.Pid())
	}

	readyCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	start := time.Now()
	if err := p.WaitReady(readyCtx); err != nil {
		t.Fatal(err)
	}
	t.Logf("LIVE %v after Start (initial_fetch_timeout 200ms for CDS, then for LDS)", time.Since(start).Round(time.Millisecond))
	if err := envoy.WaitReady(readyCtx, p.AdminURL()); err != nil {
		t.Errorf("WaitReady on a LIVE Envoy: %v", err)
	}

	dump, err := envoy.ConfigDump(ctx, p.AdminURL(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(dump) || !strings.Contains(string(dump), "envoy.admin.v3.BootstrapConfigDump") || !strings.Contains(string(dump), t.Name()) {
		t.Errorf("config dump lacks the bootstrap:\n%.500s", dump)
	}
	if d, err := envoy.ConfigDump(ctx, p.AdminURL(), "dynamic_active_clusters"); err != nil || !json.Valid(d) {
		t.Errorf("ConfigDump(dynamic_active_clusters) = %.200s, %v", d, err)
	}
	if _, err := envoy.ConfigDump(ctx, p.AdminURL(), "no_such_field"); err == nil {
		t.Error("ConfigDump of an unknown resource succeeded")
	}

	stats, err := envoy.Stats(ctx, p.AdminURL(), `^(listener_manager\.lds|cluster_manager\.cds)\.`)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int64{
		"listener_manager.lds.init_fetch_timeout": 1,
		"cluster_manager.cds.init_fetch_timeout":  1,
		"listener_manager.lds.update_success":     0,
		"cluster_manager.cds.update_rejected":     0,
	} {
		if got, ok := stats[name]; !ok || got != want {
			t.Errorf("stat %s = %d (present %v), want %d", name, got, ok, want)
		}
	}
	if _, ok := stats["cluster_manager.cds.version_text"]; ok {
		t.Error("text stat included")
	}
	for name := range stats {
		if !strings.HasPrefix(name, "listener_manager.lds.") && !strings.HasPrefix(name, "cluster_manager.cds.") {
			t.Errorf("filter let %s through", name)
		}
	}

	start = time.Now()
	if err := p.Stop(2 * time.Second); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Stop took %v", d)
	}
	t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
	select {
	case <-p.Exited():
	default:
		t.Error("Exited not closed after Stop")
	}
	if err := p.Wait(); err != nil {
		t.Errorf("Wait after Stop: %v", err)
	}
	if err := p.Stop(time.Second); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if log, err := os.ReadFile(p.LogPath()); err != nil || !strings.Contains(string(log), "caught ENVOY_SIGTERM") {
		t.Errorf("log file %s: %v\n%.300s", p.LogPath(), err, log)
	}
}

// TestNoXDSServer documents Envoy's readiness with the default InitialFetchTimeout (0: wait
// for ever): without an ADS server it stays PRE_INITIALIZING, waiting for CDS.
func TestNoXDSServer(t *testing.T) {
	p := envoytest.Start(t, envoy.ProcessOptions{Bootstrap: bootstrap(t, 0)})
	t.Parallel()

	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	err := p.WaitReady(ctx)
	if err == nil {
		t.Fatal("Envoy without an ADS server became ready")
	}
	if !strings.Contains(err.Error(), "503 PRE_INITIALIZING") || !strings.Contains(err.Error(), "first CDS/LDS response") {
		t.Errorf("WaitReady error does not explain the wait: %v", err)
	}
	t.Log(err)
}

func TestStartFailureShowsEnvoyLog(t *testing.T) {
	path := envoytest.Require(t)
	t.Parallel()
	_, err := envoy.Start(t.Context(), envoy.ProcessOptions{
		EnvoyPath: path,
		Bootstrap: []byte(`{"admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}}, "static_resources": {"clusters": [{"name": 5}]}}`),
		WorkDir:   t.TempDir(),
	})
	if err == nil {
		t.Fatal("Envoy started with an invalid bootstrap")
	}
	for _, want := range []string{"exited before its admin endpoint was up", "last lines of Envoy's log", "Unable to parse JSON as proto"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestContextEndStopsEnvoy(t *testing.T) {
	path := envoytest.Require(t)
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	p, err := envoy.Start(ctx, envoy.ProcessOptions{EnvoyPath: path, Bootstrap: bootstrap(t, 0), WorkDir: t.TempDir(), Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-p.Exited():
	case <-time.After(5 * time.Second):
		t.Fatal("Envoy still running 5s after its context ended")
	}
	if err := p.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
}

func TestEnvoyDyingIsReported(t *testing.T) {
	path := envoytest.Require(t)
	t.Parallel()
	p, err := envoy.Start(t.Context(), envoy.ProcessOptions{EnvoyPath: path, Bootstrap: bootstrap(t, 0), WorkDir: t.TempDir(), Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		_ = syscall.Kill(p.Pid(), syscall.SIGKILL)
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = p.WaitReady(ctx)
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") {
		t.Errorf("WaitReady on a dying Envoy: %v", err)
	}
	if err := p.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Wait after an unexpected death: %v", err)
	}
	// Stop on an Envoy that already died reports the death.
	if err := p.Stop(time.Second); err == nil {
		t.Error("Stop of an Envoy that died on its own reported no error")
	}
}

// syncless is a writer that is not safe for concurrent use; the race detector catches
// concurrent writes to it.
type syncless struct{ n int }

func (w *syncless) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

func TestSharedOutputWriter(t *testing.T) {
	out := &syncless{}
	p := envoytest.Start(t, envoy.ProcessOptions{Bootstrap: bootstrap(t, 0), Stdout: out, Stderr: out, LogLevel: "debug"})
	t.Parallel()
	if p.LogPath() != "" {
		t.Errorf("LogPath = %q with both writers given", p.LogPath())
	}
	if err := p.Stop(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if out.n == 0 || p.LogTail() == "" {
		t.Errorf("Envoy's debug log did not reach the writer (%d bytes) or the tail", out.n)
	}
}
