package controllers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/dataplane"
	"github.com/gatebridge-dev/gatebridge/internal/pipeline"
)

// The feed: the cluster's front door to the data-plane half of the pipeline. It keeps, from
// informer events, the objects Envoy serves — Gateway API objects, gatebridge's kinds,
// Services, EndpointSlices and the Secrets they reference — batches changes (a short
// debounce), and publishes each batch as a pipeline.Snapshot through the same
// pipeline.Publisher `gatebridge run` uses: endpoints only when only EndpointSlices
// changed, the last good configuration kept when publishing fails. It runs on every
// replica, and publishes nothing before every informer has synced, so a restarted
// controller never serves Envoy a partial view of the cluster: Envoys that reconnect keep
// their configuration until the first full snapshot.

// feedKind is a kind the feed serves.
type feedKind struct {
	name      string
	newObject func() client.Object
	// changed reports whether an update matters to the translation.
	changed func(old, new client.Object) bool
}

var feedKinds = []feedKind{
	{"GatewayClass", func() client.Object { return &gwv1.GatewayClass{} }, specChanged},
	{"Gateway", func() client.Object { return &gwv1.Gateway{} }, specChanged},
	{"ListenerSet", func() client.Object { return &gwv1.ListenerSet{} }, specChanged},
	{"HTTPRoute", func() client.Object { return &gwv1.HTTPRoute{} }, specChanged},
	{"TLSRoute", func() client.Object { return &gwv1.TLSRoute{} }, specChanged},
	{"GRPCRoute", func() client.Object { return &gwv1.GRPCRoute{} }, specChanged},
	{"ReferenceGrant", func() client.Object { return &gwv1b1.ReferenceGrant{} }, specChanged},
	{"BackendTLSPolicy", func() client.Object { return &gwv1.BackendTLSPolicy{} }, specChanged},
	{"TrafficPolicy", func() client.Object { return &gbv1.TrafficPolicy{} }, specChanged},
	{"RouteFilter", func() client.Object { return &gbv1.RouteFilter{} }, specChanged},
	{"Service", func() client.Object { return &corev1.Service{} }, func(a, b client.Object) bool {
		sa, okA := a.(*corev1.Service)
		sb, okB := b.(*corev1.Service)
		return !okA || !okB || !equality.Semantic.DeepEqual(sa.Spec, sb.Spec) || !equality.Semantic.DeepEqual(sa.Labels, sb.Labels)
	}},
	{"EndpointSlice", func() client.Object { return &discoveryv1.EndpointSlice{} }, newVersion},
	// Namespaces: their labels, for listeners that admit routes by a namespace selector.
	{"Namespace", func() client.Object { return &corev1.Namespace{} }, func(a, b client.Object) bool {
		return a.GetUID() != b.GetUID() || !equality.Semantic.DeepEqual(a.GetLabels(), b.GetLabels())
	}},
	{"Secret", func() client.Object { return &corev1.Secret{} }, func(a, b client.Object) bool {
		sa, okA := a.(*corev1.Secret)
		sb, okB := b.(*corev1.Secret)
		return !okA || !okB || sa.Type != sb.Type || !equality.Semantic.DeepEqual(sa.Data, sb.Data)
	}},
	// ConfigMaps: the CA certificates BackendTLSPolicies name (backendtls.go).
	{"ConfigMap", func() client.Object { return &corev1.ConfigMap{} }, configMapChanged},
}

// specChanged: what the translator reads of a Gateway API object changed — its spec
// (metadata.generation), labels, annotations or identity — not only its status.
func specChanged(a, b client.Object) bool {
	return a.GetGeneration() != b.GetGeneration() || a.GetUID() != b.GetUID() ||
		!equality.Semantic.DeepEqual(a.GetLabels(), b.GetLabels()) ||
		!equality.Semantic.DeepEqual(a.GetAnnotations(), b.GetAnnotations())
}

