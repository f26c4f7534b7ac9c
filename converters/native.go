package converters

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// What is served when only some Ingresses are: the controller writes the objects of the
// migrating Ingresses only, and the bridge serves natively only those of the migrating and
// native ones. Their objects are taken whole; the shared objects (the Gateway, its
// ListenerSets, the certificate ReferenceGrants, the defaults TrafficPolicy) are cut down
// to what those use: a listener is kept when a kept route names it, so the TLS host of an
// Ingress not served has no listener and no certificate — behind the bridge its handshakes
// pass through by SNI to ingress-nginx, with ingress-nginx's certificate.

// NativeObjects returns the objects a bridge serves natively after a conversion in bridge
// mode: those of the Ingresses migrating or native (IngressReport.Migration), and the
// shared objects cut down to what they use (ServedObjects).
func NativeObjects(res Result, opts Options) []client.Object {
	served := map[string]bool{}
	for _, ing := range res.Report.Ingresses {
		if m := ing.Migration; m != nil && (m.State == MigrationMigrating || m.State == MigrationNative) {
			served[ing.Namespace+"/"+ing.Name] = true
		}
	}
	objs, _ := ServedObjects(res, opts, served)
	return objs
}

// ServedObjects returns, in the conversion's order, what is served of res when only the
// Ingresses in served ("namespace/name") are: their objects, the route-to-Service
// ReferenceGrants their HTTPRoutes use (a canary's in another namespace), the Gateway and
// ListenerSets holding only the listeners their routes use (the Gateway keeps "http"; an
// empty ListenerSet is dropped), the certificate ReferenceGrants cut down to the Secrets
// those listeners name, and the defaults TrafficPolicy when any Ingress is served. The
// GatewayClass and the Gateway are always there (built, first, when the conversion emitted
// none). The TLSRoute of an Ingress migrating below 100 is not served: a TLS stream cannot
// be split per request, so its SNI keeps passing through to ingress-nginx.
//
// owners[i] is the Ingress objs[i] belongs to ("" for the shared objects). An object cut
// down is a copy; every other is the conversion's own (the same pointer). Pure.
func ServedObjects(res Result, opts Options, served map[string]bool) (objs []client.Object, owners []string) {
	o := opts.withDefaults()
	ownerOf := map[ObjectRef]string{}
	migrating := map[string]bool{}
	for _, ing := range res.Report.Ingresses {
		k := ing.Namespace + "/" + ing.Name
		for _, r := range ing.Objects {
			ownerOf[r] = k
		}
		if m := ing.Migration; m != nil && m.State == MigrationMigrating {
			migrating[k] = true
		}
	}
	owner := func(obj client.Object) string { return ownerOf[refOf(obj)] }
	keep := func(obj client.Object) bool {
		k := owner(obj)
		if k == "" || !served[k] {
			return false
		}
		_, tls := obj.(*gwv1.TLSRoute)
		return !tls || !migrating[k]
	}
	n := collectNeeds(res.Objects, keep, o.GatewayNamespace)
	for _, ing := range res.Report.Ingresses {
		n.serving = n.serving || served[ing.Namespace+"/"+ing.Name]
	}
	var shared []client.Object
	for _, obj := range res.Objects {
		switch x := obj.(type) {
		case *gwv1.Gateway:
			if x.Name == o.GatewayName && x.Namespace == o.GatewayNamespace {
				shared = append(shared, obj)
			}
		case *gwv1.ListenerSet:
			shared = append(shared, obj)
		}
	}
	keptListeners := filterListeners(shared, n.listeners)
	grants := certificateGrants(keptListeners, o.GatewayNamespace)
	// The per-host TLS policies (ssl-ciphers, auth-tls-*) of the kept listeners: dropping
	// one would serve its host with weaker TLS, or without client certificates.
	frontendTLS, clientCAs := keptFrontendTLS(res.Objects, n.listeners, o.GatewayNamespace)

	var haveClass, haveGateway bool
	add := func(obj client.Object, owner string) { objs, owners = append(objs, obj), append(owners, owner) }
	for _, obj := range res.Objects {
		k := refOf(obj)
		switch x := obj.(type) {
		case *gwv1.GatewayClass:
			haveClass = true
			add(obj, "")
		case *gwv1.Gateway:
			if g := keptListeners[k]; g != nil {
				haveGateway = true
				add(g, "")
			}
		case *gwv1.ListenerSet:
			if ls := keptListeners[k]; ls != nil {
				add(ls, "")
			}
		case *gwv1b1.ReferenceGrant:
			switch ow := owner(obj); {
			case ow != "":
				if grantNeeded(x, n.backends) {
					add(obj, ow)
				}
			case isClientCAGrant(x):
				if g := rebuildClientCAGrant(x, clientCAs[x.Namespace]); g != nil {
					add(g, "")
				}
			default:
				if g := rebuildCertificateGrant(x, grants[x.Namespace], o.GatewayNamespace); g != nil {
					add(g, "")
				}
			}
		case *gbv1.TrafficPolicy:
			switch {
			case keep(obj):
				add(obj, owner(obj))
			case frontendTLS[k] != nil:
				add(frontendTLS[k], "")
			case owner(obj) == "" && k.Name == DefaultsPolicyName && k.Namespace == o.GatewayNamespace && n.serving:
				add(obj, "")
			}
		default:
			switch {
			case keep(obj):
				add(obj, owner(obj))
			case owner(obj) == "" && k.Kind == "TrafficPolicy" && k.Name == DefaultsPolicyName && k.Namespace == o.GatewayNamespace && n.serving:
				add(obj, "")
			}
		}
	}
	var base []client.Object
	if !haveClass {
		base = append(base, BaseGatewayClass(o))
	}
	if !haveGateway {
		base = append(base, BaseGateway(o))
	}
	return append(base, objs...), append(make([]string, len(base)), owners...)
}

