package apiserver

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// TestReadClusterConvertsLiveIngresses is `gatebridge report --kubeconfig`: Ingresses,
// IngressClasses, Services and the controller ConfigMap are read from a real API server
// and converted; a named port is resolved from the live Service.
func TestReadClusterConvertsLiveIngresses(t *testing.T) {
	c := requireAPIServer(t)
	ctx := context.Background()
	ns := "live-read"
	if err := ensureNamespace(ctx, c, ns); err != nil {
		t.Fatal(err)
	}
	pathType := networkingv1.PathTypePrefix
	class := "nginx"
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}}
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: class, Annotations: map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}},
		Spec: networkingv1.IngressClassSpec{Controller: converters.IngressNginxController}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ingress-nginx-controller", Namespace: ns}, Data: map[string]string{"proxy-body-size": "10m"}}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Annotations: map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/"}},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "live.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/app", PathType: &pathType, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: "web", Port: networkingv1.ServiceBackendPort{Name: "http"}}}}}}}}}},
	}
	if err := c.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, ic); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, ing); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Delete(ctx, ing)
		_ = c.Delete(ctx, svc)
		_ = c.Delete(ctx, ic)
		_ = c.Delete(ctx, cm)
	})

	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, testenv.Get(t).KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := sources.ReadCluster(ctx, kc, ns, ns+"/ingress-nginx-controller")
	if err != nil {
		t.Fatalf("ReadCluster: %v", err)
	}
	if len(loaded.Input.Ingresses) != 1 || len(loaded.Input.Services) != 1 || loaded.Input.ControllerConfigMap == nil {
		t.Fatalf("read %d Ingresses, %d Services, ConfigMap %v", len(loaded.Input.Ingresses), len(loaded.Input.Services), loaded.Input.ControllerConfigMap != nil)
	}
	// Unclassed Ingress + default IngressClass nginx in the cluster: converted.
	res := converters.Convert(loaded.Input, converters.Options{})
	if len(res.Report.Ingresses) != 1 || res.Report.Ingresses[0].Verdict != converters.VerdictExact {
		t.Fatalf("report %+v", res.Report.Ingresses)
	}
	if res.Report.Settings.ConfigMap != ns+"/ingress-nginx-controller" {
		t.Errorf("ConfigMap not used: %q", res.Report.Settings.ConfigMap)
	}
	var routes int
	for _, o := range res.Objects {
		if o.GetObjectKind().GroupVersionKind().Kind == "HTTPRoute" {
			routes++
		}
	}
	if routes != 1 {
		t.Errorf("%d HTTPRoutes, want 1 (named port resolved from the live Service)", routes)
	}
}
