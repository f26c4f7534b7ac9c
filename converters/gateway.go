package converters

import (
	"fmt"
	"sort"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// listenerKind says what a listener is for.
type listenerKind int

const (
	listenerHTTPS listenerKind = iota
	listenerPassthrough
)

// plannedListener is a listener and where it lives (Gateway or a ListenerSet).
type plannedListener struct {
	kind listenerKind
	// host is the host that needs the listener; hostname is the listener's (an alias or host).
	host     string
	hostname string
	cert     *tlsCert
	// ciphers are the host's ssl-ciphers (nil: the Gateway's default).
	ciphers []string
	// clientCert is the Ingress whose auth-tls-* the host asks for (nil: none).
	clientCert *source
	// www: the listener of the host's from-to-www redirect name (only its redirect route
	// attaches to it).
	www bool
	// owner is "" for the Gateway, else the ListenerSet name; name is unique among the
	// conversion's listeners (both set by planListeners): base, unless another hostname has
	// the same.
	owner, name, base string
}

// listenerPlan places every listener: "http" and the first HTTPS/TLS listeners on the
// Gateway (64 at most), the rest in ListenerSets of 64 in the Gateway's namespace.
type listenerPlan struct {
	byHost map[string][]*plannedListener
	all    []*plannedListener
	sets   []string
}

// hostListeners are the listeners the part's hosts need, in hostname order (owners and
// final names are set by planListeners).
//
// A listener is planned only for a route that attaches to it: a host's HTTPS listeners
// (its own and one per alias it serves) when some served Ingress — not refused — has a
// route on the host, its TLS passthrough listener when its TLSRoute is emitted. So the
// hosts of refused Ingresses reach no Gateway or ListenerSet, and no certificate of theirs
// is granted, unless a served Ingress shares the host. Then the listener is the host's as
// ingress-nginx has it: a refused Ingress still owns its host settings, so its certificate,
// first by age, may be the one the listener presents, as ingress-nginx presents it.
func (c *converter) hostListeners() []*plannedListener {
	var out []*plannedListener
	for _, p := range c.hosts {
		h := p.host
		switch {
		case h.name == "":
		case p.passthrough != nil:
			out = append(out, &plannedListener{kind: listenerPassthrough, host: h.name, hostname: h.name, base: listenerName("tls", h.name)})
		case p.https:
			for _, n := range append([]string{h.name}, h.servedAliases...) {
				out = append(out, &plannedListener{kind: listenerHTTPS, host: h.name, hostname: n, cert: h.tls, ciphers: c.hostCiphers(h), clientCert: h.clientCert, base: listenerName("https", n)})
			}
			if p.wwwRedirect {
				// ingress-nginx's redirect server listens on HTTPS too, with the host's
				// certificate when it covers the other name, else the default one.
				other := wwwPair(h.name)
				out = append(out, &plannedListener{kind: listenerHTTPS, host: h.name, hostname: other, cert: c.wwwCertificate(h, other), www: true, base: listenerName("https", other)})
			}
		}
	}
	return out
}

// hostCiphers are the cipher suites of host h's HTTPS listeners: its ssl-ciphers, unless
// --portable leaves the gatebridge policy that carries them out.
func (c *converter) hostCiphers(h *hostModel) []string {
	if h.cipherSrc == nil || c.lost(h.cipherSrc, Finding{Annotation: "ssl-ciphers", Severity: SeverityInfo}, "the host's cipher suites (ssl-ciphers)") {
		return nil
	}
	return h.ciphers
}

// listenerName is "<kind>-<hostname>", cut (with a hash) to the 253 characters of a
// Gateway API section name: a 253-character hostname is valid, "https-" and it are not.
func listenerName(kind, hostname string) string { return objectName(253, kind, hostLabel(hostname)) }

// planListeners places the listeners of every part, in hostname order: "http" and the
// first HTTPS/TLS listeners on the Gateway, the rest in ListenerSets of max. It names them
// too: "<kind>-<hostname label>", and when two hostnames have one label (a-b.example.com
// and a.b.example.com, *.example.com and wildcard.example.com) the later one in hostname
// order gets a hash of its hostname, for the API server refuses a Gateway with two
// listeners of one name — and with it every host.
func planListeners(parts []*part, gatewayName string, max int) *listenerPlan {
	p := &listenerPlan{byHost: map[string][]*plannedListener{}}
	for _, pt := range parts {
		p.all = append(p.all, pt.listeners...)
	}
	// A hostname belongs to one part, so this is the order of one plan over all hosts.
	sort.SliceStable(p.all, func(i, j int) bool { return p.all[i].host < p.all[j].host })
	taken := make(map[string]bool, len(p.all)+1)
	taken["http"] = true
	onGateway := max - 1 // "http" takes one place
	for i, l := range p.all {
		l.name = l.base
		for n := 0; taken[l.name]; n++ {
			l.name = objectName(253, l.base, shortHash(l.hostname, strconv.Itoa(n)))
		}
		taken[l.name] = true
		p.byHost[l.host] = append(p.byHost[l.host], l)
		l.owner = ""
		if i < onGateway {
			continue
		}
		set := fmt.Sprintf("%s-listeners-%d", gatewayName, (i-onGateway)/max+1)
		l.owner = set
		if len(p.sets) == 0 || p.sets[len(p.sets)-1] != set {
			p.sets = append(p.sets, set)
		}
	}
	return p
}

// parents are the parentRefs of a host's routes: its HTTPS listeners or the HTTP listener.
func (c *converter) parents(h *hostModel, https bool) []gwv1.ParentReference {
	gwNS := gwv1.Namespace(c.opts.GatewayNamespace)
	if !https {
		return []gwv1.ParentReference{{Name: gwv1.ObjectName(c.opts.GatewayName), Namespace: &gwNS, SectionName: ptr(gwv1.SectionName("http"))}}
	}
	var out []gwv1.ParentReference
	for _, l := range c.listeners.byHost[h.name] {
		if l.kind != listenerHTTPS || l.www {
			continue
		}
		out = append(out, c.parentRef(l))
	}
	return out
}

func (c *converter) parentRef(l *plannedListener) gwv1.ParentReference {
	gwNS := gwv1.Namespace(c.opts.GatewayNamespace)
	ref := gwv1.ParentReference{Name: gwv1.ObjectName(c.opts.GatewayName), Namespace: &gwNS, SectionName: ptr(gwv1.SectionName(l.name))}
	if l.owner != "" {
		ref.Group = ptr(gwv1.Group(gwv1.GroupName))
		ref.Kind = ptr(gwv1.Kind("ListenerSet"))
		ref.Name = gwv1.ObjectName(l.owner)
	}
	return ref
}

// gatewayObjects are the GatewayClass, the shared Gateway, its ListenerSets and the
// ReferenceGrants that let them read certificates in the Ingresses' namespaces.
func (c *conversion) gatewayObjects(plan *listenerPlan) []client.Object {
	out := &objectSet{}
	out.add(&gwv1.GatewayClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "GatewayClass"},
		ObjectMeta: c.meta(nil, c.opts.GatewayClassName, ""),
		Spec:       gwv1.GatewayClassSpec{ControllerName: ControllerName},
	})
	allNS := gwv1.NamespacesFromAll
	allowed := &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &allNS}}
	gw := &gwv1.Gateway{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "Gateway"},
		ObjectMeta: c.meta(nil, c.opts.GatewayName, c.opts.GatewayNamespace),
		Spec: gwv1.GatewaySpec{
			GatewayClassName: gwv1.ObjectName(c.opts.GatewayClassName),
			Listeners:        []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType, AllowedRoutes: allowed}},
		},
	}
	sets := map[string]*gwv1.ListenerSet{}
	grants := map[string]map[string]bool{} // namespace → secret names
	grantFrom := map[string]map[string]bool{}
	for _, l := range plan.all {
		entry := c.listenerEntry(l, allowed, grants, grantFrom)
		if l.owner == "" {
			gw.Spec.Listeners = append(gw.Spec.Listeners, gwv1.Listener(entry))
			continue
		}
		ls := sets[l.owner]
		if ls == nil {
			ls = &gwv1.ListenerSet{
				TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "ListenerSet"},
				ObjectMeta: c.meta(nil, l.owner, c.opts.GatewayNamespace),
				Spec: gwv1.ListenerSetSpec{ParentRef: gwv1.ParentGatewayReference{
					Group: ptr(gwv1.Group(gwv1.GroupName)), Kind: ptr(gwv1.Kind("Gateway")), Name: gwv1.ObjectName(c.opts.GatewayName)}},
			}
			sets[l.owner] = ls
			out.add(ls)
		}
		ls.Spec.Listeners = append(ls.Spec.Listeners, entry)
	}
	if len(sets) > 0 {
		same := gwv1.NamespacesFromSame
		gw.Spec.AllowedListeners = &gwv1.AllowedListeners{Namespaces: &gwv1.ListenerNamespaces{From: &same}}
		c.global = append(c.global, Finding{Severity: SeverityInfo, Field: "Gateway",
			Message: fmt.Sprintf("%d listeners exceed the %d a Gateway may hold; the rest are in %d ListenerSet(s)", len(plan.all)+1, c.opts.MaxListenersPerGateway, len(sets))})
	}
	out.add(gw)
	caGrants, caGrantFrom := map[string]map[string]bool{}, map[string]map[string]bool{}
	c.emitFrontendTLS(out, plan, caGrants, caGrantFrom)
	c.emitReferenceGrants(out, "certificates", grants, grantFrom)
	c.emitReferenceGrants(out, "client-cas", caGrants, caGrantFrom)
	return out.objs
}

