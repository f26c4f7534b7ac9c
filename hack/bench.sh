#!/usr/bin/env bash
# bench.sh measures gatebridge's conversion figures against the decode floor (see
# test/bench and /work/shared/reference/performance.md for what the targets mean). It is
# the `convert` part of `make bench`, and runs alone: hack/bench.sh (the data-plane and
# controller parts are hack/bench-dataplane.sh and hack/bench-controller.sh).
#
#   - decode floor: test/bench/floor decodes the same file on one core (GOMAXPROCS=1,
#     sigs.k8s.io/yaml into maps, one document after the other);
#   - whole command (each figure timed once per round, in rounds): `gatebridge convert -f
#     FILE -o yaml` and `-o json` on generated inputs
#     of 1,000 / 5,000 / 50,000 Ingresses (each with its Service; 2 paths, TLS,
#     3 annotations; 200 namespaces) as multi-document YAML, and `-o yaml` of the same
#     objects as a JSON v1 List, and `gatebridge report -o json`; each run under test/bench/peak, which gives wall time, CPU
#     time, peak RSS and, apart, the peaks of anonymous memory and of the executable's
#     mapped pages; every figure is the median of BENCH_RUNS runs and is printed next to
#     its floor and its goal (issue 19): x floor, JSON / YAML in time and memory, MiB;
#   - linearity: time, CPU time and peak RSS per 1,000 Ingresses at each size (less the
#     process converting one Service), as a ratio to the smallest size and to the size
#     before (1k -> 5k -> 50k);
#   - in-process: `go test -bench '^Benchmark(Convert|Emit)$'` (converter and output
#     encoder on decoded objects).
#
# Usage: hack/bench.sh            (run from anywhere; works in the repository root)
#        BENCH_SIZES=5000 BENCH_GOTEST=0 hack/bench.sh    (the 5,000 figures alone, ~1 min)
#
# Environment:
#   BENCH_SIZES        Ingress counts (default "1000 5000 50000")
#   BENCH_RUNS         runs per figure (default 5: fewer leave ratios of equal figures at
#                      the mercy of one noisy run)
#   BENCH_GOTEST       0 skips the in-process go test benchmarks (default 1)
#   BENCH_GOTEST_ARGS  extra go test arguments, e.g. -short to skip n=50000 (default none)
#   BENCH_GATEBRIDGE   a gatebridge binary to measure instead of building one (e.g. an older
#                      build, to compare before and after in one run)
#   BENCH_CACHE        directory of the binaries and inputs (default .cache)
#
# Files: $BENCH_CACHE/bin/{gatebridge,bench-gen,bench-floor,bench-peak},
#        $BENCH_CACHE/bench/ingresses-N.{yaml,json}.
# stdout: the Markdown tables and the benchmark lines; stderr: progress.
# MB = 10^6 bytes (file sizes); MiB = 2^20 bytes (peak RSS, as the goals are stated).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export GOTOOLCHAIN=local

SIZES=${BENCH_SIZES:-"1000 5000 50000"}
RUNS=${BENCH_RUNS:-5}
CACHE=${BENCH_CACHE:-.cache}
BIN=$CACHE/bin
DATA=$CACHE/bench

