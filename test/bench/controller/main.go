// Command bench-controller measures `gatebridge controller` at the scale of issue 13 and
// prints a Markdown table (hack/bench-controller.sh runs it; `make bench` runs that):
//
//  1. a real API server (envtest) is filled, with parallel clients, with N Ingresses (the
//     test/bench generator's, without TLS), their Services and EndpointSlices pointing at
//     one echo backend on the machine's non-loopback address; M of them carry
//     gatebridge.dev/migrate: "true";
//  2. cold start: the controller command starts, Envoy joins it with the bootstrap of
//     `gatebridge envoy-bootstrap`; the clock stops once the writer reports the M
//     Ingresses migrated after a pass without error and Envoy serves a sample of the
//     migrated hosts;
//  3. change → serving: one more Ingress is annotated (through the API server), the time
//     until Envoy serves its host; repeated, p50 and p99;
//  4. the controller's VmRSS (and VmHWM, its peak) from /proc;
//  5. restart in sync: the controller is stopped (SIGTERM) and started again; once it has
//     passed over everything, its gatebridge_owned_object_writes_total (and
//     gatebridge_status_writes_total) are read: they must be zero.
//
// Waits are bounded polls; the figures are what was measured on this machine under its
// load at the time (printed with the table).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
	"github.com/gatebridge-dev/gatebridge/test/bench"
	"github.com/gatebridge-dev/gatebridge/test/echo"
)

type config struct {
	gatebridge  string
	envoyPath   string
	ingresses   int
	migrated    int
	annotations int
	workers     int
	samples     int
	workDir     string
	timeout     time.Duration
	heapProfile bool
}

func main() {
	var c config
	flag.StringVar(&c.gatebridge, "gatebridge", ".cache/bin/gatebridge", "the gatebridge command to measure")
	flag.StringVar(&c.envoyPath, "envoy", os.Getenv("GATEBRIDGE_ENVOY"), "Envoy binary (default $GATEBRIDGE_ENVOY)")
	flag.IntVar(&c.ingresses, "ingresses", 5000, "Ingresses (each with its Service and EndpointSlice)")
	flag.IntVar(&c.migrated, "migrated", 1000, "of which migrate from the start")
	flag.IntVar(&c.annotations, "annotations", 30, "Ingresses annotated one by one for change → serving")
	flag.IntVar(&c.workers, "workers", 16, "parallel clients creating the objects")
	flag.IntVar(&c.samples, "samples", 20, "migrated hosts probed through Envoy to call the cold start served")
	flag.StringVar(&c.workDir, "work-dir", ".cache/bench/controller", "directory for the kubeconfig and the controller's logs")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Minute, "bound of every wait")
	flag.BoolVar(&c.heapProfile, "heap-profile", false, "run the controller with --profiling and save its heap profiles after the cold sync and after the annotations (heap-cold.pprof, heap-changes.pprof in -work-dir)")
	flag.Parse()
	if c.migrated+c.annotations > c.ingresses {
		fatalf("-migrated + -annotations (%d) exceed -ingresses (%d)", c.migrated+c.annotations, c.ingresses)
	}
	if err := run(c); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-controller: "+format+"\n", args...)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-controller: %s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
}

// results are the figures of one run.
type results struct {
	load                         string
	created                      time.Duration
	coldStart                    time.Duration
	latencies                    []time.Duration
	rssKiB, hwmKiB               int64
	rssAfterChangesKiB           int64
	coldWrites                   float64
	heapMiB, heapAfterChangesMiB float64
	changeToAck                  time.Duration
	changeToAckCount             int
	restartWrites, statusWrites  float64
	restartReady                 time.Duration
}

