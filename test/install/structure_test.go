package install

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// expectation is what an install must hold, from its values.
type expectation struct {
	base                              string // the name prefix ("gatebridge", "edge-gatebridge")
	controllerReplicas, envoyReplicas int64
	controllerImage, envoyImage       string
	serviceType                       corev1.ServiceType
	clusterDomain                     string
	serviceMonitor, ingressClass      bool
}

func TestInstallStructure(t *testing.T) {
	defaults := expectation{base: "gatebridge", controllerReplicas: 2, envoyReplicas: 2,
		controllerImage: "ghcr.io/gatebridge-dev/gatebridge:v0.1.0", envoyImage: "envoyproxy/envoy:v1.40.0",
		serviceType: corev1.ServiceTypeLoadBalancer, clusterDomain: "cluster.local", ingressClass: true}
	toggled := expectation{base: "edge-gatebridge", controllerReplicas: 3, envoyReplicas: 4,
		controllerImage: "registry.example.com/platform/gatebridge:v0.1.0-rc.1", envoyImage: "mirror.example.com/envoyproxy/envoy:v1.40.0",
		serviceType: corev1.ServiceTypeLoadBalancer, clusterDomain: "cluster.example", serviceMonitor: true}
	for _, c := range []struct {
		in   func(*testing.T) install
		want expectation
	}{
		{kustomizeInstall, defaults},
		{chartDefaults, defaults},
		{chartEveryToggle, toggled},
	} {
		in := c.in(t)
		t.Run(in.name, func(t *testing.T) {
			checkController(t, in, c.want)
			checkEnvoy(t, in, c.want)
			checkRBAC(t, in, c.want)
			if got := len(in.ofKind("ServiceMonitor")) == 1; got != c.want.serviceMonitor {
				t.Errorf("ServiceMonitor rendered: %v, want %v", got, c.want.serviceMonitor)
			}
			if got := len(in.ofKind("IngressClass")) == 1; got != c.want.ingressClass {
				t.Errorf("IngressClass gatebridge rendered: %v, want %v", got, c.want.ingressClass)
			}
		})
	}
}

// typed converts o (found by kind and name) into out.
func typed(t *testing.T, in install, kind, name string, out any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(in.find(t, kind, name).Object, out); err != nil {
		t.Fatalf("%s %s: %v", kind, name, err)
	}
}

func container(t *testing.T, d *appsv1.Deployment, name string) *corev1.Container {
	t.Helper()
	for i := range d.Spec.Template.Spec.Containers {
		if c := &d.Spec.Template.Spec.Containers[i]; c.Name == name {
			return c
		}
	}
	t.Fatalf("Deployment %s has no container %s", d.Name, name)
	return nil
}

func containerPort(c *corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// flagValue is the value of --name=value or "--name value" in args ("" when absent).
func flagValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// checkLockedDown: non-root, read-only root file system, no privilege escalation, no
// capabilities, the runtime's seccomp profile, resources.
func checkLockedDown(t *testing.T, d *appsv1.Deployment, c *corev1.Container) {
	t.Helper()
	pod := d.Spec.Template.Spec.SecurityContext
	if pod == nil || pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot || pod.RunAsUser == nil || *pod.RunAsUser == 0 {
		t.Errorf("%s: the Pod may run as root: %+v", d.Name, pod)
	}
	if pod == nil || pod.SeccompProfile == nil || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccomp profile is not RuntimeDefault", d.Name)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: the root file system is writable", d.Name)
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: privilege escalation is allowed", d.Name)
	}
	if sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		t.Errorf("%s: capabilities are not all dropped", d.Name)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: resources lack a CPU or memory request or a memory limit: %+v", d.Name, c.Resources)
	}
}