// newVersion: any new version (informer resyncs redeliver the same one).
func newVersion(a, b client.Object) bool { return a.GetResourceVersion() != b.GetResourceVersion() }

// FeedOptions tune the feed.
type FeedOptions struct {
	// Debounce batches changes: a batch is published Debounce after its last change
	// (default 15 ms), no sooner than MinInterval after the previous publish (default
	// 100 ms), and at most MaxDelay after its first change (default 200 ms). The debounce
	// is short because a publish costs in proportion to what changed (one HTTPRoute: a
	// few milliseconds): an isolated change is published at once. MinInterval batches a
	// stream of changes (a cold start writes 1,000 HTTPRoutes one by one): without it
	// every one would be published, and translated and loaded by every Envoy, on its own.
	Debounce, MinInterval, MaxDelay time.Duration
}

func (o FeedOptions) withDefaults() FeedOptions {
	if o.Debounce <= 0 {
		o.Debounce = 15 * time.Millisecond
	}
	if o.MinInterval <= 0 {
		o.MinInterval = 100 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 200 * time.Millisecond
	}
	o.MaxDelay = max(o.MaxDelay, o.Debounce, o.MinInterval)
	return o
}

// Feed publishes what the informers hold to a Plane, and tracks what Envoy acknowledged.
type Feed struct {
	cache cache.Cache
	plane *Plane
	pub   *pipeline.Publisher
	opts  FeedOptions
	log   logr.Logger

	kick chan struct{}

	mu sync.Mutex
	// objects by kind and key: the informers' own objects, never modified.
	objects map[string]map[types.NamespacedName]client.Object
	// sorted are the objects of each kind in namespace/name order: the translator compares
	// models element by element to reuse its work. An update replaces its object in
	// place; an addition or a deletion drops the kind's list, sorted again when needed.
	sorted map[string][]client.Object
	// model is the last model built; stale are the kinds whose lists in it are out of date.
	// A batch builds the next model from it, rebuilding only the stale kinds' lists, so one
	// changed HTTPRoute does not list 5,000 Services and EndpointSlices again.
	model *dataplane.Model
	stale map[string]bool
	// dirty are the kinds changed since the last publish; firstChange when the oldest
	// unpublished change happened.
	dirty       map[string]bool
	firstChange time.Time
	// lastPublish is when the last publish began (read and written by Start's goroutine).
	lastPublish time.Time
	// secretsUsed are the Secrets the last model references: other Secrets' changes do not
	// make a batch.
	secretsUsed map[types.NamespacedName]bool
	// configMapsUsed are the ConfigMaps the last model's BackendTLSPolicies name, likewise.
	configMapsUsed map[types.NamespacedName]bool
	// servedRoutes are the HTTPRoutes the last model holds, by key: a route whose new
	// version names a policy the feed does not hold yet is served in its last version
	// (requires.go).
	servedRoutes map[types.NamespacedName]*gwv1.HTTPRoute
	// state is what was published and acknowledged; stateChanged is closed and replaced
	// when it changes.
	state        ServedState
	stateChanged chan struct{}
	// published is closed and replaced at each publish (wakes the ACK watcher).
	published chan struct{}
	// changeTimes: for each published version not yet acknowledged, when its oldest change
	// happened (the change-to-ACK histogram).
	changeTimes []versionTime

	// bridge, when set (--fallback), is the fallback every model carries, resolved
	// against the Services held at each snapshot. legacy are then the locations of the
	// Ingresses not served natively that the writer's last conversion handed over
	// (SetLegacyLocations), published as the model's RefusedLocations; legacyReady is
	// closed when the first arrive: nothing is published before, or a migrated "/" of a
	// host would swallow, for a moment, a not-migrated "/api" of the same host.
	bridge      *bridgeConfig
	legacy      []dataplane.RefusedLocation
	legacySet   bool
	legacyReady chan struct{}
}

