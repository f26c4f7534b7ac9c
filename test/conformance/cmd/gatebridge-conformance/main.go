// Command gatebridge-conformance runs the official Gateway API conformance suite against
// gatebridge on a machine without a container runtime (`make conformance`): it starts
// etcd, kube-apiserver and kube-controller-manager as processes, the process kubelet,
// `gatebridge controller` and a real Envoy joined over xDS, creates the GatewayClass,
// runs the suite (TestConformance in this module) with --conformance-profiles and
// --report-output, and prints a table of test, feature and result.
//
// It needs root (network namespaces) and the binaries hack/conformance.sh builds; run it
// from test/conformance:
//
//	eval "$(../../hack/conformance.sh)"
//	GATEBRIDGE_ENVOY="$(../../hack/envoy.sh)" go run ./cmd/gatebridge-conformance [flags] [-- suite flags]
//
// Flags after -- go to the suite unchanged, e.g. -- --run-test=HTTPRouteSimpleSameNamespace,
// --fail-fast, --skip-tests=… or --timeout-config-overrides='…'.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/test/conformance/harness"
)

// controllerName is what gatebridge serves; the suite's GatewayClass names it.
const controllerName = "gatebridge.dev/gateway-controller"

// The Gateways' addresses: the pool the controller hands out (all of 127/8 is local), and
// for GatewayStaticAddresses one address the pool holds (usable) and one it does not.
const (
	addressPool     = "127.0.1.0/24"
	usableAddress   = "127.0.1.254"
	unusableAddress = "127.0.2.254"
)

