//go:build linux

package install

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/go-logr/logr"
	"google.golang.org/grpc"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/dataplane/envoy/envoytest"
	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
)

// TestEnvoyPodLifecycle runs the Envoy Pod of the kustomization on this machine: Envoy with
// the Deployment's command line and a bootstrap from `gatebridge envoy-bootstrap` with the
// manifest's flags (on free loopback ports, with the xDS server of this test), then the
// Deployment's pre-stop hook. It shows that Envoy joins the xDS server with its Pod name
// and port map, that the readiness probe fails until the server configured Envoy and
// passes after, and that the pre-stop hook fails readiness and drains the listeners.
func TestEnvoyPodLifecycle(t *testing.T) {
	envoyPath := envoytest.Require(t)
	in := kustomizeInstall(t)
	dir := t.TempDir()
	const podName = "gatebridge-envoy-5d8c7b9f4-x2k7q"

	xdsLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin, ready, httpPort, httpsPort := freePort(t), freePort(t), freePort(t), freePort(t)
	boot, stderr, code := gatebridge(t, "envoy-bootstrap", "--xds-server", xdsLis.Addr().String(), "--admin-port", admin,
		"--ready-port", ready, "--ready-address", "127.0.0.1", "--http-port", httpPort, "--https-port", httpsPort)
	if code != 0 {
		t.Fatalf("envoy-bootstrap: exit %d: %s", code, stderr)
	}
	_, args, d := envoyCommand(t, in, dir, podName)
	if err := os.WriteFile(filepath.Join(dir, "envoy.yaml"), []byte(boot), 0o644); err != nil {
		t.Fatal(err)
	}
	// The manifest drains for 20 s; 2 s keep the test short (the hook's sleep is stubbed).
	const drain = 2 * time.Second
	for i := range args {
		if args[i] == "--drain-time-s" {
			args[i+1] = "2"
		}
	}

	// The xDS server, with a spy on the node each stream declares.
	nodes := make(chan *corev3.Node, 4)
	spy := grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		return h(srv, nodeSpy{ss, nodes})
	})
	server := xds.New(logr.Discard(), xds.Options{GRPCOptions: []grpc.ServerOption{spy}})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- server.Serve(ctx, xdsLis) }()
	t.Cleanup(func() { cancel(); <-served })

	logFile := filepath.Join(dir, "envoy.log")
	log, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(envoyPath, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			out, _ := os.ReadFile(logFile)
			t.Logf("Envoy's log:\n%s", out)
		}
	})

	// Envoy joins with the Pod's name (--service-node) and the port map of its bootstrap.
	select {
	case node := <-nodes:
		if node.GetId() != podName {
			t.Errorf("Envoy's node id = %q, want the Pod name %q", node.GetId(), podName)
		}
		pm, err := envoy.PortMapFromNode(node)
		want := map[int32]uint32{80: port(t, httpPort), 443: port(t, httpsPort)}
		if err != nil || !reflect.DeepEqual(pm, want) {
			t.Errorf("the port map Envoy declared = %v, %v; want %v", pm, err, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Envoy did not connect to the xDS server")
	}

	readyURL := "http://127.0.0.1:" + ready + "/ready"
	if status, err := get(readyURL); err == nil {
		t.Errorf("ready before the xDS server configured Envoy: %d", status)
	}
	if _, err := server.Publish(&xds.Resources{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the readiness probe to pass once Envoy is configured", func() (bool, string) {
		status, err := get(readyURL)
		return status == http.StatusOK, fmt.Sprint(status, err)
	})

	// The pre-stop hook, as the kubelet runs it (its sleep stubbed to record the wait).
	var hook []string
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "envoy" {
			hook = c.Lifecycle.PreStop.Exec.Command
		}
	}
	for i := range hook {
		hook[i] = strings.ReplaceAll(hook[i], "/dev/tcp/127.0.0.1/19000", "/dev/tcp/127.0.0.1/"+admin)
	}
	stubs := filepath.Join(dir, "bin")
	slept := filepath.Join(dir, "slept")
	if err := os.MkdirAll(stubs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stubs, "sleep"), []byte("#!/bin/sh\necho \"$@\" > "+slept+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	hookCtx, hookCancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer hookCancel()
	hc := exec.CommandContext(hookCtx, hook[0], hook[1:]...)
	hc.Env = append(os.Environ(), "PATH="+stubs+":"+os.Getenv("PATH"))
	drainStarted := time.Now()
	if out, err := hc.CombinedOutput(); err != nil {
		t.Fatalf("the pre-stop hook failed: %v\n%s", err, out)
	}
	if out, _ := os.ReadFile(slept); strings.TrimSpace(string(out)) != "25" {
		t.Errorf("the pre-stop hook slept %q, want 25 (s)", out)
	}
	if status, err := get(readyURL); status != http.StatusServiceUnavailable {
		t.Errorf("after the pre-stop hook, /ready = %d, %v; want 503", status, err)
	}
	// The drain ends by closing the listeners; Envoy keeps running until SIGTERM.
	waitFor(t, drain+10*time.Second, "the drained listeners to close", func() (bool, string) {
		_, err := get(readyURL)
		return err != nil, fmt.Sprint(err)
	})
	if since := time.Since(drainStarted); since < drain {
		t.Errorf("the listeners closed %v after the drain began, before the drain time %v", since, drain)
	}
	select {
	case err := <-exited:
		t.Fatalf("Envoy exited during the drain: %v", err)
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Error("Envoy did not stop within 10 s of SIGTERM")
	}
}

// nodeSpy hands on the node of each discovery request that carries one.
type nodeSpy struct {
	grpc.ServerStream
	nodes chan<- *corev3.Node
}

func (s nodeSpy) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	var node *corev3.Node
	switch r := m.(type) {
	case *discoveryv3.DeltaDiscoveryRequest:
		node = r.GetNode()
	case *discoveryv3.DiscoveryRequest:
		node = r.GetNode()
	}
	if err == nil && node != nil {
		select {
		case s.nodes <- node:
		default:
		}
	}
	return err
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}

func port(t *testing.T, s string) uint32 {
	t.Helper()
	var p uint32
	if _, err := fmt.Sscan(s, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// get returns the status of GET url (1 s timeout).
func get(url string) (int, error) {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last: %s)", timeout, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
