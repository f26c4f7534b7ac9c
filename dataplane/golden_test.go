package dataplane_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current translator")

// goldenOptions are the translation options of every golden case: the ext_authz service on
// a fixed address and the Gateway ports as written.
var goldenOptions = dataplane.Options{AuthzAddress: "127.0.0.1:18000"}

// TestGolden translates each testdata/<case>.in.yaml (Gateway API objects, Ingresses —
// converted first, as `gatebridge run` does — Services, EndpointSlices, Secrets) and compares
// the Envoy resources, auth policies and problems with testdata/<case>.out.yaml.
func TestGolden(t *testing.T) {
	ins, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden cases in testdata: %v", err)
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			got := renderCase(t, in)
			outPath := strings.TrimSuffix(in, ".in.yaml") + ".out.yaml"
			if *update {
				if err := os.WriteFile(outPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatalf("%v (run go test ./dataplane -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the translation; run with -update and review the diff\n%s", outPath, firstDiff(want, got))
			}
			if again := renderCase(t, in); !bytes.Equal(got, again) {
				t.Errorf("translation is not deterministic")
			}
		})
	}
}

func renderCase(t *testing.T, in string) []byte {
	t.Helper()
	loaded, err := sources.ReadPaths([]string{in}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Problems) > 0 {
		t.Fatalf("input problems: %+v", loaded.Problems)
	}
	res := pipeline.Build(loaded, converters.Options{})
	raw, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	namespaceDirectives(raw, res.Model)
	if err := bridgeDirectives(raw, res.Model); err != nil {
		t.Fatalf("%s: %v", in, err)
	}
	out := dataplane.Translate(res.Model, caseOptions(raw))
	if err := dataplane.Validate(out.Resources); err != nil {
		t.Errorf("translation does not validate: %v", err)
	}
	checkWireForm(t, out.Resources.Routes)
	checkWireForm(t, out.Resources.Endpoints)
	b := RenderOutput(t, out)
	if res.Model.Bridge != nil {
		// What goes to the fallback, as `gatebridge run` lists it (bridge cases only: the
		// other cases' goldens predate the listing).
		var served bytes.Buffer
		for _, s := range out.Served() {
			fmt.Fprintf(&served, "%s %s %s %s (%s)\n", s.Listener, s.Host, s.Match, s.Action, s.Route)
		}
		b = append(b, "# served\n"...)
		b = append(b, served.Bytes()...)
	}
	return b
}

// namespaceDirectives adds a case's Namespaces (files carry none; a cluster's feed does),
// for listeners that admit routes by a namespace selector:
//
//	# namespace: NAME [LABEL=VALUE]...
func namespaceDirectives(in []byte, m *dataplane.Model) {
	for _, line := range strings.Split(string(in), "\n") {
		rest, ok := strings.CutPrefix(line, "# namespace:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		ns := &corev1.Namespace{}
		ns.Name = fields[0]
		ns.Labels = map[string]string{}
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=")
			ns.Labels[k] = v
		}
		m.Namespaces = append(m.Namespaces, ns)
	}
}

// caseOptions are goldenOptions with the Gateway addresses a case's comment lines give,
// as a controller's address pool would:
//
//	# gateway-address: gateway=NS/NAME address=IP
//	# gateway-address: gateway=NS/NAME condition=TYPE reason=REASON   (no address: not served)
func caseOptions(in []byte) dataplane.Options {
	addresses := map[string]string{}
	issues := map[string]dataplane.Issue{}
	for _, line := range strings.Split(string(in), "\n") {
		rest, ok := strings.CutPrefix(line, "# gateway-address:")
		if !ok {
			continue
		}
		kv := map[string]string{}
		for _, f := range strings.Fields(rest) {
			k, v, _ := strings.Cut(f, "=")
			kv[k] = v
		}
		if kv["address"] != "" {
			addresses[kv["gateway"]] = kv["address"]
		} else {
			issues[kv["gateway"]] = dataplane.Issue{Condition: kv["condition"], Reason: kv["reason"], Message: "the golden case gives it no address"}
		}
	}
	opts := goldenOptions
	if len(addresses)+len(issues) == 0 {
		return opts
	}
	opts.ListenersByAddress = true
	opts.Address = func(gw *gwv1.Gateway) string { return addresses[gw.Namespace+"/"+gw.Name] }
	opts.AddressIssue = func(gw *gwv1.Gateway) *dataplane.Issue {
		if i, ok := issues[gw.Namespace+"/"+gw.Name]; ok {
			return &i
		}
		return nil
	}
	return opts
}

