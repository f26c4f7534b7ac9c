package dataplane_test

import (
	"slices"
	"strings"
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// httpsChains are the cipher suites of every HTTPS filter chain by name ("https/<host>").
func httpsChains(t *testing.T, out *dataplane.Output) map[string][]string {
	t.Helper()
	chains := map[string][]string{}
	for _, l := range out.Resources.Listeners {
		for _, fc := range l.FilterChains {
			if !strings.HasPrefix(fc.Name, "https/") || fc.TransportSocket == nil {
				continue
			}
			ctx := &tlsv3.DownstreamTlsContext{}
			if err := fc.TransportSocket.GetTypedConfig().UnmarshalTo(ctx); err != nil {
				t.Fatal(err)
			}
			chains[fc.Name] = ctx.GetCommonTlsContext().GetTlsParams().GetCipherSuites()
		}
	}
	return chains
}

// TestFrontendTLSPerHost: a frontendTLS policy changes its listener's SNI chain only, and
// a block the data plane cannot apply takes that listener out (fails closed) while the
// other hostnames of the port are served as before.
func TestFrontendTLSPerHost(t *testing.T) {
	loaded, err := sources.ReadPaths([]string{"testdata/ingress-ssl-ciphers.in.yaml"}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := pipeline.Build(loaded, converters.Options{}).Model
	var policy *v1alpha1.TrafficPolicy
	for _, p := range m.TrafficPolicies {
		if p.Spec.FrontendTLS != nil {
			policy = p
		}
	}
	if policy == nil {
		t.Fatal("the conversion gave no frontendTLS policy")
	}
	chains := httpsChains(t, dataplane.Translate(m, dataplane.Options{}))
	if got := chains["https/shop.example.com"]; !slices.Equal(got, []string{"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256"}) {
		t.Errorf("shop ciphers %v", got)
	}
	if got, ok := chains["https/blog.example.com"]; !ok || got != nil {
		t.Errorf("blog chain %v (present %v), want Envoy's defaults", got, ok)
	}

	for _, c := range []struct {
		name   string
		block  v1alpha1.FrontendTLSPolicy
		reason string
	}{
		{"unknown cipher", v1alpha1.FrontendTLSPolicy{CipherSuites: []string{"RC4-MD5"}}, `"RC4-MD5" is not a cipher suite Envoy offers`},
		{"client certificates", v1alpha1.FrontendTLSPolicy{ClientCertificate: &v1alpha1.ClientCertificatePolicy{
			CACertificateRef: gwv1.SecretObjectReference{Name: "ca"}, Mode: v1alpha1.ClientCertificateRequired, VerifyDepth: 1}}, "Secret gatebridge-system/ca not found"},
	} {
		p := policy.DeepCopy()
		p.Spec.FrontendTLS = &c.block
		mm := *m
		mm.TrafficPolicies = []*v1alpha1.TrafficPolicy{p}
		for _, q := range m.TrafficPolicies {
			if q != policy {
				mm.TrafficPolicies = append(mm.TrafficPolicies, q)
			}
		}
		out := dataplane.Translate(&mm, dataplane.Options{})
		chains := httpsChains(t, out)
		if _, ok := chains["https/shop.example.com"]; ok {
			t.Errorf("%s: shop is served", c.name)
		}
		if _, ok := chains["https/blog.example.com"]; !ok {
			t.Errorf("%s: blog is not served", c.name)
		}
		found := false
		for _, pr := range out.Problems {
			found = found || (pr.Kind == "TrafficPolicy" && strings.Contains(pr.Message, c.reason) && strings.Contains(pr.Message, "fails closed"))
		}
		if !found {
			t.Errorf("%s: no problem saying %q: %v", c.name, c.reason, out.Problems)
		}
	}
}

// TestGatewayCipherSuites: ConfigMap ssl-ciphers (the defaults policy's frontendTLS, on the
// whole Gateway) is every hostname's chain's, except a host with its own ssl-ciphers.
func TestGatewayCipherSuites(t *testing.T) {
	loaded, err := sources.ReadPaths([]string{"testdata/ingress-ssl-ciphers-configmap.in.yaml"}, sources.Options{})
	if err != nil {
		t.Fatal(err)
	}
	chains := httpsChains(t, dataplane.Translate(pipeline.Build(loaded, converters.Options{}).Model, dataplane.Options{}))
	if got := chains["https/shop.example.com"]; !slices.Equal(got, []string{"ECDHE-RSA-AES128-GCM-SHA256"}) {
		t.Errorf("shop (own ssl-ciphers) %v", got)
	}
	if got := chains["https/blog.example.com"]; !slices.Equal(got, []string{"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"}) {
		t.Errorf("blog (ConfigMap ssl-ciphers) %v", got)
	}
}
