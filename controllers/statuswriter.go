package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// StatusWriter writes the Gateway API status of what the feed published (status.go), on
// the leader only: after every publish and every change of what Envoy acknowledged, and
// every statusResync in case someone else changed it. A status is patched (a merge patch
// of the status subresource, with the object's resourceVersion) only when it differs from
// the live one.
type StatusWriter struct {
	client         client.Client
	feed           *Feed
	controllerName string
	log            logr.Logger
	// patchedFrom remembers, per object, the resourceVersion a status patch was computed
	// from: while the cache still shows that version, the object is not judged again.
	patchedFrom map[objectKey]string
	// verified remembers, per object, the fingerprint of the status last found written: an
	// object whose desired status did not change is not read again (with 5,000 routes,
	// every publish and every ACK would otherwise copy 5,000 objects out of the cache).
	// It is forgotten every statusResync, so a status someone else changed is repaired.
	verified map[objectKey][sha256.Size]byte
	// addresses says where the shared Gateway's address comes from (address.go); poke is
	// signalled when the Envoy Service changes.
	addresses Options
	poke      chan struct{}
	// pool, when set, gives each Gateway its own address (addresspool.go): the same
	// allocation the plane serves, computed from the same model.
	pool *AddressPool
	// reports, with several replicas, are the other replicas' Envoy reports (fleet.go).
	reports *envoyReports
}

const (
	statusResync = 5 * time.Minute
	statusRetry  = time.Second
	// cacheRetry: how soon objects whose last status write the cache has not shown yet
	// are judged again.
	cacheRetry = 100 * time.Millisecond
)

// errCacheBehind: an object's status was not judged, the cache still showing the version
// the last patch was computed from.
var errCacheBehind = errors.New("the cache has not shown the last status write yet")

// NewStatusWriter writes the status of what feed publishes, with c (reads from the cache).
func NewStatusWriter(c client.Client, feed *Feed, controllerName string, log logr.Logger) *StatusWriter {
	if controllerName == "" {
		controllerName = dataplane.DefaultControllerName
	}
	return &StatusWriter{client: c, feed: feed, controllerName: controllerName, log: log,
		patchedFrom: map[objectKey]string{}, verified: map[objectKey][sha256.Size]byte{},
		addresses: Options{}.withDefaults(), poke: make(chan struct{}, 1)}
}

// watchAddresses makes the Gateways' status.addresses follow the Envoy Service of o (or
// o.GatewayAddress), read through informers.
func (w *StatusWriter) watchAddresses(informers cache.Informers, o Options) error {
	w.addresses = o.withDefaults()
	if w.addresses.GatewayAddressPool != "" {
		if w.pool == nil {
			pool, err := ParseAddressPool(w.addresses.GatewayAddressPool)
			if err != nil {
				return err
			}
			w.pool = pool
		}
		return nil
	}
	if w.addresses.GatewayAddress != "" {
		return nil
	}
	key, err := w.addresses.envoyServiceKey()
	if err != nil {
		return err
	}
	inf, err := informers.GetInformer(context.Background(), &corev1.Service{})
	if err != nil {
		return fmt.Errorf("watching the Envoy Service: %w", err)
	}
	isEnvoy := func(obj any) bool {
		if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		s, ok := obj.(*corev1.Service)
		return ok && s.Namespace == key.Namespace && s.Name == key.Name
	}
	poke := func(obj any) {
		if isEnvoy(obj) {
			select {
			case w.poke <- struct{}{}:
			default:
			}
		}
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: poke, DeleteFunc: poke, UpdateFunc: func(_, obj any) { poke(obj) },
	})
	if err != nil {
		return fmt.Errorf("watching the Envoy Service: %w", err)
	}
	return nil
}

// NeedLeaderElection: only the leader writes.
func (w *StatusWriter) NeedLeaderElection() bool { return true }

