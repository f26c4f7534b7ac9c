package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// The bridge (docs/bridge.md) through the real Envoy, with Go servers standing in for
// ingress-nginx: "fallback" (its HTTP port) and "fallback-tls" (its TLS port, with its own
// certificate for legacy.example.org). Both answer like the echo backends; they also send
// back the request body they received (X-Fallback-Body) and answer websocket upgrades.
// (The tests with Debian's nginx as the fallback are in the nginx-based suite.)

// fallbackHandler is an echo handler that also returns the request body it read and
// switches protocols for a websocket upgrade (then echoes what it reads).
func fallbackHandler(name string) http.Handler {
	h := echo.NewHandler(name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			conn, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Fallback-Host: %s\r\n\r\n", r.Host)
			rw.Flush()
			line, _ := rw.ReadString('\n')
			fmt.Fprintf(rw, "echo %s", line)
			rw.Flush()
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Fallback-Body", string(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}

// startFallbacks starts the stand-ins and registers them as backends of the scenes
// ("fallback", "fallback-tls") for the rest of the test.
func startFallbacks(t *testing.T) (plain, secure *echo.Server) {
	t.Helper()
	plain, err := echo.Start("fallback", "127.0.0.1:0", fallbackHandler("fallback"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := env.ca.IssueTLS("legacy.example.org")
	if err != nil {
		t.Fatal(err)
	}
	secure, err = echo.Start("fallback-tls", "127.0.0.1:0", fallbackHandler("fallback-tls"), &cert)
	if err != nil {
		t.Fatal(err)
	}
	env.backends["fallback"], env.backends["fallback-tls"] = plain, secure
	t.Cleanup(func() {
		delete(env.backends, "fallback")
		delete(env.backends, "fallback-tls")
		_ = plain.Close()
		_ = secure.Close()
	})
	return plain, secure
}

// bridgeScene is applyBridged's input besides the YAML: the bridge, locations of Ingresses
// that are not migrated (as the converter hands them over in bridge mode) and the weight and
// stickiness the converter stamps on a migrating Ingress's HTTPRoutes (Ingress name → value).
type bridgeScene struct {
	bridge      dataplane.Bridge
	notMigrated []dataplane.RefusedLocation
	weights     map[string]string
	sticky      map[string]bool
}

// applyBridged serves a scene like apply, with the converter's shared Gateway bridged. It
// tests the data plane on its own: the converter runs without bridge mode, and the scene
// adds what bridge mode would (not-migrated locations, weight and sticky annotations).
func applyBridged(t *testing.T, yamlTemplate string, sc bridgeScene) {
	t.Helper()
	res := buildScene(t, yamlTemplate)
	m := res.Model
	b := sc.bridge
	b.GatewayNamespace, b.GatewayName = "gatebridge-system", "gatebridge"
	m.Bridge = &b
	for _, l := range sc.notMigrated {
		l.GatewayNamespace, l.GatewayName = b.GatewayNamespace, b.GatewayName
		l.Reason = converters.NotMigratedReason
		m.RefusedLocations = append(m.RefusedLocations, l)
	}
	for i, r := range m.HTTPRoutes {
		ing := r.Labels["gatebridge.dev/source-ingress"]
		w, weighted := sc.weights[ing]
		if !weighted && !sc.sticky[ing] {
			continue
		}
		r = r.DeepCopy()
		if r.Annotations == nil {
			r.Annotations = map[string]string{}
		}
		if weighted {
			r.Annotations[v1alpha1.WeightAnnotation] = w
		}
		if sc.sticky[ing] {
			r.Annotations[v1alpha1.StickyAnnotation] = "true"
		}
		m.HTTPRoutes[i] = r
	}
	out, version, _, err := env.stack.Apply(m)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	for _, p := range out.Problems {
		t.Logf("translation problem: %s", p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.stack.WaitApplied(ctx, version); err != nil {
		t.Fatal(err)
	}
}

func pathPrefix(v string) gwv1.HTTPPathMatch {
	pt := gwv1.PathMatchPathPrefix
	return gwv1.HTTPPathMatch{Type: &pt, Value: &v}
}

const bridgeSceneYAML = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations: {nginx.ingress.kubernetes.io/ssl-redirect: "false"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [shop.example.com], secretName: shop-tls}]
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: admin
  namespace: e2e
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations: {nginx.ingress.kubernetes.io/configuration-snippet: "more_set_headers 'X-Env: prod';"}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /admin, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: catalog, namespace: e2e, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: catalog.example.com
    http:
      paths:
      - {path: /items, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: weighted, namespace: e2e, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: weighted.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: sticky, namespace: e2e, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: sticky.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "shop-tls" "shop.example.com"}}{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}
`

// TestBridge: what Envoy does not serve natively reaches the fallback as the client sent it
// — method, Host, path, query and body — with the client address appended to
// X-Forwarded-For and X-Forwarded-Proto/-Host/-Port set, and none of the headers native
// routes add for nginx emulation: unknown hosts, paths no route of a host matches, a
// refused Ingress's location and a not-migrated Ingress's location on a migrated host
// (which "/" of the migrated Ingress must not swallow). Weight 25 serves 25 % ± 5 % of
// 2,000 requests natively; the bucket cookie pins a sticky client to its side. Over TLS, a
// host Envoy holds a certificate for is terminated (its fallback share re-encrypted with
// SNI = Host), any other SNI passes through to the fallback's TLS port with the fallback's
// certificate. Envoy's Prometheus statistics count requests per Ingress and side.
func TestBridge(t *testing.T) {
	plain, secure := startFallbacks(t)
	applyBridged(t, bridgeSceneYAML, bridgeScene{
		bridge: dataplane.Bridge{
			HTTP: dataplane.FallbackTarget{Address: plain.Addr},
			TLS:  &dataplane.FallbackTarget{Address: secure.Addr},
		},
		notMigrated: []dataplane.RefusedLocation{
			{Host: "shop.example.com", Path: pathPrefix("/api"), Source: "e2e/legacy-api"},
			{Host: "legacy.example.com", Path: pathPrefix("/"), Source: "e2e/legacy"},
		},
		weights: map[string]string{"weighted": "25", "sticky": "50"},
		sticky:  map[string]bool{"sticky": true},
	})
	httpPort := strconv.Itoa(80)
	// Headers only native routes add (nginx emulation) or that are gatebridge's own.
	noNginxHeaders := map[string]string{"X-Real-Ip": "", "X-Original-Forwarded-For": "", "X-Original-Forwarded-Host": "",
		"X-Scheme": "", "X-Forwarded-Scheme": "", "X-Gatebridge-Bucket": "", "X-Gatebridge-Scope": "", "X-Envoy-External-Address": ""}
	upstream := func(kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range noNginxHeaders {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}

	check(t, "unknown-host", request{method: "PUT", url: "http://unknown.example.org/x/y?a=1&b=%2F", body: "payload-1",
		headers: map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Gatebridge-Bucket": "3", "X-Gatebridge-Scope": "forged"}},
		expect{status: 200, backend: "fallback", method: "PUT", host: "unknown.example.org", uri: "/x/y?a=1&b=%2F",
			headers:  map[string]string{"X-Fallback-Body": "payload-1"},
			upstream: upstream("X-Forwarded-For", "203.0.113.9,127.0.0.1", "X-Forwarded-Proto", "http", "X-Forwarded-Host", "unknown.example.org", "X-Forwarded-Port", httpPort)})
	check(t, "unknown-host-no-client-xff", request{url: "http://unknown.example.org/"},
		expect{status: 200, backend: "fallback", upstream: upstream("X-Forwarded-For", "127.0.0.1")})
	check(t, "vhost-end", request{url: "http://catalog.example.com/elsewhere?q=2"},
		expect{status: 200, backend: "fallback", host: "catalog.example.com", uri: "/elsewhere?q=2", upstream: upstream()})
	check(t, "vhost-native", request{url: "http://catalog.example.com/items/7", headers: map[string]string{"X-Forwarded-For": "203.0.113.9"}},
		expect{status: 200, backend: "api", uri: "/items/7", upstream: map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "127.0.0.1", "X-Original-Forwarded-For": "203.0.113.9", "X-Gatebridge-Bucket": ""}})
	check(t, "refused", request{method: "POST", url: "http://shop.example.com/admin/users?page=2", body: `{"name":"x"}`, headers: map[string]string{"Content-Type": "application/json"}},
		expect{status: 200, backend: "fallback", method: "POST", host: "shop.example.com", uri: "/admin/users?page=2",
			headers: map[string]string{"X-Fallback-Body": `{"name":"x"}`}, upstream: upstream("Content-Type", "application/json")})
	check(t, "not-migrated-on-migrated-host", request{method: "DELETE", url: "http://shop.example.com/api/v1/items?id=4"},
		expect{status: 200, backend: "fallback", method: "DELETE", uri: "/api/v1/items?id=4", upstream: upstream()})
	check(t, "migrated-host-native", request{url: "http://shop.example.com/apis"},
		expect{status: 200, backend: "web", uri: "/apis"})
	check(t, "not-migrated-host", request{url: "http://legacy.example.com/anything"},
		expect{status: 200, backend: "fallback", host: "legacy.example.com"})

	t.Run("websocket-upgrade", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", env.httpPort), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "GET /chat HTTP/1.1\r\nHost: unknown.example.org\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("X-Fallback-Host") != "unknown.example.org" {
			t.Fatalf("upgrade answered %d %v, want 101 from the fallback", resp.StatusCode, resp.Header)
		}
		fmt.Fprintf(conn, "hello\n")
		got, _ := br.ReadString('\n')
		if got != "echo hello\n" {
			t.Errorf("after the upgrade read %q, want the fallback's echo", got)
		}
	})

	before := scrapeBridgeStats(t)
	t.Run("weight-25", func(t *testing.T) {
		const n = 2000
		native, fallback := countSides(t, "weighted.example.com", n, nil)
		t.Logf("weight 25: %d of %d requests native (%.1f %%), %d to the fallback", native, n, 100*float64(native)/n, fallback)
		if native+fallback != n {
			t.Fatalf("%d requests answered by neither side", n-native-fallback)
		}
		if native < n*20/100 || native > n*30/100 {
			t.Errorf("%d of %d requests native, want 25 %% ± 5 %% (400..600)", native, n)
		}
		after := scrapeBridgeStats(t)
		gotNative := after[statKey{"e2e/weighted", "native"}] - before[statKey{"e2e/weighted", "native"}]
		gotFallback := after[statKey{"e2e/weighted", "fallback"}] - before[statKey{"e2e/weighted", "fallback"}]
		if gotNative != native || gotFallback != fallback {
			t.Errorf("Envoy's statistics count %d native and %d fallback requests of e2e/weighted, the clients %d and %d", gotNative, gotFallback, native, fallback)
		}
		if after[statKey{"none", "fallback"}] == 0 || after[statKey{"e2e/legacy-api", "fallback"}] == 0 || after[statKey{"e2e/admin", "fallback"}] == 0 {
			t.Errorf("no fallback requests counted for unknown hosts, e2e/legacy-api or e2e/admin: %v", after)
		}
	})
	t.Run("sticky", func(t *testing.T) {
		res := do(t, request{url: "http://sticky.example.com/"})
		var cookie string
		for _, c := range res.header.Values("Set-Cookie") {
			if strings.HasPrefix(c, v1alpha1.BucketCookie+"=") {
				cookie = c
			}
		}
		m := regexp.MustCompile(`^gatebridge-bucket=(\d+); Path=/; HttpOnly$`).FindStringSubmatch(cookie)
		if m == nil {
			t.Fatalf("first request: Set-Cookie %q, want gatebridge-bucket=<0-99>; Path=/; HttpOnly", res.header.Values("Set-Cookie"))
		}
		bucket, _ := strconv.Atoi(m[1])
		pinned := "gatebridge-bucket=" + m[1]
		native, fallback := countSides(t, "sticky.example.com", 40, map[string]string{"Cookie": "session=1; " + pinned})
		wantNative := bucket < 50
		if (wantNative && fallback != 0) || (!wantNative && native != 0) {
			t.Errorf("bucket %d at weight 50: %d native, %d fallback; want every request on one side", bucket, native, fallback)
		}
		again := do(t, request{url: "http://sticky.example.com/", headers: map[string]string{"Cookie": pinned}})
		if len(again.header.Values("Set-Cookie")) > 0 && strings.Contains(strings.Join(again.header.Values("Set-Cookie"), ";"), "gatebridge-bucket") {
			t.Errorf("a client with a bucket got a new one: %q", again.header.Values("Set-Cookie"))
		}
		for _, c := range []struct {
			cookie  string
			backend string
		}{{"gatebridge-bucket=10", "web"}, {"gatebridge-bucket=49", "web"}, {"gatebridge-bucket=50", "fallback"}, {"gatebridge-bucket=99", "fallback"}} {
			check(t, c.cookie, request{url: "http://sticky.example.com/", headers: map[string]string{"Cookie": c.cookie}}, expect{backend: c.backend})
		}
	})

	// TLS: terminated by Envoy for the host it holds a certificate for; its fallback share
	// (a refused location) is re-encrypted towards the fallback's TLS port with SNI = Host.
	check(t, "tls-terminated-native", request{url: "https://shop.example.com/cart"}, expect{status: 200, backend: "web", cert: "shop.example.com"})
	check(t, "tls-terminated-fallback", request{url: "https://shop.example.com/admin?x=1"},
		expect{status: 200, backend: "fallback-tls", cert: "shop.example.com", uri: "/admin?x=1", host: "shop.example.com",
			also: func(t *testing.T, res result) {
				if res.backend != nil && (!res.backend.TLS || res.backend.SNI != "shop.example.com") {
					t.Errorf("fallback connection TLS %v SNI %q, want TLS with SNI shop.example.com", res.backend.TLS, res.backend.SNI)
				}
			},
			upstream: upstream("X-Forwarded-Proto", "https", "X-Forwarded-Port", "443", "X-Forwarded-For", "127.0.0.1")})
	// Any other SNI: passed through untouched, the fallback's own certificate.
	check(t, "tls-passthrough-unknown-sni", request{url: "https://legacy.example.org/login?next=%2F", method: "POST", body: "user=a"},
		expect{status: 200, backend: "fallback-tls", cert: "legacy.example.org", method: "POST", uri: "/login?next=%2F",
			headers: map[string]string{"X-Fallback-Body": "user=a"},
			also: func(t *testing.T, res result) {
				if res.backend != nil && res.backend.SNI != "legacy.example.org" {
					t.Errorf("fallback saw SNI %q, want the client's legacy.example.org", res.backend.SNI)
				}
			},
			// Not proxied at the HTTP level: no header of Envoy's.
			upstream: map[string]string{"X-Forwarded-For": "", "X-Forwarded-Proto": "", "X-Request-Id": ""}})
	t.Run("tls-passthrough-counted", func(t *testing.T) {
		if n := scrapeMetric(t, `envoy_tcp_downstream_cx_total{envoy_tcp_prefix="bridge/tls"}`); n < 1 {
			t.Errorf("bridge/tls connections counted: %d, want at least 1", n)
		}
	})
}

// scrapeMetric reads one sample (name and labels exactly as Envoy prints them) from
// /stats/prometheus; -1 when absent.
func scrapeMetric(t *testing.T, sample string) int {
	t.Helper()
	resp, err := http.Get(env.stack.AdminURL() + "/stats/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, sample+" "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return -1
}

// TestBridgeServiceTarget: a Service of the model as the fallback target (how the
// controller names ingress-nginx), resolved through its EndpointSlice like a backend.
func TestBridgeServiceTarget(t *testing.T) {
	startFallbacks(t)
	applyBridged(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: e2e, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
{{.Service "e2e" "web" "web"}}{{.Service "ingress-nginx" "ingress-nginx-controller" "fallback"}}
`, bridgeScene{bridge: dataplane.Bridge{HTTP: dataplane.FallbackTarget{ServiceNamespace: "ingress-nginx", ServiceName: "ingress-nginx-controller", Port: 80}}})
	check(t, "unknown-host", request{url: "http://other.example.net/p?q=1"}, expect{status: 200, backend: "fallback", uri: "/p?q=1", host: "other.example.net"})
	check(t, "native", request{url: "http://shop.example.com/p"}, expect{status: 200, backend: "web"})
	// Without a TLS target, port 443 serves only the Gateway's certificates: nothing here.
	t.Run("no-tls-target", func(t *testing.T) {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", env.httpsPort))
		}}}
		if resp, err := c.Get("https://other.example.net/"); err == nil {
			resp.Body.Close()
			t.Errorf("https answered %d without a TLS target and without HTTPS listeners", resp.StatusCode)
		}
	})
}