// legacyKind is the dirty mark of a change of the legacy locations.
const legacyKind = "RefusedLocations"

// maxUnacknowledged bounds the published versions remembered while waiting for ACKs.
const maxUnacknowledged = 1024

type versionTime struct {
	version uint64
	at      time.Time
}

// ServedState is what the data plane was given and what Envoy made of it: what status is
// written from.
type ServedState struct {
	// Version is the last plane version published (0: none yet).
	Version uint64
	// Model is the model of Version; Output the last full translation (the reference
	// group's), whose typed results (Issues, Parents, Listeners) status is made of.
	Model  *dataplane.Model
	Output *dataplane.Output
	// Since maps each Gateway and ListenerSet to the generation it had and the first
	// version that carried that generation: it is programmed once Acked reaches it.
	Since map[objectKey]generationSince
	// Acked is the newest version every connected Envoy acknowledged (0: none).
	Acked uint64
	// NACK is Envoy's message when it rejected a version newer than Acked (NACKVersion).
	NACK        string
	NACKVersion uint64
	// Envoys counts the connected Envoys.
	Envoys int
	// Err is why the last batch could not be published ("" when it was).
	Err string
}

type generationSince struct {
	generation int64
	version    uint64
}

// NewFeed feeds plane from c's informers.
func NewFeed(c cache.Cache, plane *Plane, opts FeedOptions, log logr.Logger) *Feed {
	return &Feed{
		cache: c, plane: plane, pub: pipeline.NewPublisher(plane), opts: opts.withDefaults(), log: log,
		kick:         make(chan struct{}, 1),
		objects:      map[string]map[types.NamespacedName]client.Object{},
		sorted:       map[string][]client.Object{},
		stale:        map[string]bool{},
		dirty:        map[string]bool{},
		secretsUsed:  map[types.NamespacedName]bool{},
		stateChanged: make(chan struct{}),
		published:    make(chan struct{}),
		legacyReady:  make(chan struct{}),
	}
}

// setBridge makes every model carry the fallback b (nil: none); before Start.
func (f *Feed) setBridge(b *bridgeConfig) { f.bridge = b }

// SetLegacyLocations hands the feed the locations of the Ingresses Envoy does not serve
// natively, from the writer's conversion (every replica converts): they are published
// with the next batch when they changed.
func (f *Feed) SetLegacyLocations(locs []dataplane.RefusedLocation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.legacySet && reflect.DeepEqual(f.legacy, locs) {
		return
	}
	f.legacy = locs
	if !f.legacySet {
		f.legacySet = true
		close(f.legacyReady)
	}
	f.markDirtyLocked(legacyKind)
}

// NeedLeaderElection: every replica serves Envoy.
func (f *Feed) NeedLeaderElection() bool { return false }

// Start registers the event handlers, waits for the informers, publishes the first
// snapshot and then every batch of changes, until ctx ends.
func (f *Feed) Start(ctx context.Context) error {
	var regs []toolscache.ResourceEventHandlerRegistration
	for _, k := range feedKinds {
		inf, err := f.cache.GetInformer(ctx, k.newObject())
		if err != nil {
			return fmt.Errorf("watching %ss: %w", k.name, err)
		}
		reg, err := inf.AddEventHandler(f.handler(k))
		if err != nil {
			return fmt.Errorf("watching %ss: %w", k.name, err)
		}
		regs = append(regs, reg)
	}
	if !f.cache.WaitForCacheSync(ctx) {
		return nil // stopping
	}
	for _, r := range regs {
		for !r.HasSynced() {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	if f.bridge != nil {
		select {
		case <-ctx.Done():
			return nil
		case <-f.legacyReady:
		}
	}
	f.log.Info("informers synced; publishing to Envoy")
	go f.watchACKs(ctx)
	f.publish()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-f.kick:
		}
		if !f.settle(ctx) {
			return nil
		}
		f.publish()
	}
}