func refOf(obj client.Object) ObjectRef {
	return ObjectRef{Kind: obj.GetObjectKind().GroupVersionKind().Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// listenerKey names a listener: its Gateway or ListenerSet and its section name.
type listenerKey struct{ parentKind, parent, section string }

// servedNeeds is what the kept objects use of the shared ones.
type servedNeeds struct {
	// serving: some Ingress of the conversion is served (even one without objects: a
	// canary's live in its primary's routes).
	serving bool
	// listeners used by a kept route.
	listeners map[listenerKey]bool
	// backends: "routeNamespace/serviceNamespace/service" of a kept HTTPRoute's
	// backendRefs in another namespace (they need a ReferenceGrant there).
	backends map[string]bool
}

func collectNeeds(objs []client.Object, keep func(client.Object) bool, gatewayNS string) servedNeeds {
	n := servedNeeds{listeners: map[listenerKey]bool{}, backends: map[string]bool{}}
	for _, obj := range objs {
		if _, grant := obj.(*gwv1b1.ReferenceGrant); grant || !keep(obj) {
			continue
		}
		var parents []gwv1.ParentReference
		switch r := obj.(type) {
		case *gwv1.HTTPRoute:
			parents = r.Spec.ParentRefs
			for _, rule := range r.Spec.Rules {
				for _, b := range rule.BackendRefs {
					if b.Namespace != nil && string(*b.Namespace) != r.Namespace {
						n.backends[r.Namespace+"/"+string(*b.Namespace)+"/"+string(b.Name)] = true
					}
				}
			}
		case *gwv1.TLSRoute:
			parents = r.Spec.ParentRefs
		}
		for _, ref := range parents {
			if l, ok := parentListenerKey(ref, obj.GetNamespace(), gatewayNS); ok {
				n.listeners[l] = true
			}
		}
	}
	return n
}

// parentListenerKey is the listener a parentRef of a route in routeNS names, if it is in
// the shared Gateway's namespace.
func parentListenerKey(ref gwv1.ParentReference, routeNS, gatewayNS string) (listenerKey, bool) {
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	if ns != gatewayNS || ref.SectionName == nil {
		return listenerKey{}, false
	}
	kind := "Gateway"
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	return listenerKey{kind, string(ref.Name), string(*ref.SectionName)}, true
}

// filterListeners returns copies of the Gateway and ListenerSets holding only the listeners
// a kept route uses (the Gateway keeps "http"); a ListenerSet left empty is dropped.
func filterListeners(objs []client.Object, used map[listenerKey]bool) map[ObjectRef]client.Object {
	out := map[ObjectRef]client.Object{}
	sets := false
	var gw *gwv1.Gateway
	for _, obj := range objs {
		switch x := obj.(type) {
		case *gwv1.Gateway:
			g := x.DeepCopy()
			g.Spec.Listeners = slices.DeleteFunc(g.Spec.Listeners, func(l gwv1.Listener) bool {
				return l.Name != "http" && !used[listenerKey{"Gateway", g.Name, string(l.Name)}]
			})
			gw = g
			out[refOf(g)] = g
		case *gwv1.ListenerSet:
			unused := func(l gwv1.ListenerEntry) bool { return !used[listenerKey{"ListenerSet", x.Name, string(l.Name)}] }
			ls := x // kept as converted (the same pointer) when every listener is used
			if slices.ContainsFunc(x.Spec.Listeners, unused) {
				ls = x.DeepCopy()
				ls.Spec.Listeners = slices.DeleteFunc(ls.Spec.Listeners, unused)
			}
			if len(ls.Spec.Listeners) > 0 {
				out[refOf(ls)] = ls
				sets = true
			}
		}
	}
	if gw != nil && !sets {
		gw.Spec.AllowedListeners = nil
	}
	return out
}

// certNeed is what the kept listeners name in one namespace: the certificate Secrets and
// the kinds (Gateway, ListenerSet) that name them.
type certNeed struct{ secrets, from map[string]bool }

func certificateGrants(listeners map[ObjectRef]client.Object, gatewayNS string) map[string]certNeed {
	out := map[string]certNeed{}
	add := func(kind string, tls *gwv1.ListenerTLSConfig) {
		if tls == nil {
			return
		}
		for _, ref := range tls.CertificateRefs {
			if ref.Namespace == nil || string(*ref.Namespace) == gatewayNS {
				continue
			}
			ns := string(*ref.Namespace)
			g, ok := out[ns]
			if !ok {
				g = certNeed{map[string]bool{}, map[string]bool{}}
				out[ns] = g
			}
			g.secrets[string(ref.Name)] = true
			g.from[kind] = true
		}
	}
	for _, obj := range listeners {
		switch x := obj.(type) {
		case *gwv1.Gateway:
			for _, l := range x.Spec.Listeners {
				add("Gateway", l.TLS)
			}
		case *gwv1.ListenerSet:
			for _, l := range x.Spec.Listeners {
				add("ListenerSet", l.TLS)
			}
		}
	}
	return out
}

// maxGrantTargets is the number of entries a ReferenceGrant's spec.to may hold.
const maxGrantTargets = 16

// rebuildCertificateGrant is the conversion's certificate grant of one namespace cut down
// to the Secrets the kept listeners name; nil when they name none there.
func rebuildCertificateGrant(g *gwv1b1.ReferenceGrant, need certNeed, gatewayNS string) client.Object {
	if len(need.secrets) == 0 {
		return nil
	}
	for _, to := range g.Spec.To {
		if to.Kind != "Secret" {
			return nil // not a certificate grant: the conversion makes no other shared one
		}
	}
	out := g.DeepCopy()
	out.Spec.From, out.Spec.To = nil, nil
	for _, kind := range sortedKeys(need.from) {
		out.Spec.From = append(out.Spec.From, gwv1b1.ReferenceGrantFrom{Group: gwv1.GroupName, Kind: gwv1.Kind(kind), Namespace: gwv1.Namespace(gatewayNS)})
	}
	out.Spec.To = secretGrantTargets(need.secrets)
	return out
}

// secretGrantTargets is a ReferenceGrant's spec.to for the named Secrets, sorted; beyond
// the maxGrantTargets entries the CRD allows, every Secret of the namespace.
func secretGrantTargets(names map[string]bool) []gwv1b1.ReferenceGrantTo {
	if len(names) > maxGrantTargets {
		return []gwv1b1.ReferenceGrantTo{{Group: "", Kind: "Secret"}}
	}
	out := make([]gwv1b1.ReferenceGrantTo, 0, len(names))
	for _, name := range sortedKeys(names) {
		out = append(out, gwv1b1.ReferenceGrantTo{Group: "", Kind: "Secret", Name: ptr(gwv1.ObjectName(name))})
	}
	return out
}

// grantNeeded: a route-to-Service grant (canaries in another namespace) is kept when a
// kept HTTPRoute uses it.
func grantNeeded(g *gwv1b1.ReferenceGrant, backends map[string]bool) bool {
	for _, from := range g.Spec.From {
		for _, to := range g.Spec.To {
			if from.Kind == "HTTPRoute" && to.Kind == "Service" && to.Name != nil &&
				backends[string(from.Namespace)+"/"+g.Namespace+"/"+string(*to.Name)] {
				return true
			}
		}
	}
	return false
}

// BaseGatewayClass is the GatewayClass as the conversion emits it, for when it emitted
// none (nothing to convert yet).
func BaseGatewayClass(opts Options) *gwv1.GatewayClass {
	o := opts.withDefaults()
	return &gwv1.GatewayClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "GatewayClass"},
		ObjectMeta: metav1.ObjectMeta{Name: o.GatewayClassName, Labels: map[string]string{LabelManagedBy: ManagedByValue}},
		Spec:       gwv1.GatewayClassSpec{ControllerName: ControllerName},
	}
}

