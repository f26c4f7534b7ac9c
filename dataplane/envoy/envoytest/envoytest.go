// Package envoytest gives tests in any package a real Envoy: Require finds the binary (or
// skips or fails the test, by one policy for the whole project) and Start runs one that is
// stopped when the test ends, its log shown when the test failed.
//
// Policy: tests that need Envoy are skipped with -short; otherwise, when Envoy cannot be
// obtained (see envoy.FindForTest), they fail if CI=true and are skipped with the reason
// everywhere else.
package envoytest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
)

// Require returns the path of the Envoy binary for t, or skips or fails t (see the policy).
func Require(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real Envoy; skipped with -short")
	}
	path, err := envoy.FindForTest()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and Envoy %s could not be obtained (set %s or make hack/envoy.sh work): %v", envoy.WantVersion, envoy.EnvVar, err)
		}
		t.Skipf("needs a real Envoy, which could not be obtained (set %s or run make envoy): %v", envoy.EnvVar, err)
	}
	return path
}

// Start runs Envoy for t with o (EnvoyPath defaults to Require's, WorkDir to a t.TempDir,
// Concurrency to 1) and stops it when t ends, failing t if it does not stop cleanly within
// five seconds. When t failed, Envoy's log tail is logged. It does not wait for readiness.
func Start(t testing.TB, o envoy.ProcessOptions) *envoy.Process {
	t.Helper()
	if o.EnvoyPath == "" {
		o.EnvoyPath = Require(t)
	}
	if o.WorkDir == "" {
		o.WorkDir = t.TempDir()
	}
	if o.Concurrency == 0 {
		o.Concurrency = 1
	}
	p, err := envoy.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(5 * time.Second); err != nil {
			t.Errorf("stopping Envoy: %v", err)
		}
		if t.Failed() {
			t.Logf("Envoy's log (%s):\n%s", p.LogPath(), p.LogTail())
		}
	})
	return p
}