func checkController(t *testing.T, in install, want expectation) {
	var d appsv1.Deployment
	typed(t, in, "Deployment", want.base+"-controller", &d)
	c := container(t, &d, "controller")
	if d.Spec.Replicas == nil || int64(*d.Spec.Replicas) != want.controllerReplicas {
		t.Errorf("controller replicas = %v, want %d", d.Spec.Replicas, want.controllerReplicas)
	}
	if c.Image != want.controllerImage {
		t.Errorf("controller image = %q, want %q", c.Image, want.controllerImage)
	}
	if len(c.Args) == 0 || c.Args[0] != "controller" || !slices.Contains(c.Args, "--leader-elect") {
		t.Errorf("controller args = %v; want `controller ... --leader-elect`", c.Args)
	}
	if ns := flagValue(c.Args, "--gateway-namespace"); ns != in.namespace {
		t.Errorf("--gateway-namespace = %q, want the install's namespace %q (where the Lease RBAC is)", ns, in.namespace)
	}
	health := containerPort(c, "health")
	if p := flagValue(c.Args, "--health-port"); p != strconv.Itoa(int(health)) || health == 0 {
		t.Errorf("--health-port %s, container port health %d", p, health)
	}
	for _, name := range []string{"metrics", "xds", "authz"} {
		if p, m := flagValue(c.Args, "--"+name+"-port"), containerPort(c, name); p != strconv.Itoa(int(m)) || m == 0 {
			t.Errorf("--%s-port %s, container port %s %d", name, p, name, m)
		}
	}
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if pr.probe == nil || pr.probe.HTTPGet == nil || pr.probe.HTTPGet.Path != pr.path || pr.probe.HTTPGet.Port.String() != "health" {
			t.Errorf("controller %s probe = %+v; want GET %s on the health port", pr.name, pr.probe, pr.path)
		}
	}
	checkLockedDown(t, &d, c)
	in.find(t, "ServiceAccount", d.Spec.Template.Spec.ServiceAccountName)

	var svc corev1.Service
	typed(t, in, "Service", want.base+"-controller", &svc)
	checkSelects(t, in, svc.Spec.Selector, &d)
	for _, name := range []string{"xds", "metrics"} {
		if !servicePortTargets(svc, name, c) {
			t.Errorf("controller Service: no port %s targeting the container's port %s", name, name)
		}
	}
	var pdb policyv1.PodDisruptionBudget
	typed(t, in, "PodDisruptionBudget", want.base+"-controller", &pdb)
	checkSelects(t, in, pdb.Spec.Selector.MatchLabels, &d)
}

func servicePortTargets(svc corev1.Service, name string, c *corev1.Container) bool {
	for _, p := range svc.Spec.Ports {
		if p.Name == name && p.TargetPort.String() == name && containerPort(c, name) != 0 {
			return true
		}
	}
	return false
}

// checkSelects: selector selects d's Pods, and no other Deployment's of the install.
func checkSelects(t *testing.T, in install, selector map[string]string, d *appsv1.Deployment) {
	t.Helper()
	sel := labels.SelectorFromSet(selector)
	for _, o := range in.ofKind("Deployment") {
		podLabels, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "labels")
		if got, want := sel.Matches(labels.Set(podLabels)), o.GetName() == d.Name; got != want {
			t.Errorf("selector %v selects the Pods of %s: %v, want %v", selector, o.GetName(), got, want)
		}
	}
}

// bootstrapOf is the Envoy bootstrap of the ConfigMap the Envoy Deployment mounts.
func bootstrapOf(t *testing.T, in install, d *appsv1.Deployment) map[string]any {
	t.Helper()
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.ConfigMap == nil {
			continue
		}
		var cm corev1.ConfigMap
		typed(t, in, "ConfigMap", v.ConfigMap.Name, &cm)
		var b map[string]any
		if err := yaml.Unmarshal([]byte(cm.Data["envoy.yaml"]), &b); err != nil || b == nil {
			t.Fatalf("ConfigMap %s: envoy.yaml is not YAML: %v", cm.Name, err)
		}
		return b
	}
	t.Fatalf("%s mounts no ConfigMap", d.Name)
	return nil
}

// at reads a path of maps and list indexes from a decoded YAML document.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

var sleepRe = regexp.MustCompile(`\bsleep (\d+)\b`)
var adminRe = regexp.MustCompile(`/dev/tcp/127\.0\.0\.1/(\d+)`)

