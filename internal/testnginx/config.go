package testnginx

import (
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// logFormat is the access log: one JSON object per request (see Entry). escape=json makes
// every value a valid JSON string; status and request_length are always numbers.
const logFormat = `log_format testnginx escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr",'
    '"method":"$request_method","host":"$http_host","server_name":"$server_name",'
    '"request_uri":"$request_uri","query":"$args","scheme":"$scheme","server_port":"$server_port",'
    '"sni":"$ssl_server_name","x_forwarded_for":"$http_x_forwarded_for",'
    '"x_forwarded_proto":"$http_x_forwarded_proto","x_forwarded_host":"$http_x_forwarded_host",'
    '"x_forwarded_port":"$http_x_forwarded_port","x_gatebridge_bucket":"$http_x_gatebridge_bucket",'
    '"status":$status,"request_length":$request_length,"content_length":"$content_length",'
    '"upstream":"$upstream_addr"}';`

// config renders nginx.conf: ingress-nginx's way of proxying, reduced to what the tests
// need (server per host, prefix locations, keep-alive upstreams, forwarded headers passed
// on as with use-forwarded-headers: "true").
func config(o Options, s *Server, dir string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	tmp := filepath.Join(dir, "tmp")
	listenHTTP := "listen " + listenAddr(o.Address, s.HTTPPort)
	listenTLS := "listen " + listenAddr(o.Address, s.TLSPort) + " ssl"

	p("daemon off;")
	p("worker_processes 1;")
	p("pid %s;", filepath.Join(dir, "nginx.pid"))
	p("error_log %s notice;", filepath.Join(dir, "error.log"))
	p("events { worker_connections 4096; }")
	p("http {")
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		p("  %s_temp_path %s;", t, filepath.Join(tmp, t))
	}
	p("  %s", logFormat)
	p("  access_log %s testnginx;", filepath.Join(dir, "access.log"))
	// ingress-nginx's defaults for client connections and bodies.
	p("  keepalive_timeout 75s;")
	p("  keepalive_requests 1000;")
	p("  client_max_body_size 1m;")
	p("  server_names_hash_bucket_size 128;")
	p("  ssl_certificate %s;", filepath.Join(dir, "tls.crt"))
	p("  ssl_certificate_key %s;", filepath.Join(dir, "tls.key"))
	p("  ssl_protocols TLSv1.2 TLSv1.3;")
	// use-forwarded-headers: "true": what the proxy in front (Envoy) set is passed on.
	p("  map $http_x_forwarded_proto $pass_proto { default $http_x_forwarded_proto; '' $scheme; }")
	p("  map $http_x_forwarded_host $pass_host { default $http_x_forwarded_host; '' $host; }")
	p("  map $http_x_forwarded_port $pass_port { default $http_x_forwarded_port; '' $server_port; }")
	p("  map $http_upgrade $pass_connection { default upgrade; '' ''; }")

	upstreams := map[string]string{} // backend → upstream name
	var backends []string
	for _, r := range o.Routes {
		if _, ok := upstreams[r.Backend]; !ok {
			upstreams[r.Backend] = ""
			backends = append(backends, r.Backend)
		}
	}
	sort.Strings(backends)
	for i, be := range backends {
		name := "backend_" + strconv.Itoa(i)
		upstreams[be] = name
		p("  upstream %s { server %s; keepalive 32; }", name, be)
	}

	// The default server: ingress-nginx's default backend for unknown hosts.
	p("  server {")
	p("    %s default_server;", listenHTTP)
	p("    %s default_server;", listenTLS)
	p("    server_name _;")
	p("    location / { default_type text/plain; return 404 %q; }", DefaultBackendBody+"\n")
	p("  }")

	byHost := map[string][]Route{}
	var hosts []string
	for _, r := range o.Routes {
		if _, ok := byHost[r.Host]; !ok {
			hosts = append(hosts, r.Host)
		}
		byHost[r.Host] = append(byHost[r.Host], r)
	}
	for _, h := range hosts {
		p("  server {")
		p("    %s;", listenHTTP)
		p("    %s;", listenTLS)
		p("    server_name %s;", h)
		hasRoot := false
		for _, r := range byHost[h] {
			path := r.Path
			if path == "" {
				path = "/"
			}
			hasRoot = hasRoot || path == "/"
			p("    location %s {", path)
			p("      proxy_pass http://%s;", upstreams[r.Backend])
			p("      proxy_http_version 1.1;")
			p("      proxy_set_header Host $host;")
			p("      proxy_set_header Upgrade $http_upgrade;")
			p("      proxy_set_header Connection $pass_connection;")
			p("      proxy_set_header X-Request-ID $request_id;")
			p("      proxy_set_header X-Real-IP $remote_addr;")
			p("      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
			p("      proxy_set_header X-Forwarded-Proto $pass_proto;")
			p("      proxy_set_header X-Forwarded-Host $pass_host;")
			p("      proxy_set_header X-Forwarded-Port $pass_port;")
			p("      proxy_set_header X-Scheme $pass_proto;")
			p("      proxy_set_header %s %q;", Header, o.Name)
			p("      proxy_connect_timeout 5s;")
			p("      proxy_read_timeout 60s;")
			p("      proxy_send_timeout 60s;")
			p("    }")
		}
		if !hasRoot {
			p("    location / { default_type text/plain; return 404 %q; }", DefaultBackendBody+"\n")
		}
		p("  }")
	}
	p("}")
	return b.String()
}

func listenAddr(address string, port int) string {
	return net.JoinHostPort(address, strconv.Itoa(port))
}
