package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"slices"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// ManagerOptions configure NewManager.
type ManagerOptions struct {
	Writer Options
	// MetricsAddress serves /metrics ("host:port"; "0" or "" turns it off).
	MetricsAddress string
	// HealthAddress serves /healthz and /readyz ("host:port"; "0" or "" turns it off).
	HealthAddress string
	// Profiling adds Go's /debug/pprof/ handlers to the metrics endpoint (for memory and
	// CPU investigations; off by default because profiles expose internals).
	Profiling bool
	// LeaderElection makes replicas elect, through a Lease, the one that writes.
	LeaderElection bool
	// LeaderElectionNamespace holds the Lease (default: the Gateway's namespace).
	LeaderElectionNamespace string
	// LeaderElectionID names the Lease (default "gatebridge-controller").
	LeaderElectionID string
	// LeaseDuration, RenewDeadline and RetryPeriod tune the election (0: controller-runtime's
	// 15 s, 10 s and 2 s).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Logger is the manager's logger (default: controller-runtime's global one).
	Logger logr.Logger
	// SkipControllerNameValidation lets one process start several managers (tests).
	SkipControllerNameValidation bool
	// Serve configures the serving half (every replica): the xDS server, the auth service
	// and Gateway API status. Serve.XDSAddress "" serves no Envoy.
	Serve ServeOptions
}

// ServeOptions configure the serving half of the controller (serve.go).
type ServeOptions struct {
	// XDSAddress is where the xDS server listens ("host:port"; port 0 picks one).
	XDSAddress string
	// AuthzAddress is where the ext_authz service listens ("": none; routes with basic or
	// external auth answer 503).
	AuthzAddress string
	// AdvertisedAuthzAddress is host:port Envoys reach the auth service at ("": the
	// address an Envoy reached the xDS server at, with the auth service's port).
	AdvertisedAuthzAddress string
	Feed                   FeedOptions
}

// NewScheme returns the scheme of every kind the controller reads or writes.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(gwv1.Install(s))
	utilruntime.Must(gwv1b1.Install(s))
	utilruntime.Must(gbv1.AddToScheme(s))
	return s
}