func checkEnvoy(t *testing.T, in install, want expectation) {
	var d appsv1.Deployment
	typed(t, in, "Deployment", want.base+"-envoy", &d)
	c := container(t, &d, "envoy")
	spec := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || int64(*d.Spec.Replicas) != want.envoyReplicas {
		t.Errorf("envoy replicas = %v, want %d", d.Spec.Replicas, want.envoyReplicas)
	}
	if c.Image != want.envoyImage {
		t.Errorf("envoy image = %q, want %q", c.Image, want.envoyImage)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("the Envoy Pods get a ServiceAccount token; Envoy never talks to the API server")
	}
	checkLockedDown(t, &d, c)
	if rp := c.ReadinessProbe; rp == nil || rp.HTTPGet == nil || rp.HTTPGet.Path != "/ready" || rp.HTTPGet.Port.String() != "ready" {
		t.Errorf("envoy readiness probe = %+v; want GET /ready on the ready port", rp)
	}
	if c.LivenessProbe != nil {
		t.Error("envoy has a liveness probe: an Envoy waiting for the controller would be restarted for nothing")
	}

	b := bootstrapOf(t, in, &d)
	if a := at(b, "admin", "address", "socket_address", "address"); a != "127.0.0.1" {
		t.Errorf("Envoy's admin address is %v, want 127.0.0.1 only", a)
	}
	admin := num(at(b, "admin", "address", "socket_address", "port_value"))
	ready := at(b, "static_resources", "listeners", 0)
	if at(ready, "name") != "gatebridge-ready" || num(at(ready, "address", "socket_address", "port_value")) != int(containerPort(c, "ready")) {
		t.Errorf("the bootstrap's ready listener %v is not on the container's ready port %d", ready, containerPort(c, "ready"))
	}
	portMap := at(b, "node", "metadata", "gatebridge.dev/port-map")
	if num(at(portMap, "80")) != int(containerPort(c, "http")) || num(at(portMap, "443")) != int(containerPort(c, "https")) {
		t.Errorf("the bootstrap's port map %v is not the container's ports http %d and https %d", portMap, containerPort(c, "http"), containerPort(c, "https"))
	}
	xds := at(b, "static_resources", "clusters", 0, "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address")
	var ctrlSvc corev1.Service
	typed(t, in, "Service", want.base+"-controller", &ctrlSvc)
	wantHost := fmt.Sprintf("%s.%s.svc.%s", ctrlSvc.Name, ctrlSvc.Namespace, want.clusterDomain)
	var xdsPort int32
	for _, p := range ctrlSvc.Spec.Ports {
		if p.Name == "xds" {
			xdsPort = p.Port
		}
	}
	if at(xds, "address") != wantHost || num(at(xds, "port_value")) != int(xdsPort) {
		t.Errorf("the bootstrap's xDS server is %v, want %s:%d (the controller Service)", xds, wantHost, xdsPort)
	}
	if !slices.Contains(c.Args, "/etc/envoy/envoy.yaml") || len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/etc/envoy" {
		t.Errorf("envoy does not read the mounted bootstrap: args %v, mounts %v", c.Args, c.VolumeMounts)
	}

	// The pre-stop hook fails the health check, drains the listeners and waits longer than
	// the drain; the grace period is longer than the hook.
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Exec == nil {
		t.Fatal("envoy has no pre-stop exec hook")
	}
	hook := strings.Join(c.Lifecycle.PreStop.Exec.Command, " ")
	for _, want := range []string{"/healthcheck/fail", "/drain_listeners?graceful"} {
		if !strings.Contains(hook, want) {
			t.Errorf("the pre-stop hook does not POST %s: %s", want, hook)
		}
	}
	if m := adminRe.FindStringSubmatch(hook); m == nil || m[1] != strconv.Itoa(admin) {
		t.Errorf("the pre-stop hook does not reach the admin port %d: %s", admin, hook)
	}
	drain, _ := strconv.Atoi(flagValue(c.Args, "--drain-time-s"))
	m := sleepRe.FindStringSubmatch(hook)
	if m == nil || drain == 0 {
		t.Fatalf("no drain time (%v) or no sleep in the pre-stop hook: %s", c.Args, hook)
	}
	sleep, _ := strconv.Atoi(m[1])
	if sleep <= drain || spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds <= int64(sleep) {
		t.Errorf("drain %d s, pre-stop sleep %d s, grace period %v s: want drain < sleep < grace period", drain, sleep, spec.TerminationGracePeriodSeconds)
	}

	var svc corev1.Service
	typed(t, in, "Service", want.base+"-envoy", &svc)
	if svc.Spec.Type != want.serviceType {
		t.Errorf("envoy Service type %s, want %s", svc.Spec.Type, want.serviceType)
	}
	checkSelects(t, in, svc.Spec.Selector, &d)
	ports := map[int32]string{}
	for _, p := range svc.Spec.Ports {
		ports[p.Port] = p.TargetPort.String()
	}
	if ports[80] != "http" || ports[443] != "https" || len(ports) != 2 {
		t.Errorf("envoy Service ports %v; want 80→http, 443→https", ports)
	}
	var pdb policyv1.PodDisruptionBudget
	typed(t, in, "PodDisruptionBudget", want.base+"-envoy", &pdb)
	checkSelects(t, in, pdb.Spec.Selector.MatchLabels, &d)
	if pdb.Spec.MinAvailable == nil && pdb.Spec.MaxUnavailable == nil {
		t.Error("the Envoy PodDisruptionBudget has neither minAvailable nor maxUnavailable")
	}
}

