package harness

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
)

// podRuntime is what the kubelet runs for one Pod.
type podRuntime struct {
	uid             types.UID
	namespace, name string
	ip              netip.Addr
	netns, veth     string
	dir             string
	cancel          context.CancelFunc
	done            chan struct{}

	mu         sync.Mutex
	containers []*containerRun
}

type containerRun struct {
	spec     corev1.Container
	run      bool // false: the image is not echo-basic, nothing runs
	log      *containerLog
	proc     *Process
	restarts int32
	started  metav1.Time
}

func (rt *podRuntime) log(container string) *containerLog {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if container == "" && len(rt.containers) == 1 {
		return rt.containers[0].log
	}
	for _, c := range rt.containers {
		if c.spec.Name == container {
			return c.log
		}
	}
	return nil
}

func (rt *podRuntime) containerNames() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var names []string
	for _, c := range rt.containers {
		names = append(names, c.spec.Name)
	}
	return names
}

// stop ends the Pod's run loop, which stops its processes.
func (rt *podRuntime) stop() {
	rt.cancel()
	<-rt.done
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, c := range rt.containers {
		c.proc.Stop(2 * time.Second)
		c.log.Close()
	}
}

// isEchoBasic says whether an image is the suite's backend, which runs as the echo-basic
// binary built from the conformance module; every other image is only reported Ready.
func isEchoBasic(image string) bool { return strings.Contains(image, "echo-basic") }

// startPod sets up the network namespace and starts the Pod's run loop.
func (k *Kubelet) startPod(pod *corev1.Pod) error {
	addr, err := k.net.allocate()
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.seq++
	seq := k.seq
	k.mu.Unlock()
	key := pod.Namespace + "/" + pod.Name
	ctx, cancel := context.WithCancel(context.Background())
	rt := &podRuntime{
		uid: pod.UID, namespace: pod.Namespace, name: pod.Name, ip: addr,
		netns:  fmt.Sprintf("%s-%d", k.opts.NetnsPrefix, seq),
		veth:   fmt.Sprintf("%sv%d", k.opts.NetnsPrefix, seq),
		dir:    filepath.Join(k.opts.WorkDir, "pods", fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID)),
		cancel: cancel, done: make(chan struct{}),
	}
	if err := os.MkdirAll(rt.dir, 0o755); err != nil {
		cancel()
		k.net.release(addr)
		return err
	}
	for _, c := range pod.Spec.Containers {
		cl, err := newContainerLog(filepath.Join(rt.dir, c.Name+".log"))
		if err != nil {
			cancel()
			k.net.release(addr)
			return err
		}
		rt.containers = append(rt.containers, &containerRun{spec: c, run: isEchoBasic(c.Image), log: cl})
	}
	if err := k.net.addPod(rt.netns, rt.veth, addr); err != nil {
		cancel()
		k.net.release(addr)
		return err
	}
	k.mu.Lock()
	k.pods[key] = rt
	k.mu.Unlock()
	go func() {
		defer close(rt.done)
		if err := k.runPod(ctx, rt, pod); err != nil && ctx.Err() == nil {
			k.logf("kubelet: pod %s: %v", key, err)
		}
	}()
	return nil
}

// runPod writes the volumes, starts the containers, reports the Pod Running and Ready once
// their ports answer, and restarts a container that exits, until ctx ends.
func (k *Kubelet) runPod(ctx context.Context, rt *podRuntime, pod *corev1.Pod) error {
	start := time.Now()
	mounts, err := k.writeVolumes(ctx, rt, pod)
	if err != nil {
		return err
	}
	for _, c := range rt.containers {
		if !c.run {
			continue
		}
		env, err := k.containerEnv(ctx, rt, pod, c.spec, mounts)
		if err != nil {
			return err
		}
		if err := k.startContainer(rt, c, env); err != nil {
			return err
		}
	}
	for _, c := range rt.containers {
		if !c.run {
			continue
		}
		addr := net.JoinHostPort(rt.ip.String(), strconv.Itoa(readinessPort(c.spec)))
		if err := waitTCPContext(ctx, addr, c.proc, 60*time.Second); err != nil {
			return fmt.Errorf("container %s: %w", c.spec.Name, err)
		}
	}
	if err := k.reportStatus(ctx, rt, true); err != nil {
		return err
	}
	k.logf("kubelet: pod %s/%s Ready at %s in %s", rt.namespace, rt.name, rt.ip, time.Since(start).Round(time.Millisecond))
	return k.supervise(ctx, rt, pod, mounts)
}

