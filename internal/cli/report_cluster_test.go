package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/controllers"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// TestReportKubeconfigMatchesController: `gatebridge report --kubeconfig` gives every
// Ingress of a real API server the verdict and class the controller's writer gives it —
// Ingresses of the gatebridge IngressClass (drop-in) converted as the controller does,
// refused and skipped ones included.
func TestReportKubeconfigMatchesController(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Name: "cmd/gatebridge report"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := env.EnsureNamespace(ctx, "gatebridge-system"); err != nil {
		t.Fatal(err)
	}
	ns := env.Namespace(t, "report")
	pt := networkingv1.PathTypePrefix
	ingress := func(name, class string, ann map[string]string) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: ann}, Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			Rules: []networkingv1.IngressRule{{Host: name + ".report.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}},
			}}}},
		}}
	}
	basicNoSecret := map[string]string{"nginx.ingress.kubernetes.io/auth-type": "basic"}
	objs := []client.Object{
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}},
		&networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "gatebridge"}, Spec: networkingv1.IngressClassSpec{Controller: controllers.IngressControllerName}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}},
		ingress("plain", "nginx", nil),
		ingress("migrating", "nginx", map[string]string{controllers.MigrateAnnotation: "true", "nginx.ingress.kubernetes.io/rewrite-target": "/"}),
		ingress("refused", "nginx", basicNoSecret),
		ingress("dropin", "gatebridge", map[string]string{"nginx.ingress.kubernetes.io/ssl-redirect": "false"}),
		ingress("dropin-refused", "gatebridge", basicNoSecret),
		ingress("other", "traefik", nil),
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatalf("creating %s: %v", o.GetName(), err)
		}
	}

	// The controller's verdicts: the first pass that saw every Ingress.
	var mu sync.Mutex
	var plan *controllers.Plan
	mgr, err := controllers.NewManager(env.Config, controllers.ManagerOptions{SkipControllerNameValidation: true,
		Writer: controllers.Options{Observe: func(r controllers.PassResult) {
			mu.Lock()
			defer mu.Unlock()
			if r.Plan != nil && len(r.Plan.Ingresses) == 6 {
				plan = r.Plan
			}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		p := plan
		mu.Unlock()
		if p != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the controller made no pass over the 6 Ingresses within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	controller := map[string]string{}
	for _, ip := range plan.Ingresses {
		controller[ip.Ingress.Name] = fmt.Sprintf("%s (class %s)", ip.Report.Verdict, ip.Report.Class)
	}

	var stdout, stderr bytes.Buffer
	if code := runConvert([]string{"--kubeconfig", env.KubeconfigFile(t), "-n", ns, "-o", "json"}, nil, &stdout, &stderr, true); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr.String())
	}
	var rep converters.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, stdout.String())
	}
	reported := map[string]string{}
	for _, i := range rep.Ingresses {
		reported[i.Name] = fmt.Sprintf("%s (class %s)", i.Verdict, i.Class)
	}
	if got, want := describeVerdicts(reported), describeVerdicts(controller); got != want {
		t.Errorf("report --kubeconfig:\n%s\ncontroller:\n%s", got, want)
	}
	// The drop-in Ingresses are converted, not skipped; the refused ones are refused.
	for name, want := range map[string]string{"dropin-refused": "refused (class gatebridge)", "other": "skipped"} {
		if !strings.HasPrefix(controller[name], want) {
			t.Errorf("controller's verdict of %s: %s, want %s", name, controller[name], want)
		}
	}
	if strings.HasPrefix(controller["dropin"], "skipped") {
		t.Errorf("controller's verdict of dropin: %s, want a conversion", controller["dropin"])
	}
}

func describeVerdicts(m map[string]string) string {
	var lines []string
	for k, v := range m {
		lines = append(lines, k+": "+v)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
