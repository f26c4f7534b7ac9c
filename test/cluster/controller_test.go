package cluster

import (
	"context"
	"crypto/sha1" //nolint:gosec // {SHA} htpasswd entries are SHA-1 by definition
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/controllers"
)

const (
	gatewayNS      = "gatebridge-system"
	gatewayName    = "gatebridge"
	controllerName = "gatebridge.dev/gateway-controller"
)

// TestControllerServesTheCluster walks one cluster through the life of the controller:
// an Ingress migrated with rewrite-target, Ingresses whose basic auth fails closed, a
// hand-written HTTPRoute on the shared Gateway, status, an Ingress un-annotated, and
// changes made while the controller is down.
func TestControllerServesTheCluster(t *testing.T) {
	env := require(t)
	h := newHarness(t, env)
	ctx := context.Background()
	if err := env.EnsureNamespace(ctx, gatewayNS); err != nil {
		t.Fatal(err)
	}
	h.ns = env.Namespace(t, "shop")
	for _, name := range []string{"app", "hand", "v2", "locked"} {
		h.startBackend(name)
		h.apply(h.serviceYAML(name))
	}
	h.apply(`apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}`)

	h.startController()
	h.startEnvoy()

	t.Run("rewrite-target is served rewritten", func(t *testing.T) {
		h.t = t
		h.apply(h.appIngress(true))
		h.served("app.example.com", "/app/hello/world", "app", "/hello/world")
		h.served("app.example.com", "/app", "app", "/")
		if r := h.get("app.example.com", "/other"); r.status != http.StatusNotFound {
			t.Errorf("/other: %s, want 404 (only /app(/|$)(.*) is served)", r)
		}
	})

	t.Run("a hand-written HTTPRoute on the shared Gateway is served", func(t *testing.T) {
		h.t = t
		h.apply(h.handRoute(1, false))
		h.served("hand.example.com", "/x", "hand", "/x")
	})

	t.Run("basic auth without a usable Secret fails closed", func(t *testing.T) {
		h.t = t
		before := h.backends["locked"].requests.Load()
		// No auth-secret: the conversion refuses the Ingress; it gets no objects.
		h.apply(h.lockedIngress("locked", "locked.example.com", ""))
		// An auth-secret that does not exist: the route is written, and Envoy answers 503.
		h.apply(h.lockedIngress("locked-missing", "locked2.example.com", "nowhere"))
		h.eventually("locked2.example.com to answer 503", func() (bool, string) {
			r := h.get("locked2.example.com", "/")
			return r.status == http.StatusServiceUnavailable && r.backend == nil, r.String()
		})
		h.eventually("the refused Ingress to be assessed", func() (bool, string) {
			var ing networkingv1.Ingress
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: h.ns, Name: "locked"}, &ing); err != nil {
				return false, err.Error()
			}
			v := ing.Annotations[controllers.ReportHashAnnotation]
			return strings.HasPrefix(v, "refused/"), v
		})
		h.barrier(2)
		if r := h.get("locked.example.com", "/"); r.status != http.StatusNotFound || r.backend != nil {
			t.Errorf("locked.example.com (refused, no objects): %s, want 404 from Envoy", r)
		}
		if r := h.get("locked2.example.com", "/"); r.status != http.StatusServiceUnavailable || r.backend != nil {
			t.Errorf("locked2.example.com (Secret missing): %s, want 503 from Envoy", r)
		}
		if n := h.backends["locked"].requests.Load() - before; n != 0 {
			t.Errorf("the locked backend received %d requests; basic auth without credentials must fail closed", n)
		}
	})

	t.Run("basic auth is checked by the controller's auth service", func(t *testing.T) {
		h.t = t
		sum := sha1.Sum([]byte("password"))
		h.apply(fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: htpasswd, namespace: %s}
type: Opaque
stringData: {auth: "alice:{SHA}%s"}`, h.ns, base64.StdEncoding.EncodeToString(sum[:])))
		h.apply(h.lockedIngress("guarded", "guarded.example.com", "htpasswd"))
		h.eventually("guarded.example.com to ask for credentials", func() (bool, string) {
			r := h.get("guarded.example.com", "/in")
			return r.status == http.StatusUnauthorized && r.backend == nil, r.String()
		})
		before := h.backends["locked"].requests.Load()
		if r := h.get("guarded.example.com", "/in", "Authorization", basicAuth("alice", "wrong")); r.status != http.StatusUnauthorized || r.backend != nil {
			t.Errorf("wrong password: %s, want 401 from Envoy", r)
		}
		if n := h.backends["locked"].requests.Load() - before; n != 0 {
			t.Errorf("the backend received %d requests without valid credentials", n)
		}
		if r := h.get("guarded.example.com", "/in", "Authorization", basicAuth("alice", "password")); r.status != http.StatusOK || r.backend == nil || r.backend.Path != "/in" {
			t.Errorf("valid credentials: %s, want 200 from locked at /in", r)
		}
	})

	t.Run("status is true to what Envoy acknowledged", func(t *testing.T) {
		h.t = t
		h.apply(h.statusRoutes())
		h.checkStatus(ctx)
	})

	t.Run("un-annotating stops serving", func(t *testing.T) {
		h.t = t
		h.apply(h.appIngress(false))
		h.eventually("app.example.com to stop being served", func() (bool, string) {
			r := h.get("app.example.com", "/app/hello")
			return r.status == http.StatusNotFound && r.backend == nil, r.String()
		})
		before := h.backends["app"].requests.Load()
		for range 5 {
			h.get("app.example.com", "/app/hello")
		}
		if n := h.backends["app"].requests.Load() - before; n != 0 {
			t.Errorf("the app backend received %d requests after the annotation went", n)
		}
	})

	t.Run("a change made while the controller is down is served after it restarts", func(t *testing.T) {
		h.t = t
		h.stopController()
		// Envoy keeps serving the last configuration while no controller runs.
		for range 5 {
			if r := h.get("hand.example.com", "/x"); r.status != http.StatusOK || r.backend == nil || r.backend.Server != "hand" {
				t.Fatalf("with the controller down, hand.example.com/x: %s, want 200 from hand", r)
			}
		}
		h.apply(h.appIngress(true))   // the writer's job: owned objects
		h.apply(h.handRoute(3, true)) // the feed's: a hand-written change
		h.startController()
		broken := 0
		total := 0
		h.eventually("the changes made while the controller was down to be served", func() (bool, string) {
			total++
			if r := h.get("hand.example.com", "/x"); r.status != http.StatusOK {
				broken++ // must not happen: a restart never withdraws what Envoy serves
			}
			a := h.get("app.example.com", "/app/again")
			v := h.get("hand.example.com", "/v2/y")
			ok := a.status == http.StatusOK && a.backend != nil && a.backend.Path == "/again" &&
				v.status == http.StatusOK && v.backend != nil && v.backend.Server == "v2"
			return ok, fmt.Sprintf("app: %s; hand /v2: %s", a, v)
		})
		if broken > 0 {
			t.Errorf("hand.example.com/x failed %d of %d times while the controller restarted", broken, total)
		}
		h.checkStatus(ctx)
	})

	t.Run("an EndpointSlice change moves the traffic, endpoints only", func(t *testing.T) {
		h.t = t
		h.apply(fmt.Sprintf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: hand-1, namespace: %s, labels: {kubernetes.io/service-name: hand}}
addressType: IPv4
endpoints: [{addresses: [%q], conditions: {ready: true}}]
ports: [{name: http, port: %d}]`, h.ns, hostIP, h.backends["v2"].port()))
		h.served("hand.example.com", "/moved", "v2", "/moved")
	})

	t.Run("metrics", func(t *testing.T) {
		h.t = t
		h.eventually("the serving metrics", func() (bool, string) {
			m := h.metrics()
			ok := metricAtLeast(m, "gatebridge_xds_connected_envoys", 1) &&
				metricAtLeast(m, `gatebridge_xds_pushes_total{type="full"}`, 1) &&
				metricAtLeast(m, `gatebridge_xds_pushes_total{type="endpoints"}`, 1) &&
				metricAtLeast(m, "gatebridge_change_to_ack_seconds_count", 1) &&
				strings.Contains(m, "gatebridge_xds_nacks_total 0")
			return ok, grepLines(m, "gatebridge_xds_", "gatebridge_change_to_ack_seconds_count")
		})
	})
}

