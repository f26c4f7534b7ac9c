package converters_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// validIngress is an Ingress the API server accepts; each case of TestValidateIngress
// breaks one thing of it.
func validIngress() *networkingv1.Ingress {
	class := "nginx"
	prefix, exact, impl := networkingv1.PathTypePrefix, networkingv1.PathTypeExact, networkingv1.PathTypeImplementationSpecific
	svc := func(name string) networkingv1.IngressBackend {
		return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 80}}}
	}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "default", Labels: map[string]string{"app": "web"},
			Annotations: map[string]string{"nginx.ingress.kubernetes.io/use-regex": "true"}},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			DefaultBackend:   &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "fallback", Port: networkingv1.ServiceBackendPort{Name: "http"}}},
			TLS:              []networkingv1.IngressTLS{{Hosts: []string{"app.example.com", "*.example.com"}, SecretName: "app-tls"}},
			Rules: []networkingv1.IngressRule{
				{Host: "app.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
					{Path: "/", PathType: &prefix, Backend: svc("web")},
					{Path: "/exact", PathType: &exact, Backend: svc("web")},
					{Path: "", PathType: &impl, Backend: svc("web")},
					{Path: "/api/(.*)", PathType: &impl, Backend: svc("1st-api")},
				}}}},
				{Host: "*.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
					{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{
						APIGroup: ptrTo("k8s.example.com"), Kind: "StorageBucket", Name: "assets"}}},
				}}}},
				{IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
					{Path: "/", PathType: &prefix, Backend: svc("catch-all")},
				}}}},
			},
		},
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestValidateIngress(t *testing.T) {
	pathType := func(s string) *networkingv1.PathType { p := networkingv1.PathType(s); return &p }
	paths := func(ing *networkingv1.Ingress) []networkingv1.HTTPIngressPath { return ing.Spec.Rules[0].HTTP.Paths }
	cases := []struct {
		name string
		edit func(*networkingv1.Ingress)
		// want are the fields with a problem, each exactly once.
		want []string
	}{
		{"valid", func(*networkingv1.Ingress) {}, nil},
		{"placeholder host", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "registry.<your domain>" }, []string{"spec.rules[0].host"}},
		{"template host", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "__ingress_host__" }, []string{"spec.rules[0].host"}},
		{"upper-case host", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "Foo.COM" }, []string{"spec.rules[0].host"}},
		{"star host", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "*" }, []string{"spec.rules[0].host"}},
		{"two wildcards", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "*.*.example.com" }, []string{"spec.rules[0].host"}},
		{"inner wildcard", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "a.*.example.com" }, []string{"spec.rules[0].host"}},
		{"IPv4 host", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "10.0.0.1" }, []string{"spec.rules[0].host"}},
		{"IPv4 host with leading zeros", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "010.0.0.1" }, []string{"spec.rules[0].host"}},
		{"host over 253", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = strings.Repeat("a.", 127) + "com" }, []string{"spec.rules[0].host"}},
		{"host with port", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "app.example.com:8080" }, []string{"spec.rules[0].host"}},
		{"TLS host", func(i *networkingv1.Ingress) { i.Spec.TLS[0].Hosts[1] = "*" }, []string{"spec.tls[0].hosts[1]"}},
		{"TLS secret name", func(i *networkingv1.Ingress) { i.Spec.TLS[0].SecretName = "App_TLS" }, []string{"spec.tls[0].secretName"}},
		{"no paths", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths = nil }, []string{"spec.rules[0].http.paths"}},
		{"pathType missing", func(i *networkingv1.Ingress) { paths(i)[0].PathType = nil }, []string{"spec.rules[0].http.paths[0].pathType"}},
		{"pathType Regex", func(i *networkingv1.Ingress) { paths(i)[0].PathType = pathType("Regex") }, []string{"spec.rules[0].http.paths[0].pathType"}},
		{"Prefix empty", func(i *networkingv1.Ingress) { paths(i)[0].Path = "" }, []string{"spec.rules[0].http.paths[0].path"}},
		{"Prefix relative", func(i *networkingv1.Ingress) { paths(i)[0].Path = "api" }, []string{"spec.rules[0].http.paths[0].path"}},
		{"Exact double slash", func(i *networkingv1.Ingress) { paths(i)[1].Path = "/a//b" }, []string{"spec.rules[0].http.paths[1].path"}},
		{"Exact dot segment", func(i *networkingv1.Ingress) { paths(i)[1].Path = "/a/./b" }, []string{"spec.rules[0].http.paths[1].path"}},
		{"Exact dot-dot segment", func(i *networkingv1.Ingress) { paths(i)[1].Path = "/a/../b" }, []string{"spec.rules[0].http.paths[1].path"}},
		{"Exact encoded slash", func(i *networkingv1.Ingress) { paths(i)[1].Path = "/a%2fb" }, []string{"spec.rules[0].http.paths[1].path"}},
		{"Exact encoded slash upper", func(i *networkingv1.Ingress) { paths(i)[1].Path = "/a%2Fb" }, []string{"spec.rules[0].http.paths[1].path"}},
		{"Prefix ends with /..", func(i *networkingv1.Ingress) { paths(i)[0].Path = "/a/.." }, []string{"spec.rules[0].http.paths[0].path"}},
		{"Prefix ends with /.", func(i *networkingv1.Ingress) { paths(i)[0].Path = "/a/." }, []string{"spec.rules[0].http.paths[0].path"}},
		// Two rules broken at once: two findings for the one field, as the API server says.
		{"Prefix relative with //", func(i *networkingv1.Ingress) { paths(i)[0].Path = "a//b" }, []string{"spec.rules[0].http.paths[0].path", "spec.rules[0].http.paths[0].path"}},
		{"ImplementationSpecific relative", func(i *networkingv1.Ingress) { paths(i)[2].Path = "api" }, []string{"spec.rules[0].http.paths[2].path"}},
		{"ImplementationSpecific with // is fine", func(i *networkingv1.Ingress) { paths(i)[2].Path = "/a//b" }, nil},
		{"service without name", func(i *networkingv1.Ingress) { paths(i)[0].Backend.Service.Name = "" }, []string{"spec.rules[0].http.paths[0].backend.service.name"}},
		{"service name not a label", func(i *networkingv1.Ingress) { paths(i)[0].Backend.Service.Name = "Web_1" }, []string{"spec.rules[0].http.paths[0].backend.service.name"}},
		{"service name with a dot", func(i *networkingv1.Ingress) { paths(i)[0].Backend.Service.Name = "web.v1" }, []string{"spec.rules[0].http.paths[0].backend.service.name"}},
		{"service and resource", func(i *networkingv1.Ingress) {
			paths(i)[0].Backend.Resource = i.Spec.Rules[1].HTTP.Paths[0].Backend.Resource
		}, []string{"spec.rules[0].http.paths[0].backend"}},
		{"no backend", func(i *networkingv1.Ingress) { paths(i)[0].Backend = networkingv1.IngressBackend{} }, []string{"spec.rules[0].http.paths[0].backend"}},
		{"port name and number", func(i *networkingv1.Ingress) { paths(i)[0].Backend.Service.Port.Name = "http" }, []string{"spec.rules[0].http.paths[0].backend"}},
		{"no port", func(i *networkingv1.Ingress) { paths(i)[0].Backend.Service.Port.Number = 0 }, []string{"spec.rules[0].http.paths[0].backend"}},
		{"port number too large", func(i *networkingv1.Ingress) { paths(i)[0].Backend.Service.Port.Number = 65536 }, []string{"spec.rules[0].http.paths[0].backend.service.port.number"}},
		{"port number negative", func(i *networkingv1.Ingress) { paths(i)[0].Backend.Service.Port.Number = -1 }, []string{"spec.rules[0].http.paths[0].backend.service.port.number"}},
		{"port name invalid", func(i *networkingv1.Ingress) {
			paths(i)[0].Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "http_port"}
		}, []string{"spec.rules[0].http.paths[0].backend.service.port.name"}},
		{"resource without kind", func(i *networkingv1.Ingress) { i.Spec.Rules[1].HTTP.Paths[0].Backend.Resource.Kind = "" }, []string{"spec.rules[1].http.paths[0].backend.resource.kind"}},
		{"resource name with slash", func(i *networkingv1.Ingress) { i.Spec.Rules[1].HTTP.Paths[0].Backend.Resource.Name = "a/b" }, []string{"spec.rules[1].http.paths[0].backend.resource.name"}},
		{"default backend without port", func(i *networkingv1.Ingress) { i.Spec.DefaultBackend.Service.Port.Name = "" }, []string{"spec.defaultBackend"}},
		{"neither rules nor default backend", func(i *networkingv1.Ingress) { i.Spec.Rules, i.Spec.DefaultBackend = nil, nil }, []string{"spec"}},
		{"only a default backend", func(i *networkingv1.Ingress) { i.Spec.Rules = nil }, nil},
		{"class name", func(i *networkingv1.Ingress) { c := "Nginx_Class"; i.Spec.IngressClassName = &c }, []string{"spec.ingressClassName"}},
		{"class annotation differs", func(i *networkingv1.Ingress) { i.Annotations["kubernetes.io/ingress.class"] = "other" },
			[]string{"metadata.annotations[kubernetes.io/ingress.class]"}},
		{"class annotation agrees", func(i *networkingv1.Ingress) { i.Annotations["kubernetes.io/ingress.class"] = "nginx" }, nil},
		{"name too long", func(i *networkingv1.Ingress) { i.Name = strings.Repeat("a", 254) }, []string{"metadata.name"}},
		{"name upper case", func(i *networkingv1.Ingress) { i.Name = "App" }, []string{"metadata.name"}},
		{"name missing", func(i *networkingv1.Ingress) { i.Name = "" }, []string{"metadata.name"}},
		{"namespace not a label", func(i *networkingv1.Ingress) { i.Namespace = "my.ns" }, []string{"metadata.namespace"}},
		{"label value", func(i *networkingv1.Ingress) { i.Labels["app"] = "bad value!" }, []string{"metadata.labels"}},
		{"annotation key", func(i *networkingv1.Ingress) { i.Annotations["not a/valid/key"] = "x" }, []string{"metadata.annotations"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ing := validIngress()
			c.edit(ing)
			var got []string
			for _, f := range converters.ValidateIngress(ing) {
				if f.Severity != converters.SeverityError || f.Message == "" {
					t.Errorf("finding %+v: want an error with a message", f)
				}
				got = append(got, f.Field)
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("findings on %q, want %q", got, c.want)
			}
		})
	}
}

