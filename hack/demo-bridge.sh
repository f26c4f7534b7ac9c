#!/usr/bin/env bash
# make demo-bridge: the migration walkthrough of the README on one machine. A real nginx
# (Debian's nginx-light) stands in for the running ingress-nginx, serving the examples'
# hosts with its own certificate; `gatebridge run --fallback` puts Envoy in front of it.
# The storefront Ingress then moves over: observed → migrate at 10 % → 50 % → 100 % →
# rollback, and each step shows, over 200 requests, who answered (the echo backends say
# whether the request came through nginx). Finally the YAML is exported.
# DEMO_KEEP=1 leaves everything running at the end until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

for tool in curl openssl python3; do
  command -v "$tool" >/dev/null 2>&1 && continue
  if [[ $(id -u) -eq 0 ]]; then
    echo "demo-bridge: installing $tool" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$tool" >&2 || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "$tool" >&2; }
  else
    echo "demo-bridge: $tool is missing; install it and rerun" >&2; exit 1
  fi
done
ENVOY="$(hack/envoy.sh)"
NGINX="$(hack/nginx.sh)"
D=.cache/demo-bridge
rm -rf "$D" && mkdir -p "$D/manifests" "$D/nginx/logs" .cache/bin
go build -o .cache/bin/ ./cmd/gatebridge ./cmd/gatebridge-server
go build -o .cache/bin/echo ./test/echo/cmd/echo
cp -r manifests/examples/. "$D/manifests/"

HTTP_PORT=18080 HTTPS_PORT=18443 ADMIN_PORT=19901 NGINX_HTTP=18280 NGINX_TLS=18643
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# The legacy controller: nginx proxies every host to the same backends the Ingresses name,
# marking what it proxied (X-Served-By), with its own self-signed certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=ingress-nginx stand-in" \
  -addext "subjectAltName=DNS:shop.example.com,DNS:admin.example.com,DNS:legacy.example.com" \
  -keyout "$D/nginx/tls.key" -out "$D/nginx/tls.crt" 2>/dev/null