// appIngress is the Ingress of app.example.com with rewrite-target /$2 on
// /app(/|$)(.*), migrated when migrate.
func (h *harness) appIngress(migrate bool) string {
	m := ""
	if migrate {
		m = "\n    gatebridge.dev/migrate: \"true\""
	}
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: app
  namespace: %s
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /$2
    nginx.ingress.kubernetes.io/use-regex: "true"%s
spec:
  ingressClassName: nginx
  rules:
  - host: app.example.com
    http:
      paths:
      - path: /app(/|$)(.*)
        pathType: ImplementationSpecific
        backend: {service: {name: app, port: {number: 80}}}
`, h.ns, m)
}

// lockedIngress asks for basic auth with the Secret secret ("": none named).
func (h *harness) lockedIngress(name, host, secret string) string {
	s := ""
	if secret != "" {
		s = "\n    nginx.ingress.kubernetes.io/auth-secret: " + secret
	}
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %s
  namespace: %s
  annotations:
    gatebridge.dev/migrate: "true"
    nginx.ingress.kubernetes.io/auth-type: basic%s
spec:
  ingressClassName: nginx
  rules:
  - host: %s
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: locked, port: {number: 80}}}}
`, name, h.ns, s, host)
}

// handRoute is the hand-written HTTPRoute of hand.example.com; its request header
// X-Barrier carries mark (see barrier); withV2 adds /v2 to the v2 backend.
func (h *harness) handRoute(mark int, withV2 bool) string {
	v2 := ""
	if withV2 {
		v2 = `
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: v2, port: 80}]`
	}
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hand, namespace: %s}
spec:
  parentRefs: [{name: %s, namespace: %s, sectionName: http}]
  hostnames: [hand.example.com]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Barrier, value: "%d"}]}
    backendRefs: [{name: hand, port: 80}]%s