// BaseGateway is the shared Gateway as the conversion emits it without TLS hosts: the
// "http" listener on port 80, routes from every namespace.
func BaseGateway(opts Options) *gwv1.Gateway {
	o := opts.withDefaults()
	all := gwv1.NamespacesFromAll
	return &gwv1.Gateway{
		TypeMeta: metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "Gateway"},
		ObjectMeta: metav1.ObjectMeta{Name: o.GatewayName, Namespace: o.GatewayNamespace,
			Labels: map[string]string{LabelManagedBy: ManagedByValue}},
		Spec: gwv1.GatewaySpec{
			GatewayClassName: gwv1.ObjectName(o.GatewayClassName),
			Listeners: []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType,
				AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &all}}}},
		},
	}
}

// keptFrontendTLS returns the shared frontendTLS TrafficPolicies (one per host, targeting
// its HTTPS listeners) that target a kept listener, cut down to those targets, and the
// client CA Secrets they name by namespace (for their ReferenceGrant).
func keptFrontendTLS(objs []client.Object, kept map[listenerKey]bool, gatewayNS string) (map[ObjectRef]client.Object, map[string]map[string]bool) {
	out, cas := map[ObjectRef]client.Object{}, map[string]map[string]bool{}
	for _, obj := range objs {
		p, ok := obj.(*gbv1.TrafficPolicy)
		if !ok || p.Spec.FrontendTLS == nil || p.Namespace != gatewayNS || len(p.OwnerReferences) > 0 {
			continue
		}
		unused := func(ref gwv1.LocalPolicyTargetReferenceWithSectionName) bool {
			return ref.SectionName == nil || !kept[listenerKey{string(ref.Kind), string(ref.Name), string(*ref.SectionName)}]
		}
		if !slices.ContainsFunc(p.Spec.TargetRefs, func(r gwv1.LocalPolicyTargetReferenceWithSectionName) bool { return !unused(r) }) {
			continue
		}
		q := p
		if slices.ContainsFunc(p.Spec.TargetRefs, unused) {
			q = p.DeepCopy()
			q.Spec.TargetRefs = slices.DeleteFunc(q.Spec.TargetRefs, unused)
		}
		out[refOf(p)] = q
		if cc := q.Spec.FrontendTLS.ClientCertificate; cc != nil && cc.CACertificateRef.Namespace != nil {
			ns := string(*cc.CACertificateRef.Namespace)
			if cas[ns] == nil {
				cas[ns] = map[string]bool{}
			}
			cas[ns][string(cc.CACertificateRef.Name)] = true
		}
	}
	return out, cas
}

// isClientCAGrant reports whether g is the conversion's grant of client CA Secrets to
// TrafficPolicies (emitFrontendTLS).
func isClientCAGrant(g *gwv1b1.ReferenceGrant) bool {
	return slices.ContainsFunc(g.Spec.From, func(f gwv1b1.ReferenceGrantFrom) bool { return f.Kind == "TrafficPolicy" })
}

// rebuildClientCAGrant is g granting only the client CA Secrets names (nil: none).
func rebuildClientCAGrant(g *gwv1b1.ReferenceGrant, names map[string]bool) client.Object {
	if len(names) == 0 {
		return nil
	}
	out := g.DeepCopy()
	out.Spec.To = secretGrantTargets(names)
	return out
}