cat >"$D/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $PWD/$D/nginx/nginx.pid;
error_log $PWD/$D/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log $PWD/$D/nginx/logs/access.log;
  client_body_temp_path $PWD/$D/nginx/body; proxy_temp_path $PWD/$D/nginx/proxy;
  fastcgi_temp_path $PWD/$D/nginx/fastcgi; uwsgi_temp_path $PWD/$D/nginx/uwsgi; scgi_temp_path $PWD/$D/nginx/scgi;
  proxy_set_header Host \$host;
  proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
  proxy_set_header X-Served-By ingress-nginx;
  server { listen 127.0.0.1:$NGINX_HTTP default_server; listen 127.0.0.1:$NGINX_TLS ssl default_server;
           ssl_certificate $PWD/$D/nginx/tls.crt; ssl_certificate_key $PWD/$D/nginx/tls.key;
           location / { return 404 "default backend - 404\n"; } }
  server { listen 127.0.0.1:$NGINX_HTTP; listen 127.0.0.1:$NGINX_TLS ssl;
           server_name shop.example.com admin.example.com legacy.example.com;
           ssl_certificate $PWD/$D/nginx/tls.crt; ssl_certificate_key $PWD/$D/nginx/tls.key;
           location / { proxy_pass http://127.0.0.1:18081; }
           location /api/ { proxy_pass http://127.0.0.1:18083; } }
}
EOF
"$NGINX" -p "$PWD/$D/nginx" -c "$PWD/$D/nginx/nginx.conf" >"$D/nginx/logs/stdout.log" 2>&1 &
pids+=($!)
.cache/bin/echo -listen 127.0.0.1:18081=storefront -listen 127.0.0.1:18082=storefront-v2 \
  -listen 127.0.0.1:18083=api -listen 127.0.0.1:18084=error-pages >"$D/echo.log" 2>&1 &
pids+=($!)
.cache/bin/gatebridge run -f "$D/manifests" --envoy "$ENVOY" \
  --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --admin-port "$ADMIN_PORT" \
  --fallback "127.0.0.1:$NGINX_HTTP" --fallback-tls "127.0.0.1:$NGINX_TLS" \
  >"$D/served.txt" 2>"$D/run.log" &
RUN_PID=$!
pids+=($RUN_PID)
for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:$ADMIN_PORT/ready" >/dev/null 2>&1 && break
  kill -0 "$RUN_PID" 2>/dev/null || { cat "$D/run.log"; exit 1; }
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$ADMIN_PORT/ready" >/dev/null || { echo "Envoy did not become ready"; cat "$D/run.log"; exit 1; }

served() { grep -c '"msg"="serving"' "$D/run.log" || true; }
# annotate KEY=VALUE… | KEY-: edits the storefront Ingress's annotations in its file, as
# `kubectl annotate` would, and waits until run serves the new version.
annotate() {
  local before; before=$(served)
  python3 - "$D/manifests/shop.yaml" "$@" <<'PY'
import re, sys
path, edits = sys.argv[1], sys.argv[2:]
docs = open(path).read().split("\n---\n")
for i, d in enumerate(docs):
    if re.search(r"(?m)^kind: Ingress$", d) and re.search(r"(?m)^\s+name: storefront$", d):
        for e in edits:
            key = e[:-1] if e.endswith("-") else e.split("=", 1)[0]
            d = re.sub(r"(?m)^    %s: .*\n" % re.escape(key), "", d)
            if not e.endswith("-"):
                val = e.split("=", 1)[1]
                d = re.sub(r"(?m)^  annotations:\n", '  annotations:\n    %s: "%s"\n' % (key, val), d, count=1)
        docs[i] = d
open(path, "w").write("\n---\n".join(docs))
PY
  for _ in $(seq 1 100); do [[ $(served) -gt $before ]] && return 0; sleep 0.1; done
  echo "demo-bridge: run did not serve the edit"; tail -5 "$D/run.log"; exit 1
}
H="--resolve shop.example.com:$HTTP_PORT:127.0.0.1 --resolve shop.example.com:$HTTPS_PORT:127.0.0.1 --resolve unknown.example.com:$HTTP_PORT:127.0.0.1"
# count: who answers 200 requests for the storefront (the canary header pins the primary).
count() {
  # shellcheck disable=SC2086
  for _ in $(seq 200); do
    curl -sk $H -H 'X-Canary: never' "https://shop.example.com:$HTTPS_PORT/catalog"; echo
  done | python3 -c '
import json, sys
data, dec, i = sys.stdin.read(), json.JSONDecoder(), 0
nginx = native = other = 0
while True:
    while i < len(data) and data[i].isspace(): i += 1
    if i >= len(data): break
    try: r, i = dec.raw_decode(data, i)
    except ValueError: other += 1; i = data.find("\n", i) + 1 or len(data); continue
    if not isinstance(r, dict): other += 1
    elif "X-Served-By" in r.get("headers", {}): nginx += 1
    else: native += 1
print("   200 requests: %3d natively by Envoy, %3d through ingress-nginx%s" % (native, nginx, ", %d failed" % other if other else ""))'
}
cert() { # the certificate a TLS client gets for shop.example.com
  echo | openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername shop.example.com 2>/dev/null \
    | openssl x509 -noout -subject 2>/dev/null | sed 's/^/   certificate: /'
}
step() { echo; echo "## $*"; }

echo "== gatebridge run --fallback 127.0.0.1:$NGINX_HTTP --fallback-tls 127.0.0.1:$NGINX_TLS   (nginx $("$NGINX" -v 2>&1 | grep -o '[0-9.]*$') stands in for ingress-nginx)"
grep 'gatebridge run: [0-9]* Ingresses\|migration:\|bridge on' "$D/run.log" | sed 's/^gatebridge run: /   /'
step "1. Observed: nothing is migrated; Envoy forwards everything to ingress-nginx untouched"
count; cert
echo "   unknown host:   $(curl -s $H "http://unknown.example.com:$HTTP_PORT/")"
step "2. kubectl annotate ingress storefront gatebridge.dev/migrate=true gatebridge.dev/weight=10"
annotate gatebridge.dev/migrate=true gatebridge.dev/weight=10
count; cert
step "3. gatebridge.dev/weight=50"
annotate gatebridge.dev/weight=50
count
step "4. gatebridge.dev/weight=100 (or remove the weight): native"
annotate gatebridge.dev/weight=100
count
step "5. gatebridge.dev/weight=fifty: invalid, a finding; the last valid weight (100) stays"
annotate gatebridge.dev/weight=fifty
count
grep 'gatebridge.dev/weight "fifty"' "$D/run.log" | tail -1 | sed 's/^gatebridge run: /   run says: /' || true
step "6. Rollback: kubectl annotate ingress storefront gatebridge.dev/migrate- : all of it back at once"
annotate gatebridge.dev/migrate- gatebridge.dev/weight-
count; cert
step "7. Finish: export the Gateway API YAML for git (the migrated Ingresses, at 100 %)"
annotate gatebridge.dev/migrate=true
.cache/bin/gatebridge convert -f "$D/manifests" >"$D/gateway-api.yaml" 2>/dev/null || true
echo "   .cache/bin/gatebridge convert -f $D/manifests > $D/gateway-api.yaml   ($(grep -c '^kind:' "$D/gateway-api.yaml") objects)"
echo
echo "== migration states: .cache/bin/gatebridge report --bridge -f $D/manifests"
.cache/bin/gatebridge report --bridge -f "$D/manifests" 2>/dev/null | head -12 | sed 's/^/   /'
echo "== nginx's access log: $D/nginx/logs/access.log; Envoy's stats: curl -s http://127.0.0.1:$ADMIN_PORT/stats/prometheus | grep gatebridge_upstream_rq_total"
if [[ "${DEMO_KEEP:-}" == 1 ]]; then
  echo "== still serving on :$HTTP_PORT/:$HTTPS_PORT (DEMO_KEEP=1); edit $D/manifests/shop.yaml; Ctrl-C stops"
  wait "$RUN_PID"
fi
