package cluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestHandWrittenRouteConflictIsServedAsReported: when a hand-written HTTPRoute and a
// migrated Ingress claim the same host and path, Envoy serves the older of the two — and
// the gatebridge.dev/Conflicted condition of the hand-written route says the same.
func TestHandWrittenRouteConflictIsServedAsReported(t *testing.T) {
	env := require(t)
	h := newHarness(t, env)
	ctx := context.Background()
	if err := env.EnsureNamespace(ctx, gatewayNS); err != nil {
		t.Fatal(err)
	}
	h.ns = env.Namespace(t, "conflict")
	for _, name := range []string{"ing", "hand"} {
		h.startBackend(name)
		h.apply(h.serviceYAML(name))
	}
	h.apply(`apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}`)
	h.startController()
	h.startEnvoy()

	ingress := func(name, host string, paths ...string) string {
		var ps []string
		for _, p := range paths {
			ps = append(ps, fmt.Sprintf("      - {path: %s, pathType: Prefix, backend: {service: {name: ing, port: {number: 80}}}}", p))
		}
		return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %s
  namespace: %s
  annotations: {gatebridge.dev/migrate: "true"}
spec:
  ingressClassName: nginx
  rules:
  - host: %s
    http:
      paths:
%s
`, name, h.ns, host, strings.Join(ps, "\n"))
	}
	route := func(name, host string, paths ...string) string {
		var rules []string
		for _, p := range paths {
			rules = append(rules, fmt.Sprintf("  - {matches: [{path: {type: PathPrefix, value: %s}}], backendRefs: [{name: hand, port: 80}]}", p))
		}
		return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %s, namespace: %s}
spec:
  parentRefs: [{name: %s, namespace: %s}]
  hostnames: [%s]
  rules:
%s
`, name, h.ns, gatewayName, gatewayNS, host, strings.Join(rules, "\n"))
	}
	conflicted := func(name, reason string) {
		h.t.Helper()
		h.eventually("HTTPRoute "+name+" to report "+reason, func() (bool, string) {
			var r gwv1.HTTPRoute
			if err := env.Client.Get(ctx, client.ObjectKey{Namespace: h.ns, Name: name}, &r); err != nil {
				return false, err.Error()
			}
			for _, p := range r.Status.Parents {
				if p.ControllerName == controllerName {
					c := meta.FindStatusCondition(p.Conditions, "gatebridge.dev/Conflicted")
					return c != nil && c.Reason == reason && c.ObservedGeneration == r.Generation, describe(p.Conditions)
				}
			}
			return false, "no status.parents entry of gatebridge"
		})
	}

	t.Run("the migrated Ingress is older: it keeps its path", func(t *testing.T) {
		h.t = t
		h.apply(ingress("older", "older.conflict.example.com", "/app"))
		h.served("older.conflict.example.com", "/app/x", "ing", "/app/x")
		time.Sleep(1100 * time.Millisecond) // creationTimestamps have a resolution of a second
		h.apply(route("newer", "older.conflict.example.com", "/app", "/hand"))
		h.served("older.conflict.example.com", "/hand/y", "hand", "/hand/y")
		conflicted("newer", "RulesShadowed")
		for range 5 {
			if r := h.get("older.conflict.example.com", "/app/x"); r.backend == nil || r.backend.Server != "ing" {
				t.Fatalf("/app/x: %s, want the migrated Ingress's backend (ing): its route is older", r)
			}
		}
	})

	t.Run("the hand-written route is older: it keeps its path", func(t *testing.T) {
		h.t = t
		h.apply(route("first", "second.conflict.example.com", "/shop"))
		h.served("second.conflict.example.com", "/shop/a", "hand", "/shop/a")
		time.Sleep(1100 * time.Millisecond)
		h.apply(ingress("second", "second.conflict.example.com", "/shop", "/only-ingress"))
		h.served("second.conflict.example.com", "/only-ingress", "ing", "/only-ingress")
		conflicted("first", "ShadowsOtherRoutes")
		for range 5 {
			if r := h.get("second.conflict.example.com", "/shop/a"); r.backend == nil || r.backend.Server != "hand" {
				t.Fatalf("/shop/a: %s, want the hand-written route's backend (hand): it is older", r)
			}
		}
	})
}
