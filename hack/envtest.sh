#!/usr/bin/env bash
# envtest.sh builds the kube-apiserver and etcd binaries that controller-runtime's
# envtest needs, from Go modules (the only network this project's machines reach),
# and caches them in a directory named by versions and platform.
#
# Usage: KUBEBUILDER_ASSETS="$(hack/envtest.sh)"
#
# stdout: only the absolute asset directory, as the last line.
# stderr: progress logs.
#
# Environment:
#   GATEBRIDGE_CACHE  cache root (default: $HOME/.cache/gatebridge)
#
# Cold build: ~10 min and ~2.3 GiB peak memory on 2 cores; a no-op when the
# cached binaries already exist and run.
set -euo pipefail

K8S_VERSION="1.37.1"      # k8s.io/kubernetes v1.37.1; staging modules v0.37.1
ETCD_VERSION="3.6.16"     # go.etcd.io/etcd/server/v3 v3.6.16

log() { printf 'envtest.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH"

export GOTOOLCHAIN=local
export GOWORK=off
export GOFLAGS=-buildvcs=false
export CGO_ENABLED=0

goos="$(go env GOOS)"
goarch="$(go env GOARCH)"
cache_root="${GATEBRIDGE_CACHE:-${HOME:?HOME is not set}/.cache/gatebridge}"
mkdir -p "$cache_root"
cache_root="$(cd "$cache_root" && pwd -P)"
dest="${cache_root}/envtest/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}-${goos}-${goarch}"

# binaries_ok: both binaries exist, run, and report the expected versions.
binaries_ok() {
	[[ -x "${dest}/kube-apiserver" && -x "${dest}/etcd" ]] || return 1
	"${dest}/kube-apiserver" --version 2>/dev/null | grep -q "v${K8S_VERSION}" || return 1
	"${dest}/etcd" --version 2>/dev/null | grep -q "${ETCD_VERSION}" || return 1
}

if binaries_ok; then
	log "using cached binaries in ${dest}"
	printf '%s\n' "$dest"
	exit 0
fi

mkdir -p "$dest"

# Serialise concurrent runs (e.g. make and go test at once) on one cache dir.
exec 9>"${dest}.lock"
if command -v flock >/dev/null 2>&1; then
	log "waiting for lock ${dest}.lock"
	flock 9
	if binaries_ok; then
		log "binaries were built by a concurrent run: ${dest}"
		printf '%s\n' "$dest"
		exit 0
	fi
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/gatebridge-envtest.XXXXXX")"
cleanup() {
	rm -rf "$work"
	rm -f "${dest}/.kube-apiserver.tmp.$$" "${dest}/.etcd.tmp.$$"
}
trap cleanup EXIT

# install_bin SRC NAME: atomically move SRC to ${dest}/NAME (same filesystem rename).
install_bin() {
	local src="$1" name="$2" tmp="${dest}/.${2}.tmp.$$"
	cp "$src" "$tmp"
	chmod 0755 "$tmp"
	mv -f "$tmp" "${dest}/${name}"
}

now() { date +%s; }

build_etcd() {
	local mod="${work}/etcd" start
	start="$(now)"
	log "building etcd v${ETCD_VERSION} in ${mod}"
	mkdir -p "$mod"
	# go.etcd.io/etcd/server/v3 has replace directives, so it cannot be
	# `go install`ed; build it from a wrapper module instead. The proxy answers
	# 403 for non-module paths, so write require/tool by hand and tidy.
	cat >"${mod}/go.mod" <<EOF
module gatebridge.local/envtest/etcd

go 1.26

require go.etcd.io/etcd/server/v3 v${ETCD_VERSION}

tool go.etcd.io/etcd/server/v3
EOF
	(cd "$mod" && go mod tidy >&2 && \
		go build -trimpath -ldflags='-s -w' -o "${mod}/etcd" go.etcd.io/etcd/server/v3 >&2) \
		|| die "building etcd failed"
	"${mod}/etcd" --version >&2 || die "built etcd does not run"
	install_bin "${mod}/etcd" etcd
	log "etcd built in $(( $(now) - start ))s"
}

build_kube_apiserver() {
	local mod="${work}/kube-apiserver" start k8s_gomod replaces
	start="$(now)"
	log "building kube-apiserver v${K8S_VERSION} in ${mod}"
	mkdir -p "$mod"
	cat >"${mod}/go.mod" <<EOF
module gatebridge.local/envtest/kubeapiserver

go 1.26
EOF
	# k8s.io/kubernetes replaces its staging modules with ./staging/...; read that
	# list from its own go.mod and pin each to the published v0.x release instead.
	k8s_gomod="$(cd "$mod" && go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" \
		| sed -n 's/^[[:space:]]*"GoMod":[[:space:]]*"\(.*\)",\{0,1\}$/\1/p')"
	[[ -n "$k8s_gomod" && -f "$k8s_gomod" ]] || die "could not download k8s.io/kubernetes@v${K8S_VERSION}'s go.mod"
	replaces="$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*$#\t\1 => \1 v0.'"${K8S_VERSION#1.}"'#p' "$k8s_gomod")"
	[[ -n "$replaces" ]] || die "found no staging replace directives in ${k8s_gomod}"
	log "pinning $(printf '%s\n' "$replaces" | wc -l) staging modules to v0.${K8S_VERSION#1.}"
	cat >>"${mod}/go.mod" <<EOF

require k8s.io/kubernetes v${K8S_VERSION}

replace (
${replaces}
)

tool k8s.io/kubernetes/cmd/kube-apiserver
EOF
	local major="${K8S_VERSION%%.*}" minor rest
	rest="${K8S_VERSION#*.}"
	minor="${rest%%.*}"
	local pkg="k8s.io/component-base/version"
	local ldflags="-s -w"
	ldflags+=" -X ${pkg}.gitVersion=v${K8S_VERSION}"
	ldflags+=" -X ${pkg}.gitMajor=${major}"
	ldflags+=" -X ${pkg}.gitMinor=${minor}"
	ldflags+=" -X ${pkg}.gitTreeState=clean"
	ldflags+=" -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
	(cd "$mod" && go mod tidy >&2 && \
		go build -trimpath -ldflags="$ldflags" -o "${mod}/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver >&2) \
		|| die "building kube-apiserver failed"
	"${mod}/kube-apiserver" --version >&2 || die "built kube-apiserver does not run"
	"${mod}/kube-apiserver" --version 2>/dev/null | grep -q "v${K8S_VERSION}" \
		|| die "built kube-apiserver does not report v${K8S_VERSION}"
	install_bin "${mod}/kube-apiserver" kube-apiserver
	log "kube-apiserver built in $(( $(now) - start ))s"
}

total_start="$(now)"
if ! [[ -x "${dest}/etcd" ]] || ! "${dest}/etcd" --version 2>/dev/null | grep -q "${ETCD_VERSION}"; then
	build_etcd
fi
if ! [[ -x "${dest}/kube-apiserver" ]] || ! "${dest}/kube-apiserver" --version 2>/dev/null | grep -q "v${K8S_VERSION}"; then
	build_kube_apiserver
fi
binaries_ok || die "binaries in ${dest} do not run after building"
log "done in $(( $(now) - total_start ))s: ${dest}"
printf '%s\n' "$dest"