// listenerEntry builds one HTTPS or TLS passthrough listener and records the certificate
// grants it needs.
func (c *conversion) listenerEntry(l *plannedListener, allowed *gwv1.AllowedRoutes, grants, grantFrom map[string]map[string]bool) gwv1.ListenerEntry {
	e := gwv1.ListenerEntry{Name: gwv1.SectionName(l.name), Hostname: ptr(gwv1.Hostname(l.hostname)), Port: 443, AllowedRoutes: allowed}
	if l.kind == listenerPassthrough {
		e.Protocol = gwv1.TLSProtocolType
		e.TLS = &gwv1.ListenerTLSConfig{Mode: ptr(gwv1.TLSModePassthrough)}
		return e
	}
	e.Protocol = gwv1.HTTPSProtocolType
	ns, name := l.cert.namespace, l.cert.secret
	if l.cert.useDefault {
		ns, name = c.defaultCertificate()
	}
	ref := gwv1.SecretObjectReference{Name: gwv1.ObjectName(name)}
	if ns != c.opts.GatewayNamespace {
		ref.Namespace = ptr(gwv1.Namespace(ns))
		if grants[ns] == nil {
			grants[ns], grantFrom[ns] = map[string]bool{}, map[string]bool{}
		}
		grants[ns][name] = true
		grantFrom[ns][map[bool]string{true: "ListenerSet", false: "Gateway"}[l.owner != ""]] = true
	}
	e.TLS = &gwv1.ListenerTLSConfig{Mode: ptr(gwv1.TLSModeTerminate), CertificateRefs: []gwv1.SecretObjectReference{ref}}
	return e
}

