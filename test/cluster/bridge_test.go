package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/controllers"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testnginx"
	"github.com/gatebridge-dev/gatebridge/test/echo"
)

// TestBridgeWeightAndRollback is the bridge in the cluster: `gatebridge controller
// --fallback NS/ingress-nginx` with a real nginx (the stand-in for ingress-nginx) behind
// that Service. One Ingress walks the story a user follows: observed (all of it reaches
// nginx through Envoy), migrating at 25 % (about a quarter served natively), 100 % (all
// native), and the migrate annotation removed (all back to nginx at once). Each step shows
// in gatebridge.dev/state and an Event; a host nobody migrated reaches nginx's default
// backend; nginx sees the client in X-Forwarded-For.
func TestBridgeWeightAndRollback(t *testing.T) {
	env := require(t)
	ngx := testnginx.Require(t)
	h := newHarness(t, env)
	ctx := context.Background()
	if err := env.EnsureNamespace(ctx, gatewayNS); err != nil {
		t.Fatal(err)
	}
	h.ns = env.Namespace(t, "bridge")
	app := h.startBackend("app")
	h.apply(h.serviceYAML("app"))
	const host, secureHost = "bridge-app.example.com", "secure.bridge.example.com"
	nginx := testnginx.StartT(t, testnginx.Options{Nginx: ngx, Address: hostIP, Name: "ingress-nginx",
		Routes: []testnginx.Route{{Host: host, Backend: fmt.Sprintf("%s:%d", hostIP, app.port())},
			{Host: secureHost, Backend: fmt.Sprintf("%s:%d", hostIP, app.port())}}})
	// The ingress-nginx controller Service: ports http and https, endpoints at nginx.
	h.apply(fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: ingress-nginx-controller, namespace: %[1]s}
spec: {ports: [{name: http, port: 80, targetPort: %[2]d}, {name: https, port: 443, targetPort: %[3]d}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ingress-nginx-controller-1, namespace: %[1]s, labels: {kubernetes.io/service-name: ingress-nginx-controller}}
addressType: IPv4
endpoints: [{addresses: [%[4]q], conditions: {ready: true}}]
ports: [{name: http, port: %[2]d}, {name: https, port: %[3]d}]
`, h.ns, nginx.HTTPPort, nginx.TLSPort, hostIP))
	h.apply(`apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}`)
	h.apply(h.bridgeIngress(nil))

	h.controllerArgs = []string{"--fallback", h.ns + "/ingress-nginx-controller"}
	h.startController()
	h.startEnvoy()

	t.Run("observed: everything reaches nginx", func(t *testing.T) {
		h.t = t
		h.waitState("observed")
		h.eventually("the Ingress to reach nginx through Envoy", func() (bool, string) {
			r := h.get(host, "/first")
			return r.status == http.StatusOK && r.backend != nil && viaNginx(r), r.String()
		})
		if native, total := h.split(host, 50); native != 0 || total != 50 {
			t.Errorf("observed: %d of 50 requests answered natively, %d answered at all; want 0 and 50", native, total)
		}
		// Method, path, query and the client's address arrive at nginx as sent.
		if r := h.get(host, "/x/y?q=1&b=%2F", "X-Forwarded-For", "203.0.113.7"); r.backend == nil || r.backend.URI != "/x/y?q=1&b=%2F" || r.backend.Host != host {
			t.Errorf("through the bridge: %s (URI %q), want /x/y?q=1&b=%%2F at Host %s", r, uriOf(r), host)
		}
		e, err := nginx.WaitFor(10*time.Second, func(e testnginx.Entry) bool { return e.RequestURI == "/x/y?q=1&b=%2F" })
		if err != nil {
			t.Fatal(err)
		}
		// The client's own X-Forwarded-For is kept and its address (Envoy's client:
		// 127.0.0.1) appended.
		if xff := strings.ReplaceAll(e.XForwardedFor, " ", ""); xff != "203.0.113.7,127.0.0.1" || e.Host != host || e.Method != http.MethodGet {
			t.Errorf("nginx received Host %q, method %s, X-Forwarded-For %q; want %s, GET, 203.0.113.7,127.0.0.1", e.Host, e.Method, e.XForwardedFor, host)
		}
		if e.Bucket != "" {
			t.Errorf("nginx received x-gatebridge-bucket %q: the bridge must remove it", e.Bucket)
		}
		// TLS for a host Envoy holds no certificate for passes through by SNI to the
		// Service's https port: nginx's certificate, nginx's answer.
		h.eventually("TLS to pass through to nginx", func() (bool, string) {
			cert, body, err := h.getTLS(host, "/tls", nginx.Pool())
			if err != nil {
				return false, err.Error()
			}
			er, err := echo.Decode([]byte(body))
			if err != nil {
				return false, fmt.Sprintf("%v: %s", err, body)
			}
			return cert.Equal(nginx.Certificate) && er.Server == "app" && er.Headers.Get(testnginx.Header) != "",
				fmt.Sprintf("certificate %s (nginx's: %v), answered by %s", cert.Subject, cert.Equal(nginx.Certificate), er.Server)
		})
		// A host nothing serves: nginx's default backend.
		if body, status := h.getBody("nobody.example.com", "/"); status != http.StatusNotFound || !strings.Contains(body, testnginx.DefaultBackendBody) {
			t.Errorf("unknown host: %d %q, want 404 from nginx's default backend", status, body)
		}
	})

	t.Run("migrating at 25 %: about a quarter natively", func(t *testing.T) {
		h.t = t
		h.apply(h.bridgeIngress(map[string]string{"gatebridge.dev/migrate": "true", gbv1.WeightAnnotation: "25"}))
		h.waitState("migrating 25%")
		h.eventually("the weighted route to be served", func() (bool, string) {
			r := h.get(host, "/probe")
			return r.backend != nil && !viaNginx(r), r.String()
		})
		const n = 600
		native, total := h.split(host, n)
		share := float64(native) / n
		t.Logf("weight 25: %d of %d requests served natively (%.1f %%)", native, n, 100*share)
		if total != n {
			t.Errorf("%d of %d requests were answered by a backend", total, n)
		}
		if share < 0.18 || share > 0.32 {
			t.Errorf("weight 25: %.1f %% natively, want 25 %% ± 7 %%", 100*share)
		}
		// The live report shows the state the controller wrote.
		if m := h.liveMigration("app"); m == nil || m.State != converters.MigrationMigrating || m.Weight != 25 {
			t.Errorf("gatebridge report --kubeconfig: migration %+v, want migrating at 25", m)
		}
	})

	t.Run("an invalid weight keeps the last valid one, with a Warning Event", func(t *testing.T) {
		h.t = t
		h.apply(h.bridgeIngress(map[string]string{"gatebridge.dev/migrate": "true", gbv1.WeightAnnotation: "50%"}))
		h.eventually("the InvalidWeight Event", func() (bool, string) {
			got := h.eventReasons(ctx, "app")
			return slices.Contains(got, controllers.ReasonInvalidWeight), fmt.Sprint(got)
		})
		h.waitState("migrating 25%")
		const n = 200
		native, total := h.split(host, n)
		t.Logf("weight %q (invalid, 25 kept): %d of %d natively", "50%", native, n)
		if total != n || native < n*12/100 || native > n*38/100 {
			t.Errorf("invalid weight: %d of %d natively (%d answered), want about 25 %%", native, n, total)
		}
	})

	t.Run("100 %: all natively", func(t *testing.T) {
		h.t = t
		h.apply(h.bridgeIngress(map[string]string{"gatebridge.dev/migrate": "true", gbv1.WeightAnnotation: "100"}))
		h.waitState("native")
		h.steadySide(host, true)
		if native, total := h.split(host, 100); native != 100 || total != 100 {
			t.Errorf("native: %d of 100 natively (%d answered), want all", native, total)
		}
	})

	t.Run("migrate removed: all back to nginx", func(t *testing.T) {
		h.t = t
		h.apply(h.bridgeIngress(nil))
		h.waitState("observed")
		h.steadySide(host, false)
		if native, total := h.split(host, 100); native != 0 || total != 100 {
			t.Errorf("rolled back: %d of 100 natively (%d answered), want none", native, total)
		}
	})

	t.Run("TLS: a migrated host is terminated by Envoy, a not-migrated one passes through", func(t *testing.T) {
		h.t = t
		cert, certPEM, keyPEM, err := echo.SelfSignedCert(secureHost)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		h.apply(fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: secure-tls, namespace: %s}
type: kubernetes.io/tls
data: {tls.crt: %s, tls.key: %s}`, h.ns, base64.StdEncoding.EncodeToString(certPEM), base64.StdEncoding.EncodeToString(keyPEM)))
		secure := func(migrate string) string {
			return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: secure
  namespace: %s
  annotations: {gatebridge.dev/migrate: %q}
spec:
  ingressClassName: nginx
  tls: [{hosts: [%s], secretName: secure-tls}]
  rules:
  - host: %s
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}
`, h.ns, migrate, secureHost, secureHost)
		}
		roots := nginx.Pool()
		roots.AddCert(leaf)
		tlsSide := func(wantNative bool) func() (bool, string) {
			return func() (bool, string) {
				got, body, err := h.getTLS(secureHost, "/s", roots)
				if err != nil {
					return false, err.Error()
				}
				er, err := echo.Decode([]byte(body))
				if err != nil {
					return false, fmt.Sprintf("%v: %s", err, body)
				}
				native := got.Equal(leaf) && er.Headers.Get(testnginx.Header) == ""
				fallback := got.Equal(nginx.Certificate) && er.Headers.Get(testnginx.Header) != ""
				return wantNative && native || !wantNative && fallback, fmt.Sprintf("certificate %s, via nginx %v", got.Subject, er.Headers.Get(testnginx.Header) != "")
			}
		}
		h.apply(secure("false"))
		h.eventually("the not-migrated TLS host to pass through to nginx", tlsSide(false))
		h.apply(secure("true"))
		h.eventually("the migrated TLS host to be terminated by Envoy", tlsSide(true))
		h.apply(secure("false"))
		h.eventually("the rolled-back TLS host to pass through to nginx again", tlsSide(false))
	})

	t.Run("an EndpointSlice change of the fallback Service moves the fallback", func(t *testing.T) {
		h.t = t
		other := testnginx.StartT(t, testnginx.Options{Nginx: ngx, Address: hostIP, Name: "ingress-nginx-2",
			Routes: []testnginx.Route{{Host: host, Backend: fmt.Sprintf("%s:%d", hostIP, app.port())}}})
		h.apply(fmt.Sprintf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ingress-nginx-controller-1, namespace: %[1]s, labels: {kubernetes.io/service-name: ingress-nginx-controller}}
addressType: IPv4
endpoints: [{addresses: [%[4]q], conditions: {ready: true}}]
ports: [{name: http, port: %[2]d}, {name: https, port: %[3]d}]
`, h.ns, other.HTTPPort, other.TLSPort, hostIP))
		h.eventually("the fallback to reach the other nginx", func() (bool, string) {
			r := h.get(host, "/moved")
			if r.backend == nil {
				return false, r.String()
			}
			got := r.backend.Headers.Get(testnginx.Header)
			return got == "ingress-nginx-2", "answered through " + got
		})
	})

	t.Run("Events record each state change", func(t *testing.T) {
		h.t = t
		want := []string{controllers.ReasonAssessed, controllers.ReasonMigrating, controllers.ReasonInvalidWeight, controllers.ReasonMigrated, controllers.ReasonMigrationRemoved}
		h.eventually("the Events of the Ingress", func() (bool, string) {
			got := h.eventReasons(ctx, "app")
			return slices.Equal(got, want), fmt.Sprintf("%v, want %v", got, want)
		})
	})

	t.Run("metrics count Ingresses per migration state", func(t *testing.T) {
		h.t = t
		h.eventually("gatebridge_ingresses_by_migration_state", func() (bool, string) {
			m := h.metrics()
			return metricAtLeast(m, `gatebridge_ingresses_by_migration_state{state="observed"}`, 1), grepLines(m, "gatebridge_ingresses_by_migration_state")
		})
	})
}

