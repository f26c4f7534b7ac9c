package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// KubeletOptions configure the process kubelet.
type KubeletOptions struct {
	// NodeName is the one Node registered (default "conformance-node").
	NodeName string
	// EchoBasic is the echo-basic binary; containers whose image names echo-basic run it.
	EchoBasic string
	// WorkDir receives a directory per Pod (volumes, logs); it must exist.
	WorkDir string
	// Bridge names the Linux bridge (default "gbconf0"); NetnsPrefix prefixes the Pods'
	// network namespaces and host veths (default "gbc").
	Bridge, NetnsPrefix string
	// PodCIDR is the Pods' network (default 10.244.0.0/16); the host gets its first address.
	PodCIDR string
	// Logf reports progress (nil: silent).
	Logf func(format string, args ...any)
}

// Kubelet registers one Node, binds every unscheduled Pod to it and runs its Pods as
// processes: each Pod gets a network namespace with a veth on a bridge (so every
// echo-basic can listen on all addresses at its own IP), containers whose image is
// echo-basic run the echo-basic binary with the Pod's env and Secret/ConfigMap volumes,
// and other containers are reported Ready without running anything. It serves pods/log
// to the API server and tears a Pod down when it is deleted.
type Kubelet struct {
	opts   KubeletOptions
	cs     kubernetes.Interface
	net    *podNetwork
	srv    *http.Server
	queue  workqueue.TypedRateLimitingInterface[string]
	lister corelisters.PodLister
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	pods map[string]*podRuntime // by namespace/name
	seq  int
}

// StartKubelet needs root (network namespaces). It returns once the Node is registered
// and the Pod informer has synced.
func StartKubelet(ctx context.Context, cfg *rest.Config, opts KubeletOptions) (_ *Kubelet, err error) {
	if err := CheckRoot(); err != nil {
		return nil, err
	}
	if opts.NodeName == "" {
		opts.NodeName = "conformance-node"
	}
	if opts.Bridge == "" {
		opts.Bridge = "gbconf0"
	}
	if opts.NetnsPrefix == "" {
		opts.NetnsPrefix = "gbc"
	}
	if opts.PodCIDR == "" {
		opts.PodCIDR = "10.244.0.0/16"
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if _, err := os.Stat(opts.EchoBasic); err != nil {
		return nil, fmt.Errorf("echo-basic binary (run hack/conformance.sh): %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	k := &Kubelet{opts: opts, cs: cs, pods: map[string]*podRuntime{}}
	defer func() {
		if err != nil {
			k.Stop()
		}
	}()
	if k.net, err = newPodNetwork(opts.Bridge, opts.PodCIDR, opts.NetnsPrefix); err != nil {
		return nil, fmt.Errorf("creating the pod network: %w", err)
	}

	pki := filepath.Join(opts.WorkDir, "kubelet-pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return nil, err
	}
	sc, err := writeServingCert(pki, "kubelet")
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(sc.CertFile, sc.KeyFile)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the kubelet API: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	k.srv = k.serveKubelet(l, cert)

	if err := k.registerNode(ctx, port); err != nil {
		return nil, err
	}

	runCtx, cancel := context.WithCancel(context.Background())
	k.cancel = cancel
	k.queue = workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	factory := informers.NewSharedInformerFactory(cs, 0)
	podInformer := factory.Core().V1().Pods()
	k.lister = podInformer.Lister()
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			k.queue.Add(key)
		}
	}
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	}); err != nil {
		return nil, err
	}
	factory.Start(runCtx.Done())
	syncCtx, syncCancel := context.WithTimeout(ctx, 30*time.Second)
	defer syncCancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), podInformer.Informer().HasSynced) {
		return nil, errors.New("the kubelet's Pod informer did not sync")
	}
	for range 8 {
		k.wg.Go(func() {
			for k.processNext(runCtx) {
			}
		})
	}
	opts.Logf("kubelet: node %s registered, kubelet API on 127.0.0.1:%d, pods on bridge %s (%s)",
		opts.NodeName, port, opts.Bridge, opts.PodCIDR)
	return k, nil
}

// NodeName is the Node the kubelet registered.
func (k *Kubelet) NodeName() string { return k.opts.NodeName }

func (k *Kubelet) logf(format string, args ...any) { k.opts.Logf(format, args...) }

