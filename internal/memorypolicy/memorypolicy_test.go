package memorypolicy

import (
	"runtime/debug"
	"testing"
)

func TestSoftMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"max\n", 0, false},
		{"", 0, false},
		{"garbage", 0, false},
		{"0", 0, false},
		{"536870912\n", 483183820, true}, // 512 MiB → 90 %
	} {
		got, ok := SoftLimit(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("SoftLimit(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// Overlapping bursts lower the pace once and put back the pace from before the first,
// whatever order they end in; ending one twice changes nothing.
func TestOverlappingBurstsRestoreThePace(t *testing.T) {
	t.Setenv("GOGC", "") // the environment's GOGC would win
	before := debug.SetGCPercent(50)
	defer debug.SetGCPercent(before)
	endA := DuringBurst()
	endB := DuringBurst()
	if got := debug.SetGCPercent(BurstGCPercent); got != BurstGCPercent {
		t.Fatalf("during two bursts the pace is %d, want %d", got, BurstGCPercent)
	}
	endA()
	endA()
	if got := debug.SetGCPercent(BurstGCPercent); got != BurstGCPercent {
		t.Fatalf("with one burst still on the pace is %d, want %d", got, BurstGCPercent)
	}
	endB()
	if got := debug.SetGCPercent(50); got != 50 {
		t.Fatalf("after both bursts the pace is %d, want 50 back", got)
	}
}

func TestGOGCInTheEnvironmentWinsOverABurst(t *testing.T) {
	t.Setenv("GOGC", "80")
	before := debug.SetGCPercent(80)
	defer debug.SetGCPercent(before)
	end := DuringBurst()
	defer end()
	if got := debug.SetGCPercent(80); got != 80 {
		t.Fatalf("with GOGC=80 in the environment a burst set the pace to %d", got)
	}
}