// NewManager builds the controller's manager: the cache (managedFields and kubectl's
// last-applied annotation stripped; only the named ConfigMap), metrics, probes, leader
// election and the writer. Start it with mgr.Start.
func NewManager(cfg *rest.Config, o ManagerOptions) (manager.Manager, error) {
	o.Writer = o.Writer.withDefaults()
	cmKey, named, err := o.Writer.configMapKey()
	if err != nil {
		return nil, err
	}
	if err := o.Writer.checkAddressOptions(); err != nil {
		return nil, err
	}
	bridge, err := o.Writer.bridge()
	if err != nil {
		return nil, err
	}
	if o.LeaderElectionNamespace == "" {
		o.LeaderElectionNamespace = o.Writer.Converter.GatewayNamespace
	}
	if o.LeaderElectionID == "" {
		o.LeaderElectionID = "gatebridge-controller"
	}
	cacheOpts := cache.Options{DefaultTransform: stripForCache, ByObject: map[client.Object]cache.ByObject{
		// Secrets of types gatebridge never reads (service account tokens, registry
		// credentials, Helm releases…) are held without their data.
		&corev1.Secret{}: {Transform: stripSecretForCache},
		// Leases: only the replicas' Envoy reports (fleet.go), in the Lease namespace.
		&coordinationv1.Lease{}: {Namespaces: map[string]cache.Config{o.LeaderElectionNamespace: {}},
			Label: labels.SelectorFromSet(labels.Set{EnvoyReportLabel: "true"})},
	}}
	if o.Serve.XDSAddress != "" {
		// Serving: BackendTLSPolicies name CA ConfigMaps anywhere (backendtls.go); the
		// informer holds every ConfigMap, only ca.crt of those other than the named one.
		cacheOpts.ByObject[&corev1.ConfigMap{}] = cache.ByObject{Transform: stripConfigMapForCache(cmKey)}
	} else {
		// The writer watches the ConfigMaps custom-headers annotations name, anywhere
		// (customheaders.go): the informer holds every ConfigMap without its data, but
		// the ingress-nginx ConfigMap whole.
		cacheOpts.ByObject[&corev1.ConfigMap{}] = cache.ByObject{Transform: stripConfigMapData(cmKey, named)}
	}
	mo := manager.Options{
		Scheme:                        NewScheme(),
		Cache:                         cacheOpts,
		Metrics:                       metricsserver.Options{BindAddress: offIfEmpty(o.MetricsAddress), ExtraHandlers: profilingHandlers(o.Profiling)},
		HealthProbeBindAddress:        offIfEmpty(o.HealthAddress),
		LeaderElection:                o.LeaderElection,
		LeaderElectionID:              o.LeaderElectionID,
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true, // the process exits after the manager stops
	}
	if o.LeaseDuration > 0 {
		mo.LeaseDuration = &o.LeaseDuration
	}
	if o.RenewDeadline > 0 {
		mo.RenewDeadline = &o.RenewDeadline
	}
	if o.RetryPeriod > 0 {
		mo.RetryPeriod = &o.RetryPeriod
	}
	if o.Logger.GetSink() != nil {
		mo.Logger = o.Logger
	}
	if o.SkipControllerNameValidation {
		skip := true
		mo.Controller.SkipNameValidation = &skip
	}
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	var legacy func([]dataplane.RefusedLocation)
	if o.Serve.XDSAddress != "" {
		reportNamespace := ""
		if o.LeaderElection {
			reportNamespace = o.LeaderElectionNamespace
		}
		feed, err := setupServing(mgr, o.Serve, o.Writer, reportNamespace, o.Logger)
		if err != nil {
			return nil, err
		}
		if bridge != nil {
			feed.setBridge(bridge)
			legacy = feed.SetLegacyLocations
		}
	}
	if err := setupWriter(mgr, o.Writer, legacy); err != nil {
		return nil, err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("informers", cacheSynced(mgr.GetCache())); err != nil {
		return nil, fmt.Errorf("adding the readiness check: %w", err)
	}
	return mgr, nil
}

func offIfEmpty(addr string) string {
	if addr == "" {
		return "0"
	}
	return addr
}

// lastAppliedAnnotation is kubectl's copy of the whole object: often the biggest part of an
// object's metadata, and never read by gatebridge.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// stripForCache keeps the informer cache small: no managedFields, no last-applied copy.
func stripForCache(in any) (any, error) {
	obj, err := meta.Accessor(in)
	if err != nil {
		return in, nil // not an object (a tombstone): keep it as it is
	}
	if obj.GetManagedFields() != nil {
		obj.SetManagedFields(nil)
	}
	if ann := obj.GetAnnotations(); ann != nil {
		delete(ann, lastAppliedAnnotation)
	}
	return in, nil
}

// cacheSynced is ready once every informer started so far has synced.
func cacheSynced(c cache.Cache) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), 100*time.Millisecond)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return errors.New("the informer caches have not synced yet")
		}
		return nil
	}
}

// passKey is the one key every watched change enqueues: a pass covers everything.
var passKey = reconcile.Request{NamespacedName: types.NamespacedName{Name: "gatebridge"}}

// SetupWriter registers the writer with mgr: its watches and their filters. It converts
// on every replica, and writes on the leader only (see Writer.pass).
func SetupWriter(mgr manager.Manager, opts Options) error { return setupWriter(mgr, opts, nil) }