// supervise restarts exited containers (restartPolicy Always is all the suite uses).
func (k *Kubelet) supervise(ctx context.Context, rt *podRuntime, pod *corev1.Pod, mounts map[string]string) error {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for _, c := range rt.containers {
			if !c.run {
				continue
			}
			exited, werr := c.proc.Exited()
			if !exited {
				continue
			}
			k.logf("kubelet: pod %s/%s container %s exited (%v); restarting", rt.namespace, rt.name, c.spec.Name, werr)
			env, err := k.containerEnv(ctx, rt, pod, c.spec, mounts)
			if err != nil {
				return err
			}
			rt.mu.Lock()
			c.restarts++
			rt.mu.Unlock()
			if err := k.startContainer(rt, c, env); err != nil {
				return err
			}
			if err := k.reportStatus(ctx, rt, true); err != nil && ctx.Err() == nil {
				k.logf("kubelet: pod %s/%s: %v", rt.namespace, rt.name, err)
			}
		}
	}
}

func (k *Kubelet) startContainer(rt *podRuntime, c *containerRun, env []string) error {
	args := append([]string{"netns", "exec", rt.netns, k.opts.EchoBasic}, c.spec.Args...)
	p, err := startProcessTo(rt.name+"/"+c.spec.Name, filepath.Join(rt.dir, c.spec.Name+".log"),
		nopCloser{c.log}, env, "ip", args...)
	if err != nil {
		return err
	}
	rt.mu.Lock()
	c.proc = p
	c.started = metav1.Now()
	rt.mu.Unlock()
	return nil
}

type nopCloser struct{ w *containerLog }

func (n nopCloser) Write(p []byte) (int, error) { return n.w.Write(p) }
func (nopCloser) Close() error                  { return nil }

// readinessPort is the port that answers once the container serves: its readiness probe's,
// else its first declared port, else echo-basic's default for its mode.
func readinessPort(c corev1.Container) int {
	named := func(p intstr.IntOrString) int {
		if p.Type == intstr.Int {
			return p.IntValue()
		}
		for _, cp := range c.Ports {
			if cp.Name == p.StrVal {
				return int(cp.ContainerPort)
			}
		}
		return 0
	}
	if pr := c.ReadinessProbe; pr != nil {
		if pr.TCPSocket != nil {
			if p := named(pr.TCPSocket.Port); p > 0 {
				return p
			}
		}
		if pr.HTTPGet != nil {
			if p := named(pr.HTTPGet.Port); p > 0 {
				return p
			}
		}
	}
	for _, cp := range c.Ports {
		if cp.Protocol == "" || cp.Protocol == corev1.ProtocolTCP {
			return int(cp.ContainerPort)
		}
	}
	for _, e := range c.Env {
		if e.Name == "HTTP_PORT" || e.Name == "TCP_PORT" {
			if p, err := strconv.Atoi(e.Value); err == nil {
				return p
			}
		}
	}
	return 3000
}

