#!/usr/bin/env bash
# bench.sh measures gatebridge's conversion figures (see test/bench and
# /work/shared/reference/performance.md for what the targets mean):
#
#   - whole command: `gatebridge convert -f FILE -o yaml` on generated inputs of
#     1,000 / 5,000 / 50,000 Ingresses (each with its Service; 2 paths, TLS,
#     3 annotations; 200 namespaces), as multi-document YAML and as a JSON v1 List;
#     wall time is the median of BENCH_RUNS runs, peak RSS the largest of them;
#   - in-process: `go test -bench '^BenchmarkConvert$'` (converter on decoded objects).
#
# Usage: hack/bench.sh            (run from anywhere; works in the repository root)
#
# Environment:
#   BENCH_SIZES        Ingress counts (default "1000 5000 50000")
#   BENCH_RUNS         runs per input (default 3)
#   BENCH_GOTEST_ARGS  extra go test arguments, e.g. -short to skip n=50000 (default none)
#
# Files: .cache/bin/{gatebridge,bench-gen}, .cache/bench/ingresses-N.{yaml,json}.
# stdout: the Markdown table and the benchmark lines; stderr: progress.
# MB = 10^6 bytes (file size and peak RSS alike).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export GOTOOLCHAIN=local

SIZES=${BENCH_SIZES:-"1000 5000 50000"}
RUNS=${BENCH_RUNS:-3}
BIN=.cache/bin
DATA=.cache/bench

log() { printf 'bench.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, got '$RUNS'"

# /usr/bin/time (GNU time) gives wall time and peak RSS of one process.
ensure_time() {
	[[ -x /usr/bin/time ]] && return 0
	if [[ $(id -u) -ne 0 ]]; then
		die "/usr/bin/time is missing; install GNU time (Debian/Ubuntu: sudo apt-get install -y time) and rerun"
	fi
	log "/usr/bin/time is missing; installing it (apt-get install -y time)"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y time >&2; then
		log "apt-get install failed; retrying after apt-get update"
		apt-get update >&2 || die "apt-get update failed"
		DEBIAN_FRONTEND=noninteractive apt-get install -y time >&2 || die "apt-get install -y time failed"
	fi
	[[ -x /usr/bin/time ]] || die "/usr/bin/time still missing after installing package time"
}

# median of the numbers on stdin (mean of the two middle ones for an even count)
median() { sort -g | awk '{v[NR] = $1} END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure FILE N: one timed convert run; prints "WALL_S MAXRSS_KB"
measure() {
	local file=$1 n=$2 out="$DATA/time.out" err="$DATA/convert.stderr"
	if ! /usr/bin/time -f '%e %M' -o "$out" "$BIN/gatebridge" convert -f "$file" -o yaml >/dev/null 2>"$err"; then
		tail -n 20 "$err" >&2 || true
		cat "$out" >&2 || true
		die "gatebridge convert -f $file -o yaml failed"
	fi
	if ! grep -q "\b$n Ingresses" "$err"; then
		log "warning: convert's summary on stderr does not mention $n Ingresses:"
		tail -n 3 "$err" >&2 || true
	fi
	tail -n 1 "$out"
}

ensure_time
mkdir -p "$BIN" "$DATA"

log "building $BIN/gatebridge and $BIN/bench-gen"
go build -o "$BIN/gatebridge" ./cmd/gatebridge || die "go build ./cmd/gatebridge failed"
go build -o "$BIN/bench-gen" ./test/bench/gen || die "go build ./test/bench/gen failed"

for n in $SIZES; do
	for fmt in yaml json; do
		f="$DATA/ingresses-$n.$fmt"
		log "generating $f"
		"$BIN/bench-gen" -n "$n" -format "$fmt" -o "$f" || die "generating $f failed"
	done
done

rows=()
for n in $SIZES; do
	for fmt in yaml json; do
		f="$DATA/ingresses-$n.$fmt"
		walls=() rsss=()
		for ((r = 1; r <= RUNS; r++)); do
			read -r wall rss < <(measure "$f" "$n") || die "measuring $f failed"
			[[ -n ${wall:-} && -n ${rss:-} ]] || die "could not read /usr/bin/time output for $f"
			log "$f run $r/$RUNS: ${wall} s, ${rss} KB peak RSS"
			walls+=("$wall") rsss+=("$rss")
		done
		wall=$(printf '%s\n' "${walls[@]}" | median)
		rss=$(printf '%s\n' "${rsss[@]}" | sort -n | tail -n 1)
		bytes=$(stat -c %s "$f")
		rows+=("$(awk -v f="$fmt" -v n="$n" -v b="$bytes" -v w="$wall" -v r="$rss" 'BEGIN {
			rate = (w > 0) ? sprintf("%.0f", n / w) : "n/a"
			printf "| %s | %d | %.1f | %.2f | %.0f | %s |", f, n, b / 1e6, w, r * 1024 / 1e6, rate
		}')")
	done
done

log "running go test -bench '^BenchmarkConvert\$' (in-process; n=50000 takes a while)"
gotest_out="$DATA/gotest.out"
# shellcheck disable=SC2086 # BENCH_GOTEST_ARGS is a list of arguments
if ! go test ./test/bench/ -run '^$' -bench '^BenchmarkConvert$' -benchmem -count 1 ${BENCH_GOTEST_ARGS:-} >"$gotest_out" 2>&1; then
	cat "$gotest_out" >&2
	die "go test -bench failed"
fi

echo "## gatebridge convert, whole command ($(nproc) cores, $(go env GOVERSION), $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty'))"
echo
echo "| input | Ingresses | file MB | wall s (median of $RUNS) | peak RSS MB | Ingresses/s |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "## converters.Convert in-process (go test -bench '^BenchmarkConvert\$' -benchmem)"
echo
echo '```'
grep -E '^(Benchmark|cpu:)' "$gotest_out"
echo '```'