// TestBridgeLegacyLocationsOnTheFollower: two replicas with --leader-elect and a
// fallback, Envoy joined to the follower. On one host, "/" migrates and "/api" (another
// Ingress) does not: the follower's own conversion hands its feed the not-migrated
// location, so "/api" keeps going to nginx — ingress-nginx's host-wide semantics — while
// "/" is served natively from what the leader wrote.
func TestBridgeLegacyLocationsOnTheFollower(t *testing.T) {
	env := require(t)
	ngx := testnginx.Require(t)
	h := newHarness(t, env)
	ctx := context.Background()
	if err := env.EnsureNamespace(ctx, gatewayNS); err != nil {
		t.Fatal(err)
	}
	h.ns = env.Namespace(t, "bridge-ha")
	app := h.startBackend("app")
	h.apply(h.serviceYAML("app"))
	const host = "shared.example.com"
	nginx := testnginx.StartT(t, testnginx.Options{Nginx: ngx, Address: hostIP, Name: "ingress-nginx",
		Routes: []testnginx.Route{{Host: host, Backend: fmt.Sprintf("%s:%d", hostIP, app.port())}}})
	h.apply(fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: ingress-nginx-controller, namespace: %[1]s}
spec: {ports: [{name: http, port: 80, targetPort: %[2]d}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ingress-nginx-controller-1, namespace: %[1]s, labels: {kubernetes.io/service-name: ingress-nginx-controller}}
addressType: IPv4
endpoints: [{addresses: [%[3]q], conditions: {ready: true}}]
ports: [{name: http, port: %[2]d}]
`, h.ns, nginx.HTTPPort, hostIP))
	h.apply(`apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}`)
	ingress := func(name, path, migrate string) string {
		return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %s
  namespace: %s
  annotations: {gatebridge.dev/migrate: %q}
spec:
  ingressClassName: nginx
  rules:
  - host: shared.example.com
    http:
      paths:
      - {path: %s, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}
`, name, h.ns, migrate, path)
	}
	h.apply(ingress("site", "/", "true"))
	h.apply(ingress("api", "/api", "false"))

	h.controllerArgs = []string{"--fallback", h.ns + "/ingress-nginx-controller"}
	a := h.startReplica("a")
	h.eventually("replica a to lead", func() (bool, string) { return a.leads(), a.leaderMetric() })
	b := h.startReplica("b")
	if b.leads() {
		t.Fatalf("replica b leads while a holds the Lease")
	}
	h.xdsPort = b.xdsPort
	h.startEnvoy()

	h.eventually("/ natively and /api through nginx, from the follower", func() (bool, string) {
		site := h.get(host, "/page")
		api := h.get(host, "/api/v1")
		ok := site.status == http.StatusOK && site.backend != nil && !viaNginx(site) &&
			api.status == http.StatusOK && api.backend != nil && viaNginx(api)
		return ok, fmt.Sprintf("/page: %s (via nginx %v); /api/v1: %s", site, site.backend != nil && viaNginx(site), api)
	})
	for i := range 50 {
		if r := h.get(host, fmt.Sprintf("/api/%d", i)); r.backend == nil || !viaNginx(r) {
			t.Fatalf("/api/%d: %s, want it through nginx (the not-migrated Ingress api owns /api)", i, r)
		}
	}
	// Migrating api too moves /api to Envoy.
	h.apply(ingress("api", "/api", "true"))
	h.steadySide(host, true)
	h.eventually("/api natively", func() (bool, string) {
		r := h.get(host, "/api/v1")
		return r.backend != nil && !viaNginx(r), r.String()
	})
}