// checkRBAC: no wildcards, no privilege-granting verbs, Secrets read-only and only in a
// ClusterRole that says why, Ingresses never updated or deleted, Leases only in the
// install's namespace, every role bound to the controller's ServiceAccount.
func checkRBAC(t *testing.T, in install, want expectation) {
	sa := want.base + "-controller"
	type role struct {
		kind, namespace, name, description string
		rules                              []rbacv1.PolicyRule
	}
	var roles []role
	for _, kind := range []string{"ClusterRole", "Role"} {
		for _, o := range in.ofKind(kind) {
			var r rbacv1.ClusterRole // Role and ClusterRole share rules and metadata
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &r); err != nil {
				t.Fatal(err)
			}
			roles = append(roles, role{kind, o.GetNamespace(), o.GetName(), o.GetAnnotations()["kubernetes.io/description"], r.Rules})
		}
	}
	if len(roles) == 0 {
		t.Fatal("no RBAC rendered")
	}
	readOnly := []string{"get", "list", "watch"}
	for _, r := range roles {
		id := r.kind + " " + r.name
		for _, rule := range r.rules {
			all := slices.Concat(rule.APIGroups, rule.Resources, rule.Verbs, rule.ResourceNames)
			if slices.Contains(all, "*") {
				t.Errorf("%s: a wildcard in %+v", id, rule)
			}
			for _, v := range []string{"escalate", "bind", "impersonate", "deletecollection"} {
				if slices.Contains(rule.Verbs, v) {
					t.Errorf("%s: verb %s", id, v)
				}
			}
			for _, res := range rule.Resources {
				switch res {
				case "secrets":
					if !subset(rule.Verbs, readOnly) {
						t.Errorf("%s: Secrets verbs %v; the controller only reads Secrets", id, rule.Verbs)
					}
					if r.kind == "ClusterRole" && strings.TrimSpace(r.description) == "" {
						t.Errorf("%s grants Secrets cluster-wide without a kubernetes.io/description saying why", id)
					}
					if len(r.rules) != 1 {
						t.Errorf("%s: Secrets share a role with other rules; keep them in a role of their own that says why", id)
					}
				case "ingresses":
					if !subset(rule.Verbs, append(readOnly, "patch")) {
						t.Errorf("%s: Ingress verbs %v; the controller only reads Ingresses and patches one annotation", id, rule.Verbs)
					}
				case "leases":
					if r.kind != "Role" || r.namespace != in.namespace {
						t.Errorf("%s %s: Leases outside a Role of the install's namespace %s", id, r.namespace, in.namespace)
					}
				case "configmaps":
					// Read-only everywhere: BackendTLSPolicies name CA ConfigMaps and
					// custom-headers annotations name header ConfigMaps in namespaces unknown
					// at install time. Never written.
					if !subset(rule.Verbs, readOnly) {
						t.Errorf("%s: ConfigMaps verbs %v; the controller only reads ConfigMaps", id, rule.Verbs)
					}
				}
			}
		}
		if !boundTo(in, r.kind, r.namespace, r.name, sa) {
			t.Errorf("%s is not bound to the ServiceAccount %s", id, sa)
		}
	}
}

func subset(a, of []string) bool {
	for _, v := range a {
		if !slices.Contains(of, v) {
			return false
		}
	}
	return true
}

func boundTo(in install, kind, namespace, name, sa string) bool {
	bindingKind := map[string]string{"ClusterRole": "ClusterRoleBinding", "Role": "RoleBinding"}[kind]
	for _, o := range in.ofKind(bindingKind) {
		var b rbacv1.RoleBinding
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &b); err != nil {
			continue
		}
		if b.RoleRef.Kind != kind || b.RoleRef.Name != name || o.GetNamespace() != namespace {
			continue
		}
		for _, s := range b.Subjects {
			if s.Kind == "ServiceAccount" && s.Name == sa && s.Namespace == in.namespace {
				return true
			}
		}
	}
	return false
}
