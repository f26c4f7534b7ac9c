package main

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
)

// controllerGCPercent is the collector's pace for `gatebridge controller`. Its live heap
// is mostly the informer caches and the last translation, and it stays in memory for
// weeks: with Go's default (100) the process holds twice that, so at 5,000 Ingresses
// (1,000 migrated) it settled at ~390 MiB RSS for ~170 MiB in use. At 50 it settles
// below 300 MiB for a few seconds more CPU over a cold start (hack/bench-controller.sh;
// README "Scale").
const controllerGCPercent = 50

// memoryLimitShare is the part of the container's memory limit the controller's soft
// memory limit takes: the collector works harder near it instead of the kernel killing
// the process, and the rest is left for memory Go does not count (the binary's pages).
const memoryLimitShare = 0.9

// cgroupMemoryMax is where cgroup v2 exposes the container's memory limit.
const cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// applyControllerMemoryPolicy sets the collector's pace and, in a container with a memory
// limit, a soft memory limit under it — unless GOGC or GOMEMLIMIT say otherwise, which
// always win.
func applyControllerMemoryPolicy(log logr.Logger) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(controllerGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	raw, err := os.ReadFile(cgroupMemoryMax)
	if err != nil {
		return // not in a cgroup v2 container: no limit to stay under
	}
	if limit, ok := softMemoryLimit(string(raw)); ok {
		debug.SetMemoryLimit(limit)
		log.Info("soft memory limit set from the container's memory limit", "bytes", limit, "cgroupMemoryMax", strings.TrimSpace(string(raw)))
	}
}

// softMemoryLimit is memoryLimitShare of a cgroup v2 memory.max value, or false when it
// sets no limit ("max") or cannot be read.
func softMemoryLimit(memoryMax string) (int64, bool) {
	v := strings.TrimSpace(memoryMax)
	if v == "" || v == "max" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return int64(float64(n) * memoryLimitShare), true
}
