package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/annotations"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/emit"
	"github.com/gatebridge-dev/gatebridge/report"
	"github.com/gatebridge-dev/gatebridge/sources"
)

// convertFlags are shared by convert and report.
type convertFlags struct {
	files         MultiFlag
	output        string
	opts          converters.Options
	configMap     string
	kubeconfig    string
	namespace     string
	allNamespaces bool
	failOn        string
	reportFile    string
	// read holds the input size limits (--max-document-size, --max-file-size).
	read sources.Options
	// validate: check the output against the CRDs before writing it (validate.go).
	validate bool
}

func (f *convertFlags) register(fs *flag.FlagSet, isReport bool) {
	fs.Var(&f.files, "f", "file, directory (recursive) or - for stdin; repeatable")
	fs.Var(&f.files, "filename", "same as -f")
	if isReport {
		fs.StringVar(&f.output, "o", "table", "output format: table, json, markdown, html")
		fs.StringVar(&f.failOn, "fail-on", "", "exit 3 if any Ingress is at least this bad: approximate, needs-attention, refused; exit 4 if an input problem was found")
		fs.BoolVar(&f.opts.Bridge, "bridge", false, "show each Ingress's migration state behind the bridge (observed, migrating N%, native, refused), as run --fallback and the controller with a fallback serve them")
	} else {
		fs.StringVar(&f.output, "o", "yaml", "output format: yaml, json")
		fs.StringVar(&f.reportFile, "report", "", "also write the JSON report to this file")
	}
	fs.BoolVar(&f.opts.Portable, "portable", false, "standard Gateway API kinds only (standard channel): leave out gatebridge's TrafficPolicy and RouteFilter, and the ingress-nginx defaults policy; a finding on each Ingress says what is lost (docs/portable.md)")
	fs.StringVar(&f.opts.IngressClass, "ingress-class", "nginx", "IngressClass to convert")
	fs.BoolVar(&f.opts.IncludeUnclassed, "include-unclassed", false, "also convert Ingresses without a class")
	fs.StringVar(&f.opts.AnnotationsPrefix, "annotations-prefix", annotations.DefaultPrefix, "ingress-nginx --annotations-prefix")
	fs.StringVar(&f.opts.GatewayName, "gateway-name", "gatebridge", "name of the shared Gateway")
	fs.StringVar(&f.opts.GatewayNamespace, "gateway-namespace", "gatebridge-system", "namespace of the shared Gateway")
	fs.StringVar(&f.opts.GatewayClassName, "gateway-class", "gatebridge", "GatewayClass of the shared Gateway")
	fs.StringVar(&f.opts.DefaultCertificate, "default-certificate", "", "namespace/name of the Secret for TLS hosts without secretName (ingress-nginx --default-ssl-certificate)")
	fs.StringVar(&f.configMap, "configmap", "", "namespace/name of the ingress-nginx controller ConfigMap (default: ingress-nginx-controller if present)")
	registerSizeFlags(fs, &f.read)
	registerValidateFlag(fs, &f.validate, isReport)
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "read from this cluster instead of files")
	fs.StringVar(&f.namespace, "n", "", "with --kubeconfig: only this namespace")
	fs.BoolVar(&f.allNamespaces, "A", false, "with --kubeconfig: all namespaces (the default)")
}

// The garbage collector's pace (GOGC) while convert and report decode their input, and
// afterwards (see runConvert).
const (
	decodeGCPercent  = 150
	convertGCPercent = 75
)

// A large streamed conversion (converters.TradesTimeForMemory: from 2,000 Ingresses) runs
// under a soft memory limit of conversionMemoryFactor times its decoded input plus
// conversionMemorySlack. Its live heap grows steadily to ~2.4x the decoded input at its
// end (the input, the encoded output, the reports and the listener plan; 50,000
// Ingresses: 112 MiB decoded, ~270 MiB at the end), where GOGC 75 alone let the heap reach
// 1.75x that: 50,000 Ingresses peaked at ~590 MiB RSS. Under the limit the collector runs
// more often near the end instead: ~385 MiB for ~10% more time. An input whose conversion
// needs more than the limit is not stopped: Go's collector then takes at most half the CPU
// and the heap grows past the limit (slower, not failing).
const (
	conversionMemoryFactor = 2.8
	conversionMemorySlack  = 16 << 20
)

// limitConversionMemory sets the soft memory limit of a large streamed conversion (above)
// from the live heap once the input is decoded, unless GOMEMLIMIT is set; the returned
// function puts the previous limit back.
func limitConversionMemory() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	runtime.GC() // the decoded input alone, measured
	limit := int64(float64(liveHeap())*conversionMemoryFactor) + conversionMemorySlack
	prev := debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(prev) }
}

// liveHeap is the heap the last garbage collection found live.
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