func run(c config) error {
	ctx := context.Background()
	if c.envoyPath == "" {
		return errors.New("no Envoy: set GATEBRIDGE_ENVOY or -envoy (hack/envoy.sh prints its path)")
	}
	if err := os.MkdirAll(c.workDir, 0o755); err != nil {
		return err
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	assets, err := testenv.Assets(root)
	if err != nil {
		return err
	}
	crds, err := testenv.CRDDirectories(root, testenv.Standard)
	if err != nil {
		return err
	}
	hostIP, err := nonLoopbackIPv4()
	if err != nil {
		return err
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets, CRDDirectoryPaths: crds, ErrorIfCRDPathMissing: true}
	// envtest's Service range is a /24: room for 254 Services, not thousands.
	env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.96.0.0/16")
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting envtest: %w", err)
	}
	defer func() { _ = env.Stop() }()
	cfg.QPS = -1 // no client-side rate limit: the parallel creators go as fast as the API server does
	cl, err := client.New(cfg, client.Options{Scheme: testenv.NewScheme()})
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(c.workDir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		return err
	}

	var served atomic.Int64
	inner := echo.NewHandler("echo")
	backend, err := echo.Start("echo", net.JoinHostPort(hostIP, "0"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		inner.ServeHTTP(w, r)
	}), nil)
	if err != nil {
		return err
	}
	defer backend.Close()

	var res results
	res.load = loadAverage()
	logf("creating %d Ingresses, Services and EndpointSlices (%d migrating) with %d clients", c.ingresses, c.migrated, c.workers)
	began := time.Now()
	if err := populate(ctx, cl, c, hostIP, backend.Port()); err != nil {
		return err
	}
	res.created = time.Since(began)
	logf("created in %s", res.created.Round(time.Millisecond))

	ports := map[string]int{}
	for _, name := range []string{"xds", "authz", "metrics", "health", "http", "https", "admin"} {
		if ports[name], err = freePort(); err != nil {
			return err
		}
	}
	ctrl := &controller{c: c, kubeconfig: kubeconfig, ports: ports}

	// (a) cold start.
	began = time.Now()
	if err := ctrl.start(1); err != nil {
		return err
	}
	defer ctrl.stop()
	if err := waitFor(c.timeout, "the xDS port to listen", func() (bool, string) {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ports["xds"]), time.Second)
		if err != nil {
			return false, err.Error()
		}
		conn.Close()
		return true, ""
	}); err != nil {
		return err
	}
	stopEnvoy, err := startEnvoy(c, ports)
	if err != nil {
		return err
	}
	defer stopEnvoy()
	probe := &prober{port: ports["http"]}
	sample := sampleHosts(c)
	if err := waitFor(c.timeout, "the cold start to be in sync and served", func() (bool, string) {
		if err := ctrl.exited(); err != nil {
			return false, err.Error()
		}
		m := ctrl.metrics()
		ok := metric(m, `gatebridge_writer_passes_total{result="ok"}`) >= 1 && metric(m, "gatebridge_migrated_ingresses") == float64(c.migrated)
		if !ok {
			return false, grep(m, "gatebridge_migrated_ingresses", "gatebridge_writer_passes_total")
		}
		for _, h := range sample {
			if !probe.served(h) {
				return false, "Envoy does not serve " + h + " yet"
			}
		}
		return true, ""
	}); err != nil {
		return err
	}
	res.coldStart = time.Since(began)
	res.coldWrites = sum(ctrl.metrics(), "gatebridge_owned_object_writes_total")
	logf("cold start: %s, %.0f writes", res.coldStart.Round(time.Millisecond), res.coldWrites)
	if res.rssKiB, res.hwmKiB, err = ctrl.memory(); err != nil {
		return err
	}
	ctrl.saveHeapProfile("heap-cold.pprof")
	m := ctrl.metrics()
	res.heapMiB = metric(m, "go_memstats_heap_inuse_bytes") / (1 << 20)
	ackSum, ackCount := metric(m, "gatebridge_change_to_ack_seconds_sum"), metric(m, "gatebridge_change_to_ack_seconds_count")

	// (b) annotate one more Ingress, one at a time.
	ings, _ := bench.Generate(c.ingresses)
	for k := range c.annotations {
		ing := ings[c.migrated+k]
		host := ing.Spec.Rules[0].Host
		if probe.served(host) {
			return fmt.Errorf("%s is served before its Ingress is annotated", host)
		}
		patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"gatebridge.dev/migrate":"true"}}}`))
		obj := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ing.Namespace, Name: ing.Name}}
		t0 := time.Now()
		if err := cl.Patch(ctx, obj, patch); err != nil {
			return fmt.Errorf("annotating Ingress %s/%s: %w", ing.Namespace, ing.Name, err)
		}
		if err := waitForEvery(60*time.Second, 5*time.Millisecond, host+" to be served", func() (bool, string) {
			return probe.served(host), ""
		}); err != nil {
			return err
		}
		res.latencies = append(res.latencies, time.Since(t0))
		logf("annotation %d/%d: %s annotated at %s, served after %s", k+1, c.annotations, host, t0.Format("15:04:05.000"), res.latencies[k].Round(time.Millisecond))
		time.Sleep(200 * time.Millisecond) // let the writer's follow-up pass (the report-hash annotation) settle
	}
	if res.rssAfterChangesKiB, res.hwmKiB, err = ctrl.memory(); err != nil {
		return err
	}
	ctrl.saveHeapProfile("heap-changes.pprof")
	m = ctrl.metrics()
	res.heapAfterChangesMiB = metric(m, "go_memstats_heap_inuse_bytes") / (1 << 20)
	if n := metric(m, "gatebridge_change_to_ack_seconds_count") - ackCount; n > 0 {
		res.changeToAck = time.Duration((metric(m, "gatebridge_change_to_ack_seconds_sum") - ackSum) / n * float64(time.Second))
		res.changeToAckCount = int(n)
	}

	// (d) restart in sync.
	ctrl.stop()
	began = time.Now()
	if err := ctrl.start(2); err != nil {
		return err
	}
	want := float64(c.migrated + c.annotations)
	if err := waitFor(c.timeout, "the restarted controller to pass over everything", func() (bool, string) {
		if err := ctrl.exited(); err != nil {
			return false, err.Error()
		}
		m := ctrl.metrics()
		return metric(m, `gatebridge_writer_passes_total{result="ok"}`) >= 1 && metric(m, "gatebridge_migrated_ingresses") == want,
			grep(m, "gatebridge_migrated_ingresses", "gatebridge_writer_passes_total")
	}); err != nil {
		return err
	}
	res.restartReady = time.Since(began)
	time.Sleep(5 * time.Second) // a late write (a second pass, a status patch) would show here
	m = ctrl.metrics()
	res.restartWrites = sum(m, "gatebridge_owned_object_writes_total")
	res.statusWrites = sum(m, "gatebridge_status_writes_total")
	logf("restart: in sync after %s; writes: %s", res.restartReady.Round(time.Millisecond),
		grep(m, "gatebridge_owned_object_writes_total", "gatebridge_status_writes_total", "gatebridge_writer_passes_total"))
	if !probe.served(sample[0]) {
		return fmt.Errorf("after the restart Envoy does not serve %s", sample[0])
	}
	res.load += " → " + loadAverage()
	printTable(c, res)
	return nil
}

// populate creates the namespaces, the IngressClass and, with c.workers clients in
// parallel, every Service, EndpointSlice and Ingress.
func populate(ctx context.Context, cl client.Client, c config, hostIP string, port int) error {
	for i := range bench.Namespaces {
		if err := cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns-" + strconv.Itoa(i)}}); err != nil {
			return err
		}
	}
	if err := cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gatebridge-system"}}); err != nil {
		return err
	}
	if err := cl.Create(ctx, &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
		Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}); err != nil {
		return err
	}
	ings, svcs := bench.Generate(c.ingresses)
	next := make(chan int)
	errs := make(chan error, c.workers)
	var wg sync.WaitGroup
	for range c.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := createOne(ctx, cl, &ings[i], &svcs[i], i < c.migrated, hostIP, port); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := range ings {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err != nil {
		return err
	}
	return <-errs
}

// createOne creates Service, EndpointSlice and Ingress i. The generated Ingress loses its
// TLS section and ssl-redirect (the probes are plain HTTP).
func createOne(ctx context.Context, cl client.Client, ing *networkingv1.Ingress, svc *corev1.Service, migrate bool, hostIP string, port int) error {
	svc = svc.DeepCopy()
	svc.CreationTimestamp = metav1.Time{}
	if err := cl.Create(ctx, svc); err != nil {
		return fmt.Errorf("creating Service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	ready := true
	portName := "http"
	proto := corev1.ProtocolTCP
	p := int32(port)
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{hostIP}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &p, Protocol: &proto}},
	}
	if err := cl.Create(ctx, slice); err != nil {
		return fmt.Errorf("creating EndpointSlice %s/%s: %w", slice.Namespace, slice.Name, err)
	}
	ing = ing.DeepCopy()
	ing.CreationTimestamp = metav1.Time{}
	ing.Spec.TLS = nil
	delete(ing.Annotations, "nginx.ingress.kubernetes.io/ssl-redirect")
	if migrate {
		ing.Annotations["gatebridge.dev/migrate"] = "true"
	}
	if err := cl.Create(ctx, ing); err != nil {
		return fmt.Errorf("creating Ingress %s/%s: %w", ing.Namespace, ing.Name, err)
	}
	return nil
}

// sampleHosts are c.samples hosts spread over the migrated Ingresses, the last included.
func sampleHosts(c config) []string {
	ings, _ := bench.Generate(c.migrated)
	var hosts []string
	for k := range c.samples {
		i := (c.migrated - 1) - k*c.migrated/c.samples
		hosts = append(hosts, ings[i].Spec.Rules[0].Host)
	}
	return hosts
}

// controller is the gatebridge controller command, started and restarted on fixed ports.
type controller struct {
	c          config
	kubeconfig string
	ports      map[string]int
	cmd        *exec.Cmd
	done       chan error
	logFile    *os.File
}

func (p *controller) start(run int) error {
	f, err := os.Create(filepath.Join(p.c.workDir, fmt.Sprintf("controller-%d.log", run)))
	if err != nil {
		return err
	}
	cmd := exec.Command(p.c.gatebridge, "controller", "--kubeconfig", p.kubeconfig,
		"--xds-port", strconv.Itoa(p.ports["xds"]), "--authz-port", strconv.Itoa(p.ports["authz"]),
		"--metrics-port", strconv.Itoa(p.ports["metrics"]), "--health-port", strconv.Itoa(p.ports["health"]),
		"--bind-address", "127.0.0.1")
	if p.c.heapProfile {
		cmd.Args = append(cmd.Args, "--profiling")
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("starting the controller: %w", err)
	}
	p.cmd, p.logFile, p.done = cmd, f, make(chan error, 1)
	go func() { p.done <- cmd.Wait() }()
	return nil
}

// exited is the controller's exit, nil while it runs.
func (p *controller) exited() error {
	select {
	case err := <-p.done:
		p.done <- err
		return fmt.Errorf("the controller exited (%v); see %s", err, p.logFile.Name())
	default:
		return nil
	}
}

func (p *controller) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.logFile.Close()
	p.cmd = nil
}

func (p *controller) metrics() string {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.ports["metrics"]))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// saveHeapProfile writes the controller's heap profile to the work directory, with
// -heap-profile (after a GC, as /debug/pprof/heap?gc=1 does).
func (p *controller) saveHeapProfile(name string) {
	if !p.c.heapProfile {
		return
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/heap?gc=1", p.ports["metrics"]))
	if err != nil {
		logf("heap profile %s: %v", name, err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := os.WriteFile(filepath.Join(p.c.workDir, name), b, 0o644); err != nil {
		logf("heap profile %s: %v", name, err)
	}
}

// memory reads VmRSS and VmHWM (KiB) of the controller process.
func (p *controller) memory() (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, fmt.Errorf("reading the controller's memory: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(f[1], 10, 64)
		case "VmHWM:":
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	return rss, hwm, nil
}

// startEnvoy starts Envoy with the bootstrap the command prints, port 80 on ports["http"].
func startEnvoy(c config, ports map[string]int) (stop func(), err error) {
	bootstrap, err := exec.Command(c.gatebridge, "envoy-bootstrap", "--xds-server", fmt.Sprintf("127.0.0.1:%d", ports["xds"]),
		"--admin-port", strconv.Itoa(ports["admin"]), "--http-port", strconv.Itoa(ports["http"]),
		"--https-port", strconv.Itoa(ports["https"])).Output()
	if err != nil {
		return nil, fmt.Errorf("gatebridge envoy-bootstrap: %w", err)
	}
	dir := filepath.Join(c.workDir, "envoy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := envoy.Start(ctx, envoy.ProcessOptions{EnvoyPath: c.envoyPath, Bootstrap: bootstrap, WorkDir: dir, Logger: logr.Discard()})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("starting Envoy: %w", err)
	}
	return func() { _ = p.Stop(10 * time.Second); cancel() }, nil
}

// prober sends requests through Envoy's port 80.
type prober struct {
	port int
	once sync.Once
	hc   *http.Client
}

// served: GET / on host is answered 200 by the echo backend.
func (p *prober) served(host string) bool {
	p.once.Do(func() {
		p.hc = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	})
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", p.port), nil)
	if err != nil {
		return false
	}
	req.Host = host
	resp, err := p.hc.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK && resp.Header.Get(echo.HeaderServer) != ""
}

func waitFor(limit time.Duration, what string, cond func() (bool, string)) error {
	return waitForEvery(limit, 250*time.Millisecond, what, cond)
}

// waitForEvery polls cond every interval until it holds, for at most limit.
func waitForEvery(limit, interval time.Duration, what string, cond func() (bool, string)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, detail := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s; last seen: %s", limit, what, detail)
		}
		time.Sleep(interval)
	}
}

// metric is the value of the sample named exactly (labels included), -1 when absent.
func metric(metrics, name string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`)
	m := re.FindStringSubmatch(metrics)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// sum adds every sample of the metric family name.
