package controllers

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// Snapshot is the cluster state one pass converts.
type Snapshot struct {
	Ingresses      []networkingv1.Ingress
	IngressClasses []networkingv1.IngressClass
	Services       []corev1.Service
	// ConfigMap is the ingress-nginx controller ConfigMap; nil when none is named or found.
	ConfigMap *corev1.ConfigMap
	// ConfigMaps are the ConfigMaps custom-headers annotations name (customheaders.go).
	ConfigMaps []corev1.ConfigMap
	// HandRoutes are the HTTPRoutes gatebridge does not own that name the shared Gateway
	// (conflicts.go); RouteCreated the creationTimestamps of the owned HTTPRoutes that exist.
	HandRoutes   []gwv1.HTTPRoute
	RouteCreated map[objectKey]time.Time
}

// MigrationState is where an Ingress stands in its migration.
type MigrationState string

// Migration states, remembered in the report-hash annotation.
const (
	// StateOff: not asked to migrate (or another IngressClass).
	StateOff MigrationState = "off"
	// StateMigrated: asked, and its objects are planned (and, after the pass, written).
	StateMigrated MigrationState = "migrated"
	// StateRefused: asked, but the conversion refused it (or gatebridge will not write
	// what it produced); it gets no objects.
	StateRefused MigrationState = "refused"
	// StateFailed: asked, but an object could not be written (rejected by the API server,
	// or its name is held by an object gatebridge does not own). Set by the writer.
	StateFailed MigrationState = "failed"
)

// objectKey names an object by kind, namespace and name.
type objectKey struct{ Kind, Namespace, Name string }

func keyOf(obj client.Object) objectKey {
	return objectKey{obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName()}
}

func (k objectKey) String() string {
	if k.Namespace == "" {
		return k.Kind + " " + k.Name
	}
	return k.Kind + " " + k.Namespace + "/" + k.Name
}

// IngressPlan is what a pass decided for one Ingress.
type IngressPlan struct {
	// Ingress is the object as read (never the drop-in copy converted in its place).
	Ingress *networkingv1.Ingress
	Report  converters.IngressReport
	// DropIn: of the gatebridge IngressClass, migrated without the annotation.
	DropIn bool
	// Requested: the annotation says "true", or DropIn.
	Requested bool
	State     MigrationState
	// Notes are the controller's own findings, in the user's terms.
	Notes []string
	// Objects are the objects written for it (owned by it), in apply order.
	Objects []objectKey
	// Conflicts are notes on the matches its routes share with hand-written HTTPRoutes
	// (conflicts.go), made again with every selection.
	Conflicts []string
}

// Assessed reports whether the Ingress belongs to a converted class (it gets Events).
func (p *IngressPlan) Assessed() bool { return p.Report.Verdict != converters.VerdictSkipped }

// DesiredObject is an object the pass writes.
type DesiredObject struct {
	Object client.Object
	// Owner is the Ingress the object belongs to; nil for the controller's shared objects.
	Owner *IngressPlan
}

// Plan is everything one pass writes and reports.
type Plan struct {
	// Objects in apply order (kind order, then namespace and name).
	Objects []DesiredObject
	// Ingresses in namespace/name order, every Ingress read (skipped ones included).
	Ingresses []*IngressPlan
	// Global are the conversion's findings not tied to one Ingress.
	Global []converters.Finding

	// What the selection is made from, to make it again without some Ingresses (Fail).
	converted converters.Result
	opts      converters.Options
	// handRoutes and routeCreated are the snapshot's, for the conflicts.
	handRoutes   []gwv1.HTTPRoute
	routeCreated map[objectKey]time.Time
	// requires is the RequiresAnnotation of each planned HTTPRoute (requires.go).
	requires map[objectKey]string
}

// BuildPlan converts every Ingress of the snapshot and decides what to write: the objects
// of the migrating Ingresses and the shared objects cut down to what those need. Pure.
func BuildPlan(s Snapshot, opts Options) *Plan {
	return buildPlan(s, opts, func(in converters.Input, o converters.Options) converters.Result { return converters.Convert(in, o) })
}

// convertFunc converts the input of a plan: converters.Convert, or a
// converters.Incremental's Convert told which Ingresses changed since its last call.
type convertFunc func(converters.Input, converters.Options) converters.Result