// setupWriter is SetupWriter handing each pass's legacy locations to legacy (the feed's,
// in bridge mode; nil: none).
func setupWriter(mgr manager.Manager, opts Options, legacy func([]dataplane.RefusedLocation)) error {
	opts = opts.withDefaults()
	cmKey, named, err := opts.configMapKey()
	if err != nil {
		return err
	}
	c := mgr.GetClient()
	if opts.WrapClient != nil {
		c = opts.WrapClient(c)
	}
	var rec events.EventRecorder = mgr.GetEventRecorder(EventReporter)
	if opts.WrapRecorder != nil {
		rec = opts.WrapRecorder(rec)
	}
	w := newWriter(c, mgr.GetAPIReader(), rec, opts, mgr.GetLogger().WithName("writer"))
	w.elected = mgr.Elected()
	w.legacy = legacy
	enqueue := w.enqueue(nil)
	// Ingresses are noted one by one (the pass converts again their parts only); the rest
	// of the conversion's input, when it changes, makes it convert everything.
	ingressEnqueue := w.enqueue(func(o client.Object) { w.changes.ingress(o.GetNamespace() + "/" + o.GetName()) })
	everything := w.enqueue(func(client.Object) { w.changes.everything() })
	// Every replica converts (the feed publishes the legacy locations of its own
	// conversion); the writes wait for the Lease. Becoming the leader runs a pass: the
	// conversion is done, the writes are not.
	notWaiting := false
	elected := make(chan event.GenericEvent, 1)
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		// A runnable without NeedLeaderElection starts on the leader only, just before
		// Elected is closed: the pass must see it closed.
		select {
		case <-ctx.Done():
			return nil
		case <-mgr.Elected():
		}
		elected <- event.GenericEvent{Object: &networkingv1.Ingress{}}
		<-ctx.Done()
		return nil
	})); err != nil {
		return fmt.Errorf("setting up the writer: %w", err)
	}
	b := ctrl.NewControllerManagedBy(mgr).Named("gatebridge-writer").
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, NeedLeaderElection: &notWaiting}).
		WatchesRawSource(source.Channel(elected, enqueue)).
		Watches(&networkingv1.Ingress{}, ingressEnqueue, builder.WithPredicates(predicate.Funcs{UpdateFunc: ingressChanged})).
		Watches(&networkingv1.IngressClass{}, everything).
		Watches(&corev1.Service{}, everything, builder.WithPredicates(predicate.Funcs{UpdateFunc: serviceChanged(opts)}))
	if named {
		b = b.Watches(&corev1.ConfigMap{}, everything, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return o.GetNamespace() == cmKey.Namespace && o.GetName() == cmKey.Name
		})))
	}
	// The ConfigMaps custom-headers annotations name: a change of one converts everything
	// (the pass reads them from the API server; the cache holds them without data).
	b = b.Watches(&corev1.ConfigMap{}, everything, builder.WithPredicates(predicate.NewPredicateFuncs(w.customHeaders.names)))
	ours := ownedOrShared(opts.Converter)
	for _, k := range ownedKinds {
		watched := ours
		if k.kind == "HTTPRoute" {
			// Hand-written routes on the shared Gateway: their matches may conflict with a
			// migrated Ingress's (conflicts.go).
			named := namesSharedGateway(opts.Converter)
			watched = func(obj client.Object) bool { return ours(obj) || named(obj) }
		}
		b = b.Watches(k.newObject(), enqueue, builder.WithPredicates(predicate.NewPredicateFuncs(watched), predicate.Funcs{UpdateFunc: specOrMetadataChanged}))
	}
	if err := b.Complete(w); err != nil {
		return fmt.Errorf("setting up the writer: %w", err)
	}
	return nil
}

// Reconcile runs one pass; an error runs it again with backoff.
func (w *Writer) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	res := w.pass(ctx)
	if ctx.Err() != nil {
		// Shutting down (or no longer the leader): what is left is the next leader's.
		return reconcile.Result{}, nil
	}
	result := "ok"
	if res.Err != nil {
		result = "error"
	}
	passes.WithLabelValues(result).Inc()
	if res.Plan != nil {
		w.log.V(1).Info("pass", "follower", res.Follower, "duration", res.Duration.String(), "ingresses", len(res.Plan.Ingresses), "objects", len(res.Plan.Objects),
			"states", sortedStates(res.Plan), "applied", res.Applied, "deleted", res.Deleted, "annotated", res.Annotated, "events", res.Events)
	}
	if w.opts.Observe != nil {
		w.opts.Observe(res)
	}
	if res.Err == nil && res.Again {
		return reconcile.Result{RequeueAfter: 100 * time.Millisecond}, nil
	}
	return reconcile.Result{}, res.Err
}