type options struct {
	workDir      string
	report       string
	gatewayClass string
	channel      string
	profiles     string
	envoy        string
	timeout      time.Duration
	keep         bool
	suiteArgs    []string
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var o options
	fs := flag.NewFlagSet("gatebridge-conformance", flag.ContinueOnError)
	fs.StringVar(&o.workDir, "work-dir", "", "directory for the cluster's data, logs and the suite's output, relative to the repository (default: .cache/conformance/run; emptied first)")
	fs.StringVar(&o.report, "report", "", "where the suite writes its ConformanceReport YAML, relative to the repository (default: .cache/conformance/report.yaml; the committed one is conformance/reports/v1.6.3/gatebridge.yaml)")
	fs.StringVar(&o.gatewayClass, "gateway-class", "gatebridge-conformance", "GatewayClass the harness creates (controllerName "+controllerName+") and the suite uses")
	fs.StringVar(&o.channel, "channel", "experimental", "Gateway API CRD channel: experimental (the v1.6.3 module's config/crd/experimental; the default, since gatebridge claims HTTPRouteRetry, whose rules[].retry only that channel carries) or standard (manifests/gateway-api)")
	fs.StringVar(&o.profiles, "profiles", "GATEWAY-HTTP", "--conformance-profiles for the suite")
	fs.StringVar(&o.envoy, "envoy", os.Getenv("GATEBRIDGE_ENVOY"), "Envoy binary (default $GATEBRIDGE_ENVOY; hack/envoy.sh prints it)")
	fs.DurationVar(&o.timeout, "timeout", 40*time.Minute, "go test -timeout of the suite (keeps a run within CI's budget while many tests still fail on their timeouts)")
	fs.BoolVar(&o.keep, "keep", false, "keep everything running after the suite until interrupted (KUBECONFIG is printed)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.suiteArgs = fs.Args()

	if err := harness.CheckRoot(); err != nil {
		fmt.Fprintf(os.Stderr, "gatebridge-conformance: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	code, err := runHarness(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatebridge-conformance: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func logf(format string, args ...any) {
	fmt.Printf("[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func runHarness(ctx context.Context, o options) (int, error) {
	total := time.Now()
	root, err := harness.RepoRoot(".")
	if err != nil {
		return 2, err
	}
	moduleDir := filepath.Join(root, "test", "conformance")
	if o.workDir == "" {
		o.workDir = filepath.Join(root, ".cache", "conformance", "run")
	}
	if o.report == "" {
		o.report = filepath.Join(root, ".cache", "conformance", "report.yaml")
	}
	// Relative paths are the repository's (make runs this from test/conformance).
	for _, p := range []*string{&o.workDir, &o.report} {
		if !filepath.IsAbs(*p) {
			*p = filepath.Join(root, *p)
		}
	}
	if o.envoy == "" {
		return 2, errors.New("no Envoy: pass --envoy or set GATEBRIDGE_ENVOY (hack/envoy.sh prints the path)")
	}
	crdDir, err := gatewayAPICRDs(moduleDir, root, o.channel)
	if err != nil {
		return 2, err
	}
	bins, err := harness.FindBinaries(root)
	if err != nil {
		return 2, err
	}
	unlock, err := harness.Lock()
	if err != nil {
		return 2, err
	}
	defer unlock()
	if err := os.RemoveAll(o.workDir); err != nil {
		return 2, err
	}
	if err := os.MkdirAll(filepath.Join(o.workDir, "logs"), 0o755); err != nil {
		return 2, err
	}
	if err := os.MkdirAll(filepath.Dir(o.report), 0o755); err != nil {
		return 2, err
	}

	// Compile the suite first: a build error should not cost a cluster start.
	suiteBin := filepath.Join(o.workDir, "conformance.test")
	t := time.Now()
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", suiteBin, ".")
	build.Dir = moduleDir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 2, fmt.Errorf("compiling the suite: %w", err)
	}
	logf("suite compiled in %s", time.Since(t).Round(time.Millisecond))

	t = time.Now()
	cluster, err := harness.StartCluster(ctx, harness.ClusterOptions{
		AssetsDir: bins.AssetsDir,
		WorkDir:   o.workDir,
		CRDDirs:   []string{crdDir, filepath.Join(root, "manifests", "crds")},
		Logf:      logf,
	})
	if err != nil {
		return 1, err
	}
	defer cluster.Stop()
	kubelet, err := harness.StartKubelet(ctx, cluster.Config, harness.KubeletOptions{
		EchoBasic: bins.EchoBasic,
		WorkDir:   o.workDir,
		Logf:      kubeletLog(filepath.Join(o.workDir, "logs", "kubelet.log")),
	})
	if err != nil {
		return 1, err
	}
	defer kubelet.Stop()
	logf("cluster (%s CRDs) and kubelet up in %s; KUBECONFIG=%s", o.channel, time.Since(t).Round(time.Millisecond), cluster.Kubeconfig)

	gb, err := startGatebridge(ctx, bins.Gatebridge, o.envoy, cluster, o.workDir)
	if err != nil {
		return 1, err
	}
	defer gb.stop()

	claimed, err := createGatewayClass(ctx, cluster, o.gatewayClass)
	if err != nil {
		return 1, err
	}
	if slices.Contains(claimed, "GatewayStaticAddresses") && !hasSuiteFlag(o.suiteArgs, "usable-address") {
		o.suiteArgs = append([]string{"--usable-address=" + usableAddress, "--unusable-address=" + unusableAddress}, o.suiteArgs...)
	}

	t = time.Now()
	logf("running the suite (log: %s)", filepath.Join(o.workDir, "suite.log"))
	results, suiteErr := runSuite(ctx, suiteBin, moduleDir, cluster.Kubeconfig, o)
	logf("suite finished in %s", time.Since(t).Round(time.Second))
	if err := cluster.Check(); err != nil {
		logf("WARNING: %v", err)
	}
	if err := gb.check(); err != nil {
		logf("WARNING: %v", err)
	}

	rows := tableRows(o.profiles, results)
	printTable(os.Stdout, rows)
	tableFile := filepath.Join(o.workDir, "table.md")
	if err := writeMarkdownTable(tableFile, rows); err != nil {
		logf("WARNING: %v", err)
	} else {
		logf("table for the README: %s", tableFile)
	}
	if _, err := os.Stat(o.report); err == nil {
		logf("report: %s", o.report)
	} else {
		logf("the suite wrote no report (it stopped before running tests; see %s)", filepath.Join(o.workDir, "suite.log"))
	}
	logf("logs: %s (etcd, kube-apiserver, kube-controller-manager, kubelet, gatebridge, envoy); Pod logs under %s",
		filepath.Join(o.workDir, "logs"), filepath.Join(o.workDir, "pods"))
	logf("total %s", time.Since(total).Round(time.Second))

	if o.keep {
		logf("--keep: running until interrupted; export KUBECONFIG=%s", cluster.Kubeconfig)
		<-ctx.Done()
	}
	if suiteErr != nil {
		return 1, suiteErr
	}
	return 0, nil
}

// gatewayAPICRDs is the directory of the Gateway API CRDs of the channel: the standard
// ones the repository ships, or the experimental ones of the pinned module.
func gatewayAPICRDs(moduleDir, root, channel string) (string, error) {
	switch channel {
	case "standard":
		return filepath.Join(root, "manifests", "gateway-api"), nil
	case "experimental":
		cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
		cmd.Dir = moduleDir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("locating sigs.k8s.io/gateway-api in the module cache: %w", err)
		}
		dir := filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "experimental")
		if _, err := os.Stat(dir); err != nil {
			return "", err
		}
		return dir, nil
	}
	return "", fmt.Errorf("--channel %q: want standard or experimental", channel)
}

// kubeletLog writes the kubelet's lines to a file (23+ Pods are too chatty for stdout).
func kubeletLog(path string) func(string, ...any) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return logf
	}
	return func(format string, args ...any) {
		fmt.Fprintf(f, "%s %s\n", time.Now().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
	}
}