// buildPlan is BuildPlan converting with convert. What it plans depends on convert's
// Result only, so an incremental conversion plans what a full one does.
func buildPlan(s Snapshot, opts Options, convert convertFunc) *Plan {
	opts = opts.withDefaults()
	in := converters.Input{Ingresses: s.Ingresses, IngressClasses: s.IngressClasses, Services: s.Services, ControllerConfigMap: s.ConfigMap, ConfigMaps: s.ConfigMaps}
	in, dropIn := DropInInput(in, opts.Converter.IngressClass)
	res := convert(in, opts.Converter)

	p := &Plan{Global: res.Report.Global}
	live := make(map[string]*networkingv1.Ingress, len(s.Ingresses))
	for i := range s.Ingresses {
		ing := &s.Ingresses[i]
		live[ing.Namespace+"/"+ing.Name] = ing
	}
	objects := make(map[objectKey]client.Object, len(res.Objects))
	for _, o := range res.Objects {
		objects[keyOf(o)] = o
	}
	for _, rep := range res.Report.Ingresses {
		k := rep.Namespace + "/" + rep.Name
		ip := newIngressPlan(live[k], rep, dropIn[k])
		if ip.Ingress == nil {
			continue // not in the snapshot: cannot happen, the report is of its Ingresses
		}
		p.Ingresses = append(p.Ingresses, ip)
	}
	sort.Slice(p.Ingresses, func(i, j int) bool {
		a, b := p.Ingresses[i].Ingress, p.Ingresses[j].Ingress
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})

	listeners := indexListeners(res.Objects, opts.Converter)
	for _, ip := range p.Ingresses {
		if ip.State == StateMigrated {
			refuseInvalidHostnames(ip, objects, listeners, opts.Converter.GatewayNamespace)
		}
	}
	p.converted, p.opts = res, opts.Converter
	p.handRoutes, p.routeCreated = s.HandRoutes, s.RouteCreated
	p.selectObjects()
	return p
}

// selectObjects (re)makes Objects from the migrating Ingresses.
func (p *Plan) selectObjects() {
	for _, ip := range p.Ingresses {
		ip.Objects = nil
	}
	p.Objects = p.servedObjects()
	// The conversion orders policies after routes; the writer applies them before (see
	// ownedKinds). Within a kind, the conversion's namespace/name order stands.
	p.Objects = inApplyOrder(p.Objects)
	p.requires = routeRequirements(p.Objects)
	for _, d := range p.Objects {
		if d.Owner != nil && d.Owner.State == StateMigrated {
			d.Owner.Objects = append(d.Owner.Objects, keyOf(d.Object))
		}
	}
	p.noteConflicts()
}

// inApplyOrder sorts objects by the writer's kind order (ownedKinds), keeping the order
// within a kind.
func inApplyOrder(objs []DesiredObject) []DesiredObject {
	type ranked struct {
		rank int
		d    DesiredObject
	}
	rs := make([]ranked, len(objs))
	for i, d := range objs {
		rs[i] = ranked{kindRank(keyOf(d.Object).Kind), d}
	}
	slices.SortStableFunc(rs, func(a, b ranked) int { return a.rank - b.rank })
	for i := range rs {
		objs[i] = rs[i].d
	}
	return objs
}

// notWritten is the creation time of a route not written yet: newer than every route.
var notWritten = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// noteConflicts notes, on each migrating Ingress, the matches its written HTTPRoutes share
// with hand-written ones, and which is served (conflicts.go).
func (p *Plan) noteConflicts() {
	for _, ip := range p.Ingresses {
		ip.Conflicts = nil
	}
	if len(p.handRoutes) == 0 {
		return
	}
	var routes []claimRoute
	var gws []*gwv1.Gateway
	var sets []*gwv1.ListenerSet
	for _, d := range p.Objects {
		switch x := d.Object.(type) {
		case *gwv1.Gateway:
			gws = append(gws, x)
		case *gwv1.ListenerSet:
			sets = append(sets, x)
		case *gwv1.HTTPRoute:
			if d.Owner == nil || d.Owner.State != StateMigrated {
				continue
			}
			created, ok := p.routeCreated[keyOf(x)]
			if !ok {
				created = notWritten
			}
			routes = append(routes, claimRoute{Route: x, Created: created, Ingress: d.Owner.Ingress.Namespace + "/" + d.Owner.Ingress.Name})
		}
	}
	if len(routes) == 0 {
		return
	}
	for i := range p.handRoutes {
		r := &p.handRoutes[i]
		routes = append(routes, claimRoute{Route: r, Created: r.CreationTimestamp.Time})
	}
	cs := findConflicts(routes, sharedListeners(gws, sets, p.opts.GatewayNamespace, p.opts.GatewayName), p.opts.GatewayNamespace, p.opts.GatewayName)
	if len(cs) == 0 {
		return
	}
	for _, ip := range p.Ingresses {
		if ip.State == StateMigrated {
			ip.Conflicts = conflictNotes(ip.Ingress.Namespace+"/"+ip.Ingress.Name, cs)
		}
	}
}