// ingressChanged: what the conversion reads changed — not only gatebridge's own
// report-hash and state annotations, nor the status.
func ingressChanged(e event.UpdateEvent) bool {
	a, okA := e.ObjectOld.(*networkingv1.Ingress)
	b, okB := e.ObjectNew.(*networkingv1.Ingress)
	if !okA || !okB {
		return true
	}
	return a.UID != b.UID || !equality.Semantic.DeepEqual(a.Spec, b.Spec) ||
		!a.CreationTimestamp.Equal(&b.CreationTimestamp) || !sameExcept(a.Annotations, b.Annotations, ReportHashAnnotation, StateAnnotation)
}

// serviceChanged: a Service's spec (ports, type) changed; its status and metadata do not
// matter to the conversion. The Envoy Service's status does: its load balancer's address
// is the drop-in Ingresses' (address.go).
func serviceChanged(o Options) func(event.UpdateEvent) bool {
	envoy, _ := o.withDefaults().envoyServiceKey()
	return func(e event.UpdateEvent) bool {
		a, okA := e.ObjectOld.(*corev1.Service)
		b, okB := e.ObjectNew.(*corev1.Service)
		if !okA || !okB {
			return true
		}
		if o.GatewayAddress == "" && b.Namespace == envoy.Namespace && b.Name == envoy.Name && !equality.Semantic.DeepEqual(a.Status, b.Status) {
			return true
		}
		return !equality.Semantic.DeepEqual(a.Spec, b.Spec)
	}
}

// specOrMetadataChanged ignores status-only updates of Gateway API objects (their spec
// changes bump metadata.generation).
func specOrMetadataChanged(e event.UpdateEvent) bool {
	a, b := e.ObjectOld, e.ObjectNew
	return a.GetGeneration() != b.GetGeneration() || !equality.Semantic.DeepEqual(a.GetLabels(), b.GetLabels()) ||
		!equality.Semantic.DeepEqual(a.GetAnnotations(), b.GetAnnotations()) ||
		!equality.Semantic.DeepEqual(a.GetOwnerReferences(), b.GetOwnerReferences())
}

// ownedOrShared: objects labelled managed-by gatebridge, or named as the shared Gateway or
// GatewayClass (whose presence decides whether gatebridge may create them).
func ownedOrShared(o converters.Options) func(client.Object) bool {
	return func(obj client.Object) bool {
		if obj.GetLabels()[converters.LabelManagedBy] == converters.ManagedByValue {
			return true
		}
		switch obj.(type) {
		case *gwv1.Gateway:
			return obj.GetNamespace() == o.GatewayNamespace && obj.GetName() == o.GatewayName
		case *gwv1.GatewayClass:
			return obj.GetName() == o.GatewayClassName
		}
		return false
	}
}

func sameExcept(a, b map[string]string, ignore ...string) bool {
	n := 0
	for k, v := range a {
		if slices.Contains(ignore, k) {
			continue
		}
		if w, ok := b[k]; !ok || w != v {
			return false
		}
		n++
	}
	for k := range b {
		if !slices.Contains(ignore, k) {
			n--
		}
	}
	return n == 0
}

// profilingHandlers are net/http/pprof's handlers under /debug/pprof/, when on.
func profilingHandlers(on bool) map[string]http.Handler {
	if !on {
		return nil
	}
	return map[string]http.Handler{
		"/debug/pprof/":        http.HandlerFunc(pprof.Index),
		"/debug/pprof/cmdline": http.HandlerFunc(pprof.Cmdline),
		"/debug/pprof/profile": http.HandlerFunc(pprof.Profile),
		"/debug/pprof/symbol":  http.HandlerFunc(pprof.Symbol),
		"/debug/pprof/trace":   http.HandlerFunc(pprof.Trace),
	}
}