`, h.ns, gatewayName, gatewayNS, mark, v2)
}

// barrier changes the hand route and waits until Envoy serves the change: what the
// controller did before it is served too (the feed publishes everything it holds).
func (h *harness) barrier(mark int) {
	h.t.Helper()
	h.apply(h.handRoute(mark, false))
	h.eventually(fmt.Sprintf("barrier %d to be served", mark), func() (bool, string) {
		r := h.get("hand.example.com", "/barrier")
		if r.backend == nil {
			return false, r.String()
		}
		got := r.backend.Headers.Get("X-Barrier")
		return got == strconv.Itoa(mark), "X-Barrier: " + got
	})
}

// statusRoutes are hand-written routes whose status says what is wrong with them.
func (h *harness) statusRoutes() string {
	route := func(name, parent, backend string) string {
		return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %s, namespace: %s}
spec:
  parentRefs: [%s]
  hostnames: [%s.example.com]
  rules: [{backendRefs: [%s]}]
`, name, h.ns, parent, name, backend)
	}
	gw := fmt.Sprintf("{name: %s, namespace: %s}", gatewayName, gatewayNS)
	return strings.Join([]string{
		route("missing-backend", gw, "{name: nowhere, port: 80}"),
		route("cross-namespace", gw, "{name: hand, namespace: default, port: 80}"),
		route("wrong-kind", gw, "{group: example.com, kind: Bucket, name: b}"),
		route("no-such-listener", fmt.Sprintf("{name: %s, namespace: %s, sectionName: https}", gatewayName, gatewayNS), "{name: hand, port: 80}"),
	}, "---\n")
}

