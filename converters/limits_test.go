package converters_test

import (
	"bytes"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// TestOversizeValuesNeverEmitted: a 50 MB rewrite-target (the probe) is more than
// the API server accepts for all annotations together (256 KiB): the Ingress is refused; a
// 2 KB one fits the API server but not a Gateway API path (1024): a finding, whose value is
// shortened, and the path is served without it. Neither reaches an object.
func TestOversizeValuesNeverEmitted(t *testing.T) {
	for _, c := range []struct {
		size    int
		verdict converters.Verdict
		field   string
	}{
		{50 << 20, converters.VerdictRefused, "metadata.annotations"},
		{2000, converters.VerdictAttention, ""},
	} {
		checkOversizeRewrite(t, c.size, c.verdict, c.field)
	}
}

func checkOversizeRewrite(t *testing.T, size int, verdict converters.Verdict, field string) {
	t.Helper()
	huge := "/" + strings.Repeat("a", size)
	prefix := networkingv1.PathTypePrefix
	class := "nginx"
	in := converters.Input{Ingresses: []networkingv1.Ingress{{
		ObjectMeta: metav1.ObjectMeta{Name: "huge", Namespace: "default",
			Annotations: map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": huge}},
		Spec: networkingv1.IngressSpec{IngressClassName: &class, Rules: []networkingv1.IngressRule{{Host: "huge.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}},
	}}}
	res := converters.Convert(in, converters.Options{})
	var out bytes.Buffer
	if err := converters.EncodeObjects(&out, res.Objects, "yaml"); err != nil {
		t.Fatal(err)
	}
	if out.Len() > 64<<10 || strings.Contains(out.String(), "aaaaaaaaaaaaaaaa") {
		t.Fatalf("the rewrite target reached the objects (%d bytes)", out.Len())
	}
	rep := res.Report.Ingresses[0]
	found := false
	for _, f := range rep.Findings {
		if len(f.Value) > 512 || len(f.Message) > 1024 {
			t.Errorf("%d bytes: finding %.200q with a %d-byte value: want it short", size, f.Message, len(f.Value))
		}
		switch {
		case field != "" && f.Field == field:
			found = true
		case field == "" && f.Annotation == "rewrite-target" && strings.Contains(f.Message, "1024"):
			found = true
		}
	}
	if !found || rep.Verdict != verdict {
		t.Errorf("%d bytes: verdict %s, findings %+v: want %s with a finding on %s", size, rep.Verdict, rep.Findings, verdict, field+"rewrite-target")
	}
}