// bridgeIngress is the Ingress "app" of bridge-app.example.com with the annotations.
func (h *harness) bridgeIngress(annotations map[string]string) string {
	ann := "{}"
	if len(annotations) > 0 {
		var parts []string
		for k, v := range annotations {
			parts = append(parts, fmt.Sprintf("%s: %q", k, v))
		}
		slices.Sort(parts)
		ann = "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app
  namespace: %s
  annotations: %s
spec:
  ingressClassName: nginx
  rules:
  - host: bridge-app.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}
`, h.ns, ann)
}

// viaNginx: the backend received the request through nginx (its marker header).
func viaNginx(r response) bool { return r.backend.Headers.Get(testnginx.Header) != "" }

func uriOf(r response) string {
	if r.backend == nil {
		return ""
	}
	return r.backend.URI
}

// split sends n requests to host and counts those served natively and those a backend
// answered at all (200 with the echo body).
func (h *harness) split(host string, n int) (native, answered int) {
	for i := range n {
		r := h.get(host, fmt.Sprintf("/split/%d", i))
		if r.status != http.StatusOK || r.backend == nil {
			continue
		}
		answered++
		if !viaNginx(r) {
			native++
		}
	}
	return native, answered
}

// steadySide waits until 20 requests in a row are served on one side (native or not).
func (h *harness) steadySide(host string, native bool) {
	h.t.Helper()
	h.eventually(fmt.Sprintf("%s to be served natively=%v", host, native), func() (bool, string) {
		for range 20 {
			r := h.get(host, "/steady")
			if r.status != http.StatusOK || r.backend == nil || viaNginx(r) == native {
				return false, r.String()
			}
		}
		return true, ""
	})
}

// waitState waits until the Ingress "app" shows the migration state.
func (h *harness) waitState(want string) {
	h.t.Helper()
	h.eventually("gatebridge.dev/state "+want, func() (bool, string) {
		var ing networkingv1.Ingress
		if err := h.env.Client.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: "app"}, &ing); err != nil {
			return false, err.Error()
		}
		got := ing.Annotations[gbv1.StateAnnotation]
		return got == want, got
	})
}

// eventReasons are the reasons of the controller's Events on the Ingress, oldest first.
func (h *harness) eventReasons(ctx context.Context, name string) []string {
	var list eventsv1.EventList
	if err := h.env.Client.List(ctx, &list, client.InNamespace(h.ns)); err != nil {
		return []string{err.Error()}
	}
	slices.SortFunc(list.Items, func(a, b eventsv1.Event) int { return a.EventTime.Compare(b.EventTime.Time) })
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "Ingress" && e.Regarding.Name == name && e.ReportingController == controllers.EventReporter {
			out = append(out, e.Reason)
		}
	}
	return out
}

// liveMigration is the migration state `gatebridge report --kubeconfig -o json` shows for
// the Ingress name of the test's namespace.
func (h *harness) liveMigration(name string) *converters.Migration {
	h.t.Helper()
	out, err := exec.Command(binary, "report", "--kubeconfig", h.kubeconfig, "-n", h.ns, "-o", "json").Output()
	if err != nil {
		h.t.Fatalf("gatebridge report --kubeconfig: %v", err)
	}
	var r converters.Report
	if err := json.Unmarshal(out, &r); err != nil {
		h.t.Fatalf("decoding the report: %v\n%s", err, out)
	}
	for _, ing := range r.Ingresses {
		if ing.Namespace == h.ns && ing.Name == name {
			return ing.Migration
		}
	}
	h.t.Fatalf("the report has no Ingress %s/%s", h.ns, name)
	return nil
}

// getTLS sends GET path over TLS with SNI and Host host to Envoy's port 443, trusting
// roots, and returns the server's certificate and the body.
func (h *harness) getTLS(host, path string, roots *x509.CertPool) (*x509.Certificate, string, error) {
	var peer *x509.Certificate
	tr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{ServerName: host, RootCAs: roots, MinVersion: tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) > 0 {
				peer = cs.PeerCertificates[0]
			}
			return nil
		}}}
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("https://127.0.0.1:%d%s", h.httpsPort, path), nil)
	if err != nil {
		return nil, "", err
	}
	req.Host = host
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: tr}).Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if peer == nil {
		return nil, string(b), fmt.Errorf("no server certificate")
	}
	return peer, string(b), nil
}

// getBody sends GET path with Host host to Envoy and returns the body and status.
func (h *harness) getBody(host, path string) (string, int) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", h.httpPort, path), nil)
	if err != nil {
		return err.Error(), 0
	}
	req.Host = host
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return err.Error(), 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}
