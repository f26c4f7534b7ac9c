// Package testnginx runs a real nginx (Debian's nginx-light) as the stand-in for
// ingress-nginx in end-to-end tests of the bridge: the legacy controller that gatebridge's
// Envoy falls back to.
//
// Start writes a configuration into a temporary prefix and runs nginx in the foreground
// (daemon off), listening on an HTTP and a TLS port of Options.Address. Each Route is a
// server_name (exact host) with a prefix location proxied, over HTTP/1.1 keep-alive, to a
// backend address — as ingress-nginx configures an Ingress path:
//
//	proxy_set_header Host              $host;
//	proxy_set_header X-Forwarded-For   $proxy_add_x_forwarded_for;   (the client's appended)
//	proxy_set_header X-Real-IP         $remote_addr;
//	proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto, else $scheme
//	proxy_set_header X-Forwarded-Host  $http_x_forwarded_host, else $host
//	proxy_set_header X-Forwarded-Port  $http_x_forwarded_port, else $server_port
//	proxy_set_header X-Request-ID      $request_id;
//	proxy_set_header Header            <Options.Name>                (the marker, see Header)
//
// (the forwarded headers as ingress-nginx passes them with use-forwarded-headers: "true",
// the setting docs/bridge.md recommends behind the bridge). A request nginx proxied therefore
// reaches the backend with the Header marker; one Envoy served natively does not — that is
// how tests tell the two sides apart at an echo backend (test/echo). Unknown hosts get
// ingress-nginx's default backend answer: 404 "default backend - 404".
//
// The TLS port serves, for every host, one self-signed certificate for the routes' hosts
// generated at Start (Server.CertPEM, Server.Certificate): a client can tell nginx's
// certificate from Envoy's. Every request, on either port, is written to an access log of
// one JSON object per line, read with Server.AccessLog.
//
// API: Start(Options) (*Server, error) and Server.Stop for a harness shared by a package
// (TestMain); StartT(t, Options) for one test (found with Require, stopped at the end, its
// error log shown on failure). Server.HTTPAddr/TLSAddr are where to point the fallback;
// Server.AccessLog and Server.WaitFor read what nginx received; Server.Certificate/Pool are
// its certificate.
//
// Finding nginx: $GATEBRIDGE_NGINX, else nginx on PATH, else /usr/sbin/nginx; hack/nginx.sh
// installs it (make test does). Require applies the project's policy for real components:
// skipped with -short; when nginx is missing, a failure with CI=true and a skip elsewhere.
//
// The package owns only the nginx process and its files. It must not know about Envoy or
// gatebridge's converters, so that test/bridge (gatebridge run) and test/cluster (the
// controller) can both use it.
package testnginx