// defaultCertificate is the Secret of TLS hosts without secretName: --default-certificate,
// else gatebridge-system/default-certificate (noteDefaultCertificates says so).
func (c *conversion) defaultCertificate() (namespace, name string) {
	ns, name := splitRef(c.opts.DefaultCertificate, c.opts.GatewayNamespace)
	if name == "" {
		return c.opts.GatewayNamespace, "default-certificate"
	}
	return ns, name
}

// noteDefaultCertificates tells the Ingresses of TLS hosts without secretName that no
// default certificate was given.
func (c *converter) noteDefaultCertificates(listeners []*plannedListener) {
	if _, name := splitRef(c.opts.DefaultCertificate, c.opts.GatewayNamespace); name != "" {
		return
	}
	for _, l := range listeners {
		if l.kind == listenerHTTPS && l.cert.useDefault && !l.www { // the www case is explained by wwwCertificate
			l.cert.src.add(Finding{Field: "spec.tls", Severity: SeverityWarning,
				Message: fmt.Sprintf("TLS host %s has no secretName: ingress-nginx serves its default certificate; pass --default-certificate namespace/name, until then the listener references Secret %s/default-certificate", l.hostname, c.opts.GatewayNamespace)})
		}
	}
}

// emitReferenceGrants lets the Gateway (and its ListenerSets, and the TrafficPolicies of
// client CAs) read the named Secrets of each namespace — only those Secrets, nothing more.
func (c *conversion) emitReferenceGrants(out *objectSet, suffix string, grants, grantFrom map[string]map[string]bool) {
	for _, ns := range sortedKeys(nsSet(grants)) {
		g := &gwv1b1.ReferenceGrant{
			TypeMeta:   metav1.TypeMeta{APIVersion: gwv1b1.GroupVersion.String(), Kind: "ReferenceGrant"},
			ObjectMeta: c.meta(nil, objectName(253, c.opts.GatewayName, suffix), ns),
		}
		for _, kind := range sortedKeys(grantFrom[ns]) {
			group := gwv1.Group(gwv1.GroupName)
			if kind == "TrafficPolicy" {
				group = gwv1.Group(gbv1.GroupVersion.Group)
			}
			g.Spec.From = append(g.Spec.From, gwv1b1.ReferenceGrantFrom{Group: group, Kind: gwv1.Kind(kind), Namespace: gwv1.Namespace(c.opts.GatewayNamespace)})
		}
		g.Spec.To = secretGrantTargets(grants[ns])
		out.add(g)
	}
}

