#!/usr/bin/env bash
# conformance.sh builds what the container-less Gateway API conformance harness
# (test/conformance) needs besides Envoy and prints where it is:
#   - etcd and kube-apiserver (hack/envtest.sh),
#   - kube-controller-manager v1.37.1, built from Go modules the same way
#     hack/envtest.sh builds kube-apiserver and cached next to it,
#   - echo-basic, the suite's own backend, built from the conformance module
#     that test/conformance/go.mod pins,
#   - the gatebridge binaries under test (./cmd/gatebridge, ./cmd/gatebridge-server).
#
# Usage: eval "$(hack/conformance.sh)"
#
# stdout: shell assignments, one a line (each value is an absolute path):
#   KUBEBUILDER_ASSETS=...        etcd, kube-apiserver and kube-controller-manager
#   KUBE_CONTROLLER_MANAGER=...
#   ECHO_BASIC=...
#   GATEBRIDGE_BIN=...
# stderr: progress logs.
#
# Environment:
#   GATEBRIDGE_CACHE  cache root (default: $HOME/.cache/gatebridge)
#
# kube-controller-manager: ~6 min cold on 2 cores (~2.5 min when kube-apiserver
# was built before, their packages overlap); a no-op once cached. Concurrent runs
# wait on a lock, so it is never built twice at once.
set -euo pipefail

K8S_VERSION="1.37.1"      # the same k8s.io/kubernetes as hack/envtest.sh

log() { printf 'conformance.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
export GOTOOLCHAIN=local
export GOWORK=off

assets="$("${repo}/hack/envtest.sh")" || die "hack/envtest.sh failed"
[[ -d "$assets" ]] || die "hack/envtest.sh printed no directory"
kcm="${assets}/kube-controller-manager"

kcm_ok() {
	[[ -x "$kcm" ]] && "$kcm" --version 2>/dev/null | grep -q "v${K8S_VERSION}"
}

build_kcm() {
	local work mod start k8s_gomod replaces
	start="$(date +%s)"
	work="$(mktemp -d "${TMPDIR:-/tmp}/gatebridge-kcm.XXXXXX")"
	# shellcheck disable=SC2064 # expand $work now
	trap "rm -rf '${work}' '${kcm}.tmp.$$'" EXIT
	mod="${work}/kube-controller-manager"
	mkdir -p "$mod"
	log "building kube-controller-manager v${K8S_VERSION} in ${mod}"
	cat >"${mod}/go.mod" <<EOF
module gatebridge.local/envtest/kubecontrollermanager

go 1.26
EOF
	# As in hack/envtest.sh: k8s.io/kubernetes replaces its staging modules with
	# ./staging/...; pin each to its published v0.x release instead.
	k8s_gomod="$(cd "$mod" && go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" \
		| sed -n 's/^[[:space:]]*"GoMod":[[:space:]]*"\(.*\)",\{0,1\}$/\1/p')"
	[[ -n "$k8s_gomod" && -f "$k8s_gomod" ]] || die "could not download k8s.io/kubernetes@v${K8S_VERSION}'s go.mod"
	replaces="$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*$#\t\1 => \1 v0.'"${K8S_VERSION#1.}"'#p' "$k8s_gomod")"
	[[ -n "$replaces" ]] || die "found no staging replace directives in ${k8s_gomod}"
	cat >>"${mod}/go.mod" <<EOF

require k8s.io/kubernetes v${K8S_VERSION}

replace (
${replaces}
)

tool k8s.io/kubernetes/cmd/kube-controller-manager
EOF
	local major="${K8S_VERSION%%.*}" rest minor pkg="k8s.io/component-base/version" ldflags="-s -w"
	rest="${K8S_VERSION#*.}"
	minor="${rest%%.*}"
	ldflags+=" -X ${pkg}.gitVersion=v${K8S_VERSION}"
	ldflags+=" -X ${pkg}.gitMajor=${major}"
	ldflags+=" -X ${pkg}.gitMinor=${minor}"
	ldflags+=" -X ${pkg}.gitTreeState=clean"
	ldflags+=" -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
	(cd "$mod" && go mod tidy >&2 && \
		GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" \
			-o "${mod}/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager >&2) \
		|| die "building kube-controller-manager failed"
	"${mod}/kube-controller-manager" --version 2>/dev/null | grep -q "v${K8S_VERSION}" \
		|| die "built kube-controller-manager does not report v${K8S_VERSION}"
	cp "${mod}/kube-controller-manager" "${kcm}.tmp.$$"
	chmod 0755 "${kcm}.tmp.$$"
	mv -f "${kcm}.tmp.$$" "$kcm"
	log "kube-controller-manager built in $(( $(date +%s) - start ))s"
}

if kcm_ok; then
	log "using cached ${kcm}"
else
	# Its own lock (hack/envtest.sh holds ${assets}.lock only while it builds).
	exec 8>"${assets}.kube-controller-manager.lock"
	log "waiting for lock ${assets}.kube-controller-manager.lock"
	flock 8
	kcm_ok || build_kcm
	exec 8>&-
fi

# echo-basic from the module test/conformance requires (no other copy is used).
bin="${repo}/.cache/conformance/bin"
mkdir -p "$bin"
log "building echo-basic and gatebridge into ${bin}"
(cd "${repo}/test/conformance" && GOFLAGS="-mod=mod ${GOFLAGS:-}" CGO_ENABLED=0 \
	go build -trimpath -o "${bin}/echo-basic" sigs.k8s.io/gateway-api/conformance/echo-basic >&2) \
	|| die "building echo-basic failed"
(cd "$repo" && go build -o "${bin}/" ./cmd/gatebridge ./cmd/gatebridge-server >&2) \
	|| die "building gatebridge failed"

printf 'KUBEBUILDER_ASSETS=%q\n' "$assets"
printf 'KUBE_CONTROLLER_MANAGER=%q\n' "$kcm"
printf 'ECHO_BASIC=%q\n' "${bin}/echo-basic"
printf 'GATEBRIDGE_BIN=%q\n' "${bin}/gatebridge"
