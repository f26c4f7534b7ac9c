#!/usr/bin/env bash
# bench-controller.sh measures `gatebridge controller` at the scale of issue 13 (see
# test/bench/controller) and prints a Markdown table: 5,000 Ingresses with their Services
# and EndpointSlices in a real API server (envtest), 1,000 migrating; cold start → in sync
# and served by a real Envoy, annotate one Ingress → served (p50, p99 of 30), the
# controller's RSS, and the writes of a restart in sync.
#
# Environment: BENCH_CONTROLLER_ARGS, extra arguments of the program (e.g. -ingresses 1000).
# Files: .cache/bin/{gatebridge,bench-controller}, .cache/bench/controller/ (kubeconfig,
# controller logs, Envoy's log). stdout: the table; stderr: progress.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOTOOLCHAIN=local
mkdir -p .cache/bin .cache/bench/controller
KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$(hack/envtest.sh)}
GATEBRIDGE_ENVOY=${GATEBRIDGE_ENVOY:-$(hack/envoy.sh)}
export KUBEBUILDER_ASSETS GATEBRIDGE_ENVOY
go build -o .cache/bin/ ./cmd/gatebridge ./cmd/gatebridge-server
go build -o .cache/bin/bench-controller ./test/bench/controller
# shellcheck disable=SC2086 # BENCH_CONTROLLER_ARGS is a list of arguments
.cache/bin/bench-controller -gatebridge .cache/bin/gatebridge -work-dir .cache/bench/controller ${BENCH_CONTROLLER_ARGS:-}
