package controllers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// ownedKind is a kind the writer owns objects of, in apply order: what a route depends on
// (its Gateway and listeners, ReferenceGrants, RouteFilters, the TrafficPolicies that
// target it) comes before the route, so that a route is never served, even for the moment
// between two writes, without its policy — its auth, its body-size limit. Deletion goes the
// other way: routes first.
type ownedKind struct {
	kind      string
	newObject func() client.Object
	newList   func() client.ObjectList
}

var ownedKinds = []ownedKind{
	{"GatewayClass", func() client.Object { return &gwv1.GatewayClass{} }, func() client.ObjectList { return &gwv1.GatewayClassList{} }},
	{"Gateway", func() client.Object { return &gwv1.Gateway{} }, func() client.ObjectList { return &gwv1.GatewayList{} }},
	{"ListenerSet", func() client.Object { return &gwv1.ListenerSet{} }, func() client.ObjectList { return &gwv1.ListenerSetList{} }},
	{"ReferenceGrant", func() client.Object { return &gwv1b1.ReferenceGrant{} }, func() client.ObjectList { return &gwv1b1.ReferenceGrantList{} }},
	{"RouteFilter", func() client.Object { return &gbv1.RouteFilter{} }, func() client.ObjectList { return &gbv1.RouteFilterList{} }},
	{"TrafficPolicy", func() client.Object { return &gbv1.TrafficPolicy{} }, func() client.ObjectList { return &gbv1.TrafficPolicyList{} }},
	{"HTTPRoute", func() client.Object { return &gwv1.HTTPRoute{} }, func() client.ObjectList { return &gwv1.HTTPRouteList{} }},
	{"TLSRoute", func() client.Object { return &gwv1.TLSRoute{} }, func() client.ObjectList { return &gwv1.TLSRouteList{} }},
	{"GRPCRoute", func() client.Object { return &gwv1.GRPCRoute{} }, func() client.ObjectList { return &gwv1.GRPCRouteList{} }},
}

func ownedKindOf(kind string) (ownedKind, bool) {
	for _, k := range ownedKinds {
		if k.kind == kind {
			return k, true
		}
	}
	return ownedKind{}, false
}

func kindRank(kind string) int {
	for i, k := range ownedKinds {
		if k.kind == kind {
			return i
		}
	}
	return len(ownedKinds)
}

// PassResult is the outcome of one pass of the writer.
type PassResult struct {
	Plan *Plan
	// Applied, Deleted and Annotated count the writes (attempted) of the pass, and
	// LoadBalancers the status.loadBalancer writes of drop-in Ingresses; Events the Events
	// recorded.
	Applied, Deleted, Annotated, LoadBalancers, Events int
	Duration                                           time.Duration
	// Err is what makes the pass run again with backoff (API errors other than a
	// rejected object).
	Err error
	// Again: an Ingress failed during the pass; the next pass removes what it wrote of it.
	Again bool
	// Follower: this replica does not lead; the pass converted (for its feed) and wrote
	// nothing.
	Follower bool
}

// Writes is the number of writes the pass attempted.
func (r PassResult) Writes() int { return r.Applied + r.Deleted + r.Annotated + r.LoadBalancers }

// written remembers, per object, the resourceVersion at which it is known to hold a given
// hash (applied by this writer, or checked): the cache may still show an older version
// right after a write, and an older version must not cause a second write.
type written struct {
	rv   int64
	hash string
}