func nsSet(m map[string]map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// passthroughBackend is the backend of the host's "/" path (ingress-nginx sends
// passthrough traffic there); nil when the host has none.
func passthroughBackend(h *hostModel) *location {
	if l, ok := h.locations[string(pathPrefix)+" /"]; ok {
		return l
	}
	if l, ok := h.locations[string(pathExact)+" /"]; ok {
		return l
	}
	return nil
}

// passthroughTarget is the location whose backend the TLSRoute of passthrough host h sends
// to: the host's "/" path, as in ingress-nginx (nil, with a finding, when it has none).
func passthroughTarget(h *hostModel) *location {
	l := passthroughBackend(h)
	if l == nil {
		h.passthrough.add(Finding{Annotation: "ssl-passthrough", Severity: SeverityWarning,
			Message: fmt.Sprintf("host %s has no / path, which ingress-nginx needs to pick the passthrough backend; passthrough is ignored (as in ingress-nginx)", h.name)})
	}
	return l
}

// emitPassthrough builds the TLSRoute of passthrough host h, to the backend of l.
func (c *converter) emitPassthrough(h *hostModel, l *location) {
	var parents []gwv1.ParentReference
	for _, pl := range c.listeners.byHost[h.name] {
		if pl.kind == listenerPassthrough {
			parents = append(parents, c.parentRef(pl))
		}
	}
	be := gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: gwv1.ObjectName(l.backend.service), Port: ptr(gwv1.PortNumber(l.backend.port))}}
	src := h.passthrough
	if l.backend.namespace != src.ing.Namespace {
		be.Namespace = ptr(gwv1.Namespace(l.backend.namespace))
	}
	name := c.uniqueName(src, "TLSRoute", objectName(253, src.ing.Name, hostLabel(h.name), "passthrough"), h.name)
	r := &gwv1.TLSRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "TLSRoute"},
		ObjectMeta: c.meta(src, name, src.ing.Namespace),
		Spec: gwv1.TLSRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: parents},
			Hostnames:       []gwv1.Hostname{gwv1.Hostname(h.name)},
			Rules:           []gwv1.TLSRouteRule{{BackendRefs: []gwv1.BackendRef{be}}},
		},
	}
	c.out.addFor(src, r)
}

// splitRef splits "namespace/name" (a bare name gets defNS).
func splitRef(ref, defNS string) (string, string) {
	if ref == "" {
		return "", ""
	}
	for i := 0; i < len(ref); i++ {
		if ref[i] == '/' {
			return ref[:i], ref[i+1:]
		}
	}
	return defNS, ref
}

// emitFrontendTLS gives every host with ssl-ciphers or auth-tls-* a TrafficPolicy
// targeting its HTTPS listeners (sectionName), in the Gateway's namespace: ssl_ciphers and
// ssl_verify_client are per-host (SNI) settings, which the Gateway API's TLS options
// cannot say without changing every hostname of the port. A CA Secret of another
// namespace is granted to TrafficPolicies of the Gateway's namespace by name, in a
// ReferenceGrant of its own (they may not read the certificates' keys).
func (c *conversion) emitFrontendTLS(out *objectSet, plan *listenerPlan, grants, grantFrom map[string]map[string]bool) {
	byHost := map[string][]*plannedListener{}
	var hosts []string
	for _, l := range plan.all {
		if l.kind != listenerHTTPS || l.www || (len(l.ciphers) == 0 && l.clientCert == nil) {
			continue
		}
		if byHost[l.host] == nil {
			hosts = append(hosts, l.host)
		}
		byHost[l.host] = append(byHost[l.host], l)
	}
	for _, h := range hosts {
		ls := byHost[h]
		spec := gbv1.TrafficPolicySpec{FrontendTLS: &gbv1.FrontendTLSPolicy{CipherSuites: ls[0].ciphers}}
		if src := ls[0].clientCert; src != nil {
			cc, ns := clientCertificatePolicy(src)
			if ns == c.opts.GatewayNamespace {
				cc.CACertificateRef.Namespace = nil
			} else {
				if grants[ns] == nil {
					grants[ns], grantFrom[ns] = map[string]bool{}, map[string]bool{}
				}
				grants[ns][string(cc.CACertificateRef.Name)] = true
				grantFrom[ns]["TrafficPolicy"] = true
			}
			spec.FrontendTLS.ClientCertificate = cc
		}
		for _, l := range ls {
			ref := gwv1.LocalPolicyTargetReferenceWithSectionName{
				LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Group: gwv1.GroupName, Kind: "Gateway", Name: gwv1.ObjectName(c.opts.GatewayName)},
				SectionName:                ptr(gwv1.SectionName(l.name)),
			}
			if l.owner != "" {
				ref.Kind, ref.Name = "ListenerSet", gwv1.ObjectName(l.owner)
			}
			spec.TargetRefs = append(spec.TargetRefs, ref)
		}
		out.add(&gbv1.TrafficPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: gbv1.GroupVersion.String(), Kind: "TrafficPolicy"},
			ObjectMeta: c.meta(nil, objectName(253, c.opts.GatewayName, ls[0].name), c.opts.GatewayNamespace),
			Spec:       spec,
		})
	}
}