// Start writes status until ctx ends.
func (w *StatusWriter) Start(ctx context.Context) error {
	resync := time.NewTicker(statusResync)
	defer resync.Stop()
	// Other replicas' reports go stale without an event when a replica dies: look again
	// as often as they are renewed.
	var reportsExpire <-chan time.Time
	if w.reports != nil {
		t := time.NewTicker(envoyReportRenew)
		defer t.Stop()
		reportsExpire = t.C
	}
	var retry <-chan time.Time
	for {
		state, changed := w.feed.State()
		retry = nil
		if state.Version > 0 {
			err := w.writeAll(ctx, state)
			switch {
			case ctx.Err() != nil:
				return nil
			case err == nil:
			case errors.Is(err, errCacheBehind) && onlyCacheBehind(err):
				retry = time.After(cacheRetry)
			default:
				w.log.V(1).Info("status not written yet; retrying", "reason", err.Error())
				retry = time.After(statusRetry)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-w.poke:
		case <-retry:
		case <-reportsExpire:
		case <-resync.C:
			clear(w.verified)
		}
	}
}

// writeAll writes the status of every object of the published model that has ours.
func (w *StatusWriter) writeAll(ctx context.Context, s ServedState) error {
	v := newStatusView(s, w.controllerName)
	var stale []*coordinationv1.Lease
	v.others, stale = w.reports.fresh(time.Now())
	for _, l := range stale {
		// A replica that died without deleting its report: nobody else will.
		if err := w.client.Delete(ctx, l); err != nil && !apierrors.IsNotFound(err) {
			w.log.V(1).Info("could not delete a stale Envoy report", "lease", l.Name, "error", err.Error())
		}
	}
	now := metav1.Now()
	var errs []error
	var addresses []gwv1.GatewayStatusAddress
	var allocation AddressAllocation
	if w.pool != nil {
		allocation = w.pool.Allocate(poolGateways(s.Model, w.controllerName))
	} else {
		addrs, err := envoyAddresses(ctx, w.client, w.addresses)
		if err != nil {
			return err
		}
		addresses = gatewayStatusAddresses(addrs)
	}
	m := s.Model
	for _, gc := range m.GatewayClasses {
		if gc.Spec.ControllerName != v.controllerName {
			continue
		}
		conds := gatewayClassConditions(gc)
		errs = append(errs, w.once("GatewayClass", gc, conds, func() error { return w.patchGatewayClass(ctx, gc, conds, now) }))
	}
	ours := map[objectKey]bool{}
	for _, gw := range m.Gateways {
		if !v.classes[string(gw.Spec.GatewayClassName)] {
			continue
		}
		ours[objectKey{"Gateway", gw.Namespace, gw.Name}] = true
		conds, listeners, sets := v.gatewayStatus(gw)
		addresses := addresses
		if allocation != nil {
			addresses = nil
			if a := allocation[client.ObjectKeyFromObject(gw)].Address; a != "" {
				addresses = gatewayStatusAddresses([]string{a})
			}
		}
		errs = append(errs, w.once("Gateway", gw, []any{conds, listeners, sets, addresses}, func() error {
			return w.patchGateway(ctx, gw, conds, listeners, sets, addresses, now)
		}))
	}
	for _, ls := range m.ListenerSets {
		ns := ls.Namespace
		if ls.Spec.ParentRef.Namespace != nil {
			ns = string(*ls.Spec.ParentRef.Namespace)
		}
		if ours[objectKey{"Gateway", ns, string(ls.Spec.ParentRef.Name)}] {
			conds, listeners := v.listenerSetStatus(ls)
			errs = append(errs, w.once("ListenerSet", ls, []any{conds, listeners}, func() error { return w.patchListenerSet(ctx, ls, conds, listeners, now) }))
		}
	}
	for _, r := range m.HTTPRoutes {
		want := v.routeParents("HTTPRoute", r.Namespace, r.Name, r.Generation, r.Spec.ParentRefs)
		errs = append(errs, w.once("HTTPRoute", r, want, func() error { return w.patchRoute(ctx, &gwv1.HTTPRoute{}, r, want, now) }))
	}
	for _, r := range m.TLSRoutes {
		want := v.routeParents("TLSRoute", r.Namespace, r.Name, r.Generation, r.Spec.ParentRefs)
		errs = append(errs, w.once("TLSRoute", r, want, func() error { return w.patchRoute(ctx, &gwv1.TLSRoute{}, r, want, now) }))
	}
	for _, r := range m.GRPCRoutes {
		want := v.routeParents("GRPCRoute", r.Namespace, r.Name, r.Generation, r.Spec.ParentRefs)
		errs = append(errs, w.once("GRPCRoute", r, want, func() error { return w.patchRoute(ctx, &gwv1.GRPCRoute{}, r, want, now) }))
	}
	errs = append(errs, w.writeBackendTLSPolicies(ctx, m, now))
	return errors.Join(errs...)
}

// once runs write unless the desired status of obj (want) is the one last found written;
// after a write that succeeded, want is remembered as written.
func (w *StatusWriter) once(kind string, obj client.Object, want any, write func() error) error {
	k := objectKey{kind, obj.GetNamespace(), obj.GetName()}
	js, err := json.Marshal(want)
	if err != nil {
		return write()
	}
	fp := sha256.Sum256(append(js, obj.GetUID()...))
	if old, ok := w.verified[k]; ok && old == fp {
		return nil
	}
	if err := write(); err != nil {
		return err
	}
	w.verified[k] = fp
	return nil
}

// live reads the object's live version from the cache; ok is false when it is gone or
// when the cache still shows the version a patch was computed from.
func (w *StatusWriter) live(ctx context.Context, kind string, obj client.Object, key client.ObjectKey) (bool, error) {
	err := w.client.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s %s: %w", kind, key, err)
	}
	k := objectKey{kind, key.Namespace, key.Name}
	if rv, ok := w.patchedFrom[k]; ok {
		if rv == obj.GetResourceVersion() {
			return false, errCacheBehind
		}
		delete(w.patchedFrom, k)
	}
	return true, nil
}

