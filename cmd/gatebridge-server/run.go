package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gatebridge-dev/gatebridge/annotations"
	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/dataplane/envoy"
	"github.com/gatebridge-dev/gatebridge/dataplane/local"
	"github.com/gatebridge-dev/gatebridge/internal/cli"
	"github.com/gatebridge-dev/gatebridge/internal/memorypolicy"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
	"github.com/gatebridge-dev/gatebridge/sources"
)

type runFlags struct {
	files     multiFlag
	opts      converters.Options
	configMap string
	// read holds the input size limits (--max-document-size, --max-file-size).
	read      sources.Options
	httpPort  int
	httpsPort int
	adminPort int
	address   string
	envoy     string
	logLevel  string
	quiet     bool
	// fallback and fallbackTLS (HOST:PORT) put Envoy in front of a running ingress-nginx
	// (docs/bridge.md); empty: no bridge, everything is served natively.
	fallback, fallbackTLS string
}

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gatebridge run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f runFlags
	fs.Var(&f.files, "f", "file or directory (recursive) to serve; repeatable; watched for changes")
	fs.Var(&f.files, "filename", "same as -f")
	fs.IntVar(&f.httpPort, "http-port", 8080, "port Envoy serves the Gateway's port 80 (plain HTTP) on")
	fs.IntVar(&f.httpsPort, "https-port", 8443, "port Envoy serves the Gateway's port 443 (HTTPS, TLS passthrough) on")
	fs.IntVar(&f.adminPort, "admin-port", 9901, "Envoy admin port, on 127.0.0.1 only (/ready, /config_dump, /stats)")
	fs.StringVar(&f.address, "address", "127.0.0.1", "address Envoy's listeners bind to (0.0.0.0 for every interface)")
	fs.StringVar(&f.envoy, "envoy", "", "Envoy binary (default $"+envoy.EnvVar+", else envoy on PATH)")
	fs.StringVar(&f.logLevel, "envoy-log-level", "warning", "Envoy's log level")
	fs.BoolVar(&f.quiet, "q", false, "do not print the served routes")
	fs.StringVar(&f.opts.IngressClass, "ingress-class", "nginx", "IngressClass to serve")
	fs.BoolVar(&f.opts.IncludeUnclassed, "include-unclassed", false, "also serve Ingresses without a class")
	fs.StringVar(&f.opts.AnnotationsPrefix, "annotations-prefix", annotations.DefaultPrefix, "ingress-nginx --annotations-prefix")
	fs.StringVar(&f.opts.DefaultCertificate, "default-certificate", "", "namespace/name of the Secret for TLS hosts without secretName")
	fs.StringVar(&f.configMap, "configmap", "", "namespace/name of the ingress-nginx controller ConfigMap (default: ingress-nginx-controller if present)")
	fs.StringVar(&f.fallback, "fallback", "", "HOST:PORT of the running ingress-nginx (plain HTTP): Envoy stands in front of it and sends it, untouched, everything not served natively; only Ingresses with gatebridge.dev/migrate: \"true\" are then served natively, at their gatebridge.dev/weight")
	fs.StringVar(&f.fallbackTLS, "fallback-tls", "", "with --fallback: HOST:PORT of ingress-nginx's TLS port; TLS for hosts Envoy holds no certificate for passes through to it by SNI")
	cli.RegisterSizeFlags(fs, &f.read)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(f.files) == 0 {
		fmt.Fprintln(stderr, "gatebridge run: give the Ingresses (and Services, EndpointSlices, Secrets, Gateway API objects) to serve with -f PATH")
		return exitUsage
	}
	for _, p := range f.files {
		if p == "-" {
			fmt.Fprintln(stderr, "gatebridge run: reads files it can watch; stdin (-) is not supported")
			return exitUsage
		}
	}
	if _, err := f.bridge(); err != nil {
		fmt.Fprintf(stderr, "gatebridge run: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, f, stdout, stderr)
}

// serve runs until ctx ends (SIGINT/SIGTERM in the command).
func serve(ctx context.Context, f runFlags, stdout, stderr io.Writer) int {
	envoyPath, err := envoy.Find(f.envoy)
	if err != nil {
		fmt.Fprintf(stderr, "gatebridge run: %v\n", err)
		return exitUsage
	}
	log := funcr.New(func(prefix, args string) { fmt.Fprintln(stderr, "gatebridge run:", prefix, args) }, funcr.Options{})
	// A long-running process, paced as the controller is.
	memorypolicy.ApplyServing(log)
	r := &runner{f: f, stdout: stdout, stderr: stderr, log: log}
	if err := r.run(ctx, envoyPath); err != nil {
		fmt.Fprintf(stderr, "gatebridge run: %v\n", err)
		return exitInternal
	}
	return exitOK
}

// runner is one `gatebridge run`: the stack, the files and what was served last.
type runner struct {
	f      runFlags
	stdout io.Writer
	stderr io.Writer
	log    logr.Logger
	stack  *local.Stack
	// printed are the served lines last printed (nil before the first print).
	printed map[servedLine]bool
	// bridge is where what is not served natively goes (--fallback); nil: no bridge.
	bridge *dataplane.Bridge
}

// servedLine is one printed line of what is served.
type servedLine struct{ url, match, action, from string }

func (r *runner) run(ctx context.Context, envoyPath string) error {
	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	stack, err := local.Start(startCtx, local.Config{
		EnvoyPath:     envoyPath,
		Address:       r.f.address,
		PortMap:       map[int32]uint32{80: uint32(r.f.httpPort), 443: uint32(r.f.httpsPort)},
		AdminPort:     r.f.adminPort,
		EnvoyLogLevel: r.f.logLevel,
		EnvoyOutput:   r.stderr,
		Log:           r.log,
	})
	if err != nil {
		return fmt.Errorf("starting Envoy: %w", err)
	}
	r.stack = stack
	defer func() {
		if err := stack.Stop(10 * time.Second); err != nil {
			fmt.Fprintf(r.stderr, "gatebridge run: stopping Envoy: %v\n", err)
		}
		fmt.Fprintln(r.stderr, "gatebridge run: stopped")
	}()
	read := r.f.read
	read.ConfigMap = r.f.configMap
	if r.bridge, err = r.f.bridge(); err != nil {
		return err
	}
	srv := pipeline.NewBridgedServer(r.f.files, read, r.f.opts, r.bridge, stack)
	return srv.Watch(ctx, r.reported)
}

// bridge is the data plane's bridge the flags ask for: nil without --fallback.
func (f runFlags) bridge() (*dataplane.Bridge, error) {
	if f.fallback == "" {
		if f.fallbackTLS != "" {
			return nil, errors.New("--fallback-tls needs --fallback (the plain-HTTP port of the same ingress-nginx)")
		}
		return nil, nil
	}
	b := &dataplane.Bridge{}
	var err error
	if b.HTTP.Address, err = f.fallbackAddress("--fallback", f.fallback); err != nil {
		return nil, err
	}
	if f.fallbackTLS != "" {
		addr, err := f.fallbackAddress("--fallback-tls", f.fallbackTLS)
		if err != nil {
			return nil, err
		}
		b.TLS = &dataplane.FallbackTarget{Address: addr}
	}
	return b, nil
}

// fallbackAddress checks a fallback HOST:PORT: an IP address or a DNS name, a port from
// 1 to 65535, and not one of Envoy's own listeners (every request would loop).
func (f runFlags) fallbackAddress(flagName, v string) (string, error) {
	host, port, err := net.SplitHostPort(strings.TrimSpace(v))
	if err != nil {
		return "", fmt.Errorf("%s %q: want HOST:PORT of the running ingress-nginx, e.g. 127.0.0.1:8081 (%v)", flagName, v, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%s %q: the port must be a number from 1 to 65535", flagName, v)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		if errs := validation.IsDNS1123Subdomain(host); host == "" || len(errs) > 0 {
			return "", fmt.Errorf("%s %q: the host must be an IP address or a DNS name (%s)", flagName, v, strings.Join(errs, "; "))
		}
	}
	self := host == "localhost" || host == f.address || ip != nil && (ip.IsLoopback() || ip.IsUnspecified() || ip.Equal(net.ParseIP(f.address)))
	if self && (n == f.httpPort || n == f.httpsPort) {
		return "", fmt.Errorf("%s %q is Envoy's own listener (--http-port %d, --https-port %d): every request would loop; give the address ingress-nginx listens on", flagName, v, f.httpPort, f.httpsPort)
	}
	return net.JoinHostPort(host, port), nil
}

// bridgeLine says where the bridge points, for the startup output and the served table.
func bridgeLine(b *dataplane.Bridge) string {
	s := "bridge on: requests not served natively (Ingresses without gatebridge.dev/migrate: \"true\", refused ones, the rest of migrating ones, unknown hosts) go untouched to ingress-nginx at http://" + b.HTTP.Address
	if b.TLS != nil {
		return s + "; TLS for hosts Envoy holds no certificate for passes through by SNI to " + b.TLS.Address
	}
	return s + "; no --fallback-tls: TLS for hosts Envoy holds no certificate for fails, and HTTPS requests not served natively go there over HTTP with X-Forwarded-Proto: https"
}

// reported prints what a reload did: the input problems, what the data plane could not
// serve, the totals and what is served. A reload that failed keeps the last good
// configuration serving (pipeline.Server); the first one stops run.
func (r *runner) reported(a *pipeline.Applied, err error) {
	if a == nil {
		r.log.Error(err, "still serving the last good configuration")
		return
	}
	if a.Reload != nil && !a.Postponed {
		for _, p := range a.Reload.Loaded.Problems {
			fmt.Fprintf(r.stderr, "gatebridge run: %s: %s\n", p.Source, p.Message)
		}
	}
	if a.Output != nil {
		for _, p := range a.Output.Problems {
			fmt.Fprintf(r.stderr, "gatebridge run: %s\n", p)
		}
		t := a.Reload.Result.Report.Totals
		fmt.Fprintf(r.stderr, "gatebridge run: %d Ingresses: %d exact, %d approximate, %d need attention, %d refused, %d skipped (gatebridge report -f ... explains)\n",
			t.Ingresses, t.Exact, t.Approximate, t.Attention, t.Refused, t.Skipped)
		if r.bridge != nil {
			fmt.Fprintf(r.stderr, "gatebridge run: migration: %s (gatebridge report --bridge -f ... shows each)\n", migrationCounts(&a.Reload.Result.Report))
			for _, line := range bridgeWarnings(&a.Reload.Result.Report) {
				fmt.Fprintf(r.stderr, "gatebridge run: %s\n", line)
			}
		}
		if !r.f.quiet {
			r.printServed(a.Output.Served())
		}
	}
	switch {
	case err != nil && a.First:
		// Returned by Watch: run stops and says why.
	case err != nil:
		r.log.Error(err, "still serving the last good configuration")
	case a.Postponed:
		r.log.Info("files changed while they were read; reading them again before serving")
	case a.First:
		r.log.Info("serving", "version", a.Version)
		fmt.Fprintf(r.stderr, "gatebridge run: serving http://%s:%d and https://%s:%d; Envoy admin %s (GET /ready); watching %s; Ctrl-C stops\n",
			r.f.address, r.f.httpPort, r.f.address, r.f.httpsPort, r.stack.AdminURL(), strings.Join(r.f.files, ", "))
		if r.bridge != nil {
			fmt.Fprintf(r.stderr, "gatebridge run: %s\n", bridgeLine(r.bridge))
		}
	case a.Output == nil:
		r.log.Info("endpoints updated; serving", "version", a.Version)
	default:
		r.log.Info("serving", "version", a.Version)
	}
}

// printServed prints what is served, one line per host and match: everything the first
// time, then only the lines a reload added (+) or removed (-) — with 10,000 routes, the
// whole table again on every edit would bury the change.
func (r *runner) printServed(served []dataplane.Served) {
	sort.SliceStable(served, func(i, j int) bool {
		if served[i].Listener != served[j].Listener {
			return served[i].Listener < served[j].Listener
		}
		return served[i].Host < served[j].Host
	})
	lines := make([]servedLine, len(served))
	now := make(map[servedLine]bool, len(served))
	for i, s := range served {
		lines[i] = servedLine{r.urlOf(s), s.Match, s.Action, s.Route}
		now[lines[i]] = true
	}
	prev := r.printed
	r.printed = now
	tw := tabwriter.NewWriter(r.stdout, 2, 4, 2, ' ', 0)
	defer tw.Flush()
	if prev == nil {
		if r.bridge != nil {
			fmt.Fprintf(r.stdout, "# %s\n", bridgeLine(r.bridge))
		}
		fmt.Fprintln(tw, "URL\tMATCH\tACTION\tFROM")
		for _, l := range lines {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.url, l.match, l.action, l.from)
		}
		return
	}
	var removed []servedLine
	for l := range prev {
		if !now[l] {
			removed = append(removed, l)
		}
	}
	slices.SortFunc(removed, func(a, b servedLine) int {
		return cmp.Or(cmp.Compare(a.url, b.url), cmp.Compare(a.match, b.match), cmp.Compare(a.action, b.action), cmp.Compare(a.from, b.from))
	})
	changes := 0
	for _, l := range removed {
		fmt.Fprintf(tw, "- %s\t%s\t%s\t%s\n", l.url, l.match, l.action, l.from)
		changes++
	}
	for _, l := range lines {
		if !prev[l] {
			fmt.Fprintf(tw, "+ %s\t%s\t%s\t%s\n", l.url, l.match, l.action, l.from)
			changes++
		}
	}
	if changes == 0 {
		fmt.Fprintln(tw, "(what is served did not change)")
	}
}

