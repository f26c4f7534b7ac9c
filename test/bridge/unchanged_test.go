package bridge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatebridge-dev/gatebridge/internal/testnginx"
)

// TestFallbackUnchanged: what Envoy does not serve natively — a not-migrated Ingress, a
// refused one, a host no Ingress of run names, and a not-migrated path of a host whose other
// path is migrated — reaches nginx untouched: nginx's access log shows the method, Host,
// path and query, body length and the client's X-Forwarded-For with the client address
// appended (by Envoy), X-Forwarded-Proto/-Host/-Port set and no internal bucket header; the
// echo backend behind nginx shows the same and the body. The migrated path of the mixed host
// is served natively (no nginx marker).
func TestFallbackUnchanged(t *testing.T) {
	const ns = "bridge"
	r := startRun(t, map[string]string{
		"services.yaml": service(ns, "legacy") + service(ns, "refused") + service(ns, "mixed-web") + service(ns, "mixed-api"),
		"legacy.yaml":   ingress(ns, "legacy", "legacy.example.com", "/", "legacy", "", ""),
		// Opted in, but the converter refuses a snippet: it stays on ingress-nginx.
		"refused.yaml": ingress(ns, "refused", "refused.example.com", "/", "refused",
			migrate+`, nginx.ingress.kubernetes.io/configuration-snippet: "more_set_headers 'X-Env: prod';"`, ""),
		"mixed-web.yaml": ingress(ns, "mixed-web", "mixed.example.com", "/", "mixed-web", migrate, ""),
		"mixed-api.yaml": ingress(ns, "mixed-api", "mixed.example.com", "/api", "mixed-api", "", ""),
	})
	c := r.client()

	cases := []struct {
		name, host, path, backend string
	}{
		{"not migrated", "legacy.example.com", "/shop/cart", "legacy"},
		{"refused", "refused.example.com", "/x/y", "refused"},
		{"unknown host", "unknown.example.com", "/anything", "unknown"},
		{"not-migrated path of a migrated host", "mixed.example.com", "/api/v1/items", "mixed-api"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Repeat("payload-", 10+i)
			// A query nginx and Envoy must pass as it is: encoded space, repeated key, a
			// marker to find the log line.
			query := fmt.Sprintf("id=%s&q=two%%20words&q=again&empty=", uniqueID(fmt.Sprint("case", i)))
			uri := tc.path + "?" + query
			req, err := http.NewRequest(http.MethodPost, "http://"+tc.host+uri, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Forwarded-For", "203.0.113.7")
			req.Header.Set("X-Client-Header", "kept")
			req.Header.Set("Content-Type", "text/plain")
			res := do(t, c, req)
			if res.status != http.StatusOK || res.backend == nil {
				t.Fatalf("POST %s%s: %s, want 200 from echo backend %s through nginx", tc.host, uri, res, tc.backend)
			}
			if !res.fallback() {
				t.Fatalf("the request was served natively by backend %s (no %s header), want it through nginx", res.backend.Server, testnginx.Header)
			}

			// What nginx received (its access log).
			e, err := env.nginx.WaitFor(10*time.Second, func(e testnginx.Entry) bool { return e.Query == query })
			if err != nil {
				t.Fatalf("nginx did not log the request: %v", err)
			}
			checks := []struct{ what, got, want string }{
				{"method", e.Method, "POST"},
				{"Host", e.Host, tc.host},
				{"request URI", e.RequestURI, uri},
				{"Content-Length", e.ContentLength, fmt.Sprint(len(body))},
				// The client's X-Forwarded-For kept, the client's address appended by Envoy
				// (compared as a list: "a,b" and "a, b" are the same header value).
				{"X-Forwarded-For", xffList(e.XForwardedFor), "203.0.113.7, 127.0.0.1"},
				{"X-Forwarded-Proto", e.XForwardedProto, "http"},
				{"X-Forwarded-Host", e.XForwardedHost, tc.host},
				{"x-gatebridge-bucket (internal, must be removed)", e.Bucket, ""},
				{"scheme (the port it came in on)", e.Scheme, "http"},
			}
			for _, ch := range checks {
				if ch.got != ch.want {
					t.Errorf("nginx received %s %q, want %q", ch.what, ch.got, ch.want)
				}
			}
			if e.XForwardedPort == "" {
				t.Errorf("nginx received no X-Forwarded-Port")
			}
			if e.Status != http.StatusOK {
				t.Errorf("nginx logged status %d, want 200", e.Status)
			}

			// What the backend behind nginx received.
			b := res.backend
			if b.Server != tc.backend {
				t.Errorf("answered by backend %q, want %q", b.Server, tc.backend)
			}
			if b.Method != "POST" || b.Host != tc.host || b.URI != uri || b.BodyBytes != int64(len(body)) {
				t.Errorf("backend received %s %s %s with %d body bytes, want POST %s %s with %d", b.Method, b.Host, b.URI, b.BodyBytes, tc.host, uri, len(body))
			}
			if v := b.Headers.Get("X-Client-Header"); v != "kept" {
				t.Errorf("backend received X-Client-Header %q, want \"kept\"", v)
			}
			// nginx appends Envoy's address in turn.
			if v := xffList(b.Headers.Get("X-Forwarded-For")); v != "203.0.113.7, 127.0.0.1, 127.0.0.1" {
				t.Errorf("backend received X-Forwarded-For %q, want \"203.0.113.7, 127.0.0.1, 127.0.0.1\"", v)
			}
			if v := b.Headers.Get("X-Gatebridge-Bucket"); v != "" {
				t.Errorf("backend received x-gatebridge-bucket %q, want none", v)
			}
			if v := b.Headers.Get("X-Gatebridge-Scope"); v != "" {
				t.Errorf("backend received x-gatebridge-scope %q, want none", v)
			}
		})
	}

	t.Run("migrated path of the mixed host is native", func(t *testing.T) {
		res := get(t, c, "http://mixed.example.com/web/page?x=1")
		if res.status != http.StatusOK || res.backend == nil || res.backend.Server != "mixed-web" {
			t.Fatalf("GET mixed.example.com/web/page: %s, want 200 from mixed-web", res)
		}
		if res.fallback() {
			t.Errorf("the migrated location was sent to nginx, want it served natively")
		}
	})

	t.Run("unknown host nginx does not know either", func(t *testing.T) {
		res := get(t, c, "http://nobody.example.com/x")
		if res.status != http.StatusNotFound || strings.TrimSpace(string(res.body)) != testnginx.DefaultBackendBody {
			t.Errorf("GET nobody.example.com/x: %s, want nginx's 404 %q", res, testnginx.DefaultBackendBody)
		}
	})
}

// xffList normalises an X-Forwarded-For value: its elements, trimmed, joined by ", ".
func xffList(v string) string {
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return strings.Join(parts, ", ")
}