func (k *Kubelet) registerNode(ctx context.Context, port int) error {
	name := k.opts.NodeName
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			"kubernetes.io/hostname": name,
			"kubernetes.io/os":       "linux",
			"kubernetes.io/arch":     goruntime.GOARCH,
		}},
		Spec: corev1.NodeSpec{PodCIDR: k.opts.PodCIDR, PodCIDRs: []string{k.opts.PodCIDR}},
	}
	created, err := k.cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = k.cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("registering node %s: %w", name, err)
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("1000"),
	}
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, Reason: reason, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	created.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady"),
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory"),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure"),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID"),
		},
		// The API server dials InternalIP:port for pods/log
		// (--kubelet-preferred-address-types=InternalIP).
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
			{Type: corev1.NodeHostName, Address: name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion:          "v1.37.1",
			OperatingSystem:         "linux",
			Architecture:            goruntime.GOARCH,
			ContainerRuntimeVersion: "gatebridge-process-kubelet://1",
		},
	}
	if _, err := k.cs.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("reporting node %s Ready: %w", name, err)
	}
	return nil
}

func (k *Kubelet) processNext(ctx context.Context) bool {
	key, quit := k.queue.Get()
	if quit {
		return false
	}
	defer k.queue.Done(key)
	if err := k.reconcile(ctx, key); err != nil {
		if ctx.Err() == nil {
			k.logf("kubelet: pod %s: %v (retrying)", key, err)
		}
		k.queue.AddRateLimited(key)
		return true
	}
	k.queue.Forget(key)
	return true
}

// reconcile brings one Pod's processes in line with the API: bind it, run it, or tear it
// down and let the API server delete it.
func (k *Kubelet) reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := k.lister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		k.teardown(key, "")
		return nil
	}
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		if pod.DeletionTimestamp != nil {
			return nil
		}
		err := k.cs.CoreV1().Pods(ns).Bind(ctx, &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: pod.UID},
			Target:     corev1.ObjectReference{Kind: "Node", Name: k.opts.NodeName},
		}, metav1.CreateOptions{})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil // deleted or bound meanwhile: the next event says which
		}
		return err
	}
	if pod.Spec.NodeName != k.opts.NodeName {
		return nil
	}
	if pod.DeletionTimestamp != nil {
		k.teardown(key, pod.UID)
		err := k.cs.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{
			GracePeriodSeconds: new(int64(0)),
			Preconditions:      &metav1.Preconditions{UID: &pod.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("deleting: %w", err)
		}
		return nil
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil
	}
	k.mu.Lock()
	rt := k.pods[key]
	k.mu.Unlock()
	if rt != nil && rt.uid == pod.UID {
		return nil
	}
	if rt != nil {
		k.teardown(key, rt.uid) // the same name, a new Pod
	}
	return k.startPod(pod)
}

// teardown stops the Pod's processes and removes its network namespace. uid "" matches
// any Pod of that name.
func (k *Kubelet) teardown(key string, uid types.UID) {
	k.mu.Lock()
	rt := k.pods[key]
	if rt == nil || (uid != "" && rt.uid != uid) {
		k.mu.Unlock()
		return
	}
	delete(k.pods, key)
	k.mu.Unlock()
	rt.stop()
	k.net.delPod(rt.netns, rt.veth)
	k.net.release(rt.ip)
	k.logf("kubelet: pod %s stopped", key)
}

func (k *Kubelet) podByName(ns, name string) *podRuntime {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.pods[ns+"/"+name]
}

// Stop tears every Pod down, removes the bridge and stops serving. Pods stay in the API.
func (k *Kubelet) Stop() {
	if k.cancel != nil {
		k.cancel()
	}
	if k.queue != nil {
		k.queue.ShutDown()
	}
	k.wg.Wait()
	k.mu.Lock()
	var keys []string
	for key := range k.pods {
		keys = append(keys, key)
	}
	k.mu.Unlock()
	sort.Strings(keys)
	var wg sync.WaitGroup
	for _, key := range keys {
		wg.Go(func() { k.teardown(key, "") })
	}
	wg.Wait()
	if k.srv != nil {
		shutdownServer(k.srv)
	}
	if k.net != nil {
		k.net.close()
	}
}
