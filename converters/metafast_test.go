package converters

import (
	"strings"
	"testing"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// metaStrings are names, keys and values at the edges of apimachinery's rules.
var metaStrings = []string{
	"", "a", "A", "0", "-", ".", "_", "/", "a-b", "a_b", "a.b", "a..b", "a-", "-a", "a.", ".a",
	"A-b", "a/b", "a/b/c", "/a", "a/", "Example.com/x", "example.com/X", "example.com/x_y",
	"ex_ample.com/x", "x.-y/z", "nginx.ingress.kubernetes.io/rewrite-target", "é", "a\x00",
	strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 253), strings.Repeat("a", 254),
	strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 127) + "a", strings.Repeat("a", 250) + "/b",
	strings.Repeat("a", 253) + "/b", "a/" + strings.Repeat("b", 63), "a/" + strings.Repeat("b", 64),
}

// checkPlainMeta fails when plainlyValidMeta accepts metadata apimachinery rejects.
func checkPlainMeta(t *testing.T, meta *metav1.ObjectMeta, namespaced bool) {
	t.Helper()
	for _, rule := range []nameRule{dnsSubdomainName, dnsLabelName} {
		if !plainlyValidMeta(meta, namespaced, rule) {
			continue
		}
		if errs := apimachineryvalidation.ValidateObjectMeta(meta, namespaced, rule.validate, field.NewPath("metadata")); len(errs) > 0 {
			t.Fatalf("plainlyValidMeta accepts %#v (namespaced %v), apimachinery rejects it: %v", meta, namespaced, errs.ToAggregate())
		}
	}
}

func TestPlainlyValidMetaAgreesWithApimachinery(t *testing.T) {
	for _, s := range metaStrings {
		for _, other := range []string{"a", "x-1", "ns"} {
			checkPlainMeta(t, &metav1.ObjectMeta{Name: s, Namespace: other}, true)
			checkPlainMeta(t, &metav1.ObjectMeta{Name: other, Namespace: s}, true)
			checkPlainMeta(t, &metav1.ObjectMeta{Name: s}, false)
			checkPlainMeta(t, &metav1.ObjectMeta{Name: other, Namespace: other, Labels: map[string]string{s: other}}, true)
			checkPlainMeta(t, &metav1.ObjectMeta{Name: other, Namespace: other, Labels: map[string]string{other: s}}, true)
			checkPlainMeta(t, &metav1.ObjectMeta{Name: other, Namespace: other, Annotations: map[string]string{s: other}}, true)
			checkPlainMeta(t, &metav1.ObjectMeta{Name: other, Namespace: other, Annotations: map[string]string{strings.ToUpper(s): s}}, true)
		}
	}
	big := strings.Repeat("v", apimachineryvalidation.TotalAnnotationSizeLimitB)
	checkPlainMeta(t, &metav1.ObjectMeta{Name: "a", Namespace: "a", Annotations: map[string]string{"k": big}}, true)
	checkPlainMeta(t, &metav1.ObjectMeta{Name: "a", Namespace: "a", GenerateName: "a-"}, true)
	checkPlainMeta(t, &metav1.ObjectMeta{Name: "a", Namespace: "a", Generation: -1}, true)
	checkPlainMeta(t, &metav1.ObjectMeta{Name: "a", Namespace: "a", Finalizers: []string{"x/y", "orphan"}}, true)

	// The common case takes the fast path.
	common := metav1.ObjectMeta{Name: "app-12.web", Namespace: "ns-3", Labels: map[string]string{"app.kubernetes.io/name": "App_1"},
		Annotations: map[string]string{"nginx.ingress.kubernetes.io/Rewrite-Target": "/$1", "kubernetes.io/ingress.class": "nginx"}}
	if !plainlyValidMeta(&common, true, dnsSubdomainName) {
		t.Errorf("plainlyValidMeta refuses common metadata %#v", common)
	}
}

func FuzzPlainlyValidMeta(f *testing.F) {
	for _, s := range metaStrings {
		f.Add(s, "ns", "k", "v", "a/b")
	}
	f.Fuzz(func(t *testing.T, name, namespace, labelKey, labelValue, annotation string) {
		meta := &metav1.ObjectMeta{Name: name, Namespace: namespace,
			Labels: map[string]string{labelKey: labelValue}, Annotations: map[string]string{annotation: labelValue}}
		checkPlainMeta(t, meta, true)
		checkPlainMeta(t, meta, false)
	})
}
