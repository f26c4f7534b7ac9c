#!/usr/bin/env bash
# The README's first command (make demo): install Envoy if needed, build gatebridge and the
# echo backends, serve manifests/examples with `gatebridge run`, and show with curl what
# the migrated Ingresses do. DEMO_KEEP=1 leaves everything running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

# curl shows the requests; a fresh Debian machine may not have it.
if ! command -v curl >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "demo: installing curl (apt-get install -y curl)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y curl >&2 || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y curl >&2; }
  else
    echo "demo: curl is missing; install it (Debian/Ubuntu: sudo apt-get install -y curl) and rerun" >&2; exit 1
  fi
fi
ENVOY="$(hack/envoy.sh)"
mkdir -p .cache/bin .cache/demo
go build -o .cache/bin/ ./cmd/gatebridge ./cmd/gatebridge-server
go build -o .cache/bin/echo ./test/echo/cmd/echo

HTTP_PORT=${HTTP_PORT:-18080} HTTPS_PORT=${HTTPS_PORT:-18443} ADMIN_PORT=${ADMIN_PORT:-19901}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

.cache/bin/echo -listen 127.0.0.1:18081=storefront -listen 127.0.0.1:18082=storefront-v2 \
  -listen 127.0.0.1:18083=api -listen 127.0.0.1:18084=error-pages >.cache/demo/echo.log 2>&1 &
pids+=($!)
.cache/bin/gatebridge run -f manifests/examples --envoy "$ENVOY" \
  --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --admin-port "$ADMIN_PORT" \
  >.cache/demo/served.txt 2>.cache/demo/run.log &
pids+=($!)
for _ in $(seq 1 150); do
  if curl -fsS "http://127.0.0.1:$ADMIN_PORT/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "${pids[1]}" 2>/dev/null; then cat .cache/demo/run.log; exit 1; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$ADMIN_PORT/ready" >/dev/null || { echo "Envoy did not become ready"; cat .cache/demo/run.log; exit 1; }

echo "== gatebridge run -f manifests/examples   (Envoy $("$ENVOY" --version | grep -o '1\.[0-9]*\.[0-9]*' | head -1), admin http://127.0.0.1:$ADMIN_PORT)"
grep -v '^gatebridge run: .*level' .cache/demo/run.log | grep 'Ingresses' || true
echo
cat .cache/demo/served.txt
echo
H="--resolve shop.example.com:$HTTP_PORT:127.0.0.1 --resolve shop.example.com:$HTTPS_PORT:127.0.0.1 --resolve admin.example.com:$HTTPS_PORT:127.0.0.1 --resolve legacy.example.com:$HTTP_PORT:127.0.0.1"
show() { # description, curl args...
  local what=$1; shift
  echo "## $what"
  printf '$ curl'; printf ' %q' "$@"; echo
  # shellcheck disable=SC2086
  curl -sS -o .cache/demo/body -D .cache/demo/headers $H "$@" || true
  head -1 .cache/demo/headers | tr -d '\r'
  grep -i '^location:' .cache/demo/headers | tr -d '\r' || true
  if grep -qi '^x-echo-server' .cache/demo/headers; then
    python3 -c 'import json,sys; r=json.load(open(".cache/demo/body")); print("   backend %s received %s %s (Host %s)" % (r["server"], r["method"], r["uri"], r["host"]))'
  fi
  echo
}
S="https://shop.example.com:$HTTPS_PORT"
show "ssl-redirect: HTTP answers 308 to https, trailing slash dropped (ingress-nginx default)" "http://shop.example.com:$HTTP_PORT/catalog/"
show "app-root: / answers 302 /home" -k "$S/"
show "rewrite-target /\$2 with use-regex: the capture group becomes the whole path, query kept" -k "$S/api/v1/products?page=2"
show "regex mode is case-insensitive and prefix-anchored, like nginx's location ~*" -k "$S/API/V1/orders/7"
show "canary by header: X-Canary: always goes to storefront-v2" -k -H 'X-Canary: always' "$S/catalog"
show "canary by header: X-Canary: never stays on storefront" -k -H 'X-Canary: never' "$S/catalog"
echo "## canary weight 20: 100 requests"
echo "\$ for i in \$(seq 100); do curl -sk -D - -o /dev/null $S/catalog | grep x-echo-server; done | sort | uniq -c"
# shellcheck disable=SC2086
for _ in $(seq 100); do curl -sk -o /dev/null -D - $H "$S/catalog" | tr -d '\r' | grep -i '^x-echo-server:' | cut -d' ' -f2; done | sort | uniq -c | sed 's/^ */   /' 
echo
show "custom-http-errors 404,503: the storefront's 404 is answered by the error-pages backend (GET / with X-Code: 404)" -k -H 'X-Canary: never' -H 'X-Echo-Status-Of: storefront=404, error-pages=404' "$S/catalog/gone"
show "CORS preflight from an allowed origin: answered 204 by the proxy, as nginx does" -k -X OPTIONS -H 'Origin: https://shop.example.com' "$S/api/v1/x"
show "allowlist 10.0.0.0/8,192.168.0.0/16: 127.0.0.1 gets 403 (before external auth)" -k "https://admin.example.com:$HTTPS_PORT/"
show "configuration-snippet is refused: the Ingress is not served natively" "http://legacy.example.com:$HTTP_PORT/"
echo "== full report: .cache/bin/gatebridge report -f manifests/examples; Envoy config: curl http://127.0.0.1:$ADMIN_PORT/config_dump"
if [[ "${DEMO_KEEP:-}" == 1 ]]; then
  echo "== still serving on :$HTTP_PORT/:$HTTPS_PORT (DEMO_KEEP=1); Ctrl-C stops"
  wait "${pids[1]}"
fi