func (r *runner) urlOf(s dataplane.Served) string {
	switch {
	case strings.HasSuffix(s.Listener, "/443") || strings.Contains(s.Listener, "/https"):
		return fmt.Sprintf("https://%s:%d", s.Host, r.f.httpsPort)
	case strings.HasSuffix(s.Listener, "/80"):
		return fmt.Sprintf("http://%s:%d", s.Host, r.f.httpPort)
	}
	if s.Match == "TLS passthrough" {
		return fmt.Sprintf("tls://%s:%d", s.Host, r.f.httpsPort)
	}
	return s.Listener + " " + s.Host
}

// migrationCounts counts the Ingresses per migration state: "1 native, 2 migrating, …".
func migrationCounts(rep *converters.Report) string {
	n := map[converters.MigrationState]int{}
	for _, i := range rep.Ingresses {
		if i.Migration != nil {
			n[i.Migration.State]++
		}
	}
	return fmt.Sprintf("%d native, %d migrating, %d observed (served by ingress-nginx), %d refused",
		n[converters.MigrationNative], n[converters.MigrationMigrating], n[converters.MigrationObserved], n[converters.MigrationRefused])
}

// bridgeWarnings are the warnings on the bridge's own annotations (an invalid
// gatebridge.dev/weight or sticky), one line each: a user stepping a weight sees at once
// that the step did not take and which weight is served instead.
func bridgeWarnings(rep *converters.Report) []string {
	var out []string
	for i := range rep.Ingresses {
		ir := &rep.Ingresses[i]
		for _, f := range ir.Findings {
			if f.Severity != converters.SeverityWarning || (f.Annotation != gbv1.WeightAnnotation && f.Annotation != gbv1.StickyAnnotation) {
				continue
			}
			out = append(out, fmt.Sprintf("%s/%s: %s %q %s", ir.Namespace, ir.Name, f.Annotation, f.Value, f.Message))
		}
	}
	return out
}
