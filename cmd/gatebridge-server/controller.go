package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/client/config"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gatebridge-dev/gatebridge/annotations"
	"github.com/gatebridge-dev/gatebridge/controllers"
	"github.com/gatebridge-dev/gatebridge/internal/cli"
	"github.com/gatebridge-dev/gatebridge/internal/memorypolicy"
)

type controllerFlags struct {
	kubeconfig      string
	metricsPort     int
	healthPort      int
	xdsPort         int
	authzPort       int
	bindAddress     string
	leaderElect     bool
	leaderNamespace string
	configMap       string
	logFormat       string
	logLevel        string
	mgr             controllers.ManagerOptions
}

// managersPerProcess is set by this package's tests, which run the command more than once
// in one process (go test -count=N): controller-runtime refuses a controller name that the
// process registered before. The command itself starts one manager.
var managersPerProcess = 1

func runController(args []string, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return runControllerContext(ctx, args, stderr)
}

// runControllerContext runs the controller until ctx ends (SIGINT/SIGTERM for the command).
func runControllerContext(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gatebridge controller", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f controllerFlags
	conv := &f.mgr.Writer.Converter
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster configuration, else $KUBECONFIG or ~/.kube/config)")
	fs.IntVar(&f.metricsPort, "metrics-port", 8080, "port of the Prometheus /metrics endpoint (0: off)")
	fs.IntVar(&f.healthPort, "health-port", 8081, "port of /healthz and /readyz (0: off)")
	fs.IntVar(&f.xdsPort, "xds-port", 18000, "port of the xDS (ADS) server Envoys join, on every replica (0: serve no Envoy)")
	fs.IntVar(&f.authzPort, "authz-port", 18001, "port of the ext_authz service Envoys ask for basic and external auth (0: none; such routes answer 503)")
	fs.StringVar(&f.mgr.Serve.AdvertisedAuthzAddress, "authz-address", "", "host:port Envoys reach the auth service at (default: the address an Envoy reached the xDS server at, with --authz-port)")
	fs.BoolVar(&f.mgr.Profiling, "profiling", false, "serve Go's /debug/pprof/ profiles on the metrics port (heap, CPU; for investigations)")
	fs.StringVar(&f.bindAddress, "bind-address", "", "address the metrics and health ports listen on (default: every interface)")
	fs.BoolVar(&f.leaderElect, "leader-elect", false, "elect one writing replica through a Lease (run 2 or more replicas with it)")
	fs.StringVar(&f.leaderNamespace, "leader-election-namespace", "", "namespace of the Lease (default: --gateway-namespace)")
	fs.DurationVar(&f.mgr.LeaseDuration, "leader-election-lease-duration", 0, "how long followers wait before taking a Lease its holder stopped renewing (default 15s)")
	fs.DurationVar(&f.mgr.RenewDeadline, "leader-election-renew-deadline", 0, "how long the leader retries renewing before it gives up leading (default 10s; below the lease duration)")
	fs.DurationVar(&f.mgr.RetryPeriod, "leader-election-retry-period", 0, "how often replicas try to take or renew the Lease (default 2s)")
	fs.StringVar(&conv.IngressClass, "ingress-class", "nginx", "IngressClass whose Ingresses are assessed and may be migrated")
	fs.BoolVar(&conv.IncludeUnclassed, "include-unclassed", false, "also convert Ingresses without a class")
	fs.StringVar(&conv.AnnotationsPrefix, "annotations-prefix", annotations.DefaultPrefix, "ingress-nginx --annotations-prefix")
	fs.StringVar(&conv.GatewayName, "gateway-name", "gatebridge", "name of the shared Gateway")
	fs.StringVar(&conv.GatewayNamespace, "gateway-namespace", "gatebridge-system", "namespace of the shared Gateway")
	fs.StringVar(&conv.GatewayClassName, "gateway-class", "gatebridge", "GatewayClass of the shared Gateway")
	fs.StringVar(&conv.DefaultCertificate, "default-certificate", "", "namespace/name of the Secret for TLS hosts without secretName")
	fs.StringVar(&f.configMap, "configmap", "", "namespace/name of the ingress-nginx controller ConfigMap (global defaults)")
	fs.StringVar(&f.mgr.Writer.EnvoyService, "envoy-service", controllers.DefaultEnvoyService, "namespace/name of the Envoy fleet's Service: its address (load balancer, else cluster IP) is the Gateway's status.addresses and the status.loadBalancer of gatebridge-class Ingresses")
	fs.StringVar(&f.mgr.Writer.GatewayAddress, "gateway-address", "", "IP address or hostname to report as the Gateway's and gatebridge-class Ingresses' address instead of the Envoy Service's (runs outside a cluster)")
	fs.StringVar(&f.mgr.Writer.GatewayAddressPool, "gateway-address-pool", "", "CIDR (e.g. 127.0.1.0/24, for local and test runs) from which each Gateway of gatebridge's classes gets an address of its own: Envoy binds it for the Gateway's listener ports and it is the Gateway's status.addresses (spec.addresses inside the pool are honoured); Envoy must be able to bind the pool's addresses")
	fs.StringVar(&f.mgr.Writer.Fallback, "fallback", "", "put the shared Gateway in front of the running ingress-nginx (the bridge, docs/bridge.md): namespace/name[:port] of its controller Service (port: a number or a name; default 80, else \"http\") or host:port. Only Ingresses annotated gatebridge.dev/migrate: \"true\" (or of the gatebridge IngressClass) are then served natively, at their gatebridge.dev/weight; everything else goes there untouched")
	fs.StringVar(&f.mgr.Writer.FallbackTLS, "fallback-tls", "", "with --fallback: where TLS connections for hosts Envoy holds no certificate for go, by SNI: namespace/name[:port] (default 443, else \"https\") or host:port (default: the --fallback Service's 443 or \"https\" port, if it has one)")
	fs.StringVar(&f.logFormat, "log-format", "json", "log format: json or text")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: info or debug")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gatebridge controller: unexpected arguments %v\n", fs.Args())
		return exitUsage
	}
	logger, err := newControllerLogger(stderr, f.logFormat, f.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "gatebridge controller: %v\n", err)
		return exitUsage
	}
	memorypolicy.ApplyServing(logger)
	for name, port := range map[string]int{"--metrics-port": f.metricsPort, "--health-port": f.healthPort, "--xds-port": f.xdsPort, "--authz-port": f.authzPort} {
		if port < 0 || port > 65535 {
			fmt.Fprintf(stderr, "gatebridge controller: %s %d is not a port (0 turns it off)\n", name, port)
			return exitUsage
		}
	}
	if err := checkLeaseTimings(f.mgr.LeaseDuration, f.mgr.RenewDeadline, f.mgr.RetryPeriod); err != nil {
		fmt.Fprintf(stderr, "gatebridge controller: %v\n", err)
		return exitUsage
	}
	if err := f.mgr.Writer.CheckFallback(); err != nil {
		fmt.Fprintf(stderr, "gatebridge controller: %v\n", err)
		return exitUsage
	}
	f.mgr.Writer.ConfigMap = f.configMap
	f.mgr.MetricsAddress = listenAddress(f.bindAddress, f.metricsPort)
	f.mgr.HealthAddress = listenAddress(f.bindAddress, f.healthPort)
	if f.xdsPort != 0 {
		f.mgr.Serve.XDSAddress = net.JoinHostPort(f.bindAddress, strconv.Itoa(f.xdsPort))
		if f.authzPort != 0 {
			f.mgr.Serve.AuthzAddress = net.JoinHostPort(f.bindAddress, strconv.Itoa(f.authzPort))
		}
	}
	f.mgr.LeaderElection = f.leaderElect
	f.mgr.LeaderElectionNamespace = f.leaderNamespace
	f.mgr.Logger = logger
	// controller-runtime and client-go (leader election, the event broadcaster) log
	// through these.
	ctrllog.SetLogger(logger)
	klog.SetLogger(logger)

	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		fmt.Fprintf(stderr, "gatebridge controller: %v\n", err)
		return exitUsage
	}
	f.mgr.SkipControllerNameValidation = managersPerProcess > 1
	mgr, err := controllers.NewManager(cfg, f.mgr)
	if err != nil {
		fmt.Fprintf(stderr, "gatebridge controller: %v\n", err)
		return exitUsage
	}
	logger.Info("starting", "version", cli.Version, "gateway", conv.GatewayNamespace+"/"+conv.GatewayName, "ingressClass", conv.IngressClass,
		"fallback", f.mgr.Writer.Fallback, "fallbackTLS", f.mgr.Writer.FallbackTLS,
		"leaderElection", f.leaderElect, "metrics", f.mgr.MetricsAddress, "health", f.mgr.HealthAddress,
		"xds", f.mgr.Serve.XDSAddress, "authz", f.mgr.Serve.AuthzAddress)
	if err := mgr.Start(ctx); err != nil {
		logger.Error(err, "the controller stopped")
		return exitInternal
	}
	return exitOK
}

