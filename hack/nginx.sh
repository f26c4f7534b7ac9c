#!/usr/bin/env bash
# nginx.sh makes sure Debian's nginx (the nginx-light package) is installed, for the tests
# that put a real nginx behind Envoy as the stand-in for ingress-nginx (internal/testnginx),
# and prints the absolute path of the nginx binary.
#
# Usage: GATEBRIDGE_NGINX="$(hack/nginx.sh)"
#
# stdout: only the absolute path of the nginx binary, as one line.
# stderr: progress logs.
#
# Environment:
#   GATEBRIDGE_NGINX  an nginx binary to use instead (checked, not installed)
#
# Idempotent: when nginx is installed this takes a few milliseconds and changes nothing.
# It never reads stdin (safe under CI=true). Installing needs root and apt-get; as anyone
# else the script stops and says what to install.
#
# The tests start nginx themselves, as a non-daemon process with its own prefix and
# configuration; the system service is never wanted. The package's maintainer scripts would
# start it (listening on :80): the install runs with a policy-rc.d that forbids starting
# services, and a daemon that started anyway (its pid in /run/nginx.pid) is stopped and the
# service disabled.
set -euo pipefail

log() { printf 'nginx.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

export DEBIAN_FRONTEND=noninteractive

# nginx_ok BIN: BIN runs and was built with the modules the tests use (TLS, SNI).
nginx_ok() {
	local bin="$1" version
	[[ -n "$bin" && -x "$bin" ]] || return 1
	# `nginx -V` writes to stderr; capture it first (pipefail and an early-exiting grep).
	version="$("$bin" -V 2>&1 </dev/null)" || return 1
	[[ "$version" == *"--with-http_ssl_module"* ]] || return 1
	[[ "$version" == *"TLS SNI support enabled"* ]] || return 1
	return 0
}

# find_nginx prints the path of an installed nginx that will do.
find_nginx() {
	local bin
	for bin in "$(command -v nginx 2>/dev/null || true)" /usr/sbin/nginx; do
		if nginx_ok "$bin"; then
			printf '%s\n' "$(readlink -f "$bin")"
			return 0
		fi
	done
	return 1
}

if [[ -n "${GATEBRIDGE_NGINX:-}" ]]; then
	nginx_ok "$GATEBRIDGE_NGINX" || die "GATEBRIDGE_NGINX=${GATEBRIDGE_NGINX} is not an nginx built with http_ssl_module and SNI"
	log "using GATEBRIDGE_NGINX=${GATEBRIDGE_NGINX}"
	printf '%s\n' "$(readlink -f "$GATEBRIDGE_NGINX")"
	exit 0
fi

if bin="$(find_nginx)"; then
	log "using ${bin}"
	printf '%s\n' "$bin"
	exit 0
fi

if [[ "$(id -u)" != "0" ]] || ! command -v apt-get >/dev/null 2>&1; then
	die "nginx is not installed. On Debian/Ubuntu: sudo apt-get install -y nginx-light
  (the tests start their own nginx; stop the system service afterwards: sudo systemctl disable --now nginx)
  or point GATEBRIDGE_NGINX at an nginx binary built with http_ssl_module."
fi

# Serialise concurrent runs (parallel test packages may call this script).
lock="/tmp/gatebridge-nginx-install.lock"
exec 9>"$lock"
if command -v flock >/dev/null 2>&1; then
	log "waiting for lock ${lock}"
	flock 9
	if bin="$(find_nginx)"; then
		log "nginx was installed by a concurrent run: ${bin}"
		printf '%s\n' "$bin"
		exit 0
	fi
fi

# Forbid service starts for the duration of the install (invoke-rc.d honours policy-rc.d:
# exit status 101 = action forbidden). An existing policy-rc.d is kept and put back.
policy=/usr/sbin/policy-rc.d
saved=""
if [[ -e "$policy" ]]; then
	saved="$(mktemp)"
	cp -p "$policy" "$saved"
fi
restore_policy() {
	if [[ -n "$saved" ]]; then
		cp -p "$saved" "$policy"
		rm -f "$saved"
	else
		rm -f "$policy"
	fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# written by gatebridge hack/nginx.sh for the duration of an install\nexit 101\n' >"$policy"
chmod 0755 "$policy"

start="$(date +%s)"
log "installing nginx-light with apt-get"
if ! apt-get install -y -q --no-install-recommends nginx-light </dev/null >&2; then
	log "apt-get install failed; running apt-get update and retrying"
	apt-get update -q </dev/null >&2 || die "apt-get update failed"
	apt-get install -y -q --no-install-recommends nginx-light </dev/null >&2 || die "apt-get install -y nginx-light failed"
fi
restore_policy
trap - EXIT

# The system service is never wanted: disable it, and stop a daemon the package started
# anyway (only the one whose pid the package's configuration names).
if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
	systemctl disable --now nginx >&2 2>/dev/null || true
fi
if command -v update-rc.d >/dev/null 2>&1; then
	update-rc.d nginx disable >/dev/null 2>&1 || true
fi
if [[ -s /run/nginx.pid ]]; then
	pid="$(cat /run/nginx.pid)"
	if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
		log "stopping the nginx service the package started (pid ${pid})"
		kill -QUIT "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	fi
fi

bin="$(find_nginx)" || die "nginx-light is installed but its nginx does not run or lacks http_ssl_module/SNI"
log "installed nginx-light in $(( $(date +%s) - start ))s: ${bin}"
printf '%s\n' "$bin"
