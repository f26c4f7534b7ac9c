#!/usr/bin/env bash
# bench-dataplane.sh measures the data plane (test/bench, with real Envoy) and prints two
# Markdown tables: every figure at 1,000 and 10,000 HTTPRoutes, then the issue-19 goals at
# 10,000 routes next to what was measured, from this one run.
#   - full translation of 1,000 / 10,000 HTTPRoutes (2 rules each, 200 hostnames), and the
#     translation after one HTTPRoute changed (a Translator remembers the previous one);
#   - change → serving: one HTTPRoute changes, time until a probe through Envoy sees it
#     (p50, p99 and max of test/bench.Changes changes), and the control plane's RSS once the
#     model is served, again after the changes, and its peak (VmHWM);
#   - file change → serving: the same routes as Ingress files (one per hostname), one file
#     rewritten with one Ingress changed, time until Envoy serves it through `gatebridge
#     run`'s reload path (read, convert, translate, publish), p50, p99 and max.
# The goals (issue 19): one edited Ingress → Envoy serving p50 ≤ 50 ms and p99 ≤ 150 ms,
# control-plane RSS ≤ 150 MiB, at 10,000 routes. The machine is shared: a figure measured
# while other work runs is noisy (the load average is printed with the table).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOTOOLCHAIN=local
mkdir -p .cache/bench
hack/envoy.sh >/dev/null
out=.cache/bench/dataplane.txt
{
	go test ./test/bench/ -run '^$' -bench 'BenchmarkTranslate' -benchtime 10x -count 1 -timeout 20m
	# Separate processes: the RSS figure must not include the file benchmark's heap.
	go test ./test/bench/ -run '^$' -bench 'BenchmarkChangeToServing' -benchtime 1x -count 1 -timeout 20m
	go test ./test/bench/ -run '^$' -bench 'BenchmarkFileChangeToServing' -benchtime 1x -count 1 -timeout 20m
} | tee "$out" >&2

# metric BENCHMARK N UNIT prints the value reported in UNIT by BENCHMARK/routes=N.
metric() {
	awk -v b="$1/routes=$2-" -v unit="$3" 'index($1, b) == 1 {for (i = 2; i <= NF; i++) if ($i == unit) print $(i-1)}' "$out"
}
# ns_ms BENCHMARK N prints BENCHMARK/routes=N's ns/op in ms.
ns_ms() {
	awk -v b="$1/routes=$2-" 'index($1, b) == 1 {printf "%.0f", $3/1e6}' "$out"
}
# check VALUE GOAL prints "yes" when VALUE ≤ GOAL, "no" otherwise, "?" without a value.
check() {
	if [ -z "$1" ]; then echo "?"; return; fi
	awk -v v="$1" -v g="$2" 'BEGIN {print (v + 0 <= g + 0) ? "yes" : "no"}'
}

echo
echo "| routes | full translation ms | translation after one change ms | change→serving p50 ms | p99 ms | max ms | Ingress file change→serving p50 ms | p99 ms | max ms | control-plane RSS MiB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in 1000 10000; do
	echo "| $n | $(ns_ms BenchmarkTranslate $n) | $(ns_ms BenchmarkTranslateOneChange $n) |" \
		"$(metric BenchmarkChangeToServing $n p50-ms/change) | $(metric BenchmarkChangeToServing $n p99-ms/change) | $(metric BenchmarkChangeToServing $n max-ms/change) |" \
		"$(metric BenchmarkFileChangeToServing $n p50-ms/change) | $(metric BenchmarkFileChangeToServing $n p99-ms/change) | $(metric BenchmarkFileChangeToServing $n max-ms/change) |" \
		"$(metric BenchmarkChangeToServing $n control-plane-RSS-MiB) |"
done

fp50=$(metric BenchmarkFileChangeToServing 10000 p50-ms/change)
fp99=$(metric BenchmarkFileChangeToServing 10000 p99-ms/change)
cp50=$(metric BenchmarkChangeToServing 10000 p50-ms/change)
cp99=$(metric BenchmarkChangeToServing 10000 p99-ms/change)
rss=$(metric BenchmarkChangeToServing 10000 control-plane-RSS-MiB)
rss_after=$(metric BenchmarkChangeToServing 10000 control-plane-RSS-after-changes-MiB)
rss_peak=$(metric BenchmarkChangeToServing 10000 control-plane-peak-RSS-MiB)
echo
echo "Goals at 10,000 routes (issue 19); load average $(cut -d' ' -f1-3 /proc/loadavg):"
echo
echo "| figure | measured | goal | met |"
echo "|---|---:|---:|:---:|"
echo "| edited Ingress file → Envoy serving, p50 | $fp50 ms | ≤ 50 ms | $(check "$fp50" 50) |"
echo "| edited Ingress file → Envoy serving, p99 | $fp99 ms | ≤ 150 ms | $(check "$fp99" 150) |"
echo "| edited HTTPRoute → Envoy serving, p50 | $cp50 ms | ≤ 50 ms | $(check "$cp50" 50) |"
echo "| edited HTTPRoute → Envoy serving, p99 | $cp99 ms | ≤ 150 ms | $(check "$cp99" 150) |"
echo "| control-plane RSS once the model is served | $rss MiB | ≤ 150 MiB | $(check "$rss" 150) |"
echo "| control-plane RSS after serving the changes (peak VmHWM) | $rss_after MiB ($rss_peak) | ≤ 150 MiB | $(check "$rss_after" 150) |"
echo
echo "(at the same moment: RSS $(metric BenchmarkChangeToServing 10000 control-plane-RSS-anon-MiB) MiB anonymous + $(metric BenchmarkChangeToServing 10000 control-plane-RSS-file-MiB) MiB of mapped files (the executable);" \
	"live heap, model included: $(metric BenchmarkChangeToServing 10000 control-plane-heap-MiB) MiB)"