type gatebridgeProcs struct {
	controller, envoy *harness.Process
}

func (g *gatebridgeProcs) stop() {
	g.envoy.Stop(5 * time.Second)
	g.controller.Stop(10 * time.Second)
}

func (g *gatebridgeProcs) check() error {
	for _, p := range []*harness.Process{g.controller, g.envoy} {
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("%s exited (%v); see %s", p.Name, err, p.LogFile)
		}
	}
	return nil
}

// startGatebridge starts `gatebridge controller` on the harness's cluster and an Envoy
// joined to its xDS server through `gatebridge envoy-bootstrap`.
func startGatebridge(ctx context.Context, bin, envoy string, cluster *harness.Cluster, workDir string) (_ *gatebridgeProcs, err error) {
	logDir := filepath.Join(workDir, "logs")
	ports, err := harness.FreePorts(5)
	if err != nil {
		return nil, err
	}
	metricsPort, healthPort, xdsPort, authzPort, adminPort := ports[0], ports[1], ports[2], ports[3], ports[4]
	args := []string{"controller",
		"--kubeconfig", cluster.Kubeconfig,
		"--bind-address", "127.0.0.1",
		"--metrics-port", fmt.Sprint(metricsPort),
		"--health-port", fmt.Sprint(healthPort),
		"--xds-port", fmt.Sprint(xdsPort),
		"--authz-port", fmt.Sprint(authzPort),
		"--log-format", "text",
	}
	// Each Gateway of the class needs its own address; the controller takes them from a
	// pool once it has the flag (all of 127/8 is local).
	if controllerHasFlag(bin, "gateway-address-pool") {
		args = append(args, "--gateway-address-pool", addressPool)
	} else {
		logf("WARNING: `gatebridge controller` has no --gateway-address-pool yet: Gateways get no address of their own")
	}
	// The controller always writes its shared Gateway (for migrated Ingresses) into
	// gatebridge-system and retries without end while that namespace is missing.
	cs, err := cluster.Clientset()
	if err != nil {
		return nil, err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gatebridge-system"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	g := &gatebridgeProcs{}
	defer func() {
		if err != nil {
			g.stop()
		}
	}()
	if g.controller, err = harness.StartProcess("gatebridge", logDir, nil, bin, args...); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/readyz", healthPort), g.controller, time.Minute); err != nil {
		return nil, err
	}
	logf("gatebridge controller ready (xDS on 127.0.0.1:%d; log %s)", xdsPort, g.controller.LogFile)

	bootstrap := filepath.Join(workDir, "envoy-bootstrap.yaml")
	out, err := exec.CommandContext(ctx, bin, "envoy-bootstrap",
		"--xds-server", fmt.Sprintf("127.0.0.1:%d", xdsPort),
		"--admin-port", fmt.Sprint(adminPort),
		// The harness runs as root: Envoy binds the Gateways' own ports.
		"--http-port", "80", "--https-port", "443",
	).Output()
	if err != nil {
		return nil, fmt.Errorf("gatebridge envoy-bootstrap: %w", err)
	}
	if err := os.WriteFile(bootstrap, out, 0o644); err != nil {
		return nil, err
	}
	if g.envoy, err = harness.StartProcess("envoy", logDir, nil, envoy,
		"--config-path", bootstrap, "--disable-hot-restart", "--log-level", "warn", "--concurrency", "2"); err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/server_info", adminPort), g.envoy, 30*time.Second); err != nil {
		return nil, err
	}
	logf("Envoy running (admin 127.0.0.1:%d; log %s)", adminPort, g.envoy.LogFile)
	return g, nil
}

