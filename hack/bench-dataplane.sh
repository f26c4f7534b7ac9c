#!/usr/bin/env bash
# bench-dataplane.sh measures the data plane (test/bench, with real Envoy) and prints a
# Markdown table:
#   - full translation of 1,000 / 10,000 HTTPRoutes (2 rules each, 200 hostnames), and the
#     translation after one HTTPRoute changed (a Translator remembers the previous one);
#   - change → serving: one HTTPRoute changes, time until a probe through Envoy sees it
#     (median and max of 20 changes), and the control plane's RSS once the model is served;
#   - file change → serving: the same routes as Ingress files (one per hostname), one file
#     rewritten with one Ingress changed, time until Envoy serves it through `gatebridge
#     run`'s reload path (read, convert, translate, publish), median and max of 20 changes.
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
echo
echo "| routes | full translation ms | translation after one change ms | change→serving median ms | max ms | Ingress file change→serving median ms | max ms | control-plane RSS MiB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in 1000 10000; do
	tr=$(awk -v n="routes=$n" '$1 ~ "BenchmarkTranslate/"n"-" {printf "%.0f", $3/1e6}' "$out")
	one=$(awk -v n="routes=$n" '$1 ~ "BenchmarkTranslateOneChange/"n"-" {printf "%.0f", $3/1e6}' "$out")
	med=$(awk -v n="routes=$n" '$1 ~ "BenchmarkChangeToServing/"n"-" {for (i=1;i<=NF;i++) if ($i=="median-ms/change") print $(i-1)}' "$out")
	max=$(awk -v n="routes=$n" '$1 ~ "BenchmarkChangeToServing/"n"-" {for (i=1;i<=NF;i++) if ($i=="max-ms/change") print $(i-1)}' "$out")
	fmed=$(awk -v n="routes=$n" '$1 ~ "BenchmarkFileChangeToServing/"n"-" {for (i=1;i<=NF;i++) if ($i=="median-ms/change") print $(i-1)}' "$out")
	fmax=$(awk -v n="routes=$n" '$1 ~ "BenchmarkFileChangeToServing/"n"-" {for (i=1;i<=NF;i++) if ($i=="max-ms/change") print $(i-1)}' "$out")
	rss=$(awk -v n="routes=$n" '$1 ~ "BenchmarkChangeToServing/"n"-" {for (i=1;i<=NF;i++) if ($i=="control-plane-RSS-MiB") print $(i-1)}' "$out")
	echo "| $n | $tr | $one | $med | $max | $fmed | $fmax | $rss |"
done