// Fail marks the Ingresses failed, each with its reasons, and selects the objects again
// without them: an Ingress that cannot have all its objects gets none, and the shared
// objects keep nothing of it.
func (p *Plan) Fail(reasons map[*IngressPlan][]string) {
	if len(reasons) == 0 {
		return
	}
	for ip, why := range reasons {
		ip.State = StateFailed
		ip.Notes = append(ip.Notes, why...)
	}
	p.selectObjects()
}

// DropInInput is in as the converter reads it, in the controller and in `gatebridge
// report`: Ingresses of a gatebridge IngressClass (controller
// gatebridge.dev/ingress-controller) are converted as if of the converted class —
// gatebridge serves them with ingress-nginx's semantics — through a copy that names that
// class; dropIn lists them ("namespace/name"). in itself is not modified.
func DropInInput(in converters.Input, convertedClass string) (converters.Input, map[string]bool) {
	in = converters.DropIn(in, convertedClass)
	dropIn := make(map[string]bool, len(in.DropIn))
	for k := range in.DropIn {
		dropIn[k] = true
	}
	return in, dropIn
}

// legacyClassAnnotation is the pre-IngressClass way to name a class.
const legacyClassAnnotation = "kubernetes.io/ingress.class"

func ingressClassOf(ing *networkingv1.Ingress) string {
	if c := ing.Spec.IngressClassName; c != nil && *c != "" {
		return *c
	}
	return ing.Annotations[legacyClassAnnotation]
}

// newIngressPlan decides whether the Ingress migrates, from its annotation, class and verdict.
func newIngressPlan(ing *networkingv1.Ingress, rep converters.IngressReport, dropIn bool) *IngressPlan {
	ip := &IngressPlan{Ingress: ing, Report: rep, DropIn: dropIn, State: StateOff}
	if ing == nil {
		return ip
	}
	if dropIn {
		ip.Report.Class = ingressClassOf(ing)
	}
	value, set := ing.Annotations[MigrateAnnotation]
	ip.Requested = dropIn || value == "true"
	if !ip.Assessed() {
		ip.Requested = false
		return ip
	}
	if set && !dropIn && value != "true" && value != "false" {
		ip.Notes = append(ip.Notes, fmt.Sprintf("annotation %s is %q; only \"true\" migrates the Ingress (\"false\" or no annotation keeps it on ingress-nginx)", MigrateAnnotation, value))
	}
	switch m := rep.Migration; {
	case m != nil:
		// Behind the bridge the converter decided (converters.Migration): observed is off,
		// migrating and native are written; a canary takes its primary's state.
		switch m.State {
		case converters.MigrationObserved:
			ip.State = StateOff
		case converters.MigrationRefused:
			ip.State = StateRefused
		default:
			ip.State = StateMigrated
		}
	case !ip.Requested:
		ip.State = StateOff
	case rep.Verdict == converters.VerdictRefused:
		ip.State = StateRefused
	default:
		ip.State = StateMigrated
		if rep.Canary {
			ip.Notes = append(ip.Notes, "a canary Ingress's rules live in the routes of the Ingress it joins (same host, path and pathType): they are served when that Ingress migrates")
		}
	}
	return ip
}

// listenerRef names a listener: its Gateway or ListenerSet and its section name.
type listenerRef struct{ ParentKind, Parent, Section string }

// indexListeners returns the hostname of every listener of the shared Gateway and its
// ListenerSets in the conversion's output.
func indexListeners(objs []client.Object, o converters.Options) map[listenerRef]string {
	out := map[listenerRef]string{}
	for _, obj := range objs {
		switch x := obj.(type) {
		case *gwv1.Gateway:
			if x.Name != o.GatewayName || x.Namespace != o.GatewayNamespace {
				continue
			}
			for _, l := range x.Spec.Listeners {
				out[listenerRef{"Gateway", x.Name, string(l.Name)}] = hostnameOf(l.Hostname)
			}
		case *gwv1.ListenerSet:
			for _, l := range x.Spec.Listeners {
				out[listenerRef{"ListenerSet", x.Name, string(l.Name)}] = hostnameOf(l.Hostname)
			}
		}
	}
	return out
}