// checkLeaseTimings refuses leader-election timings client-go's elector would refuse only
// once the manager starts: lease duration > renew deadline > 1.2 × retry period (its
// jitter factor), each positive; 0 stands for controller-runtime's default.
func checkLeaseTimings(lease, renew, retry time.Duration) error {
	if lease < 0 || renew < 0 || retry < 0 {
		return errors.New("--leader-election-lease-duration, --renew-deadline and --retry-period must not be negative")
	}
	orDefault := func(d, def time.Duration) time.Duration {
		if d == 0 {
			return def
		}
		return d
	}
	lease, renew, retry = orDefault(lease, 15*time.Second), orDefault(renew, 10*time.Second), orDefault(retry, 2*time.Second)
	if lease <= renew {
		return fmt.Errorf("--leader-election-lease-duration %s must be longer than --leader-election-renew-deadline %s", lease, renew)
	}
	if float64(renew) <= 1.2*float64(retry) {
		return fmt.Errorf("--leader-election-renew-deadline %s must be longer than 1.2 × --leader-election-retry-period %s", renew, retry)
	}
	return nil
}

func listenAddress(host string, port int) string {
	if port == 0 {
		return "0"
	}
	return host + ":" + strconv.Itoa(port)
}

// restConfig reads kubeconfig, or finds the configuration as kubectl does (in-cluster,
// $KUBECONFIG, ~/.kube/config). Client-side rate limiting is left off: the API server's
// priority and fairness does that job (controller-runtime's default).
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		cfg, err := ctrlconfig.GetConfig()
		if err != nil {
			return nil, fmt.Errorf("finding the cluster (give --kubeconfig): %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %s: %w", kubeconfig, err)
	}
	if cfg.QPS == 0 {
		cfg.QPS = -1
	}
	return cfg, nil
}

// newControllerLogger is a structured logger (logr over log/slog) on w.
func newControllerLogger(w io.Writer, format, level string) (logr.Logger, error) {
	opts := &slog.HandlerOptions{}
	switch level {
	case "info":
		opts.Level = slog.LevelInfo
	case "debug":
		opts.Level = slog.Level(-4) // logr's V(4) and above are quieter than that
	default:
		return logr.Logger{}, fmt.Errorf("--log-level %q: want info or debug", level)
	}
	switch format {
	case "json":
		return logr.FromSlogHandler(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return logr.FromSlogHandler(slog.NewTextHandler(w, opts)), nil
	}
	return logr.Logger{}, fmt.Errorf("--log-format %q: want json or text", format)
}