// bridgeDirectives applies a case's bridge comment lines to the model, so that the data
// plane's bridge is tested on its own, whatever the converter's bridge mode does:
//
//	# bridge: gateway=NS/NAME http=TARGET [tls=TARGET]     (TARGET: service/NS/NAME:PORT or HOST:PORT)
//	# not-migrated: gateway=NS/NAME host=HOST path=TYPE:VALUE source=NS/NAME
//
// A not-migrated line adds the location of an Ingress that is not opted in, as the
// converter hands it over in bridge mode (Model.RefusedLocations).
func bridgeDirectives(in []byte, m *dataplane.Model) error {
	for _, line := range strings.Split(string(in), "\n") {
		kind, rest, ok := strings.Cut(line, ":")
		if !ok || (kind != "# bridge" && kind != "# not-migrated") {
			continue
		}
		kv := map[string]string{}
		for _, f := range strings.Fields(rest) {
			k, v, _ := strings.Cut(f, "=")
			kv[k] = v
		}
		gwNS, gwName, _ := strings.Cut(kv["gateway"], "/")
		if kind == "# bridge" {
			b := &dataplane.Bridge{GatewayNamespace: gwNS, GatewayName: gwName}
			var err error
			if b.HTTP, err = fallbackTarget(kv["http"]); err != nil {
				return err
			}
			if kv["tls"] != "" {
				tls, err := fallbackTarget(kv["tls"])
				if err != nil {
					return err
				}
				b.TLS = &tls
			}
			m.Bridge = b
			continue
		}
		pt, pv, _ := strings.Cut(kv["path"], ":")
		pathType := gwv1.PathMatchType(pt)
		m.RefusedLocations = append(m.RefusedLocations, dataplane.RefusedLocation{
			GatewayNamespace: gwNS, GatewayName: gwName, Host: kv["host"],
			Path:   gwv1.HTTPPathMatch{Type: &pathType, Value: &pv},
			Source: kv["source"], Reason: `not migrated (gatebridge.dev/migrate is not "true")`,
		})
	}
	return nil
}

func fallbackTarget(s string) (dataplane.FallbackTarget, error) {
	svc, ok := strings.CutPrefix(s, "service/")
	if !ok {
		return dataplane.FallbackTarget{Address: s}, nil
	}
	nsName, port, _ := strings.Cut(svc, ":")
	ns, name, _ := strings.Cut(nsName, "/")
	p, err := strconv.Atoi(port)
	if err != nil {
		return dataplane.FallbackTarget{}, fmt.Errorf("bridge target %q: bad port", s)
	}
	return dataplane.FallbackTarget{ServiceNamespace: ns, ServiceName: name, Port: int32(p)}, nil
}

// RenderOutput writes the translation as YAML: one document per resource type, resources
// as protojson with proto field names, map keys sorted.
func RenderOutput(t *testing.T, out *dataplane.Output) []byte {
	t.Helper()
	var b bytes.Buffer
	section := func(title string, v any) {
		js, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		y, err := yaml.JSONToYAML(js)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "# %s\n", title)
		b.Write(y)
		b.WriteString("---\n")
	}
	res := out.Resources
	section("listeners", protos(t, res.Listeners))
	section("scoped routes", protos(t, res.ScopedRoutes))
	section("routes", protos(t, res.Routes))
	section("clusters", protos(t, decodedClusters(t, res)))
	section("endpoints", protos(t, res.Endpoints))
	section("secrets", protos(t, res.Secrets))
	keys := make([]string, 0, len(out.Auth))
	for k := range out.Auth {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	section("auth", out.Auth)
	section("problems", out.Problems)
	section("status issues", out.Issues)
	section("route parents", out.Parents)
	section("gateway listeners", out.Listeners)
	return b.Bytes()
}

// decodedClusters are res's clusters as protos, the encoded ones decoded.
func decodedClusters(t testing.TB, res *xds.Resources) []*clusterv3.Cluster {
	t.Helper()
	out := slices.Clone(res.Clusters)
	for _, e := range res.EncodedClusters {
		c, err := e.Decode()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func protos[T proto.Message](t *testing.T, ms []T) []any {
	out := []any{}
	for _, m := range ms {
		js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(dataplane.Expanded(m))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(js, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, w, g)
		}
	}
	return ""
}

// checkWireForm checks that resources holding parts in wire form encode to exactly the
// bytes of their expanded protos (dataplane/wireform.go): what Envoy receives, and the
// versions xds hashes, are those of the whole messages.
func checkWireForm[T proto.Message](t *testing.T, ms []T) {
	t.Helper()
	det := proto.MarshalOptions{Deterministic: true}
	for _, m := range ms {
		held, err := det.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := det.Marshal(dataplane.Expanded(m))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(held, whole) {
			t.Errorf("%T %v: the wire form encodes to other bytes than the expanded message", m, m)
		}
	}
}