// TestInvalidIngressesAreAbsent: for every golden case, the Ingresses the API server would
// reject change nothing for the others — the objects, the refused locations, the global
// findings and every other Ingress's entry are those of the input without them.
func TestInvalidIngressesAreAbsent(t *testing.T) {
	for name, c := range goldenInputs(t) {
		var valid []networkingv1.Ingress
		for i := range c.in.Ingresses {
			if len(converters.ValidateIngress(&c.in.Ingresses[i])) == 0 {
				valid = append(valid, c.in.Ingresses[i])
			}
		}
		if len(valid) == len(c.in.Ingresses) {
			continue
		}
		without := c.in
		without.Ingresses = valid
		got, want := converters.Convert(c.in, c.opts), converters.Convert(without, c.opts)
		var a, b bytes.Buffer
		if err := converters.EncodeObjects(&a, got.Objects, "yaml"); err != nil {
			t.Fatal(err)
		}
		if err := converters.EncodeObjects(&b, want.Objects, "yaml"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: objects differ with the invalid Ingresses:\n%s", name, firstDiff(b.Bytes(), a.Bytes()))
		}
		if !reflect.DeepEqual(got.RefusedLocations, want.RefusedLocations) || !reflect.DeepEqual(got.Report.Global, want.Report.Global) {
			t.Errorf("%s: refused locations or global findings differ with the invalid Ingresses", name)
		}
		entries := map[string]converters.IngressReport{}
		for _, r := range want.Report.Ingresses {
			entries[r.Namespace+"/"+r.Name] = r
		}
		for _, r := range got.Report.Ingresses {
			if w, ok := entries[r.Namespace+"/"+r.Name]; ok && !reflect.DeepEqual(r, w) {
				t.Errorf("%s: %s/%s reports differently next to the invalid Ingresses", name, r.Namespace, r.Name)
			}
		}
	}
}