// settle waits until no change came for Debounce and MinInterval passed since the last
// publish, or MaxDelay passed since the batch's first change; false when ctx ended.
func (f *Feed) settle(ctx context.Context) bool {
	f.mu.Lock()
	first := f.firstChange
	f.mu.Unlock()
	deadline := first.Add(f.opts.MaxDelay)
	notBefore := f.lastPublish.Add(f.opts.MinInterval)
	for {
		wait := max(f.opts.Debounce, time.Until(notBefore))
		if until := time.Until(deadline); until < wait {
			wait = until
		}
		if wait <= 0 {
			return true
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false
		case <-f.kick:
			timer.Stop() // another change: wait again
		case <-timer.C:
			return true
		}
	}
}

// handler keeps the objects of kind k from its informer's events.
func (f *Feed) handler(k feedKind) toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, _ bool) {
			if o, ok := obj.(client.Object); ok {
				f.note(k.name, o, false)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, okOld := oldObj.(client.Object)
			n, okNew := newObj.(client.Object)
			if okOld && okNew && !k.changed(o, n) {
				return
			}
			if okNew {
				f.note(k.name, n, false)
			}
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if o, ok := obj.(client.Object); ok {
				f.note(k.name, o, true)
			}
		},
	}
}

// note records an object's new state, and starts a batch unless it cannot matter (a
// Secret nothing references).
func (f *Feed) note(kind string, obj client.Object, deleted bool) {
	key := types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.objects[kind]
	if m == nil {
		m = map[types.NamespacedName]client.Object{}
		f.objects[kind] = m
	}
	_, existed := m[key]
	if deleted {
		delete(m, key)
	} else {
		m[key] = obj
	}
	f.stale[kind] = true
	if s, ok := f.sorted[kind]; ok {
		i, found := slices.BinarySearchFunc(s, key, compareKey)
		if existed && !deleted && found {
			s[i] = obj // the models built so far hold copies of the list
		} else {
			delete(f.sorted, kind)
		}
	}
	if kind == "Secret" && !f.secretsUsed[key] {
		return
	}
	if kind == "ConfigMap" && !f.configMapsUsed[key] {
		return
	}
	f.markDirtyLocked(kind)
}

