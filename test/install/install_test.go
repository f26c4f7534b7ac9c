package install

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// fieldOwner is the field manager of the test's server-side applies (kubectl's would be
// "kubectl", Helm's "helm").
const fieldOwner = "gatebridge-install-test"

// The installs every test checks: the kustomization, the chart with its defaults (named as
// the kustomization names things), and the chart with every value changed.
func kustomizeInstall(t *testing.T) install { return buildKustomization(t) }
func chartDefaults(t *testing.T) install {
	return renderChart(t, "gatebridge", "gatebridge-system", nil)
}
func chartEveryToggle(t *testing.T) install {
	return renderChart(t, "edge", "edge-system", loadValues(t, "every-toggle.yaml"))
}

func TestInstallKustomize(t *testing.T) {
	env := testenv.Get(t)
	applyInstall(t, env, kustomizeInstall(t))
}

func TestInstallChart(t *testing.T) {
	env := testenv.Get(t)
	t.Run("defaults", func(t *testing.T) { applyInstall(t, env, chartDefaults(t)) })
	t.Run("every-toggle", func(t *testing.T) { applyInstall(t, env, chartEveryToggle(t)) })
}

// applyInstall applies every object of in to the API server with server-side apply, in the
// order kubectl and Helm use (CRDs, then Namespaces, then the rest), and fails t for each
// object the API server refuses.
func applyInstall(t *testing.T, env *testenv.Env, in install) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// What must exist before: the namespaces of the ingress-nginx the install sits next to
	// (its ConfigMap's Role lives there) and, for Helm, the release namespace
	// (helm install --create-namespace). The kustomization creates its own.
	own := map[string]bool{}
	for _, o := range in.ofKind("Namespace") {
		own[o.GetName()] = true
	}
	pre := map[string]bool{}
	for _, o := range in.objects {
		if ns := o.GetNamespace(); ns != "" && !own[ns] && !pre[ns] {
			pre[ns] = true
			if err := env.EnsureNamespace(ctx, ns); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: namespace %s exists before the install (ingress-nginx's, or Helm's --create-namespace)", in.name, ns)
		}
	}
	if len(in.ofKind("ServiceMonitor")) > 0 {
		ensureServiceMonitorCRD(t, env)
	}

	rank := func(o *unstructured.Unstructured) int {
		switch o.GetKind() {
		case "CustomResourceDefinition":
			return 0
		case "Namespace":
			return 1
		}
		return 2
	}
	objs := append([]*unstructured.Unstructured(nil), in.objects...)
	sort.SliceStable(objs, func(i, j int) bool { return rank(objs[i]) < rank(objs[j]) })
	applied := 0
	for i, o := range objs {
		if err := applyObject(ctx, env.Client, o); err != nil {
			t.Errorf("%s: the API server refused %s: %v", in.name, objectID(o), err)
			continue
		}
		applied++
		if o.GetKind() == "CustomResourceDefinition" && (i+1 == len(objs) || rank(objs[i+1]) > 0) {
			waitEstablished(t, env, in.objects)
		}
	}
	t.Logf("%s: the API server accepted %d of %d objects", in.name, applied, len(objs))
}

func applyObject(ctx context.Context, c client.Client, o *unstructured.Unstructured) error {
	u := o.DeepCopy()
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership)
}

