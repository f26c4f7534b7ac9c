package converters

import (
	"testing"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

func TestGRPCMatchOf(t *testing.T) {
	prefix, exact, regex := gwv1.PathMatchPathPrefix, gwv1.PathMatchExact, gwv1.PathMatchRegularExpression
	for _, c := range []struct {
		typ          gwv1.PathMatchType
		path         string
		ok           bool
		svc, method  string
		matchesEvery bool
	}{
		{prefix, "/", true, "", "", true},
		{prefix, "/helloworld.Greeter", true, "helloworld.Greeter", "", false},
		{prefix, "/helloworld.Greeter/", true, "helloworld.Greeter", "", false},
		{exact, "/grpc.health.v1.Health/Check", true, "grpc.health.v1.Health", "Check", false},
		{exact, "/grpc.health.v1.Health", false, "", "", false},
		{prefix, "/api/v1", false, "", "", false},
		{prefix, "/a-b", false, "", "", false},
		{regex, "/.*", false, "", "", false},
	} {
		m, ok := grpcMatchOf(gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr(c.typ), Value: ptr(c.path)}})
		if ok != c.ok {
			t.Errorf("%s %s: ok=%v, want %v", c.typ, c.path, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		if c.matchesEvery != (m.Method == nil) {
			t.Errorf("%s %s: method match %+v", c.typ, c.path, m.Method)
			continue
		}
		if m.Method != nil && (deref(m.Method.Service) != c.svc || deref(m.Method.Method) != c.method) {
			t.Errorf("%s %s: service %q method %q, want %q %q", c.typ, c.path, deref(m.Method.Service), deref(m.Method.Method), c.svc, c.method)
		}
	}
	if _, ok := grpcMatchOf(gwv1.HTTPRouteMatch{QueryParams: []gwv1.HTTPQueryParamMatch{{Name: "a", Value: "b"}}}); ok {
		t.Error("a query match has no gRPC form")
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestStandardCORSFilter(t *testing.T) {
	f, dropped := standardCORSFilter(&gbv1.CORSPolicy{
		AllowOrigins: []string{"https://app.example.com", " https://*.example.org", "origin.example.com"},
		AllowMethods: []string{"GET", " put", "FETCH"}, AllowHeaders: []string{"X-A", "x-a", "bad header"},
		AllowCredentials: true, MaxAgeSeconds: 600})
	if len(f.AllowOrigins) != 2 || f.AllowOrigins[1] != "https://*.example.org" {
		t.Errorf("origins %q", f.AllowOrigins)
	}
	if len(f.AllowMethods) != 2 || f.AllowMethods[1] != "PUT" {
		t.Errorf("methods %q", f.AllowMethods)
	}
	if len(f.AllowHeaders) != 1 || f.AllowCredentials == nil || !*f.AllowCredentials || f.MaxAge != 600 {
		t.Errorf("filter %+v", f)
	}
	if len(dropped) != 3 {
		t.Errorf("dropped %q, want the origin without scheme, FETCH and the header with a blank", dropped)
	}
	star, _ := standardCORSFilter(&gbv1.CORSPolicy{AllowOrigins: []string{"https://a.example", "*"}})
	if len(star.AllowOrigins) != 1 || star.AllowOrigins[0] != "*" {
		t.Errorf("with *: origins %q, want only *", star.AllowOrigins)
	}
}
