#!/usr/bin/env bash
# bench.sh measures gatebridge's conversion figures against the decode floor (see
# test/bench and /work/shared/reference/performance.md for what the targets mean). It is
# the `convert` part of `make bench`, and runs alone: hack/bench.sh (the data-plane and
# controller parts are hack/bench-dataplane.sh and hack/bench-controller.sh).
#
#   - decode floor: test/bench/floor decodes the same file on one core (GOMAXPROCS=1,
#     sigs.k8s.io/yaml into maps, one document after the other);
#   - whole command: `gatebridge convert -f FILE -o yaml` and `-o json` on generated inputs
#     of 1,000 / 5,000 / 50,000 Ingresses (each with its Service; 2 paths, TLS,
#     3 annotations; 200 namespaces) as multi-document YAML, and `-o yaml` of the same
#     objects as a JSON v1 List; wall time is the median of BENCH_RUNS runs, peak RSS the
#     median too; every figure is printed next to its floor and its goal (issue 19);
#   - linearity: time and peak RSS per 1,000 Ingresses at each size, as a ratio to the
#     smallest size;
#   - in-process: `go test -bench '^Benchmark(Convert|Emit)$'` (converter and output
#     encoder on decoded objects).
#
# Usage: hack/bench.sh            (run from anywhere; works in the repository root)
#        BENCH_SIZES=5000 BENCH_GOTEST=0 hack/bench.sh    (the 5,000 figures alone, ~1 min)
#
# Environment:
#   BENCH_SIZES        Ingress counts (default "1000 5000 50000")
#   BENCH_RUNS         runs per figure (default 3)
#   BENCH_GOTEST       0 skips the in-process go test benchmarks (default 1)
#   BENCH_GOTEST_ARGS  extra go test arguments, e.g. -short to skip n=50000 (default none)
#   BENCH_GATEBRIDGE   a gatebridge binary to measure instead of building one (e.g. an older
#                      build, to compare before and after in one run)
#
# Files: .cache/bin/{gatebridge,bench-gen,bench-floor}, .cache/bench/ingresses-N.{yaml,json}.
# stdout: the Markdown tables and the benchmark lines; stderr: progress.
# MB = 10^6 bytes (file sizes); MiB = 2^20 bytes (peak RSS, as the goals are stated).
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

# timed CMD...: runs CMD once under /usr/bin/time; prints "WALL_S MAXRSS_KB"
timed() {
	local out="$DATA/time.out" err="$DATA/cmd.stderr"
	if ! /usr/bin/time -f '%e %M' -o "$out" "$@" >/dev/null 2>"$err"; then
		tail -n 20 "$err" >&2 || true
		cat "$out" >&2 || true
		die "$* failed"
	fi
	tail -n 1 "$out"
}

# measure NAME N CMD...: RUNS timed runs; prints "WALL_S RSS_MIB" (medians) and logs each
measure() {
	local name=$1 n=$2 walls=() rsss=() wall rss r
	shift 2
	for ((r = 1; r <= RUNS; r++)); do
		read -r wall rss < <(timed "$@") || die "measuring $name failed"
		[[ -n ${wall:-} && -n ${rss:-} ]] || die "could not read /usr/bin/time output for $name"
		log "$name n=$n run $r/$RUNS: ${wall} s, ${rss} KB peak RSS"
		walls+=("$wall") rsss+=("$rss")
	done
	if [[ $name == convert* ]] && ! grep -q "\b$n Ingresses" "$DATA/cmd.stderr"; then
		log "warning: convert's summary on stderr does not mention $n Ingresses:"
		tail -n 3 "$DATA/cmd.stderr" >&2 || true
	fi
	printf '%s %s\n' "$(printf '%s\n' "${walls[@]}" | median)" \
		"$(printf '%s\n' "${rsss[@]}" | median | awk '{printf "%.1f", $1 / 1024}')"
}

ensure_time
mkdir -p "$BIN" "$DATA"

log "building $BIN/gatebridge, $BIN/bench-gen and $BIN/bench-floor"
if [[ -n ${BENCH_GATEBRIDGE:-} ]]; then
	[[ -x $BENCH_GATEBRIDGE ]] || die "BENCH_GATEBRIDGE=$BENCH_GATEBRIDGE is not an executable"
	cp "$BENCH_GATEBRIDGE" "$BIN/gatebridge"
else
	go build -o "$BIN/gatebridge" ./cmd/gatebridge || die "go build ./cmd/gatebridge failed"
fi
go build -o "$BIN/bench-gen" ./test/bench/gen || die "go build ./test/bench/gen failed"
go build -o "$BIN/bench-floor" ./test/bench/floor || die "go build ./test/bench/floor failed"

for n in $SIZES; do
	for fmt in yaml json; do
		f="$DATA/ingresses-$n.$fmt"
		log "generating $f"
		"$BIN/bench-gen" -n "$n" -format "$fmt" -o "$f" || die "generating $f failed"
	done
done

