package main

import (
	"strings"
	"testing"
)

// The GATEWAY-HTTP profile of v1.6.3 has 36 core and 58 extended tests (issue 16).
func TestTableRowsGatewayHTTP(t *testing.T) {
	rows := tableRows("GATEWAY-HTTP", map[string]testResult{
		"HTTPRouteSimpleSameNamespace": {action: "pass"},
		"HTTPRouteRequestMirror":       {action: "fail"},
		"HTTPRouteRetry":               {action: "skip", skipped: "suite does not support HTTPRouteRetry"},
	})
	core, ext := 0, 0
	for _, r := range rows {
		if r.core {
			core++
		} else {
			ext++
		}
	}
	if core != 36 || ext != 58 {
		t.Fatalf("%d core and %d extended tests, want 36 and 58", core, ext)
	}
	want := "core 1/36 passed (0 failed, 0 skipped, 35 not run); extended 0/58 passed (1 failed, 1 skipped, 56 not run)"
	if got := summary(rows); got != want {
		t.Errorf("summary:\n got %s\nwant %s", got, want)
	}
	for _, r := range rows {
		if r.test == "HTTPRouteRequestMultipleMirrors" && r.feature != "HTTPRouteRequestMirror,HTTPRouteRequestMultipleMirrors" {
			t.Errorf("features of %s: %q", r.test, r.feature)
		}
	}
}

func TestSkipReason(t *testing.T) {
	line := "    conformance.go:58: Skipping HTTPRouteRetry: suite does not support HTTPRouteRetry\n"
	if got := skipReason(line); got != "suite does not support HTTPRouteRetry" {
		t.Errorf("skipReason = %q", got)
	}
	if got := skipReason(""); !strings.Contains(got, "skipped") {
		t.Errorf("skipReason of nothing = %q", got)
	}
}

func TestHelpListsFlag(t *testing.T) {
	help := []byte("Usage of gatebridge controller:\n  -gateway-address string\n    \tIP address\n  -leader-elect\n    \telect one\n")
	for name, want := range map[string]bool{"gateway-address": true, "leader-elect": true, "gateway-address-pool": false, "gateway": false} {
		if got := helpListsFlag(help, name); got != want {
			t.Errorf("helpListsFlag(%q) = %v, want %v", name, got, want)
		}
	}
}
