package memorypolicy

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/go-logr/logr"
)

// ServingGCPercent is the collector's pace (GOGC) of a serving process. Its live heap is
// mostly the model (informer caches or decoded files) and the last translation, and it
// stays in memory for weeks: with Go's default (100) the process holds twice that, so at
// 5,000 Ingresses (1,000 migrated) the controller settled at ~390 MiB RSS for ~170 MiB in
// use. At 50 it settles below 300 MiB for a few seconds more CPU over a cold start
// (hack/bench-controller.sh; README "Scale"); at 10,000 HTTPRoutes the data plane's control
// plane holds ~150 MiB instead of ~170 (hack/bench-dataplane.sh, one run each).
const ServingGCPercent = 50

// limitShare is the part of the container's memory limit the soft memory limit takes: the
// collector works harder near it instead of the kernel killing the process, and the rest
// is left for memory Go does not count (the binary's pages).
const limitShare = 0.9

// cgroupMemoryMax is where cgroup v2 exposes the container's memory limit.
const cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// ApplyServing sets the collector's pace to ServingGCPercent and, in a container with a
// memory limit, a soft memory limit under it — unless GOGC or GOMEMLIMIT say otherwise,
// which always win.
func ApplyServing(log logr.Logger) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(ServingGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	raw, err := os.ReadFile(cgroupMemoryMax)
	if err != nil {
		return // not in a cgroup v2 container: no limit to stay under
	}
	if limit, ok := SoftLimit(string(raw)); ok {
		debug.SetMemoryLimit(limit)
		log.Info("soft memory limit set from the container's memory limit", "bytes", limit, "cgroupMemoryMax", strings.TrimSpace(string(raw)))
	}
}

// SoftLimit is limitShare of a cgroup v2 memory.max value, or false when it sets no limit
// ("max") or cannot be read.
func SoftLimit(memoryMax string) (int64, bool) {
	v := strings.TrimSpace(memoryMax)
	if v == "" || v == "max" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return int64(float64(n) * limitShare), true
}

// BurstGCPercent is the collector's pace while a serving process builds its data plane's
// configuration from nothing (DuringBurst). That first translation and publish of a large
// model roughly doubles the live heap in one go (10,000 HTTPRoutes: ~30 MiB of model to ~65
// MiB), and at ServingGCPercent the heap overshoots by half of that: the runtime keeps
// those pages, so startup's high-water mark was what the process held from then on. At 20
// the collector runs a few more times during that one burst (a few tens of ms of CPU,
// once; Envoy taking the 10,000 routes takes seconds) and the control plane of 10,000
// routes holds 133–137 MiB once served and 141–145 MiB after serving 100 changes, against
// 146–148 and ~148 MiB without (BenchmarkChangeToServing, alternating runs). Incremental
// translations keep ServingGCPercent.
const BurstGCPercent = 20

// burst counts the bursts in progress (DuringBurst): the pace is lowered by the first to
// begin and put back by the last to end, so that overlapping bursts (one per Gateway group)
// never leave it lowered.
var burst struct {
	sync.Mutex
	depth    int
	previous int
}

// DuringBurst sets the collector's pace to BurstGCPercent until the returned function is
// called, which puts the previous pace back; GOGC in the environment wins (then it changes
// nothing). Call it around a translation from nothing (dataplane.Translator.Fresh) and its
// publish.
func DuringBurst() (end func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	burst.Lock()
	if burst.depth == 0 {
		burst.previous = debug.SetGCPercent(BurstGCPercent)
	}
	burst.depth++
	burst.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			burst.Lock()
			defer burst.Unlock()
			burst.depth--
			if burst.depth == 0 {
				debug.SetGCPercent(burst.previous)
			}
		})
	}
}