// countSides sends n GET requests for host over a few kept-alive connections and counts
// which side answered: the native backend ("web") or the fallback.
func countSides(t *testing.T, host string, n int, headers map[string]string) (native, fallback int) {
	t.Helper()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", env.httpPort))
	}, MaxIdleConnsPerHost: 8}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var failures []string
	next := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/r/%d", host, i), nil)
				for k, v := range headers {
					req.Header.Set(k, v)
				}
				resp, err := c.Do(req)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				switch resp.Header.Get("X-Echo-Server") {
				case "web":
					native++
				case "fallback":
					fallback++
				default:
					failures = append(failures, fmt.Sprintf("status %d from %q", resp.StatusCode, resp.Header.Get("X-Echo-Server")))
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d requests failed, first: %s", len(failures), failures[0])
	}
	return native, fallback
}

type statKey struct{ source, side string }

// scrapeBridgeStats reads envoy_gatebridge_upstream_rq_total from Envoy's Prometheus
// endpoint, summed over hosts, by source (the ingress label) and side.
func scrapeBridgeStats(t *testing.T) map[statKey]int {
	t.Helper()
	resp, err := http.Get(env.stack.AdminURL() + "/stats/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := map[statKey]int{}
	line := regexp.MustCompile(`^envoy_gatebridge_upstream_rq_total\{(.*)\} (\d+)$`)
	label := regexp.MustCompile(`(\w+)="([^"]*)"`)
	for _, l := range strings.Split(string(body), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		labels := map[string]string{}
		for _, kv := range label.FindAllStringSubmatch(m[1], -1) {
			labels[kv[1]] = kv[2]
		}
		v, _ := strconv.Atoi(m[2])
		out[statKey{labels["ingress"], labels["side"]}] += v
	}
	if len(out) == 0 {
		t.Fatalf("no envoy_gatebridge_upstream_rq_total in /stats/prometheus:\n%.2000s", body)
	}
	return out
}

// TestBridgeStepsUnderLoad: stepping a migrating Ingress's weight 0 → 10 → 50 → 100,
// rolling it back (its HTTPRoute gone, its location not migrated) and migrating it again,
// while two clients send requests over kept-alive connections, fails or resets no request:
// every one is answered 200 by one side or the other (counted).
func TestBridgeStepsUnderLoad(t *testing.T) {
	plain, secure := startFallbacks(t)
	bridge := dataplane.Bridge{HTTP: dataplane.FallbackTarget{Address: plain.Addr}, TLS: &dataplane.FallbackTarget{Address: secure.Addr}}
	withoutWeighted := regexp.MustCompile(`(?s)---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: \{name: weighted.*?(\n---)`).ReplaceAllString(bridgeSceneYAML, "$1")
	if withoutWeighted == bridgeSceneYAML {
		t.Fatal("the scene without the weighted Ingress is the same scene")
	}
	rolledBack := []dataplane.RefusedLocation{{Host: "weighted.example.com", Path: pathPrefix("/"), Source: "e2e/weighted"}}
	steps := []struct {
		name        string
		yaml        string
		weight      string // "" = none (100)
		notMigrated []dataplane.RefusedLocation
	}{
		{"weight 0", bridgeSceneYAML, "0", nil},
		{"weight 10", bridgeSceneYAML, "10", nil},
		{"weight 50", bridgeSceneYAML, "50", nil},
		{"weight 100", bridgeSceneYAML, "", nil},
		{"rolled back", withoutWeighted, "", rolledBack},
		{"migrated at 0", bridgeSceneYAML, "0", nil},
	}
	apply := func(i int) {
		s := steps[i]
		sc := bridgeScene{bridge: bridge, notMigrated: s.notMigrated}
		if s.weight != "" {
			sc.weights = map[string]string{"weighted": s.weight}
		}
		applyBridged(t, s.yaml, sc)
	}
	apply(0)

	var mu sync.Mutex
	var native, fallback, failed int
	var failures []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", env.httpPort))
			}}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// POST: a failed request would not be retried by the client.
				resp, err := c.Post(fmt.Sprintf("http://weighted.example.com/load/%d", i), "text/plain", strings.NewReader("x"))
				var server string
				status := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					server, status = resp.Header.Get("X-Echo-Server"), resp.StatusCode
				}
				mu.Lock()
				switch {
				case err == nil && status == 200 && server == "web":
					native++
				case err == nil && status == 200 && server == "fallback":
					fallback++
				default:
					failed++
					if len(failures) < 5 {
						failures = append(failures, fmt.Sprintf("status %d from %q, error %v", status, server, err))
					}
				}
				mu.Unlock()
			}
		}()
	}
	counts := func() (int, int) { mu.Lock(); defer mu.Unlock(); return native, fallback }
	for i := range steps {
		if i > 0 {
			apply(i)
		}
		n0, f0 := counts()
		time.Sleep(400 * time.Millisecond)
		n1, f1 := counts()
		t.Logf("%s: %d native, %d fallback", steps[i].name, n1-n0, f1-f0)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d requests: %d native, %d fallback, %d failed", native+fallback+failed, native, fallback, failed)
	if failed > 0 {
		t.Errorf("%d requests failed or were reset while the weight changed; first: %s", failed, strings.Join(failures, "; "))
	}
	if native == 0 || fallback == 0 {
		t.Errorf("native %d, fallback %d: want requests on both sides", native, fallback)
	}
}