func hostnameOf(h *gwv1.Hostname) string {
	if h == nil {
		return ""
	}
	return string(*h)
}

// routeParents returns the parentRefs of an HTTPRoute or TLSRoute (nil for other kinds).
func routeParents(obj client.Object) []gwv1.ParentReference {
	switch r := obj.(type) {
	case *gwv1.HTTPRoute:
		return r.Spec.ParentRefs
	case *gwv1.TLSRoute:
		return r.Spec.ParentRefs
	case *gwv1.GRPCRoute:
		return r.Spec.ParentRefs
	}
	return nil
}

func routeHostnames(obj client.Object) []gwv1.Hostname {
	switch r := obj.(type) {
	case *gwv1.HTTPRoute:
		return r.Spec.Hostnames
	case *gwv1.TLSRoute:
		return r.Spec.Hostnames
	case *gwv1.GRPCRoute:
		return r.Spec.Hostnames
	}
	return nil
}

// parentListener is the listener a parentRef of a route in routeNS names, if it is on the
// shared Gateway's namespace.
func parentListener(ref gwv1.ParentReference, routeNS, gatewayNS string) (listenerRef, bool) {
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	if ns != gatewayNS || ref.SectionName == nil {
		return listenerRef{}, false
	}
	kind := "Gateway"
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	return listenerRef{kind, string(ref.Name), string(*ref.SectionName)}, true
}

// refuseInvalidHostnames keeps an Ingress whose routes or listeners carry a hostname the
// API server would reject from migrating, so that nothing of it reaches the shared
// Gateway. The converter refuses such hosts itself; this holds should one slip through.
func refuseInvalidHostnames(ip *IngressPlan, objects map[objectKey]client.Object, listeners map[listenerRef]string, gatewayNS string) {
	var bad []string
	for _, r := range ip.Report.Objects {
		obj := objects[objectKey(r)]
		if obj == nil {
			continue
		}
		for _, h := range routeHostnames(obj) {
			if !validHostname(string(h)) {
				bad = append(bad, string(h))
			}
		}
		for _, ref := range routeParents(obj) {
			if l, ok := parentListener(ref, obj.GetNamespace(), gatewayNS); ok {
				if h := listeners[l]; h != "" && !validHostname(h) {
					bad = append(bad, h)
				}
			}
		}
	}
	if len(bad) == 0 {
		return
	}
	slices.Sort(bad)
	ip.State = StateRefused
	ip.Notes = append(ip.Notes, fmt.Sprintf("host %q is not a valid DNS name (lowercase letters, digits, '-' and '.', optionally starting with \"*.\"): the API server would reject its routes and listeners, so nothing of this Ingress is written; fix spec.rules[].host and spec.tls[].hosts", slices.Compact(bad)[0]))
}

// validHostname: a Gateway API hostname (a DNS-1123 subdomain, optionally "*." first).
func validHostname(h string) bool {
	return h != "" && len(validation.IsDNS1123Subdomain(strings.TrimPrefix(h, "*."))) == 0
}

// servedObjects are what the pass writes: the objects of the migrating Ingresses and the
// shared objects cut down to what those use (converters.ServedObjects), each with its
// owner.
func (p *Plan) servedObjects() []DesiredObject {
	byName := make(map[string]*IngressPlan, len(p.Ingresses))
	served := map[string]bool{}
	for _, ip := range p.Ingresses {
		k := ip.Ingress.Namespace + "/" + ip.Ingress.Name
		byName[k] = ip
		served[k] = ip.State == StateMigrated
	}
	objs, owners := converters.ServedObjects(p.converted, p.opts, served)
	out := make([]DesiredObject, len(objs))
	for i, obj := range objs {
		out[i] = DesiredObject{Object: obj, Owner: byName[owners[i]]}
	}
	return out
}

// baseGatewayClass is the GatewayClass as the conversion emits it, for a cluster with
// nothing to convert yet.
func baseGatewayClass(o converters.Options) *gwv1.GatewayClass { return converters.BaseGatewayClass(o) }

// baseGateway is the shared Gateway as the conversion emits it without TLS hosts.
func baseGateway(o converters.Options) *gwv1.Gateway { return converters.BaseGateway(o) }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func ptrTo[T any](v T) *T { return &v }