log "load before measuring: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown) (figures are comparable within one run only)"
# The process alone (its code, the runtime): convert of one Service. Linearity is of what
# each size adds to it.
tiny="$DATA/one-service.yaml"
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: one}\nspec: {ports: [{port: 80}]}\n' >"$tiny"
read -r basew baser < <(measure "convert (baseline)" 0 "$BIN/gatebridge" convert -f "$tiny" -o yaml)
# One line per size: N MB FLOOR_S FLOOR_MIB YAML_S YAML_MIB JSONOUT_S JSONOUT_MIB JSONIN_S JSONIN_MIB
results=()
for n in $SIZES; do
	y="$DATA/ingresses-$n.yaml" j="$DATA/ingresses-$n.json"
	read -r fw fr < <(GOMAXPROCS=1 measure floor "$n" "$BIN/bench-floor" -f "$y")
	read -r yw yr < <(measure "convert -o yaml" "$n" "$BIN/gatebridge" convert -f "$y" -o yaml)
	read -r jw jr < <(measure "convert -o json" "$n" "$BIN/gatebridge" convert -f "$y" -o json)
	read -r iw ir < <(measure "convert json input" "$n" "$BIN/gatebridge" convert -f "$j" -o yaml)
	results+=("$n $(stat -c %s "$y") $fw $fr $yw $yr $jw $jr $iw $ir")
done

if [[ ${BENCH_GOTEST:-1} != 0 ]]; then
	log "running go test -bench '^Benchmark(Convert|Emit)\$' (in-process; n=50000 takes a while)"
	gotest_out="$DATA/gotest.out"
	# shellcheck disable=SC2086 # BENCH_GOTEST_ARGS is a list of arguments
	if ! go test ./test/bench/ -run '^$' -bench '^Benchmark(Convert|Emit)$' -benchmem -count 1 ${BENCH_GOTEST_ARGS:-} >"$gotest_out" 2>&1; then
		cat "$gotest_out" >&2
		die "go test -bench failed"
	fi
fi

echo "## gatebridge convert against the decode floor ($(nproc) cores, $(go env GOVERSION), $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty'); medians of $RUNS runs)"
echo
echo "Floor: the same YAML file decoded on one core (test/bench/floor, GOMAXPROCS=1). Goals (issue 19):"
echo "convert of 5,000 (YAML in, YAML out) <= 1.0x the floor; -o json <= -o yaml in time and memory;"
echo "peak RSS 5,000 <= 100 MiB, 50,000 <= 400 MiB; linear from 1,000 to 50,000."
echo
echo "| Ingresses | YAML MB | floor s | convert -o yaml s | x floor | goal | -o json s | x floor | json <= yaml | JSON input -o yaml s | x floor |"
echo "|---:|---:|---:|---:|---:|---|---:|---:|---|---:|---:|"
for r in "${results[@]}"; do
	awk -v r="$r" 'BEGIN {
		split(r, v, " "); n = v[1]
		goal = (n == 5000) ? sprintf("<= 1.0x %s", (v[5] <= v[3]) ? "met" : "NOT met") : "-"
		printf "| %d | %.1f | %.2f | %.2f | %.2fx | %s | %.2f | %.2fx | %s | %.2f | %.2fx |\n",
			n, v[2] / 1e6, v[3], v[5], v[5] / v[3], goal, v[7], v[7] / v[3], (v[7] <= v[5] && v[8] <= v[6]) ? "yes" : "no", v[9], v[9] / v[3]
	}'
done
echo
echo "| Ingresses | floor peak RSS MiB | convert -o yaml MiB | goal | -o json MiB | JSON input -o yaml MiB |"
echo "|---:|---:|---:|---|---:|---:|"
for r in "${results[@]}"; do
	awk -v r="$r" 'BEGIN {
		split(r, v, " "); n = v[1]
		goal = "-"
		if (n == 5000) goal = sprintf("<= 100 MiB %s", (v[6] <= 100) ? "met" : "NOT met")
		if (n == 50000) goal = sprintf("<= 400 MiB %s", (v[6] <= 400) ? "met" : "NOT met")
		printf "| %d | %.0f | %.0f | %s | %.0f | %.0f |\n", n, v[4], v[6], goal, v[8], v[10]
	}'
done
echo
first=${results[0]}
echo "Linearity (convert -o yaml, less the process alone: ${basew} s, ${baser} MiB for one Service; per 1,000 Ingresses,"
echo "and as a ratio to the ${first%% *} figure; 1.00x = linear):"
echo
echo "| Ingresses | s per 1,000 | time ratio | MiB per 1,000 | memory ratio |"
echo "|---:|---:|---:|---:|---:|"
for r in "${results[@]}"; do
	awk -v r="$r" -v f="$first" -v bw="$basew" -v br="$baser" 'BEGIN {
		split(r, v, " "); split(f, b, " ")
		t = (v[5] - bw) / v[1] * 1000; t0 = (b[5] - bw) / b[1] * 1000
		m = (v[6] - br) / v[1] * 1000; m0 = (b[6] - br) / b[1] * 1000
		printf "| %d | %.3f | %.2fx | %.1f | %.2fx |\n", v[1], t, t / t0, m, m / m0
	}'
done
if [[ ${BENCH_GOTEST:-1} != 0 ]]; then
	echo
	echo "## converters.Convert and the output encoder in-process (go test -bench '^Benchmark(Convert|Emit)\$' -benchmem)"
	echo
	echo '```'
	grep -E '^(Benchmark|cpu:)' "$gotest_out"
	echo '```'
fi
