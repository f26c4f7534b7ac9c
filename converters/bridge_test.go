package converters_test

import (
	"bytes"
	"fmt"
	"maps"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
)

func TestBridgeParseWeight(t *testing.T) {
	valid := map[string]int{"0": 0, "25": 25, " 100 ": 100, "007": 7, "99": 99}
	for v, want := range valid {
		if got, ok := converters.ParseWeight(v); !ok || got != want {
			t.Errorf("ParseWeight(%q) = %d, %v; want %d", v, got, ok, want)
		}
	}
	for _, v := range []string{"", " ", "101", "-1", "+5", "5%", "2.5", "1e2", "0x10", "99999999999999999999", "٣"} {
		if got, ok := converters.ParseWeight(v); ok {
			t.Errorf("ParseWeight(%q) = %d, valid; want invalid", v, got)
		}
	}
}

// bridgeIngress is an Ingress of class nginx on host h with the given annotations.
func bridgeIngress(name, host string, ann map[string]string) networkingv1.Ingress {
	class := "nginx"
	pt := networkingv1.PathTypePrefix
	return networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: ann},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
			}}}}}}},
	}
}

// TestBridgeRememberWeights: an invalid weight keeps the last valid one across
// conversions; leaving the migration forgets it; an incremental conversion told of new
// previous weights gives what Convert gives.
func TestBridgeRememberWeights(t *testing.T) {
	opts := converters.Options{Bridge: true}
	x := converters.NewIncremental(opts)
	var prev map[string]int
	step := func(weight string, migrate bool, want converters.Migration) {
		t.Helper()
		ann := map[string]string{"gatebridge.dev/weight": weight}
		if migrate {
			ann["gatebridge.dev/migrate"] = "true"
		}
		in := converters.Input{Ingresses: []networkingv1.Ingress{bridgeIngress("web", "a.example.com", ann), bridgeIngress("other", "b.example.com", nil)}}
		x.SetPreviousWeights(prev)
		got := x.Convert(in, map[string]bool{"default/web": true})
		o := opts
		o.PreviousWeights = maps.Clone(prev)
		full := converters.Convert(in, o)
		if a, b := encodeResult(t, got), encodeResult(t, full); !bytes.Equal(a, b) {
			t.Fatalf("weight %q: incremental differs from Convert:\n%s", weight, firstDiff(b, a))
		}
		var m *converters.Migration
		for _, r := range full.Report.Ingresses {
			if r.Name == "web" {
				m = r.Migration
			}
		}
		if m == nil || *m != want {
			t.Fatalf("weight %q (migrate %v): migration %v, want %v", weight, migrate, m, want)
		}
		prev = converters.RememberWeights(prev, &full.Report)
	}
	step("30", true, converters.Migration{State: converters.MigrationMigrating, Weight: 30})
	step("thirty", true, converters.Migration{State: converters.MigrationMigrating, Weight: 30})
	step("60", true, converters.Migration{State: converters.MigrationMigrating, Weight: 60})
	step("", true, converters.Migration{State: converters.MigrationMigrating, Weight: 60})
	step("100", true, converters.Migration{State: converters.MigrationNative, Weight: 100})
	step("10", false, converters.Migration{State: converters.MigrationObserved})
	step("bad", true, converters.Migration{State: converters.MigrationMigrating, Weight: 0})
	if fmt.Sprint(prev) != "map[default/web:0]" {
		t.Errorf("remembered %v", prev)
	}
}

// TestBridgeNativeObjects: only the objects of migrating and native Ingresses are served
// natively, with the Gateway's listeners cut to theirs; without any, the GatewayClass and
// a Gateway with its "http" listener remain.
func TestBridgeNativeObjects(t *testing.T) {
	in := converters.Input{Ingresses: []networkingv1.Ingress{
		bridgeIngress("a", "a.example.com", map[string]string{"gatebridge.dev/migrate": "true"}),
		bridgeIngress("b", "b.example.com", nil),
	}}
	opts := converters.Options{Bridge: true}
	res := converters.Convert(in, opts)
	var names []string
	for _, o := range converters.NativeObjects(res, opts) {
		names = append(names, o.GetObjectKind().GroupVersionKind().Kind+" "+o.GetName())
	}
	if got := fmt.Sprint(names); got != "[GatewayClass gatebridge Gateway gatebridge HTTPRoute a-a-example-com TrafficPolicy ingress-nginx-defaults]" {
		t.Errorf("native objects: %s", got)
	}
	objs, owners := converters.ServedObjects(res, opts, nil)
	if len(objs) != 2 || owners[0] != "" || owners[1] != "" {
		t.Errorf("nothing served: %d objects %v", len(objs), owners)
	}
}