// Writer is the reconciler: one pass converts everything and writes what differs.
type Writer struct {
	client    client.Client // reads from the cache, writes to the API server
	apiReader client.Reader // reads the API server directly
	recorder  events.EventRecorder
	opts      Options
	log       logr.Logger

	// State of the one worker (the controller runs one reconcile at a time).
	objects     map[objectKey]written
	annotations map[types.NamespacedName]written
	// loadBalancers remembers the status.loadBalancer written to drop-in Ingresses.
	loadBalancers map[types.NamespacedName]written
	deleted       map[types.UID]bool
	// rejected are the objects that could not be written, in the form tried: while the
	// form stays the same, their Ingress is failed before anything is written.
	rejected map[objectKey]rejection
	// changes are what changed of the conversion's input since the last pass (the watch
	// handlers note them); conv converts again only the parts of the changed Ingresses.
	changes *changeSet
	conv    *converters.Incremental
	// forms are the apply forms of the last pass with what they were made from: an object
	// the conversion reused (the same pointer) for the same owner keeps its form.
	forms map[objectKey]cachedForm

	// elected is closed once this replica leads (nil: always): every replica converts, the
	// leader alone writes. legacy, when set (bridge mode), receives each conversion's
	// locations of the Ingresses not served natively (the feed's SetLegacyLocations).
	elected <-chan struct{}
	legacy  func([]dataplane.RefusedLocation)
	// weights are the last valid gatebridge.dev/weight of each migrating Ingress
	// ("namespace/name"), the conversion's PreviousWeights in bridge mode: from the
	// writer's own passes and, after a restart, from the gatebridge.dev/state it wrote.
	weights map[string]int
	// customHeaders are the ConfigMaps the Ingresses' custom-headers annotations name
	// (customheaders.go): their changes convert everything again.
	customHeaders configMapRefs
}

// newWriter returns a writer with empty memory: its first pass converts everything.
func newWriter(c client.Client, apiReader client.Reader, rec events.EventRecorder, opts Options, log logr.Logger) *Writer {
	opts = opts.withDefaults()
	weights := map[string]int{}
	if opts.Converter.Bridge {
		if opts.Converter.PreviousWeights == nil {
			opts.Converter.PreviousWeights = map[string]int{}
		}
		// The incremental conversion keeps the options: it reads the map the writer
		// updates after each pass.
		weights = opts.Converter.PreviousWeights
	}
	return &Writer{
		client: c, apiReader: apiReader, recorder: rec, opts: opts, log: log,
		objects:       map[objectKey]written{},
		annotations:   map[types.NamespacedName]written{},
		loadBalancers: map[types.NamespacedName]written{},
		deleted:       map[types.UID]bool{},
		rejected:      map[objectKey]rejection{},
		changes:       newChangeSet(),
		conv:          converters.NewIncremental(opts.Converter),
		forms:         map[objectKey]cachedForm{},
		weights:       weights,
	}
}

// leading reports whether this replica may write (it holds the Lease, or none is used).
func (w *Writer) leading() bool {
	if w.elected == nil {
		return true
	}
	select {
	case <-w.elected:
		return true
	default:
		return false
	}
}

// changeSet collects, between passes, what changed of the conversion's input: Ingresses
// by "namespace/name", or everything (IngressClasses, Services, the ConfigMap). Owned
// objects and hand-written routes are not in the conversion's input: their changes
// enqueue a pass but note nothing. Safe for concurrent use (handlers run on the informers'
// goroutines).
type changeSet struct {
	mu        sync.Mutex
	all       bool
	ingresses map[string]bool
}

func newChangeSet() *changeSet { return &changeSet{all: true} }

// ingress notes a change of the Ingress namespace/name (added, edited or deleted).
func (c *changeSet) ingress(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.all {
		if c.ingresses == nil {
			c.ingresses = map[string]bool{}
		}
		c.ingresses[key] = true
	}
}

// everything notes a change that may touch every Ingress's conversion.
func (c *changeSet) everything() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all, c.ingresses = true, nil
}

// take returns the changes noted so far (nil: everything) and starts afresh.
func (c *changeSet) take() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.all {
		c.all, c.ingresses = false, nil
		return nil
	}
	out := c.ingresses
	if out == nil {
		out = map[string]bool{}
	}
	c.ingresses = nil
	return out
}

// putBack returns changes taken by a pass that converted nothing.
func (c *changeSet) putBack(changed map[string]bool) {
	if changed == nil {
		c.everything()
		return
	}
	for k := range changed {
		c.ingress(k)
	}
}

// cachedForm is the hash of an object's apply form and what it was made from. The form
// itself is not kept: a pass needs it only for the objects it writes or checks field by
// field, and a few thousand JSON maps would stay in memory for nothing.
type cachedForm struct {
	obj      client.Object
	owner    types.UID
	requires string
	hash     string
}