// waitEstablished waits until every CRD of objs is established.
func waitEstablished(t *testing.T, env *testenv.Env, objs []*unstructured.Unstructured) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		for {
			live := &unstructured.Unstructured{}
			live.SetGroupVersionKind(o.GroupVersionKind())
			err := env.Client.Get(context.Background(), client.ObjectKey{Name: o.GetName()}, live)
			if err == nil && crdEstablished(live) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("CRD %s is not established (%v)", o.GetName(), err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func crdEstablished(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// ensureServiceMonitorCRD installs a minimal ServiceMonitor CRD (prometheus-operator's is
// not a Go module this repository has; the test does not vouch for the ServiceMonitor's
// fields beyond its kind, group and version, which this CRD checks).
func ensureServiceMonitorCRD(t *testing.T, env *testenv.Env) {
	t.Helper()
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(serviceMonitorCRD), &crd.Object); err != nil {
		t.Fatal(err)
	}
	if err := applyObject(context.Background(), env.Client, crd); err != nil {
		t.Fatalf("installing a minimal ServiceMonitor CRD: %v", err)
	}
	waitEstablished(t, env, []*unstructured.Unstructured{crd})
	t.Log("installed a minimal ServiceMonitor CRD (monitoring.coreos.com/v1, spec not validated) for the chart's ServiceMonitor")
}

const serviceMonitorCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names:
    kind: ServiceMonitor
    listKind: ServiceMonitorList
    plural: servicemonitors
    singular: servicemonitor
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-preserve-unknown-fields: true
`

// TestChartMatchesKustomize: with its defaults and the release named gatebridge in
// gatebridge-system, the chart renders the kustomization's objects, field for field, but
// for Helm's own labels, the bootstrap checksum that rolls the Envoy Deployment, and the
// Namespace (Helm's --create-namespace makes it).
func TestChartMatchesKustomize(t *testing.T) {
	k, c := kustomizeInstall(t), chartDefaults(t)
	index := func(in install) map[string]*unstructured.Unstructured {
		out := map[string]*unstructured.Unstructured{}
		for _, o := range in.objects {
			if o.GetKind() == "Namespace" {
				continue
			}
			out[objectID(o)] = normalize(o)
		}
		return out
	}
	ko, co := index(k), index(c)
	for id, want := range ko {
		got, ok := co[id]
		if !ok {
			t.Errorf("the chart does not render %s", id)
			continue
		}
		if !reflect.DeepEqual(got.Object, want.Object) {
			a, _ := yaml.Marshal(want.Object)
			b, _ := yaml.Marshal(got.Object)
			t.Errorf("%s differs:\n--- kustomize\n%s\n--- chart\n%s", id, a, b)
		}
	}
	for id := range co {
		if _, ok := ko[id]; !ok {
			t.Errorf("the chart renders %s, the kustomization does not", id)
		}
	}
}

// normalize drops what only Helm adds.
func normalize(o *unstructured.Unstructured) *unstructured.Unstructured {
	o = o.DeepCopy()
	helmOnly := []string{"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/version"}
	if l := o.GetLabels(); l != nil {
		for _, k := range helmOnly {
			delete(l, k)
		}
		o.SetLabels(l)
	}
	if ann, ok, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "annotations"); ok {
		delete(ann, "checksum/bootstrap")
		if len(ann) == 0 {
			unstructured.RemoveNestedField(o.Object, "spec", "template", "metadata", "annotations")
		} else {
			_ = unstructured.SetNestedStringMap(o.Object, ann, "spec", "template", "metadata", "annotations")
		}
	}
	return o
}

// TestChartRefusesBadValues: values that would install something broken fail the render
// with a message naming the value.
func TestChartRefusesBadValues(t *testing.T) {
	for _, c := range []struct {
		values map[string]any
		want   string
	}{
		{map[string]any{"ingressNginx": map[string]any{"configMap": "no-namespace"}}, "ingressNginx.configMap"},
		{map[string]any{"fallback": "ingress-nginx/ingress-nginx-controller"}, "bridge.fallback"},
		{map[string]any{"bridge": map[string]any{"fallback": "ingress-nginx"}}, "bridge.fallback"},
		{map[string]any{"bridge": map[string]any{"fallback": "ingress-nginx/Controller"}}, "bridge.fallback"},
		{map[string]any{"bridge": map[string]any{"fallbackTLS": "10.0.0.1:443"}}, "bridge.fallbackTLS needs bridge.fallback"},
		{map[string]any{"bridge": map[string]any{"fallback": "10.0.0.1:80", "fallbackTLS": "nginx:https"}}, "bridge.fallbackTLS"},
		{map[string]any{"envoy": map[string]any{"drainSeconds": 60}}, "terminationGracePeriodSeconds"},
	} {
		err := chartError(c.values)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("values %v: err = %v; want an error naming %s", c.values, err, c.want)
		}
	}
}

// TestChartNotes: NOTES.txt tells where the Envoy Service is and how to migrate an Ingress.
func TestChartNotes(t *testing.T) {
	notes := chartDefaults(t).notes
	for _, want := range []string{"get service gatebridge-envoy", "gatebridge.dev/migrate=true", "gatebridge.dev/source-ingress="} {
		if !strings.Contains(notes, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, notes)
		}
	}
}

// TestChartLint: `helm lint` (Helm's linter, for Kubernetes 1.37) finds nothing to warn
// about, with the default values and with every value changed.
func TestChartLint(t *testing.T) {
	kv, err := common.ParseKubeVersion(kubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range map[string]map[string]any{"defaults": nil, "every-toggle": loadValues(t, "every-toggle.yaml")} {
		l := lint.RunAll(chartDir(), values, "gatebridge-system", lint.WithKubeVersion(kv))
		for _, m := range l.Messages {
			if m.Severity >= support.WarningSev {
				t.Errorf("helm lint (%s): %s", name, m)
			} else {
				t.Logf("helm lint (%s): %s", name, m)
			}
		}
	}
}
