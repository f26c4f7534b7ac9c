package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// The tests start the controller command again and again in one process.
func init() { managersPerProcess = 2 }

func TestControllerFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--no-such-flag"},
		{"--log-format", "xml"},
		{"--metrics-port", "70000"},
		{"--configmap", "no-namespace", "--kubeconfig", "/dev/null"},
		{"extra-argument"},
		{"--fallback", "ingress-nginx"},
		{"--fallback", "ingress-nginx/Controller"},
		{"--fallback", "ingress-nginx/controller:99999"},
		{"--fallback", "nginx.example:http"},
		{"--fallback-tls", "10.0.0.1:443"},
	} {
		var stderr bytes.Buffer
		if code := runControllerContext(context.Background(), args, &stderr); code != exitUsage {
			t.Errorf("controller %v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr.String())
		}
	}
}

// TestControllerCommand runs `gatebridge controller` against a real API server: it
// becomes ready, serves controller-runtime's and gatebridge's metrics, takes the Lease
// with --leader-elect, and stops cleanly on cancel.
func TestControllerCommand(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Name: "cmd/gatebridge"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := env.EnsureNamespace(ctx, "gatebridge-system"); err != nil {
		t.Fatal(err)
	}
	metricsPort, healthPort := freePort(t), freePort(t)
	args := []string{"--kubeconfig", env.KubeconfigFile(t), "--metrics-port", fmt.Sprint(metricsPort), "--health-port", fmt.Sprint(healthPort),
		"--xds-port", fmt.Sprint(freePort(t)), "--authz-port", fmt.Sprint(freePort(t)),
		"--bind-address", "127.0.0.1", "--leader-elect", "--log-format", "text"}
	var logs syncBuffer
	done := make(chan int, 1)
	go func() { done <- runControllerContext(ctx, args, &logs) }()

	base := func(port int) string { return fmt.Sprintf("http://127.0.0.1:%d", port) }
	waitHTTP(t, base(healthPort)+"/readyz", done, &logs)
	if body := get(t, base(healthPort)+"/healthz"); !strings.Contains(body, "ok") {
		t.Errorf("/healthz: %q", body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		body := get(t, base(metricsPort)+"/metrics")
		missing := ""
		for _, m := range []string{"gatebridge_ingresses{", "gatebridge_migrated_ingresses", "gatebridge_owned_object_writes_total{", "controller_runtime_reconcile_total",
			"gatebridge_xds_connected_envoys", "gatebridge_xds_nacks_total", "gatebridge_change_to_ack_seconds_bucket"} {
			if !strings.Contains(body, m) {
				missing = m
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %s:\n%s", missing, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var lease coordinationv1.Lease
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "gatebridge-system", Name: "gatebridge-controller"}, &lease); err != nil {
		t.Errorf("no leader-election Lease: %v", err)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d, want 0; logs:\n%s", code, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the controller did not stop within 30 s")
	}
	if !strings.Contains(logs.String(), "starting") {
		t.Errorf("no structured start line in the logs:\n%s", logs.String())
	}
}

func waitHTTP(t *testing.T, url string, done <-chan int, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-done:
			t.Fatalf("the controller exited with %d; logs:\n%s", code, logs.String())
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready within 30 s; logs:\n%s", url, logs.String())
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
