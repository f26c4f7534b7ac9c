package controllers

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/gatebridge-dev/gatebridge/converters"
)

var update = flag.Bool("update", false, "rewrite the golden testdata/*.out.yaml files")

// readSnapshot decodes the Ingresses, IngressClasses, Services and ConfigMap of a file.
func readSnapshot(t *testing.T, path string) Snapshot {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	decoder := serializer.NewCodecFactory(NewScheme()).UniversalDeserializer()
	var s Snapshot
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", path, i, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		obj, _, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%s: document %d: %v", path, i, err)
		}
		switch x := obj.(type) {
		case *networkingv1.Ingress:
			s.Ingresses = append(s.Ingresses, *x)
		case *networkingv1.IngressClass:
			s.IngressClasses = append(s.IngressClasses, *x)
		case *corev1.Service:
			s.Services = append(s.Services, *x)
		case *corev1.ConfigMap:
			s.ConfigMap = x
		default:
			t.Fatalf("%s: document %d: unexpected %T", path, i, obj)
		}
	}
	return s
}

func stripComments(doc []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// renderPlan is the golden form of a plan: what happens to each Ingress, then every object
// written, with the Ingress it belongs to.
func renderPlan(t *testing.T, p *Plan) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, ip := range p.Ingresses {
		fmt.Fprintf(&b, "# Ingress %s/%s: %s (verdict %s)\n", ip.Ingress.Namespace, ip.Ingress.Name, ip.State, ip.Report.Verdict)
		for _, k := range ip.Objects {
			fmt.Fprintf(&b, "#   writes %s\n", k)
		}
		for _, n := range ip.Notes {
			fmt.Fprintf(&b, "#   note: %s\n", n)
		}
	}
	for _, d := range p.Objects {
		b.WriteString("---\n")
		if d.Owner != nil {
			fmt.Fprintf(&b, "# belongs to Ingress %s/%s\n", d.Owner.Ingress.Namespace, d.Owner.Ingress.Name)
		} else {
			b.WriteString("# shared\n")
		}
		if err := converters.EncodeObjects(&b, []client.Object{d.Object}, "yaml"); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// TestPlanGolden: testdata/<case>.in.yaml → <case>.out.yaml (-update rewrites them).
func TestPlanGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "*.in.yaml"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, in := range cases {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			got := renderPlan(t, BuildPlan(readSnapshot(t, in), Options{}))
			out := strings.TrimSuffix(in, ".in.yaml") + ".out.yaml"
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the plan (run with -update and review the diff):\n%s", out, got)
			}
		})
	}
}

// TestBaseObjectsMatchTheConversion: the GatewayClass and Gateway the controller writes
// when nothing is converted are the ones the conversion emits for a plain HTTP Ingress, so
// the first migrating Ingress does not rewrite them.
func TestBaseObjectsMatchTheConversion(t *testing.T) {
	s := readSnapshot(t, filepath.Join("testdata", "nothing-migrates.in.yaml"))
	s.Ingresses[0].Spec.TLS = nil
	o := Options{}.withDefaults().Converter
	res := converters.Convert(converters.Input{Ingresses: s.Ingresses}, o)
	var gotClass, gotGateway bool
	for _, obj := range res.Objects {
		switch x := obj.(type) {
		case *gwv1.GatewayClass:
			gotClass = true
			if !reflect.DeepEqual(x, baseGatewayClass(o)) {
				t.Errorf("the conversion's GatewayClass differs from baseGatewayClass:\n%#v\n%#v", x, baseGatewayClass(o))
			}
		case *gwv1.Gateway:
			gotGateway = true
			if !reflect.DeepEqual(x, baseGateway(o)) {
				t.Errorf("the conversion's Gateway differs from baseGateway:\n%#v\n%#v", x, baseGateway(o))
			}
		}
	}
	if !gotClass || !gotGateway {
		t.Fatalf("the conversion emitted no GatewayClass (%v) or Gateway (%v)", gotClass, gotGateway)
	}
}

// TestListenerSetsCarryOnlyUsedListeners: past the Gateway's capacity listeners go to
// ListenerSets; only those a migrating route uses are written, and an emptied
// ListenerSet is not written at all.
func TestListenerSetsCarryOnlyUsedListeners(t *testing.T) {
	var s Snapshot
	for i, host := range []string{"a.example.com", "b.example.com", "c.example.com", "d.example.com", "e.example.com"} {
		ing := tlsIngress(fmt.Sprintf("ing-%d", i), "apps", host)
		if host == "e.example.com" {
			ing.Annotations = map[string]string{MigrateAnnotation: "true"}
		}
		s.Ingresses = append(s.Ingresses, ing)
	}
	opts := Options{Converter: converters.Options{MaxListenersPerGateway: 3}}
	p := BuildPlan(s, opts)
	var gw *gwv1.Gateway
	var sets []*gwv1.ListenerSet
	var grants []*gwv1b1.ReferenceGrant
	for _, d := range p.Objects {
		switch x := d.Object.(type) {
		case *gwv1.Gateway:
			gw = x
		case *gwv1.ListenerSet:
			sets = append(sets, x)
		case *gwv1b1.ReferenceGrant:
			grants = append(grants, x)
		}
	}
	if gw == nil || len(gw.Spec.Listeners) != 1 || gw.Spec.Listeners[0].Name != "http" {
		t.Fatalf("Gateway listeners = %v, want only http", gw)
	}
	if gw.Spec.AllowedListeners == nil {
		t.Errorf("the Gateway does not allow the ListenerSet it needs")
	}
	if len(sets) != 1 || len(sets[0].Spec.Listeners) != 1 || sets[0].Spec.Listeners[0].Name != "https-e-example-com" {
		t.Fatalf("ListenerSets = %+v, want one holding https-e-example-com", sets)
	}
	if len(grants) != 1 || len(grants[0].Spec.To) != 1 || *grants[0].Spec.To[0].Name != "e-tls" || grants[0].Spec.From[0].Kind != "ListenerSet" {
		t.Fatalf("ReferenceGrants = %+v, want one from ListenerSet to Secret e-tls", grants)
	}
}