// onlyCacheBehind reports whether every error joined in err is errCacheBehind.
func onlyCacheBehind(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyCacheBehind(e) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, errCacheBehind)
}

// patch writes updated's status if it differs from live's.
func (w *StatusWriter) patch(ctx context.Context, kind string, live, updated client.Object, same bool) error {
	if same {
		return nil
	}
	err := w.client.Status().Patch(ctx, updated, client.MergeFromWithOptions(live, client.MergeFromWithOptimisticLock{}))
	result := "ok"
	if err != nil {
		result = "error"
	}
	statusWrites.WithLabelValues(kind, result).Inc()
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("writing the status of %s %s/%s: %w", kind, live.GetNamespace(), live.GetName(), err)
	}
	w.patchedFrom[objectKey{kind, live.GetNamespace(), live.GetName()}] = live.GetResourceVersion()
	w.log.V(1).Info("status written", "kind", kind, "object", live.GetNamespace()+"/"+live.GetName())
	return nil
}

func (w *StatusWriter) patchGatewayClass(ctx context.Context, gc *gwv1.GatewayClass, conds []metav1.Condition, now metav1.Time) error {
	live := &gwv1.GatewayClass{}
	if ok, err := w.live(ctx, "GatewayClass", live, client.ObjectKeyFromObject(gc)); !ok {
		return err
	}
	updated := live.DeepCopy()
	updated.Status.Conditions = mergeConditions(live.Status.Conditions, conds, now)
	updated.Status.SupportedFeatures = supportedFeatures()
	return w.patch(ctx, "GatewayClass", live, updated, equality.Semantic.DeepEqual(live.Status, updated.Status))
}

func (w *StatusWriter) patchGateway(ctx context.Context, gw *gwv1.Gateway, conds []metav1.Condition, listeners []gwv1.ListenerStatus, sets *int32, addresses []gwv1.GatewayStatusAddress, now metav1.Time) error {
	live := &gwv1.Gateway{}
	if ok, err := w.live(ctx, "Gateway", live, client.ObjectKeyFromObject(gw)); !ok {
		return err
	}
	updated := live.DeepCopy()
	updated.Status.Conditions = mergeConditions(live.Status.Conditions, keepProgrammed(live.Status.Conditions, conds), now)
	updated.Status.Listeners = mergeListeners(live.Status.Listeners, listeners, now)
	updated.Status.AttachedListenerSets = sets
	updated.Status.Addresses = addresses
	return w.patch(ctx, "Gateway", live, updated, equality.Semantic.DeepEqual(live.Status, updated.Status))
}

func (w *StatusWriter) patchListenerSet(ctx context.Context, ls *gwv1.ListenerSet, conds []metav1.Condition, listeners []gwv1.ListenerEntryStatus, now metav1.Time) error {
	live := &gwv1.ListenerSet{}
	if ok, err := w.live(ctx, "ListenerSet", live, client.ObjectKeyFromObject(ls)); !ok {
		return err
	}
	updated := live.DeepCopy()
	updated.Status.Conditions = mergeConditions(live.Status.Conditions, keepProgrammed(live.Status.Conditions, conds), now)
	updated.Status.Listeners = mergeListenerEntries(live.Status.Listeners, listeners, now)
	return w.patch(ctx, "ListenerSet", live, updated, equality.Semantic.DeepEqual(live.Status, updated.Status))
}

// patchRoute writes our status.parents entries of an HTTPRoute or TLSRoute (live is an
// empty object of its kind); a route without ours and without any is left alone.
func (w *StatusWriter) patchRoute(ctx context.Context, live client.Object, r client.Object, want []gwv1.RouteParentStatus, now metav1.Time) error {
	kind := "HTTPRoute"
	switch live.(type) {
	case *gwv1.TLSRoute:
		kind = "TLSRoute"
	case *gwv1.GRPCRoute:
		kind = "GRPCRoute"
	}
	if ok, err := w.live(ctx, kind, live, client.ObjectKeyFromObject(r)); !ok {
		return err
	}
	var parents *[]gwv1.RouteParentStatus
	updated := live.DeepCopyObject().(client.Object)
	switch u := updated.(type) {
	case *gwv1.HTTPRoute:
		parents = &u.Status.Parents
	case *gwv1.TLSRoute:
		parents = &u.Status.Parents
	case *gwv1.GRPCRoute:
		parents = &u.Status.Parents
	}
	had := false
	for _, p := range *parents {
		had = had || p.ControllerName == gwv1.GatewayController(w.controllerName)
	}
	if !had && len(want) == 0 {
		return nil
	}
	merged := mergeParents(*parents, want, gwv1.GatewayController(w.controllerName), now)
	if merged == nil {
		merged = []gwv1.RouteParentStatus{} // status.parents is required
	}
	same := equality.Semantic.DeepEqual(*parents, merged)
	*parents = merged
	return w.patch(ctx, kind, live, updated, same)
}