func waitTCPContext(ctx context.Context, addr string, p *Process, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		d := net.Dialer{Timeout: time.Second}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		if exited, werr := p.Exited(); exited {
			return fmt.Errorf("exited (%v) before listening on %s", werr, addr)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %s: %w", addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeVolumes writes the Pod's Secret, ConfigMap and emptyDir volumes under its
// directory, waiting for Secrets and ConfigMaps that do not exist yet (as a kubelet
// does). It returns each volume's directory by volume name.
func (k *Kubelet) writeVolumes(ctx context.Context, rt *podRuntime, pod *corev1.Pod) (map[string]string, error) {
	dirs := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		dir := filepath.Join(rt.dir, "volumes", v.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		dirs[v.Name] = dir
		var data map[string][]byte
		var items []corev1.KeyToPath
		switch {
		case v.Secret != nil:
			s, err := waitFor(ctx, func() (*corev1.Secret, error) {
				return k.cs.CoreV1().Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
			}, v.Secret.Optional)
			if err != nil {
				return nil, fmt.Errorf("volume %s: Secret %s: %w", v.Name, v.Secret.SecretName, err)
			}
			if s != nil {
				data = s.Data
			}
			items = v.Secret.Items
		case v.ConfigMap != nil:
			cm, err := waitFor(ctx, func() (*corev1.ConfigMap, error) {
				return k.cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
			}, v.ConfigMap.Optional)
			if err != nil {
				return nil, fmt.Errorf("volume %s: ConfigMap %s: %w", v.Name, v.ConfigMap.Name, err)
			}
			if cm != nil {
				data = map[string][]byte{}
				for key, val := range cm.Data {
					data[key] = []byte(val)
				}
				for key, val := range cm.BinaryData {
					data[key] = val
				}
			}
			items = v.ConfigMap.Items
		default:
			continue // emptyDir and anything else: an empty directory
		}
		if len(items) == 0 {
			for key := range data {
				items = append(items, corev1.KeyToPath{Key: key, Path: key})
			}
		}
		for _, it := range items {
			val, ok := data[it.Key]
			if !ok {
				continue
			}
			path := filepath.Join(dir, filepath.Clean("/"+it.Path))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, val, 0o644); err != nil {
				return nil, err
			}
		}
	}
	return dirs, nil
}

// waitFor polls get until the object exists (nil, nil when it is optional and missing).
func waitFor[T any](ctx context.Context, get func() (*T, error), optional *bool) (*T, error) {
	for {
		obj, err := get()
		if err == nil {
			return obj, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
		if optional != nil && *optional {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// containerEnv is the process environment: the container's env and envFrom resolved as a
// kubelet would (fieldRefs, Secret and ConfigMap keys), with values that point into a
// volume mount rewritten to the volume's directory on this host.
func (k *Kubelet) containerEnv(ctx context.Context, rt *podRuntime, pod *corev1.Pod, c corev1.Container, volDirs map[string]string) ([]string, error) {
	mounts := map[string]string{} // mountPath → host dir
	for _, m := range c.VolumeMounts {
		if d, ok := volDirs[m.Name]; ok {
			mounts[filepath.Clean(m.MountPath)] = filepath.Join(d, m.SubPath)
		}
	}
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOSTNAME=" + pod.Name,
		"HOME=" + rt.dir,
	}
	vars := map[string]string{}
	add := func(name, val string) {
		val = rewriteMountPath(val, mounts)
		vars[name] = val
		env = append(env, name+"="+val)
	}
	for _, ef := range c.EnvFrom {
		var data map[string]string
		switch {
		case ef.SecretRef != nil:
			s, err := k.cs.CoreV1().Secrets(pod.Namespace).Get(ctx, ef.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("envFrom Secret %s: %w", ef.SecretRef.Name, err)
			}
			data = map[string]string{}
			for key, v := range s.Data {
				data[key] = string(v)
			}
		case ef.ConfigMapRef != nil:
			cm, err := k.cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, ef.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("envFrom ConfigMap %s: %w", ef.ConfigMapRef.Name, err)
			}
			data = cm.Data
		}
		for key, v := range data {
			add(ef.Prefix+key, v)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			add(e.Name, expandVars(e.Value, vars))
			continue
		}
		v, err := k.envValueFrom(ctx, rt, pod, e.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		add(e.Name, v)
	}
	return env, nil
}

func (k *Kubelet) envValueFrom(ctx context.Context, rt *podRuntime, pod *corev1.Pod, src *corev1.EnvVarSource) (string, error) {
	switch {
	case src.FieldRef != nil:
		return fieldRefValue(pod, rt.ip, src.FieldRef.FieldPath)
	case src.SecretKeyRef != nil:
		s, err := k.cs.CoreV1().Secrets(pod.Namespace).Get(ctx, src.SecretKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		return string(s.Data[src.SecretKeyRef.Key]), nil
	case src.ConfigMapKeyRef != nil:
		cm, err := k.cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, src.ConfigMapKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		return cm.Data[src.ConfigMapKeyRef.Key], nil
	}
	return "", nil // resourceFieldRef and the like: empty, nothing here reads them
}

func fieldRefValue(pod *corev1.Pod, podIP netip.Addr, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return podIP.String(), nil
	case "status.hostIP", "status.hostIPs":
		return "127.0.0.1", nil
	}
	for _, m := range []struct {
		prefix string
		values map[string]string
	}{{"metadata.labels", pod.Labels}, {"metadata.annotations", pod.Annotations}} {
		if rest, ok := strings.CutPrefix(path, m.prefix); ok {
			if key, ok := strings.CutPrefix(rest, "['"); ok {
				return m.values[strings.TrimSuffix(key, "']")], nil
			}
		}
	}
	return "", fmt.Errorf("fieldRef %q is not supported by the process kubelet", path)
}

// rewriteMountPath maps a value that is a path inside a volume mount to the volume's
// directory on the host (the longest matching mount wins).
func rewriteMountPath(val string, mounts map[string]string) string {
	if !strings.HasPrefix(val, "/") {
		return val
	}
	best := ""
	for mp := range mounts {
		if (val == mp || strings.HasPrefix(val, mp+"/") || mp == "/") && len(mp) > len(best) {
			best = mp
		}
	}
	if best == "" {
		return val
	}
	return filepath.Join(mounts[best], strings.TrimPrefix(val, best))
}

// expandVars expands $(NAME) references to earlier variables, as Kubernetes does.
func expandVars(val string, vars map[string]string) string {
	if !strings.Contains(val, "$(") {
		return val
	}
	for name, v := range vars {
		val = strings.ReplaceAll(val, "$("+name+")", v)
	}
	return val
}

// reportStatus writes the Pod's status: Running with its IP, Ready as given. It keeps
// status fields the API server owns (qosClass is immutable).
func (k *Kubelet) reportStatus(ctx context.Context, rt *podRuntime, ready bool) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := k.cs.CoreV1().Pods(rt.namespace).Get(ctx, rt.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if pod.UID != rt.uid || pod.DeletionTimestamp != nil {
			return nil
		}
		now := metav1.Now()
		readyStatus := corev1.ConditionFalse
		if ready {
			readyStatus = corev1.ConditionTrue
		}
		st := &pod.Status
		st.Phase = corev1.PodRunning
		st.HostIP = "127.0.0.1"
		st.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
		st.PodIP = rt.ip.String()
		st.PodIPs = []corev1.PodIP{{IP: rt.ip.String()}}
		if st.StartTime == nil {
			st.StartTime = &now
		}
		setCondition(st, corev1.PodScheduled, corev1.ConditionTrue, now)
		setCondition(st, "PodReadyToStartContainers", corev1.ConditionTrue, now)
		setCondition(st, corev1.PodInitialized, corev1.ConditionTrue, now)
		setCondition(st, corev1.ContainersReady, readyStatus, now)
		setCondition(st, corev1.PodReady, readyStatus, now)
		rt.mu.Lock()
		st.ContainerStatuses = nil
		for _, c := range rt.containers {
			started := c.started
			if started.IsZero() {
				started = now
			}
			st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
				Name:         c.spec.Name,
				Image:        c.spec.Image,
				ImageID:      c.spec.Image,
				ContainerID:  fmt.Sprintf("gatebridge-process://%s-%s", rt.uid, c.spec.Name),
				Ready:        ready,
				Started:      &ready,
				RestartCount: c.restarts,
				State:        corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}},
			})
		}
		rt.mu.Unlock()
		_, err = k.cs.CoreV1().Pods(rt.namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
}

func setCondition(st *corev1.PodStatus, t corev1.PodConditionType, s corev1.ConditionStatus, now metav1.Time) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			if st.Conditions[i].Status != s {
				st.Conditions[i].Status = s
				st.Conditions[i].LastTransitionTime = now
			}
			return
		}
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: s, LastTransitionTime: now})
}