func tlsIngress(name, namespace, host string) networkingv1.Ingress {
	class := "nginx"
	pt := networkingv1.PathTypePrefix
	ing := networkingv1.Ingress{}
	ing.Name, ing.Namespace = name, namespace
	ing.Spec.IngressClassName = &class
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: strings.SplitN(host, ".", 2)[0] + "-tls"}}
	ing.Spec.Rules = []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
		Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
	}}}}
	return ing
}

// TestDropInCopyLeavesTheCacheAlone: the drop-in path converts a copy; the Ingress read
// (the informer cache's object) keeps its class and annotations.
func TestDropInCopyLeavesTheCacheAlone(t *testing.T) {
	class := "gatebridge"
	ing := tlsIngress("native", "apps", "native.example.com")
	ing.Spec.IngressClassName = nil
	ing.Annotations = map[string]string{legacyClassAnnotation: class}
	s := Snapshot{Ingresses: []networkingv1.Ingress{ing},
		IngressClasses: []networkingv1.IngressClass{{Spec: networkingv1.IngressClassSpec{Controller: IngressControllerName}}}}
	s.IngressClasses[0].Name = class
	p := BuildPlan(s, Options{})
	if s.Ingresses[0].Spec.IngressClassName != nil || s.Ingresses[0].Annotations[legacyClassAnnotation] != class {
		t.Fatalf("the snapshot's Ingress was modified: %+v", s.Ingresses[0])
	}
	if ip := p.Ingresses[0]; !ip.DropIn || ip.State != StateMigrated || ip.Report.Class != class || len(ip.Objects) == 0 {
		t.Fatalf("drop-in Ingress plan = %+v", ip)
	}
}

// needs is what the migrating Ingresses' routes use of the shared listeners; collectNeeds
// finds it as converters.ServedObjects does, for tests that check a refused Ingress
// keeps no listener.
type needs struct {
	migrating bool
	listeners map[listenerRef]bool
}

func collectNeeds(plans []*IngressPlan, objects map[objectKey]client.Object, gatewayNS string) needs {
	n := needs{listeners: map[listenerRef]bool{}}
	for _, ip := range plans {
		if ip.State != StateMigrated {
			continue
		}
		n.migrating = true
		for _, r := range ip.Report.Objects {
			obj := objects[objectKey(r)]
			if obj == nil {
				continue
			}
			for _, ref := range routeParents(obj) {
				if l, ok := parentListener(ref, obj.GetNamespace(), gatewayNS); ok {
					n.listeners[l] = true
				}
			}
		}
	}
	return n
}

// TestPlanBridge: behind the bridge the converter's migration state decides (shared with
// run): the migrating Ingress's objects are written with its weight, the one not migrated
// gets none, and the TLSRoute of a passthrough Ingress below 100 is not written.
func TestPlanBridge(t *testing.T) {
	migrating := tlsIngress("half", "apps", "half.example.com")
	migrating.Annotations = map[string]string{MigrateAnnotation: "true", "gatebridge.dev/weight": "30"}
	pass := tlsIngress("pass", "apps", "pass.example.com")
	pass.Annotations = map[string]string{MigrateAnnotation: "true", "gatebridge.dev/weight": "50", "nginx.ingress.kubernetes.io/ssl-passthrough": "true"}
	s := Snapshot{Ingresses: []networkingv1.Ingress{migrating, pass, tlsIngress("off", "apps", "off.example.com")}}
	p := BuildPlan(s, Options{Converter: converters.Options{Bridge: true}})
	states := map[string]MigrationState{}
	for _, ip := range p.Ingresses {
		states[ip.Ingress.Name] = ip.State
	}
	if states["half"] != StateMigrated || states["pass"] != StateMigrated || states["off"] != StateOff {
		t.Fatalf("states %v", states)
	}
	for _, d := range p.Objects {
		if d.Owner != nil && d.Owner.Ingress.Name == "off" {
			t.Errorf("%s of an Ingress not migrated is written", keyOf(d.Object))
		}
		switch x := d.Object.(type) {
		case *gwv1.TLSRoute:
			t.Errorf("TLSRoute %s of a passthrough Ingress at 50%% is written", x.Name)
		case *gwv1.HTTPRoute:
			if d.Owner.Ingress.Name == "half" && x.Annotations["gatebridge.dev/weight"] != "30" {
				t.Errorf("HTTPRoute %s has annotations %v, want weight 30", x.Name, x.Annotations)
			}
		case *gwv1.Gateway:
			for _, l := range x.Spec.Listeners {
				if l.Hostname != nil && *l.Hostname == "off.example.com" {
					t.Errorf("the listener of an Ingress not migrated is written: %s", l.Name)
				}
			}
		}
	}
}
