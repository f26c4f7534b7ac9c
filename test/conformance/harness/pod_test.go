package harness

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestRewriteMountPath(t *testing.T) {
	mounts := map[string]string{"/etc/secret-volume": "/work/p/volumes/secret-volume", "/etc": "/work/p/volumes/etc"}
	for in, want := range map[string]string{
		"/etc/secret-volume/crt": "/work/p/volumes/secret-volume/crt", // the longest mount wins
		"/etc/secret-volume":     "/work/p/volumes/secret-volume",
		"/etc/other":             "/work/p/volumes/etc/other",
		"/etc/secret-volumex":    "/work/p/volumes/etc/secret-volumex", // path boundaries, not string prefixes
		"/usr/bin/x":             "/usr/bin/x",
		"relative/etc":           "relative/etc",
		"1":                      "1",
	} {
		if got := rewriteMountPath(in, mounts); got != want {
			t.Errorf("rewriteMountPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFieldRefValue(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "n"},
	}
	ip := netip.MustParseAddr("10.244.0.7")
	for path, want := range map[string]string{
		"metadata.name": "p", "metadata.namespace": "ns", "metadata.uid": "u1", "spec.nodeName": "n",
		"status.podIP": "10.244.0.7", "status.hostIP": "127.0.0.1", "metadata.labels['app']": "web",
	} {
		got, err := fieldRefValue(pod, ip, path)
		if err != nil || got != want {
			t.Errorf("fieldRefValue(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := fieldRefValue(pod, ip, "spec.unknown"); err == nil {
		t.Error("an unknown fieldRef must be an error, not an empty value")
	}
}

func TestReadinessPort(t *testing.T) {
	for name, tc := range map[string]struct {
		c    corev1.Container
		want int
	}{
		"echo-basic default": {corev1.Container{}, 3000},
		"declared port":      {corev1.Container{Ports: []corev1.ContainerPort{{ContainerPort: 8443}}}, 8443},
		"HTTP_PORT env":      {corev1.Container{Env: []corev1.EnvVar{{Name: "HTTP_PORT", Value: "9000"}}}, 9000},
		"named probe port": {corev1.Container{
			Ports:          []corev1.ContainerPort{{Name: "web", ContainerPort: 3001}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("web")}}},
		}, 3001},
	} {
		if got := readinessPort(tc.c); got != tc.want {
			t.Errorf("%s: readinessPort = %d, want %d", name, got, tc.want)
		}
	}
}

func TestContainerLogQuery(t *testing.T) {
	l := &containerLog{file: nil}
	t0 := time.Now()
	l.lines = []logLine{
		{at: t0.Add(-time.Minute), text: []byte("old")},
		{at: t0, text: []byte("a")},
		{at: t0.Add(time.Second), text: []byte("b")},
	}
	req := httptest.NewRequest("GET", "/containerLogs/ns/p/c?sinceTime="+t0.UTC().Format(time.RFC3339)+"&tailLines=5", nil)
	q, err := parseLogQuery(req)
	if err != nil {
		t.Fatal(err)
	}
	// sinceTime has second precision: the line at t0 may sit in the same second.
	if got := string(l.render(q)); strings.Contains(got, "old") || !strings.HasSuffix(got, "a\nb\n") {
		t.Errorf("sinceTime: got %q", got)
	}
	if got := string(l.render(logQuery{tail: 1})); got != "b\n" {
		t.Errorf("tailLines=1: got %q", got)
	}
	if got := string(l.render(logQuery{tail: -1, timestamps: true})); !strings.HasPrefix(got, t0.Add(-time.Minute).UTC().Format(time.RFC3339Nano)+" old\n") {
		t.Errorf("timestamps: got %q", got)
	}
}

func TestPodNetworkAllocate(t *testing.T) {
	n := &podNetwork{prefix: netip.MustParsePrefix("10.244.0.0/30"), next: 2}
	a, err := n.allocate()
	if err != nil || a.String() != "10.244.0.2" {
		t.Fatalf("first address %s, %v; want 10.244.0.2 (.1 is the bridge)", a, err)
	}
	if _, err := n.allocate(); err == nil {
		t.Fatal("a /30 holds one Pod address; the broadcast address must not be handed out")
	}
	n.release(a)
	if b, err := n.allocate(); err != nil || b != a {
		t.Fatalf("released %s is reused once the range is exhausted; got %s, %v", a, b, err)
	}
}
