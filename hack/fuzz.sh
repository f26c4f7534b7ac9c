#!/usr/bin/env bash
# fuzz.sh runs every fuzz target for FUZZTIME each (`make fuzz`), and fails when one finds a
# failing input — which `go test` then writes to the package's testdata/fuzz/<target>/ to be
# kept as a regression case.
#
# Two things of Go's fuzzer (1.26) it works around:
#   - FUZZMINIMIZE (default 0s) is the time spent minimizing each input that finds new
#     coverage. The default (60s) stops the converter and data-plane fuzzers cold: their
#     coverage varies from run to run (goroutines, map order), so nearly every input looks
#     new and is minimized, and they ran ~1 input a second. Not minimizing, they run 150-300
#     a second; a failing input is kept as found (FUZZMINIMIZE=60s to minimize one when
#     investigating).
#   - At the end of a timed run the coordinator can report "context deadline exceeded" as a
#     failure of the target although no input failed (go.dev/issue/75804, fixed in Go 1.27).
#     A run that fails that way without writing a failing input is reported and not counted.
#
# Usage: hack/fuzz.sh                 (every target, 30s each)
#        FUZZTIME=5m hack/fuzz.sh     (longer)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export GOTOOLCHAIN=local
FUZZTIME=${FUZZTIME:-30s}
FUZZMINIMIZE=${FUZZMINIMIZE:-0s}

# package and target, one per line
targets="./annotations FuzzParse
./annotations FuzzTranslateSnippet
./converters FuzzConvert
./sources FuzzDecode
./sources FuzzFastYAMLToJSON
./sources FuzzJSONScan
./dataplane FuzzTranslate
./dataplane FuzzTranslateValues
./internal/emit FuzzWriteMatchesEncodeObjects
./internal/emit FuzzReadValue
./internal/emit FuzzDirectJSON
./converters FuzzPlainlyValidMeta
./internal/clientca FuzzRFC2253"

failed=0
while read -r pkg target; do
	corpus="$pkg/testdata/fuzz/$target"
	before=$(ls "$corpus" 2>/dev/null | sort || true)
	out=$(mktemp)
	echo "fuzz.sh: $target ($pkg, $FUZZTIME)" >&2
	if go test "$pkg" -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZE" >"$out" 2>&1; then
		tail -n 2 "$out" >&2
		rm -f "$out"
		continue
	fi
	after=$(ls "$corpus" 2>/dev/null | sort || true)
	if [[ $before == "$after" ]] && grep -q 'context deadline exceeded' "$out"; then
		tail -n 4 "$out" >&2
		echo "fuzz.sh: $target: stopped by the coordinator's deadline race (go.dev/issue/75804), no failing input: not counted" >&2
	else
		cat "$out" >&2
		echo "fuzz.sh: $target FAILED; the failing input is in $corpus" >&2
		failed=$((failed + 1))
	fi
	rm -f "$out"
done <<<"$targets"

if ((failed > 0)); then
	echo "fuzz.sh: $failed target(s) found failing inputs" >&2
	exit 1
fi
echo "fuzz.sh: every target passed" >&2