// formOf returns the apply form of d. When the conversion reused its object for the same
// owner (unchanged objects are the same pointers), that is the last pass's hash alone
// (obj nil: fullForm makes the rest when it is needed); else a new form.
func (w *Writer) formOf(d DesiredObject, requires string) (applyForm, error) {
	var owner *networkingv1.Ingress
	var uid types.UID
	if d.Owner != nil {
		owner = d.Owner.Ingress
		uid = owner.UID
	}
	k := keyOf(d.Object)
	if c, ok := w.forms[k]; ok && c.owner == uid && c.requires == requires {
		// Shared objects cut down to what the migrating Ingresses use (the Gateway, its
		// ListenerSets, certificate grants) are made anew by every plan: compared, not
		// encoded — there are few, and the encoding is what costs.
		if c.obj == d.Object || d.Owner == nil && equality.Semantic.DeepEqual(c.obj, d.Object) {
			c.obj = d.Object
			w.forms[k] = c
			return applyForm{key: k, hash: c.hash}, nil
		}
	}
	form, err := newApplyForm(d.Object, owner, requires)
	if err != nil {
		return applyForm{}, err
	}
	w.forms[k] = cachedForm{d.Object, uid, requires, form.hash}
	return form, nil
}

// fullForm is form with its object: made again from d when formOf gave the hash alone.
func fullForm(form applyForm, d DesiredObject, requires string) (applyForm, error) {
	if form.obj != nil {
		return form, nil
	}
	var owner *networkingv1.Ingress
	if d.Owner != nil {
		owner = d.Owner.Ingress
	}
	return newApplyForm(d.Object, owner, requires)
}

// rejection is an object that could not be written, and why.
type rejection struct {
	hash, message string
	ingress       types.NamespacedName
}

// pass runs one pass.
func (w *Writer) pass(ctx context.Context) PassResult {
	began := time.Now()
	res := PassResult{}
	// Taken before the cache is read: a change noted after this is converted again by the
	// next pass (its handler enqueues one), whether or not this pass already reads it.
	changed := w.changes.take()
	snap, err := w.snapshot(ctx)
	if err != nil {
		w.changes.putBack(changed)
		res.Err = err
		return res
	}
	live, err := w.listOwned(ctx)
	if err != nil {
		w.changes.putBack(changed)
		res.Err = err
		return res
	}
	res = w.reconcile(ctx, snap, live, changed)
	res.Duration = time.Since(began)
	return res
}

// reconcile is a pass after reading the cluster: plan from snap (converting again the
// parts of the changed Ingresses; nil: everything), then write what differs from live.
func (w *Writer) reconcile(ctx context.Context, snap Snapshot, live map[objectKey]client.Object, changed map[string]bool) PassResult {
	res := PassResult{}
	snap.RouteCreated = map[objectKey]time.Time{}
	for k, obj := range live {
		if k.Kind == "HTTPRoute" {
			snap.RouteCreated[k] = obj.GetCreationTimestamp().Time
		}
	}
	if w.opts.Converter.Bridge {
		seedWeights(w.weights, snap.Ingresses)
	}
	var conv converters.Result
	plan := buildPlan(snap, w.opts, func(in converters.Input, _ converters.Options) converters.Result {
		conv = w.conv.Convert(in, changed)
		return conv
	})
	res.Plan = plan
	if w.legacy != nil {
		// Before any write: an Ingress rolled back goes to the fallback at once (a legacy
		// location is served ahead of a route with the same match), before its routes are
		// deleted; one newly migrated falls back, through the catch-all, until its routes
		// are written.
		w.legacy(legacyLocations(conv, w.opts.Converter))
	}
	if w.opts.Converter.Bridge {
		defer rememberWeights(w.weights, plan)
	}
	if !w.leading() {
		// A follower converts (for its feed) and writes nothing: not an object, an
		// annotation, an Event or a status.
		recordVerdicts(plan)
		res.Follower = true
		return res
	}
	failures, err := w.precheck(ctx, plan, live)
	if err != nil {
		res.Err = err
		return res
	}
	plan.Fail(failures)
	var errs []error
	errs = append(errs, w.deleteStale(ctx, plan, live, &res)...)
	errs = append(errs, w.applyAll(ctx, plan, live, &res)...)
	errs = append(errs, w.assess(ctx, plan, &res)...)
	errs = append(errs, w.writeLoadBalancers(ctx, plan, &res)...)
	w.forgetGone(plan)
	recordVerdicts(plan)
	res.Err = errors.Join(errs...)
	return res
}