func sum(metrics, name string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? (\S+)$`)
	total := 0.0
	for _, m := range re.FindAllStringSubmatch(metrics, -1) {
		if v, err := strconv.ParseFloat(m[2], 64); err == nil {
			total += v
		}
	}
	return total
}

func grep(s string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "; ")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// nonLoopbackIPv4 is the first IPv4 address of an interface that is up and not loopback:
// the API server refuses EndpointSlices on 127.0.0.0/8.
func nonLoopbackIPv4() (string, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip4 := ipn.IP.To4(); ip4 != nil && !ip4.IsLoopback() && !ip4.IsLinkLocalUnicast() {
					return ip4.String(), nil
				}
			}
		}
	}
	return "", errors.New("no non-loopback IPv4 address for the echo backend (the API server refuses EndpointSlices on 127.0.0.0/8)")
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// percentile is the nearest-rank percentile q (0 < q ≤ 1) of ds.
func percentile(ds []time.Duration, q float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(float64(len(s))*q+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}

func printTable(c config, r results) {
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	mib := func(kib int64) float64 { return float64(kib) / 1024 }
	p50, p99 := percentile(r.latencies, 0.50), percentile(r.latencies, 0.99)
	fmt.Printf("## gatebridge controller at scale: %d Ingresses, Services and EndpointSlices in the API server (envtest), %d migrating\n\n",
		c.ingresses, c.migrated)
	fmt.Printf("Machine: %d cores (shared); load average at start → end: %s. Objects created in %s by %d parallel clients.\n\n",
		runtime.NumCPU(), r.load, r.created.Round(time.Millisecond), c.workers)
	fmt.Println("| figure | target | measured | |")
	fmt.Println("|---|---:|---:|---|")
	fmt.Printf("| cold start → writer in sync (%d migrated, a pass without error) and Envoy serving %d sampled hosts | ≤ 60 s | %.1f s | %s |\n",
		c.migrated, c.samples, r.coldStart.Seconds(), verdict(r.coldStart <= time.Minute))
	fmt.Printf("| writes of the cold start (objects applied, Ingresses annotated with their report hash) | | %.0f | |\n", r.coldWrites)
	fmt.Printf("| annotate one Ingress → Envoy serves it, p50 of %d | ≤ 500 ms | %d ms | %s |\n",
		len(r.latencies), p50.Milliseconds(), verdict(p50 <= 500*time.Millisecond))
	fmt.Printf("| annotate one Ingress → Envoy serves it, p99 of %d (nearest rank: the slowest) | ≤ 2 s | %d ms | %s |\n",
		len(r.latencies), p99.Milliseconds(), verdict(p99 <= 2*time.Second))
	fmt.Printf("| controller RSS after the cold sync (VmRSS) | ≤ 300 MiB | %.0f MiB | %s |\n", mib(r.rssKiB), verdict(mib(r.rssKiB) <= 300))
	fmt.Printf("| controller RSS after the annotations (VmRSS); peak (VmHWM) | | %.0f MiB; peak %.0f MiB | |\n", mib(r.rssAfterChangesKiB), mib(r.hwmKiB))
	fmt.Printf("| Go heap in use (go_memstats_heap_inuse_bytes) after the cold sync; after the annotations | | %.0f MiB; %.0f MiB | |\n", r.heapMiB, r.heapAfterChangesMiB)
	fmt.Printf("| of annotate → served: informer event → every Envoy acknowledged (gatebridge_change_to_ack_seconds, mean of %d during the annotations) | | %d ms | |\n", r.changeToAckCount, r.changeToAck.Milliseconds())
	fmt.Printf("| restart in sync: owned-object writes (gatebridge_owned_object_writes_total) | 0 | %.0f | %s |\n", r.restartWrites, verdict(r.restartWrites == 0))
	fmt.Printf("| restart in sync: status writes (gatebridge_status_writes_total) | | %.0f | |\n", r.statusWrites)
	fmt.Printf("| restart → writer passed over everything | | %.1f s | |\n", r.restartReady.Seconds())
	var ms []string
	for _, d := range r.latencies {
		ms = append(ms, strconv.FormatInt(d.Milliseconds(), 10))
	}
	fmt.Printf("\nannotate → served, each (ms): %s\n", strings.Join(ms, " "))
}