// markDirtyLocked notes a change of kind and wakes the publisher.
func (f *Feed) markDirtyLocked(kind string) {
	if len(f.dirty) == 0 {
		f.firstChange = time.Now()
	}
	f.dirty[kind] = true
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// sortedLocked returns the objects of kind in namespace/name order.
func (f *Feed) sortedLocked(kind string) []client.Object {
	if s, ok := f.sorted[kind]; ok {
		return s
	}
	m := f.objects[kind]
	s := make([]client.Object, 0, len(m))
	for _, o := range m {
		s = append(s, o)
	}
	slices.SortFunc(s, func(a, b client.Object) int {
		return cmp.Or(strings.Compare(a.GetNamespace(), b.GetNamespace()), strings.Compare(a.GetName(), b.GetName()))
	})
	f.sorted[kind] = s
	return s
}

// compareKey orders an object and a key by namespace, then name.
func compareKey(o client.Object, key types.NamespacedName) int {
	return cmp.Or(strings.Compare(o.GetNamespace(), key.Namespace), strings.Compare(o.GetName(), key.Name))
}

// snapshotLocked builds the model from the objects held, and says what changed. The
// lists of the kinds that did not change since the last model are that model's.
func (f *Feed) snapshotLocked() pipeline.Snapshot {
	m := &dataplane.Model{}
	first := f.model == nil
	if !first {
		*m = *f.model
	}
	for _, k := range feedKinds {
		if k.name != "Secret" && k.name != "HTTPRoute" && k.name != "ConfigMap" && (first || f.stale[k.name]) {
			setKind(m, k.name, f.sortedLocked(k.name))
		}
	}
	if first || f.stale["HTTPRoute"] || f.stale["TrafficPolicy"] || f.stale["RouteFilter"] {
		m.HTTPRoutes = f.servableRoutesLocked(f.sortedLocked("HTTPRoute"))
	}
	if first || f.stale["Secret"] || f.stale["Gateway"] || f.stale["ListenerSet"] || f.stale["TrafficPolicy"] {
		f.secretsUsed = referencedSecrets(m)
		setKind(m, "Secret", f.usedLocked("Secret", f.secretsUsed))
	}
	if first || f.stale["ConfigMap"] || f.stale["BackendTLSPolicy"] {
		f.usedConfigMapsLocked(m)
	}
	if f.bridge != nil {
		services := f.objects["Service"]
		m.Bridge = f.bridge.model(func(k types.NamespacedName) *corev1.Service {
			svc, _ := services[k].(*corev1.Service)
			return svc
		})
		m.RefusedLocations = f.legacy
	}
	f.model = m
	f.stale = map[string]bool{}
	change := pipeline.ChangeAll
	if len(f.dirty) == 1 && f.dirty["EndpointSlice"] {
		change = pipeline.ChangeEndpoints
	}
	return pipeline.Snapshot{Model: m, Change: change}
}

// servableRoutesLocked are the HTTPRoutes of objs (sorted) that can be served: each whose
// RequiresAnnotation names only objects the feed holds, else its last served version if
// that one's are held, else none (requires.go).
func (f *Feed) servableRoutesLocked(objs []client.Object) []*gwv1.HTTPRoute {
	held := func(kind string, key types.NamespacedName) bool {
		_, ok := f.objects[kind][key]
		return ok
	}
	out := make([]*gwv1.HTTPRoute, 0, len(objs))
	served := make(map[types.NamespacedName]*gwv1.HTTPRoute, len(objs))
	var waiting []string
	for _, o := range objs {
		r, ok := o.(*gwv1.HTTPRoute)
		if !ok {
			continue
		}
		key := types.NamespacedName{Namespace: r.Namespace, Name: r.Name}
		if !requirementsHeld(r, held) {
			waiting = append(waiting, key.String())
			if r = f.servedRoutes[key]; r == nil || !requirementsHeld(r, held) {
				continue
			}
		}
		out = append(out, r)
		served[key] = r
	}
	if len(waiting) > 0 {
		f.log.Info("HTTPRoutes wait for the policies they require; their last served version (or nothing) is served meanwhile",
			"count", len(waiting), "routes", waiting[:min(len(waiting), 10)], "annotation", RequiresAnnotation)
	}
	f.servedRoutes = served
	return slices.Clip(out)
}

// setKind replaces the list of kind in m with objs. Each list is a new array without
// spare capacity: models share the lists of the kinds that did not change.
func setKind(m *dataplane.Model, kind string, objs []client.Object) {
	var part dataplane.Model
	for _, o := range objs {
		part.Add(o)
	}
	switch kind {
	case "GatewayClass":
		m.GatewayClasses = slices.Clip(part.GatewayClasses)
	case "Gateway":
		m.Gateways = slices.Clip(part.Gateways)
	case "ListenerSet":
		m.ListenerSets = slices.Clip(part.ListenerSets)
	case "HTTPRoute":
		m.HTTPRoutes = slices.Clip(part.HTTPRoutes)
	case "TLSRoute":
		m.TLSRoutes = slices.Clip(part.TLSRoutes)
	case "GRPCRoute":
		m.GRPCRoutes = slices.Clip(part.GRPCRoutes)
	case "ReferenceGrant":
		m.ReferenceGrants = slices.Clip(part.ReferenceGrants)
	case "TrafficPolicy":
		m.TrafficPolicies = slices.Clip(part.TrafficPolicies)
	case "RouteFilter":
		m.RouteFilters = slices.Clip(part.RouteFilters)
	case "Service":
		m.Services = slices.Clip(part.Services)
	case "EndpointSlice":
		m.EndpointSlices = slices.Clip(part.EndpointSlices)
	case "Secret":
		m.Secrets = slices.Clip(part.Secrets)
	case "Namespace":
		m.Namespaces = slices.Clip(part.Namespaces)
	case "BackendTLSPolicy":
		m.BackendTLSPolicies = slices.Clip(part.BackendTLSPolicies)
	case "ConfigMap":
		m.ConfigMaps = slices.Clip(part.ConfigMaps)
	}
}

// referencedSecrets are the Secrets a model's Gateways, ListenerSets and TrafficPolicies
// name: listener certificates, basic-auth files, backend TLS certificates, client CAs.
func referencedSecrets(m *dataplane.Model) map[types.NamespacedName]bool {
	out := map[types.NamespacedName]bool{}
	add := func(ns string, ref gwv1.SecretObjectReference) {
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		out[types.NamespacedName{Namespace: ns, Name: string(ref.Name)}] = true
	}
	listeners := func(ns string, tls *gwv1.ListenerTLSConfig) {
		if tls == nil {
			return
		}
		for _, ref := range tls.CertificateRefs {
			add(ns, ref)
		}
	}
	for _, g := range m.Gateways {
		for _, l := range g.Spec.Listeners {
			listeners(g.Namespace, l.TLS)
		}
	}
	for _, s := range m.ListenerSets {
		for _, l := range s.Spec.Listeners {
			listeners(s.Namespace, l.TLS)
		}
	}
	for _, p := range m.TrafficPolicies {
		if b := p.Spec.BasicAuth; b != nil {
			add(p.Namespace, b.SecretRef)
		}
		if b := p.Spec.Backend; b != nil && b.TLS != nil && b.TLS.CertificateRef != nil {
			add(p.Namespace, *b.TLS.CertificateRef)
		}
		if ft := p.Spec.FrontendTLS; ft != nil && ft.ClientCertificate != nil {
			add(p.Namespace, ft.ClientCertificate.CACertificateRef)
		}
	}
	return out
}

// publish publishes the current objects.
func (f *Feed) publish() {
	f.mu.Lock()
	modelStart := time.Now()
	f.lastPublish = modelStart
	snap := f.snapshotLocked()
	firstChange := f.firstChange
	kinds := slices.Sorted(maps.Keys(f.dirty))
	f.dirty = map[string]bool{}
	f.mu.Unlock()

	began := time.Now()
	pub, err := f.pub.Publish(snap)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		// The last good configuration stays; the next batch is translated in full.
		f.log.Error(err, "not published; Envoy keeps the last good configuration")
		publishFailures.Inc()
		f.state.Err = err.Error()
		f.notifyLocked()
		return
	}
	v, _ := strconv.ParseUint(pub.Version, 10, 64)
	f.state.Err = ""
	f.state.Version = v
	f.state.Model = snap.Model
	if pub.Output != nil {
		f.state.Output = pub.Output
	}
	f.state.Since = programmedSince(f.state.Since, snap.Model, v)
	if firstChange.IsZero() {
		firstChange = began
	}
	f.changeTimes = append(f.changeTimes, versionTime{v, firstChange})
	if len(f.changeTimes) > maxUnacknowledged {
		// No Envoy acknowledges (none is connected): forget the oldest.
		f.changeTimes = slices.Delete(f.changeTimes, 0, len(f.changeTimes)-maxUnacknowledged)
	}
	if pub.Output != nil {
		for _, p := range pub.Output.Problems {
			f.log.V(1).Info("not served as written", "problem", p.String())
		}
	}
	// Where the time from an informer event to the publish went: the batch's wait (the
	// debounce), building the model, translating and publishing to every group.
	f.log.V(1).Info("published", "version", v, "change", snap.Change.String(), "kinds", kinds, "changed", pub.Changed,
		"batched", batchWait(firstChange, modelStart).String(), "model", began.Sub(modelStart).String(), "publish", time.Since(began).String())
	close(f.published)
	f.published = make(chan struct{})
	f.notifyLocked()
}