// snapshot reads the cluster state from the cache. The lists are not deep-copied: the
// converter only reads, and the drop-in path copies what it changes.
func (w *Writer) snapshot(ctx context.Context) (Snapshot, error) {
	var s Snapshot
	var ings networkingv1.IngressList
	if err := w.client.List(ctx, &ings, client.UnsafeDisableDeepCopy); err != nil {
		return s, fmt.Errorf("listing Ingresses: %w", err)
	}
	var classes networkingv1.IngressClassList
	if err := w.client.List(ctx, &classes, client.UnsafeDisableDeepCopy); err != nil {
		return s, fmt.Errorf("listing IngressClasses: %w", err)
	}
	var svcs corev1.ServiceList
	if err := w.client.List(ctx, &svcs, client.UnsafeDisableDeepCopy); err != nil {
		return s, fmt.Errorf("listing Services: %w", err)
	}
	s.Ingresses, s.IngressClasses, s.Services = ings.Items, classes.Items, svcs.Items
	var routes gwv1.HTTPRouteList
	if err := w.client.List(ctx, &routes, client.UnsafeDisableDeepCopy); err != nil {
		return s, fmt.Errorf("listing HTTPRoutes: %w", err)
	}
	namesGateway := namesSharedGateway(w.opts.Converter)
	for i := range routes.Items {
		if r := &routes.Items[i]; !owned(r) && namesGateway(r) {
			s.HandRoutes = append(s.HandRoutes, *r)
		}
	}
	sort.Slice(s.Ingresses, func(i, j int) bool {
		a, b := &s.Ingresses[i], &s.Ingresses[j]
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	refs := customHeadersRefs(s.Ingresses, w.opts.Converter.AnnotationsPrefix)
	w.customHeaders.set(refs)
	cms, err := readCustomHeaders(ctx, w.apiReader, refs)
	if err != nil {
		return s, err
	}
	s.ConfigMaps = cms
	key, named, err := w.opts.configMapKey()
	if err != nil {
		return s, err
	}
	if named {
		var cm corev1.ConfigMap
		switch err := w.client.Get(ctx, key, &cm); {
		case apierrors.IsNotFound(err):
			w.log.V(1).Info("the controller ConfigMap does not exist; converting with ingress-nginx's defaults", "configmap", w.opts.ConfigMap)
		case err != nil:
			return s, fmt.Errorf("reading ConfigMap %s: %w", w.opts.ConfigMap, err)
		default:
			s.ConfigMap = &cm
		}
	}
	return s, nil
}

// listOwned lists, from the cache, the objects the controller owns, by key.
func (w *Writer) listOwned(ctx context.Context) (map[objectKey]client.Object, error) {
	out := map[objectKey]client.Object{}
	for _, k := range ownedKinds {
		list := k.newList()
		if err := w.client.List(ctx, list, client.MatchingLabels{converters.LabelManagedBy: converters.ManagedByValue}); err != nil {
			return nil, fmt.Errorf("listing %s objects: %w", k.kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, fmt.Errorf("reading the %s list: %w", k.kind, err)
		}
		for _, it := range items {
			obj, ok := it.(client.Object)
			if !ok || !owned(obj) {
				continue
			}
			out[objectKey{k.kind, obj.GetNamespace(), obj.GetName()}] = obj
		}
	}
	return out, nil
}

// deleteStale deletes the owned objects the plan does not hold: those of Ingresses that
// no longer migrate or no longer exist (a cluster's garbage collector also deletes the
// latter through their owner references; this covers objects in other namespaces and
// clusters without one), and shared objects no longer needed. Routes go before what they
// attach to.
func (w *Writer) deleteStale(ctx context.Context, plan *Plan, live map[objectKey]client.Object, res *PassResult) []error {
	want := make(map[objectKey]bool, len(plan.Objects))
	for _, d := range plan.Objects {
		want[keyOf(d.Object)] = true
	}
	var stale []objectKey
	seen := map[types.UID]bool{}
	for k, obj := range live {
		seen[obj.GetUID()] = true
		if !want[k] && !w.deleted[obj.GetUID()] {
			stale = append(stale, k)
		}
	}
	for uid := range w.deleted {
		if !seen[uid] {
			delete(w.deleted, uid) // the cache has seen the deletion
		}
	}
	sort.Slice(stale, func(i, j int) bool {
		a, b := stale[i], stale[j]
		if ra, rb := kindRank(a.Kind), kindRank(b.Kind); ra != rb {
			return ra > rb
		}
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	var errs []error
	for _, k := range stale {
		obj := live[k]
		uid := obj.GetUID()
		res.Deleted++
		err := w.client.Delete(ctx, obj, client.Preconditions{UID: &uid})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			err = nil // gone already, or replaced by a new object the next pass judges
		}
		countWrite(k.Kind, "delete", err)
		if err != nil {
			errs = append(errs, fmt.Errorf("deleting %s: %w", k, err))
			continue
		}
		w.deleted[uid] = true
		delete(w.objects, k)
		w.log.Info("deleted", "object", k.String())
	}
	return errs
}

// applyAll applies the planned objects that differ from the live ones, in apply order. An
// object the API server rejects, or whose name an object gatebridge does not own holds,
// marks its Ingress failed; other errors make the pass run again.
func (w *Writer) applyAll(ctx context.Context, plan *Plan, live map[objectKey]client.Object, res *PassResult) []error {
	var errs []error
	for _, d := range plan.Objects {
		requires := plan.requires[keyOf(d.Object)]
		form, err := w.formOf(d, requires)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		wrote, err := w.applyOne(ctx, form, func() (applyForm, error) { return fullForm(form, d, requires) }, live[form.key])
		if wrote {
			res.Applied++
		}
		var refused refusedError
		switch {
		case errors.As(err, &refused):
			w.log.Info("not written", "object", form.key.String(), "reason", err.Error())
			if d.Owner != nil && (d.Owner.State == StateMigrated || d.Owner.State == StateFailed) {
				d.Owner.State = StateFailed
				d.Owner.Notes = append(d.Owner.Notes, refused.Error())
				owner := d.Owner.Ingress
				w.rejected[form.key] = rejection{form.hash, refused.Error(), types.NamespacedName{Namespace: owner.Namespace, Name: owner.Name}}
				res.Again = true
			}
		case err != nil:
			errs = append(errs, err)
		}
	}
	return errs
}

// refusedError is an object that will not be written as long as the input stays the same.
type refusedError struct{ msg string }

func (e refusedError) Error() string { return e.msg }

// precheck finds, before anything is written, the migrating Ingresses that cannot have all
// their objects: a name held by an object gatebridge does not own, or an object the API
// server rejected in the same form in an earlier pass.
func (w *Writer) precheck(ctx context.Context, plan *Plan, live map[objectKey]client.Object) (map[*IngressPlan][]string, error) {
	out := map[*IngressPlan][]string{}
	for _, d := range plan.Objects {
		if d.Owner == nil || d.Owner.State != StateMigrated {
			continue
		}
		k := keyOf(d.Object)
		if r, ok := w.rejected[k]; ok {
			form, err := w.formOf(d, plan.requires[k])
			if err != nil {
				return nil, err
			}
			if form.hash == r.hash {
				out[d.Owner] = append(out[d.Owner], r.message)
				continue
			}
			delete(w.rejected, k)
		}
		if _, ok := live[k]; ok {
			continue
		}
		kind, ok := ownedKindOf(k.Kind)
		if !ok {
			return nil, fmt.Errorf("%s: gatebridge does not write this kind", k)
		}
		obj := kind.newObject()
		switch err := w.client.Get(ctx, client.ObjectKey{Namespace: k.Namespace, Name: k.Name}, obj); {
		case apierrors.IsNotFound(err):
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", k, err)
		case !owned(obj):
			out[d.Owner] = append(out[d.Owner], foreignMessage(k))
		}
	}
	return out, nil
}

func foreignMessage(k objectKey) string {
	return fmt.Sprintf("%s exists and is not managed by gatebridge (no label %s=%s and annotation %s): gatebridge leaves it alone; delete or rename it to let gatebridge write its own",
		k, converters.LabelManagedBy, converters.ManagedByValue, AppliedHashAnnotation)
}

// applyOne applies form unless live already holds it; wrote says whether it wrote. form
// may hold the hash alone: full gives it whole when live is not known to hold that hash.
func (w *Writer) applyOne(ctx context.Context, form applyForm, full func() (applyForm, error), live client.Object) (wrote bool, err error) {
	if live == nil {
		// Not in the cache: absent, not seen yet (just written), or not gatebridge's.
		if live, err = w.readDirect(ctx, form.key); err != nil {
			return false, err
		}
	}
	if live != nil && w.known(w.objects[form.key], form.hash, live) {
		return false, nil
	}
	if form, err = full(); err != nil {
		return false, err
	}
	if live != nil {
		ok, err := inSync(form, live)
		if err != nil {
			return false, err
		}
		if ok {
			w.remember(w.objects, form.key, live.GetResourceVersion(), form.hash)
			return false, nil
		}
	}
	u := form.obj.DeepCopy()
	err = w.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
	countWrite(form.key.Kind, "apply", err)
	switch {
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		return true, refusedError{fmt.Sprintf("%s was rejected by the API server: %v", form.key, apiMessage(err))}
	case err != nil:
		return true, fmt.Errorf("applying %s: %w", form.key, err)
	}
	w.remember(w.objects, form.key, u.GetResourceVersion(), form.hash)
	w.log.Info("applied", "object", form.key.String())
	return true, nil
}

// forgetGone drops what the writer remembers of objects and Ingresses the plan no longer
// holds, so that its memory follows the cluster's size, not its history.
func (w *Writer) forgetGone(plan *Plan) {
	want := make(map[objectKey]bool, len(plan.Objects))
	for _, d := range plan.Objects {
		want[keyOf(d.Object)] = true
	}
	for k := range w.objects {
		if !want[k] {
			delete(w.objects, k)
		}
	}
	for k := range w.forms {
		if !want[k] {
			delete(w.forms, k)
		}
	}
	ings := make(map[types.NamespacedName]bool, len(plan.Ingresses))
	for _, ip := range plan.Ingresses {
		ings[types.NamespacedName{Namespace: ip.Ingress.Namespace, Name: ip.Ingress.Name}] = true
	}
	for k := range w.annotations {
		if !ings[k] {
			delete(w.annotations, k)
		}
	}
	for k := range w.loadBalancers {
		if !ings[k] {
			delete(w.loadBalancers, k)
		}
	}
	requested := map[types.NamespacedName]bool{}
	for _, ip := range plan.Ingresses {
		if ip.Requested {
			requested[types.NamespacedName{Namespace: ip.Ingress.Namespace, Name: ip.Ingress.Name}] = true
		}
	}
	for k, r := range w.rejected {
		if !requested[r.ingress] {
			delete(w.rejected, k)
		}
	}
}

// readDirect reads an object the cache does not show as owned from the API server: the
// cache may not have seen a write yet, and an object gatebridge does not own must not be
// taken over (server-side apply with ForceOwnership would). It returns nil when absent.
func (w *Writer) readDirect(ctx context.Context, key objectKey) (client.Object, error) {
	k, ok := ownedKindOf(key.Kind)
	if !ok {
		return nil, fmt.Errorf("%s: gatebridge does not write this kind", key)
	}
	obj := k.newObject()
	switch err := w.apiReader.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: key.Name}, obj); {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", key, err)
	case !owned(obj):
		return nil, refusedError{foreignMessage(key)}
	}
	return obj, nil
}

// known reports whether live is the version remembered to hold hash, or an older one the
// cache still shows (resourceVersions of one resource only grow).
func (w *Writer) known(rec written, hash string, live client.Object) bool {
	if rec.hash != hash || rec.rv == 0 {
		return false
	}
	rv, err := strconv.ParseInt(live.GetResourceVersion(), 10, 64)
	return err == nil && rv <= rec.rv
}

func (w *Writer) remember(m map[objectKey]written, k objectKey, rv, hash string) {
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil {
		delete(m, k)
		return
	}
	m[k] = written{n, hash}
}

// assess records Events on every assessed Ingress whose report-hash changed, then stores
// the new one and its migration state (gatebridge.dev/state) on the Ingress; Ingresses no
// longer assessed lose both annotations.
func (w *Writer) assess(ctx context.Context, plan *Plan, res *PassResult) []error {
	var errs []error
	for _, ip := range plan.Ingresses {
		ing := ip.Ingress
		key := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
		have, present := ing.Annotations[ReportHashAnnotation]
		haveState, statePresent := ing.Annotations[StateAnnotation]
		want, wantState := "", stateValue(ip)
		if ip.Assessed() {
			want = reportHash(ip)
		}
		// What the writer remembers writing: both annotations.
		memo := want + "\n" + wantState
		if have == want && present == (want != "") && haveState == wantState && statePresent == (wantState != "") {
			w.rememberAnnotation(key, ing.ResourceVersion, memo)
			continue
		}
		if rec := w.annotations[key]; rec.hash == memo && rec.rv != 0 {
			if rv, err := strconv.ParseInt(ing.ResourceVersion, 10, 64); err == nil && rv <= rec.rv {
				continue // written already; the cache has not caught up
			}
		}
		if want != "" && have != want {
			for _, e := range eventsFor(ip, stateOf(have), haveState, wantState) {
				w.recorder.Eventf(ing, nil, e.Type, e.Reason, e.Action, "%s", e.Note)
				res.Events++
			}
		}
		res.Annotated++
		rv, err := w.annotate(ctx, ing, want, wantState)
		countWrite("Ingress", "annotate", err)
		if err != nil {
			if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				errs = append(errs, fmt.Errorf("annotating Ingress %s: %w", key, err))
			}
			continue
		}
		w.rememberAnnotation(key, rv, memo)
	}
	return errs
}

func (w *Writer) rememberAnnotation(key types.NamespacedName, rv, hash string) {
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil {
		delete(w.annotations, key)
		return
	}
	w.annotations[key] = written{n, hash}
}

// annotate sets the report-hash and gatebridge.dev/state annotations of ing (a value ""
// removes its annotation) with server-side apply: gatebridge's field manager owns those
// two annotations and nothing else of the Ingress — never its spec. The uid makes the
// apply fail rather than create an Ingress that was deleted meanwhile.
func (w *Writer) annotate(ctx context.Context, ing *networkingv1.Ingress, reportHash, state string) (resourceVersion string, err error) {
	md := map[string]any{"name": ing.Name, "namespace": ing.Namespace, "uid": string(ing.UID)}
	ann := map[string]any{}
	if reportHash != "" {
		ann[ReportHashAnnotation] = reportHash
	}
	if state != "" {
		ann[StateAnnotation] = state
	}
	if len(ann) > 0 {
		md["annotations"] = ann
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": networkingv1.SchemeGroupVersion.String(),
		"kind":       "Ingress",
		"metadata":   md,
	}}
	if err := w.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return "", err
	}
	return u.GetResourceVersion(), nil
}

// apiMessage is the API server's message of err without the Go error's wrapping.
func apiMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Message
	}
	return err.Error()
}

// sortedStates is for logs: the Ingresses of the plan per migration state.
func sortedStates(p *Plan) map[MigrationState]int {
	out := map[MigrationState]int{}
	for _, ip := range p.Ingresses {
		if ip.Assessed() {
			out[ip.State]++
		}
	}
	return out
}

// enqueue is a watch handler that notes the change (note may be nil) and enqueues a pass.
func (w *Writer) enqueue(note func(client.Object)) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		if note != nil {
			note(obj)
		}
		return []reconcile.Request{passKey}
	})
}