// checkStatus waits until the status of the GatewayClass, the shared Gateway and the
// routes is what was published and acknowledged.
func (h *harness) checkStatus(ctx context.Context) {
	h.t.Helper()
	c := h.env.Client
	h.eventually("GatewayClass gatebridge Accepted", func() (bool, string) {
		var gc gwv1.GatewayClass
		if err := c.Get(ctx, client.ObjectKey{Name: "gatebridge"}, &gc); err != nil {
			return false, err.Error()
		}
		return hasCondition(gc.Status.Conditions, "Accepted", metav1.ConditionTrue, "Accepted", gc.Generation), describe(gc.Status.Conditions)
	})
	h.eventually("the Gateway Accepted and Programmed, its listener http too", func() (bool, string) {
		var gw gwv1.Gateway
		if err := c.Get(ctx, client.ObjectKey{Namespace: gatewayNS, Name: gatewayName}, &gw); err != nil {
			return false, err.Error()
		}
		ok := hasCondition(gw.Status.Conditions, "Accepted", metav1.ConditionTrue, "Accepted", gw.Generation) &&
			hasCondition(gw.Status.Conditions, "Programmed", metav1.ConditionTrue, "Programmed", gw.Generation)
		detail := describe(gw.Status.Conditions)
		found := false
		for _, l := range gw.Status.Listeners {
			if l.Name != "http" {
				continue
			}
			found = true
			ok = ok && l.AttachedRoutes >= 3 &&
				hasCondition(l.Conditions, "Programmed", metav1.ConditionTrue, "Programmed", gw.Generation) &&
				hasCondition(l.Conditions, "Accepted", metav1.ConditionTrue, "Accepted", gw.Generation) &&
				hasCondition(l.Conditions, "ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", gw.Generation) &&
				hasCondition(l.Conditions, "Conflicted", metav1.ConditionFalse, "NoConflicts", gw.Generation)
			detail += fmt.Sprintf("; listener http: %d routes, %s", l.AttachedRoutes, describe(l.Conditions))
		}
		return ok && found, detail
	})
	for _, want := range []struct {
		route            string
		accepted         metav1.ConditionStatus
		acceptedReason   string
		resolved         metav1.ConditionStatus
		resolvedReason   string
		messageSubstring string
	}{
		{"hand", metav1.ConditionTrue, "Accepted", metav1.ConditionTrue, "ResolvedRefs", "listener http"},
		{"missing-backend", metav1.ConditionTrue, "Accepted", metav1.ConditionFalse, "BackendNotFound", "nowhere"},
		{"cross-namespace", metav1.ConditionTrue, "Accepted", metav1.ConditionFalse, "RefNotPermitted", "ReferenceGrant"},
		{"wrong-kind", metav1.ConditionTrue, "Accepted", metav1.ConditionFalse, "InvalidKind", "Bucket"},
		{"no-such-listener", metav1.ConditionFalse, "NoMatchingParent", metav1.ConditionTrue, "ResolvedRefs", "https"},
	} {
		h.eventually("the status of HTTPRoute "+want.route, func() (bool, string) {
			var r gwv1.HTTPRoute
			if err := c.Get(ctx, client.ObjectKey{Namespace: h.ns, Name: want.route}, &r); err != nil {
				return false, err.Error()
			}
			var ours []gwv1.RouteParentStatus
			for _, p := range r.Status.Parents {
				if p.ControllerName == controllerName {
					ours = append(ours, p)
				}
			}
			if len(ours) != 1 {
				return false, fmt.Sprintf("%d status.parents entries of %s", len(ours), controllerName)
			}
			cs := ours[0].Conditions
			msgs := ""
			for _, c := range cs {
				msgs += c.Message + " "
			}
			return hasCondition(cs, "Accepted", want.accepted, want.acceptedReason, r.Generation) &&
				hasCondition(cs, "ResolvedRefs", want.resolved, want.resolvedReason, r.Generation) &&
				strings.Contains(msgs, want.messageSubstring), describe(cs)
		})
	}
}

func hasCondition(cs []metav1.Condition, typ string, status metav1.ConditionStatus, reason string, generation int64) bool {
	c := meta.FindStatusCondition(cs, typ)
	return c != nil && c.Status == status && c.Reason == reason && c.ObservedGeneration == generation
}

func describe(cs []metav1.Condition) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s=%s/%s (gen %d): %s", c.Type, c.Status, c.Reason, c.ObservedGeneration, c.Message))
	}
	return strings.Join(parts, "; ")
}

// metricAtLeast reports whether the sample named (with labels) is at least min.
func metricAtLeast(metrics, name string, min float64) bool {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(metrics)
	if m == nil {
		return false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return err == nil && v >= min
}

func grepLines(s string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}
