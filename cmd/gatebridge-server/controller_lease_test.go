package main

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func TestCheckLeaseTimings(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		lease, renew, retry time.Duration
		ok                  bool
	}{
		{0, 0, 0, true},                 // controller-runtime's 15 s, 10 s, 2 s
		{4 * s, 3 * s, s / 2, true},     // the e2e test's fast failover
		{4 * s, 0, 0, false},            // 4 s lease, default 10 s renew deadline
		{3 * s, 3 * s, s / 2, false},    // renew deadline must be shorter than the lease
		{4 * s, 3 * s, 3 * s, false},    // retry period too long for the renew deadline
		{-s, 0, 0, false},               // negative
		{20 * s, 13 * s, 10 * s, true},  // 13 s > 1.2 × 10 s
		{20 * s, 12 * s, 10 * s, false}, // 12 s is not > 1.2 × 10 s
	} {
		err := checkLeaseTimings(c.lease, c.renew, c.retry)
		if (err == nil) != c.ok {
			t.Errorf("checkLeaseTimings(%s, %s, %s) = %v, want ok=%v", c.lease, c.renew, c.retry, err, c.ok)
		}
	}
}

func TestControllerRefusesLeaseTimings(t *testing.T) {
	var stderr bytes.Buffer
	args := []string{"--leader-elect", "--leader-election-lease-duration", "4s", "--kubeconfig", "/dev/null"}
	if code := runControllerContext(context.Background(), args, &stderr); code != exitUsage {
		t.Errorf("controller %v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr.String())
	}
	if !bytes.Contains(stderr.Bytes(), []byte("renew-deadline")) {
		t.Errorf("stderr %q does not name --leader-election-renew-deadline", stderr.String())
	}
}