log() { printf 'bench.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, got '$RUNS'"

# median of the numbers on stdin (mean of the two middle ones for an even count)
median() { sort -g | awk '{v[NR] = $1} END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# timed CMD...: runs CMD once under bench-peak; prints "WALL_S CPU_S MAXRSS_KB ANON_KB FILE_KB"
timed() {
	local out="$DATA/time.out" err="$DATA/cmd.stderr"
	if ! "$BIN/bench-peak" -o "$out" -- "$@" >/dev/null 2>"$err"; then
		tail -n 20 "$err" >&2 || true
		die "$* failed"
	fi
	tail -n 1 "$out"
}

# measure_once NAME N R CMD...: one timed run (round R), logged; prints
# "WALL_S CPU_S RSS_KB ANON_KB FILE_KB"
measure_once() {
	local name=$1 n=$2 r=$3 line
	shift 3
	line=$(timed "$@") || die "measuring $name failed"
	[[ $(wc -w <<<"$line") -eq 5 ]] || die "could not read bench-peak's output for $name: '$line'"
	log "$name n=$n run $r/$RUNS: $(awk '{printf "%s s wall, %s s CPU, %d KB peak RSS (%d KB anonymous, %d KB of mapped files)", $1, $2, $3, $4, $5}' <<<"$line")"
	if [[ $name == convert* ]] && ((n > 0)) && ! grep -q "\b$n Ingresses" "$DATA/cmd.stderr"; then
		log "warning: convert's summary on stderr does not mention $n Ingresses:"
		tail -n 3 "$DATA/cmd.stderr" >&2 || true
	fi
	echo "$line"
}

# medians LINE...: the median of each figure of measure_once lines, the memory in MiB:
# "WALL_S CPU_S RSS_MIB ANON_MIB FILE_MIB"
medians() {
	local col fig figs=()
	for col in 1 2 3 4 5; do
		fig=$(printf '%s\n' "$@" | awk -v c="$col" '{print $c}' | median)
		((col >= 3)) && fig=$(awk -v k="$fig" 'BEGIN {printf "%.1f", k / 1024}')
		figs+=("$fig")
	done
	echo "${figs[*]}"
}

# paired_ratio COL RUNS A_LINES... B_LINES...: the median over rounds of B's figure COL
# divided by A's in the same round (measure_once lines, RUNS of each): a ratio of two
# figures timed back to back, which the machine's drift over a run weighs on alike.
paired_ratio() {
	local col=$1 runs=$2 r
	shift 2
	for ((r = 1; r <= runs; r++)); do
		awk -v a="${!r}" -v b="${@:$((runs + r)):1}" -v c="$col" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.6f\n", y[c] / x[c] }'
	done | median
}

# measure NAME N CMD...: RUNS timed runs; prints their medians (as medians does)
measure() {
	local name=$1 n=$2 runs=() r
	shift 2
	for ((r = 1; r <= RUNS; r++)); do
		runs+=("$(measure_once "$name" "$n" "$r" "$@")")
	done
	medians "${runs[@]}"
}

mkdir -p "$BIN" "$DATA"

# install SRC DST: the measured executables are copied into place, as a release archive or
# an image installs them. Measured as the linker leaves it, an executable's mapped pages
# count ~4-7 MiB more (the linker writes it through a memory mapping, and the kernel then
# maps more of its cached pages around each page the process touches): not a cost a user
# sees.
install() { rm -f "$2" && cp "$1" "$2"; }

log "building $BIN/gatebridge, $BIN/bench-gen, $BIN/bench-floor and $BIN/bench-peak"
mkdir -p "$BIN/build"
if [[ -n ${BENCH_GATEBRIDGE:-} ]]; then
	[[ -x $BENCH_GATEBRIDGE ]] || die "BENCH_GATEBRIDGE=$BENCH_GATEBRIDGE is not an executable"
	install "$BENCH_GATEBRIDGE" "$BIN/gatebridge"
else
	go build -o "$BIN/build/gatebridge" ./cmd/gatebridge || die "go build ./cmd/gatebridge failed"
	install "$BIN/build/gatebridge" "$BIN/gatebridge"
fi
go build -o "$BIN/bench-gen" ./test/bench/gen || die "go build ./test/bench/gen failed"
go build -o "$BIN/build/bench-floor" ./test/bench/floor || die "go build ./test/bench/floor failed"
install "$BIN/build/bench-floor" "$BIN/bench-floor"
go build -o "$BIN/bench-peak" ./test/bench/peak || die "go build ./test/bench/peak failed"

for n in $SIZES; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZES must be positive integers, got '$n'"
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
read -r basew basec baser basea basef < <(measure "convert (baseline)" 0 "$BIN/gatebridge" convert -f "$tiny" -o yaml)
# One line per size, each measurement as WALL CPU RSS ANON FILE:
# N BYTES  floor(5)  convert -o yaml(5)  convert -o json(5)  JSON input -o yaml(5)  report -o json(5)
results=()
for n in $SIZES; do
	y="$DATA/ingresses-$n.yaml" j="$DATA/ingresses-$n.json"
	# In rounds: each round times every figure once, so that the machine's drift over the
	# minutes of a run weighs on all of them alike (the goals compare them: x floor,
	# JSON / YAML).
	fl=() yl=() jl=() il=() rl=()
	for ((r = 1; r <= RUNS; r++)); do
		fl+=("$(GOMAXPROCS=1 measure_once floor "$n" "$r" "$BIN/bench-floor" -f "$y")")
		yl+=("$(measure_once "convert -o yaml" "$n" "$r" "$BIN/gatebridge" convert -f "$y" -o yaml)")
		jl+=("$(measure_once "convert -o json" "$n" "$r" "$BIN/gatebridge" convert -f "$y" -o json)")
		il+=("$(measure_once "convert json input" "$n" "$r" "$BIN/gatebridge" convert -f "$j" -o yaml)")
		rl+=("$(measure_once "report -o json" "$n" "$r" "$BIN/gatebridge" report -f "$y" -o json)")
	done
	# JSON / YAML: time and peak RSS, each a median of per-round ratios.
	jyt=$(paired_ratio 1 "$RUNS" "${yl[@]}" "${jl[@]}")
	jym=$(paired_ratio 3 "$RUNS" "${yl[@]}" "${jl[@]}")
	results+=("$n $(stat -c %s "$y") $(medians "${fl[@]}") $(medians "${yl[@]}") $(medians "${jl[@]}") $(medians "${il[@]}") $(medians "${rl[@]}") $jyt $jym")
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

# Field numbers of a results line (awk, 1-based): n=1 bytes=2, then five per measurement,
# then the paired JSON / YAML ratios of time and peak RSS.
fields='BEGIN { FW = 3; YW = 8; JW = 13; IW = 18; RW = 23; JYT = 28; JYM = 29 }'

echo "## gatebridge convert against the decode floor ($(nproc) cores, $(go env GOVERSION), $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty'); medians of $RUNS runs)"
echo
echo "Floor: the same YAML file decoded on one core (test/bench/floor, GOMAXPROCS=1). Goals (issue 19):"
echo "convert of 5,000 (YAML in, YAML out) <= 1.0x the floor, and there -o json <= -o yaml in time and"
echo "memory (the ratios of the other sizes are printed without a verdict, as x floor is);"
echo "peak RSS 5,000 <= 100 MiB, 50,000 <= 400 MiB; linear from 1,000 to 50,000. json / yaml is the"
echo "median of the rounds' ratios (each round times -o yaml and -o json back to back)."
echo "Load when the run started: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown); CPU s (user + system) does not depend on it as wall time does."
echo
echo "### Time"
echo
echo "| Ingresses | YAML MB | floor s | convert -o yaml s | CPU s | x floor | goal <= 1.0x | -o json s | json / yaml | goal <= 1.0 | JSON input -o yaml s | x floor | report -o json s | x floor |"
echo "|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---:|"
for r in "${results[@]}"; do
	awk -v r="$r" "$fields"'
	function verdict(ok) { return ok ? "met" : "NOT met" }
	# A ratio printed 1.00 is equal at the precision of the figures (medians of a few
	# runs of a noisy machine vary by ~1%), which is what <= asks; said so, not "met".
	function ratioVerdict(r) { return r <= 1.0 ? "met" : (r < 1.005 ? "met (equal)" : "NOT met") }
	BEGIN {
		split(r, v, " "); n = v[1]
		x = v[YW] / v[FW]; jy = v[JYT]
		printf "| %d | %.1f | %.2f | %.2f | %.2f | %.2fx | %s | %.2f | %.2f | %s | %.2f | %.2fx | %.2f | %.2fx |\n",
			n, v[2] / 1e6, v[FW], v[YW], v[YW + 1], x, (n == 5000) ? verdict(x <= 1.0) : "(5,000 only)",
			v[JW], jy, ((n == 5000) ? ratioVerdict(jy) : "(5,000 only)"), v[IW], v[IW] / v[FW], v[RW], v[RW] / v[FW]
	}'
done
echo
echo "### Peak memory (MiB)"
echo
echo "Peak RSS is what /usr/bin/time reports (the goals are stated in it). It counts the pages of"
echo "mapped files the process touched, nearly all of them the gatebridge executable's code and"
echo "read-only data (shared, reclaimable, about the same at every size: ${basef} MiB for one Service),"
echo "as well as its own anonymous memory (heap, stacks). The peaks of both are given apart."
echo
echo "| Ingresses | floor | convert -o yaml | goal | anonymous | mapped files | -o json | json / yaml | goal <= 1.0 | JSON input -o yaml | report -o json |"
echo "|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---:|"
awk -v w="$basew" -v c="$basec" -v rs="$baser" -v a="$basea" -v f="$basef" 'BEGIN {
	printf "| one Service (%.2f s, %.2f s CPU) | - | %.0f | - | %.0f | %.0f | - | - | - | - | - |\n", w, c, rs, a, f }'
for r in "${results[@]}"; do
	awk -v r="$r" "$fields"'
	function verdict(ok) { return ok ? "met" : "NOT met" }
	function ratioVerdict(r) { return r <= 1.0 ? "met" : (r < 1.005 ? "met (equal)" : "NOT met") }
	BEGIN {
		split(r, v, " "); n = v[1]
		goal = "-"
		# The goal is on peak RSS; whether the anonymous memory of the process alone
		# meets it is said beside (the pages of the executable are the same at every size).
		if (n == 5000) goal = sprintf("<= 100: %s (anonymous: %s)", verdict(v[YW + 2] <= 100), verdict(v[YW + 3] <= 100))
		if (n == 50000) goal = sprintf("<= 400: %s (anonymous: %s)", verdict(v[YW + 2] <= 400), verdict(v[YW + 3] <= 400))
		jy = v[JYM]
		printf "| %d | %.0f | %.0f | %s | %.0f | %.0f | %.0f | %.2f | %s | %.0f | %.0f |\n",
			n, v[FW + 2], v[YW + 2], goal, v[YW + 3], v[YW + 4], v[JW + 2], jy, ((n == 5000) ? ratioVerdict(jy) : "(5,000 only)"), v[IW + 2], v[RW + 2]
	}'
done
echo
first=${results[0]}
echo "### Linearity"
echo
echo "convert -o yaml, less the process alone (${basew} s, ${basec} s CPU, ${baser} MiB peak RSS for one Service),"
echo "per 1,000 Ingresses; \"x first\" against the ${first%% *} figure, \"x previous\" against the size before"
echo "(1.00x = linear; above 1 grows faster than the input)."
echo
echo "| Ingresses | s per 1,000 | x first | x previous | CPU s per 1,000 | x first | MiB per 1,000 | x first | x previous |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
prev=$first
for r in "${results[@]}"; do
	awk -v r="$r" -v f="$first" -v p="$prev" -v bw="$basew" -v bc="$basec" -v br="$baser" "$fields"'
	function per(x, base, n) { return (x - base) / n * 1000 }
	BEGIN {
		split(r, v, " "); split(f, b, " "); split(p, q, " ")
		t = per(v[YW], bw, v[1]); t0 = per(b[YW], bw, b[1]); tp = per(q[YW], bw, q[1])
		c = per(v[YW + 1], bc, v[1]); c0 = per(b[YW + 1], bc, b[1])
		m = per(v[YW + 2], br, v[1]); m0 = per(b[YW + 2], br, b[1]); mp = per(q[YW + 2], br, q[1])
		printf "| %d | %.3f | %.2fx | %.2fx | %.3f | %.2fx | %.1f | %.2fx | %.2fx |\n", v[1], t, t / t0, t / tp, c, c / c0, m, m / m0, m / mp
	}'
	prev=$r
done
if [[ ${BENCH_GOTEST:-1} != 0 ]]; then
	echo
	echo "## converters.Convert and the output encoder in-process (go test -bench '^Benchmark(Convert|Emit)\$' -benchmem)"
	echo
	echo '```'
	grep -E '^(Benchmark|cpu:)' "$gotest_out"
	echo '```'
fi