// batchWait is how long a batch waited between its first change and its publish (0 for
// a publish without a change: the first).
func batchWait(firstChange, published time.Time) time.Duration {
	if firstChange.IsZero() {
		return 0
	}
	return published.Sub(firstChange)
}

// programmedSince carries the versions of Gateways and ListenerSets over: an object
// keeps its version while its generation stays the same.
func programmedSince(prev map[objectKey]generationSince, m *dataplane.Model, v uint64) map[objectKey]generationSince {
	out := make(map[objectKey]generationSince, len(m.Gateways)+len(m.ListenerSets))
	note := func(kind string, o client.Object) {
		k := objectKey{kind, o.GetNamespace(), o.GetName()}
		if p, ok := prev[k]; ok && p.generation == o.GetGeneration() {
			out[k] = p
			return
		}
		out[k] = generationSince{o.GetGeneration(), v}
	}
	for _, g := range m.Gateways {
		note("Gateway", g)
	}
	for _, s := range m.ListenerSets {
		note("ListenerSet", s)
	}
	return out
}

func (f *Feed) notifyLocked() {
	close(f.stateChanged)
	f.stateChanged = make(chan struct{})
}

// State returns what was published and acknowledged, and a channel closed when it changes.
func (f *Feed) State() (ServedState, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state, f.stateChanged
}