// controllerHasFlag says whether `gatebridge controller --help` lists -name.
func controllerHasFlag(bin, name string) bool {
	out, _ := exec.Command(bin, "controller", "--help").CombinedOutput()
	return helpListsFlag(out, name)
}

// helpListsFlag says whether Go flag usage text lists -name (with a value or a bool).
func helpListsFlag(help []byte, name string) bool {
	return regexp.MustCompile(`(?m)^\s+--?` + regexp.QuoteMeta(name) + `(\s|$)`).Match(help)
}

func waitHTTP(ctx context.Context, url string, p *harness.Process, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if exited, werr := p.Exited(); exited {
			return fmt.Errorf("%s exited (%v); see %s", p.Name, werr, p.LogFile)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s: %s did not answer 200 within %s; see %s", p.Name, url, timeout, p.LogFile)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// hasSuiteFlag says whether args set the suite flag name.
func hasSuiteFlag(args []string, name string) bool {
	for _, a := range args {
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// createGatewayClass creates the suite's GatewayClass and waits (bounded) until
// gatebridge accepts it: the suite reads status.supportedFeatures once, at its start. It
// returns the features the class claims.
func createGatewayClass(ctx context.Context, cluster *harness.Cluster, name string) ([]string, error) {
	c, err := client.New(cluster.Config, client.Options{})
	if err != nil {
		return nil, err
	}
	if err := gatewayv1.Install(c.Scheme()); err != nil {
		return nil, err
	}
	gc := &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: controllerName},
	}
	if err := c.Create(ctx, gc); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating GatewayClass %s: %w", name, err)
	}
	// 60 s for Accepted; once accepted, a few seconds more for supportedFeatures.
	deadline := time.Now().Add(60 * time.Second)
	acceptedAt := time.Time{}
	for {
		if err := c.Get(ctx, client.ObjectKey{Name: name}, gc); err != nil {
			return nil, err
		}
		var claimed []string
		for _, f := range gc.Status.SupportedFeatures {
			claimed = append(claimed, string(f.Name))
		}
		accepted := meta.FindStatusCondition(gc.Status.Conditions, string(gatewayv1.GatewayClassConditionStatusAccepted))
		isAccepted := accepted != nil && accepted.Status == metav1.ConditionTrue && accepted.ObservedGeneration == gc.Generation
		if isAccepted && len(gc.Status.SupportedFeatures) > 0 {
			logf("GatewayClass %s Accepted with %d supportedFeatures: %s", name, len(claimed), strings.Join(claimed, ","))
			return claimed, nil
		}
		if isAccepted && acceptedAt.IsZero() {
			acceptedAt = time.Now()
		}
		if time.Now().After(deadline) || ctx.Err() != nil || (!acceptedAt.IsZero() && time.Since(acceptedAt) > 5*time.Second) {
			state := "no Accepted condition"
			if accepted != nil {
				state = fmt.Sprintf("Accepted=%s (%s) at generation %d of %d", accepted.Status, accepted.Reason, accepted.ObservedGeneration, gc.Generation)
			}
			logf("WARNING: GatewayClass %s (controllerName %s): %s, %d supportedFeatures; "+
				"the suite needs both (with no supportedFeatures it stops at once: \"no supported features were determined\")",
				name, controllerName, state, len(claimed))
			return claimed, nil
		}
		time.Sleep(500 * time.Millisecond)
	}
}