func runConvert(args []string, stdin io.Reader, stdout, stderr io.Writer, isReport bool) int {
	// A one-shot batch job, whose peak memory is the converter's, at the end of conversion
	// (5,000 Ingresses: ~70 MB live). While the input is decoded, little is live (the
	// decoded objects: ~3 KB an Ingress with its Service) and the YAML decoder makes a lot
	// of short-lived garbage: collecting less often then saves ~10% CPU time without
	// raising the peak. Conversion and output collect more often than the default, which
	// keeps that peak lower for ~2% more time; a large conversion also runs under a memory
	// limit (limitConversionMemory). GOGC in the environment wins over all of it.
	gcSet := os.Getenv("GOGC") == ""
	if gcSet {
		debug.SetGCPercent(decodeGCPercent)
	}
	name := map[bool]string{true: "report", false: "convert"}[isReport]
	fs := flag.NewFlagSet("gatebridge "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f convertFlags
	f.register(fs, isReport)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(f.files) == 0 && f.kubeconfig == "" {
		fmt.Fprintf(stderr, "gatebridge %s: give input with -f PATH (or - for stdin) or --kubeconfig\n", name)
		return exitUsage
	}
	if f.failOn != "" && !validVerdict(f.failOn) {
		fmt.Fprintf(stderr, "gatebridge report: --fail-on must be approximate, needs-attention or refused\n")
		return exitUsage
	}
	loaded, err := load(f, stdin)
	if gcSet {
		debug.SetGCPercent(convertGCPercent)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gatebridge %s: %v\n", name, err)
		return exitUsage
	}
	// As the controller converts: Ingresses of the gatebridge IngressClass (drop-in) too.
	// A live cluster is read without its Secrets (sources.ReadCluster).
	f.opts.SecretsNotInInput = f.kubeconfig != ""
	encoder, err := streamingEncoder(isReport, f.validate, f.output)
	if err != nil {
		fmt.Fprintf(stderr, "gatebridge %s: %v\n", name, err)
		return exitUsage
	}
	f.opts.Encoder = encoder
	restoreLimit := func() {}
	if gcSet && encoder != nil && converters.TradesTimeForMemory(loaded.Input) {
		restoreLimit = limitConversionMemory()
	}
	res := converters.ConvertDropIn(loaded.Input, f.opts)
	restoreLimit()
	if f.kubeconfig != "" {
		// Live: the migration states the controller wrote (gatebridge.dev/state).
		converters.LiveMigrations(loaded.Input.Ingresses, &res.Report)
	}
	validateOutput(&res, f.validate)
	extra := report.Extra{Ignored: loaded.Ignored}
	for _, p := range loaded.Problems {
		extra.Problems = append(extra.Problems, report.Problem{Source: p.Source, Kind: p.Kind, Name: p.Name, Message: p.Message})
	}
	if isReport {
		// The report is all that is rendered: the objects and the input go to the garbage
		// collector first, as convert's do before writing (5,000 Ingresses: ~25 MB).
		rep := res.Report
		res = converters.Result{}
		loaded.Input, loaded.Services, loaded.Secrets, loaded.Objects = converters.Input{}, nil, nil, nil
		if gcSet {
			runtime.GC()
		}
		if err := report.Render(stdout, &rep, f.output, extra); err != nil {
			fmt.Fprintf(stderr, "gatebridge report: %v\n", err)
			return exitUsage
		}
		if f.failOn == "" {
			return exitOK
		}
		// Input problems first: with documents missing, the verdicts are not the whole
		// story, whatever they are.
		if n := len(loaded.Problems); n > 0 {
			fmt.Fprintf(stderr, "gatebridge report: %s (documents not read or not used); exit %d\n", countOf(n, "input problem"), exitInputProblems)
			return exitInputProblems
		}
		if converters.AtLeast(rep.Worst(), converters.Verdict(f.failOn)) {
			return exitFailOn
		}
		return exitOK
	}
	for _, p := range loaded.Problems {
		fmt.Fprintf(stderr, "gatebridge convert: %s: %s\n", problemSubject(p), p.Message)
	}
	summarize(stderr, &res.Report)
	if f.reportFile != "" {
		if err := writeReportFile(f.reportFile, &res.Report, extra); err != nil {
			fmt.Fprintf(stderr, "gatebridge convert: %v\n", err)
			return exitUsage
		}
	}
	// Streamed: encoded in parallel and written chunk by chunk, never held whole; the
	// objects written and the decoded input are left to the garbage collector meanwhile.
	objs, encoded, encodingErr := res.Objects, res.Encoded, res.EncodingError
	res, extra = converters.Result{}, report.Extra{}
	loaded.Input, loaded.Services, loaded.Secrets, loaded.Objects = converters.Input{}, nil, nil, nil
	if gcSet {
		// The heap's next goal was set by the last collection during conversion, when the
		// converter's working state was live (~2x what is left now): collected here, the
		// output is encoded under a goal set by the objects alone (50,000 Ingresses: ~70 MiB
		// lower peak).
		runtime.GC()
	}
	err = encodingErr
	if err == nil && encoded != nil {
		err = emit.WriteEncoded(stdout, encoded, f.output, 0)
	} else if err == nil {
		err = emit.Write(stdout, objs, f.output, emit.Options{Release: true})
	}
	if err != nil {
		fmt.Fprintf(stderr, "gatebridge convert: %v\n", err)
		return exitUsage
	}
	// The objects of what was read are written all the same; the exit code tells a CI
	// gate that the input was not read whole.
	if n := len(loaded.Problems); n > 0 {
		fmt.Fprintf(stderr, "gatebridge convert: %s (documents not read or not used); exit %d\n", countOf(n, "input problem"), exitInputProblems)
		return exitInputProblems
	}
	return exitOK
}

// problemSubject names where an input problem is and, when known, the object:
// "a.yaml#2 (Ingress shop/web)".
func problemSubject(p sources.Problem) string {
	if what := strings.TrimSpace(p.Kind + " " + p.Name); what != "" {
		return p.Source + " (" + what + ")"
	}
	return p.Source
}

// countOf writes "1 input problem", "3 input problems".
func countOf(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// registerSizeFlags registers the input size limits into o, with their defaults.
func registerSizeFlags(fs *flag.FlagSet, o *sources.Options) {
	o.MaxDocumentSize, o.MaxFileSize = sources.DefaultMaxDocumentSize, sources.DefaultMaxFileSize
	fs.Var(byteSize{&o.MaxDocumentSize}, "max-document-size",
		"largest YAML document or JSON object decoded, as bytes or 512Ki, 3Mi, 1Gi (the default is the API server's own request limit); a larger one is an input problem")
	fs.Var(byteSize{&o.MaxFileSize}, "max-file-size",
		"largest file (or standard input) read, as bytes or 64Mi, 1Gi; a larger one is an input problem")
}

// byteSize is a size flag: plain bytes, or a Kubernetes quantity (512Ki, 3Mi, 1G).
type byteSize struct{ n *int64 }

func (b byteSize) String() string {
	if b.n == nil {
		return ""
	}
	n := *b.n
	switch {
	case n > 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "Gi"
	case n > 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "Mi"
	case n > 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "Ki"
	}
	return strconv.FormatInt(n, 10)
}

func (b byteSize) Set(v string) error {
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return fmt.Errorf("%q is not a size: give bytes, or a number with Ki, Mi or Gi (512Ki, 3Mi)", v)
	}
	n := q.Value()
	if n <= 0 || q.Cmp(*resource.NewQuantity(n, resource.BinarySI)) != 0 {
		return fmt.Errorf("%q is not a size: give a positive whole number of bytes, or a number with Ki, Mi or Gi", v)
	}
	*b.n = n
	return nil
}

func validVerdict(v string) bool {
	switch converters.Verdict(v) {
	case converters.VerdictApproximate, converters.VerdictAttention, converters.VerdictRefused:
		return true
	}
	return false
}

func load(f convertFlags, stdin io.Reader) (*sources.Loaded, error) {
	if f.kubeconfig != "" {
		ns := f.namespace
		if f.allNamespaces {
			ns = ""
		}
		return sources.ReadCluster(context.Background(), f.kubeconfig, ns, f.configMap)
	}
	return sources.ReadPaths(f.files, sources.Options{ConfigMap: f.configMap, Stdin: stdin, MaxDocumentSize: f.read.MaxDocumentSize, MaxFileSize: f.read.MaxFileSize})
}

// summarize prints one line per non-exact Ingress and the totals on stderr, so convert's
// stdout stays pure YAML.
func summarize(w io.Writer, r *converters.Report) {
	for _, i := range r.Ingresses {
		switch i.Verdict {
		case converters.VerdictAttention, converters.VerdictRefused:
			fmt.Fprintf(w, "gatebridge convert: %s/%s: %s (%d findings; run gatebridge report for details)\n", i.Namespace, i.Name, i.Verdict, len(i.Findings))
		}
	}
	t := r.Totals
	fmt.Fprintf(w, "gatebridge convert: %d Ingresses: %d exact, %d approximate, %d need attention, %d refused, %d skipped\n",
		t.Ingresses, t.Exact, t.Approximate, t.Attention, t.Refused, t.Skipped)
}

func writeReportFile(path string, r *converters.Report, extra report.Extra) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if err := report.Render(fh, r, "json", extra); err != nil {
		fh.Close()
		return fmt.Errorf("writing report: %w", err)
	}
	return fh.Close()
}

// discardEncoder encodes nothing: report reads the conversion's report, not its objects.
type discardEncoder struct{}

func (discardEncoder) Append(buf []byte, _ client.Object) ([]byte, error) { return buf, nil }

// streamingEncoder returns the Encoder of a streaming conversion (converters/stream.go):
// each part's objects are encoded as soon as they are built, so that they are never all in
// memory; report needs none of them. nil when --validate is on: validation reads the
// objects themselves.
func streamingEncoder(isReport, validate bool, format string) (func() converters.ObjectEncoder, error) {
	switch {
	case validate:
		return nil, nil
	case isReport:
		return func() converters.ObjectEncoder { return discardEncoder{} }, nil
	}
	if _, err := emit.NewObjectEncoder(format); err != nil {
		return nil, err
	}
	return func() converters.ObjectEncoder {
		e, _ := emit.NewObjectEncoder(format)
		return e
	}, nil
}