// watchACKs follows how far Envoy acknowledged what was published: Acked, a NACK, the
// connected Envoys, and the change-to-ACK histogram.
func (f *Feed) watchACKs(ctx context.Context) {
	for ctx.Err() == nil {
		f.mu.Lock()
		target, acked, published := f.state.Version, f.state.Acked, f.published
		f.mu.Unlock()
		envoys := f.plane.Envoys()
		var done bool
		var nack string
		if target > acked {
			var err error
			done, _, err = f.plane.AckState(strconv.FormatUint(target, 10))
			if err != nil {
				nack = err.Error()
			}
		}
		f.mu.Lock()
		changed := envoys != f.state.Envoys
		f.state.Envoys = envoys
		switch {
		case done && f.state.Version == target:
			f.ackedLocked(target)
			changed = true
		case nack != "" && (f.state.NACKVersion != target || f.state.NACK != nack):
			f.state.NACK, f.state.NACKVersion = nack, target
			f.log.Error(errors.New(nack), "Envoy rejected the configuration; it keeps serving the last one it accepted", "version", target)
			changed = true
		}
		if changed {
			f.notifyLocked()
		}
		f.mu.Unlock()
		f.plane.WaitChange(ctx, published)
	}
}

// ackedLocked records that every connected Envoy acknowledged version v.
func (f *Feed) ackedLocked(v uint64) {
	f.state.Acked = v
	if f.state.NACKVersion <= v {
		f.state.NACK, f.state.NACKVersion = "", 0
	}
	now := time.Now()
	keep := f.changeTimes[:0]
	for _, ct := range f.changeTimes {
		if ct.version <= v {
			changeToACK.Observe(now.Sub(ct.at).Seconds())
			continue
		}
		keep = append(keep, ct)
	}
	f.changeTimes = keep
}

// ready is the /readyz check: the first snapshot was published.
func (f *Feed) ready(*http.Request) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state.Version == 0 {
		return errors.New("no configuration published to Envoy yet")
	}
	return nil
}

// usedLocked returns the objects of kind the model names in used, in the feed's order.
func (f *Feed) usedLocked(kind string, used map[types.NamespacedName]bool) []client.Object {
	var out []client.Object
	for _, o := range f.sortedLocked(kind) {
		if used[types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}] {
			out = append(out, o)
		}
	}
	return out
}
