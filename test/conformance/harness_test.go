package conformance

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/gateway-api/conformance"

	"github.com/gatebridge-dev/gatebridge/test/conformance/harness"
)

// TestHarness proves the container-less cluster on its own, without gatebridge: the
// suite's base manifests (its namespaces, Deployments, Services) come up with every Pod
// Ready on the process kubelet, a request from the host reaches echo-basic at a Pod IP
// through the bridge (plain HTTP and HTTPS from a Secret volume), pods/log serves that
// request's log line through the API server, and deleting a Pod or a namespace tears
// the Pods down. Needs root; skipped without it, except under CI=true, where it fails.
func TestHarness(t *testing.T) {
	if err := harness.CheckRoot(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	root, err := harness.RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bins, err := harness.FindBinaries(root)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := harness.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	work := t.TempDir()
	start := time.Now()
	cluster, err := harness.StartCluster(ctx, harness.ClusterOptions{
		AssetsDir: bins.AssetsDir,
		WorkDir:   work,
		CRDDirs:   []string{filepath.Join(root, "manifests", "gateway-api"), filepath.Join(root, "manifests", "crds")},
		Logf:      t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	kubelet, err := harness.StartKubelet(ctx, cluster.Config, harness.KubeletOptions{
		EchoBasic: bins.EchoBasic,
		WorkDir:   work,
		Logf:      func(f string, a ...any) { t.Logf(f, a...) },
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			kubelet.Stop()
		}
	}()
	t.Logf("cluster + CRDs + kubelet up in %s", time.Since(start).Round(time.Millisecond))
	cs, err := cluster.Clientset()
	if err != nil {
		t.Fatal(err)
	}

	// The suite's base manifests, as the suite applies them; the certificate Secrets the
	// suite would create in its setup are made here.
	base, err := conformance.Manifests.ReadFile("base/manifests.yaml")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := harness.DecodeManifests(base)
	if err != nil {
		t.Fatal(err)
	}
	namespaces, wantPods := baseInventory(t, objs)
	applied := time.Now()
	if err := harness.CreateObjects(ctx, cluster.Config, objs); err != nil {
		t.Fatal(err)
	}
	if err := createVolumeSecrets(ctx, cs, objs); err != nil {
		t.Fatal(err)
	}
	pods, err := harness.WaitPodsReady(ctx, cs, namespaces, wantPods, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d Pods Ready %s after applying the base manifests", len(pods), time.Since(applied).Round(time.Millisecond))
	if len(pods) != wantPods {
		t.Fatalf("%d Pods, want %d (the replicas of the base Deployments)", len(pods), wantPods)
	}

	byPrefix := func(ns, prefix string) corev1.Pod {
		t.Helper()
		for _, p := range pods {
			if p.Namespace == ns && strings.HasPrefix(p.Name, prefix) {
				return p
			}
		}
		t.Fatalf("no Pod %s/%s-*", ns, prefix)
		return corev1.Pod{}
	}

	// Plain HTTP from the host to a Pod IP, through the bridge; echo-basic's JSON names
	// the Pod (fieldRef env).
	backend := byPrefix("gateway-conformance-infra", "infra-backend-v1-")
	since := metav1.NewTime(time.Now().Add(-time.Second))
	path := fmt.Sprintf("/harness-check-%d", time.Now().UnixNano())
	echo := getEcho(t, "http://"+backend.Status.PodIP+":3000"+path)
	if echo.Pod != backend.Name || echo.Namespace != backend.Namespace || echo.Path != path {
		t.Fatalf("echo from %s answered pod=%q namespace=%q path=%q", backend.Status.PodIP, echo.Pod, echo.Namespace, echo.Path)
	}

	// kube-controller-manager's EndpointSlice controller publishes the Pod IPs (what
	// gatebridge takes its upstreams from).
	waitEndpoints(t, cs, backend.Namespace, "infra-backend-v1", 2)

	// HTTPS with the certificate from the Pod's Secret volume (TLS_SERVER_CERT points into
	// the mount).
	tlsBackend := byPrefix("gateway-conformance-infra", "tls-backend-")
	if got := getEcho(t, "https://"+tlsBackend.Status.PodIP+":8443/tls"); got.Pod != tlsBackend.Name {
		t.Fatalf("TLS echo answered pod %q, want %s", got.Pod, tlsBackend.Name)
	}

	// pods/log through the API server, which fetches it from the kubelet's port.
	logs, err := cs.CoreV1().Pods(backend.Namespace).GetLogs(backend.Name, &corev1.PodLogOptions{
		Container: backend.Spec.Containers[0].Name, SinceTime: &since,
	}).DoRaw(ctx)
	if err != nil {
		t.Fatalf("pods/log of %s: %v", backend.Name, err)
	}
	if want := "Echoing back request made to " + path; !strings.Contains(string(logs), want) {
		t.Fatalf("pods/log of %s lacks %q:\n%s", backend.Name, want, logs)
	}

	// A deleted Pod is torn down (its kubelet confirms the deletion) and its ReplicaSet's
	// replacement runs at another address.
	victim := byPrefix("gateway-conformance-infra", "infra-backend-v2-")
	if err := cs.CoreV1().Pods(victim.Namespace).Delete(ctx, victim.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, func() error {
		_, err := cs.CoreV1().Pods(victim.Namespace).Get(ctx, victim.Name, metav1.GetOptions{})
		return err
	})
	if _, err := harness.WaitPodsReady(ctx, cs, namespaces, wantPods, time.Minute); err != nil {
		t.Fatal(err)
	}
	if c, err := (&http.Client{Timeout: time.Second}).Get("http://" + victim.Status.PodIP + ":3000/"); err == nil {
		c.Body.Close()
		t.Fatalf("deleted Pod %s still answers at %s", victim.Name, victim.Status.PodIP)
	}

	// Namespace deletion: the namespace controller deletes the Pods, the kubelet confirms.
	if err := cs.CoreV1().Namespaces().Delete(ctx, "gateway-conformance-app-backend", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, func() error {
		_, err := cs.CoreV1().Namespaces().Get(ctx, "gateway-conformance-app-backend", metav1.GetOptions{})
		return err
	})

	stopped = true
	kubelet.Stop()
	out, _ := exec.Command("ip", "netns", "list").Output()
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(line, "gbc-") {
			t.Errorf("network namespace %s left after the kubelet stopped", line)
		}
	}
	if err := exec.Command("ip", "link", "show", "gbconf0").Run(); err == nil {
		t.Error("bridge gbconf0 left after the kubelet stopped")
	}
	if err := cluster.Check(); err != nil {
		t.Error(err)
	}
}

// waitEndpoints waits until service's EndpointSlices list want ready Pod addresses.
func waitEndpoints(t *testing.T, cs kubernetes.Interface, namespace, service string, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		list, err := cs.DiscoveryV1().EndpointSlices(namespace).List(context.Background(), metav1.ListOptions{
			LabelSelector: discoveryv1.LabelServiceName + "=" + service,
		})
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, s := range list.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready && strings.HasPrefix(e.Addresses[0], "10.244.") {
					ready++
				}
			}
		}
		if ready == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("EndpointSlices of %s/%s list %d ready Pod addresses after 30s, want %d", namespace, service, ready, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type echoResponse struct {
	Path      string `json:"path"`
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
}

func getEcho(t *testing.T, url string) echoResponse {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a throw-away self-signed backend
	}}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s from the host: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e echoResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &e) != nil {
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	return e
}

func waitGone(t *testing.T, get func() error) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := get()
		if apierrors.IsNotFound(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still there after 90s (err: %v)", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// baseInventory returns the namespaces of the base manifests and the number of Pods
// their Deployments ask for.
func baseInventory(t *testing.T, objs []*unstructured.Unstructured) ([]string, int) {
	t.Helper()
	var namespaces []string
	pods := 0
	for _, o := range objs {
		switch o.GetKind() {
		case "Namespace":
			namespaces = append(namespaces, o.GetName())
		case "Deployment":
			r, found, err := unstructured.NestedInt64(o.Object, "spec", "replicas")
			if err != nil {
				t.Fatal(err)
			}
			if !found {
				r = 1
			}
			pods += int(r)
		}
	}
	return namespaces, pods
}

// createVolumeSecrets creates a self-signed TLS Secret for every Secret volume of the
// Deployments (the suite creates these in its setup).
func createVolumeSecrets(ctx context.Context, cs kubernetes.Interface, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		vols, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "volumes")
		for _, v := range vols {
			name, _, _ := unstructured.NestedString(v.(map[string]any), "secret", "secretName")
			if name == "" {
				continue
			}
			s, err := harness.TLSSecret(o.GetNamespace(), name, "abc.example.com")
			if err != nil {
				return err
			}
			if _, err := cs.CoreV1().Secrets(o.GetNamespace()).Create(ctx, s, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return err
			}
		}
	}
	return nil
}
