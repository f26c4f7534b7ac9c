package dataplane

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// listenerInfo is one Gateway API listener (of a Gateway or of a ListenerSet attached to
// it) with the Envoy address and port it is served on.
type listenerInfo struct {
	gw *gwv1.Gateway
	// setNamespace/setName name the ListenerSet holding the listener, "" for the Gateway.
	setNamespace, setName string
	spec                  gwv1.Listener
	address               string
	envoyPort             uint32
	// namespaceLabels are the model's Namespaces' labels (nil: none known), for
	// allowedRoutes.namespaces.selector.
	namespaceLabels map[string]map[string]string
}

func (l *listenerInfo) hostname() string {
	if l.spec.Hostname == nil {
		return ""
	}
	return string(*l.spec.Hostname)
}

// id names the listener for problems and resource names.
func (l *listenerInfo) id() string {
	if l.setName != "" {
		return qualified(l.setNamespace, l.setName) + "/" + string(l.spec.Name)
	}
	return qualified(l.gw.Namespace, l.gw.Name) + "/" + string(l.spec.Name)
}

// portGroup is the set of Gateway API listeners Envoy serves on one address and port: one
// Envoy listener.
type portGroup struct {
	gw        *gwv1.Gateway
	address   string
	envoyPort uint32
	// gatewayPort is the port written in the Gateway (80, 443), for X-Forwarded-Port.
	gatewayPort int32
	listeners   []*listenerInfo
	// tls is true when the group terminates or passes through TLS.
	tls bool
	// exemptClients: a route of the group exempts client ranges from its rate limit.
	exemptClients bool
	// id is name, once made: the served lines of every route hold it.
	id string
}

// name is the stable Envoy listener (and route configuration) name of the group.
func (g *portGroup) name() string {
	if g.id == "" {
		g.id = fmt.Sprintf("%s/%s/%d", g.gw.Namespace, g.gw.Name, g.gatewayPort)
	}
	return g.id
}

// ourGateways returns the Gateways whose class is controlled by controllerName, sorted.
func ourGateways(m *Model, controllerName string) []*gwv1.Gateway {
	classes := map[string]bool{}
	for _, c := range m.GatewayClasses {
		if string(c.Spec.ControllerName) == controllerName {
			classes[c.Name] = true
		}
	}
	var out []*gwv1.Gateway
	for _, g := range m.Gateways {
		if classes[string(g.Spec.GatewayClassName)] {
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return qualified(out[i].Namespace, out[i].Name) < qualified(out[j].Namespace, out[j].Name)
	})
	return out
}

// collectListeners returns the listeners of gw and of the ListenerSets attached to it, in
// Gateway order then ListenerSet order (oldest set first, then by name).
func (t *translator) collectListeners(gw *gwv1.Gateway) []*listenerInfo {
	addr := t.opts.address(gw)
	var out []*listenerInfo
	for _, l := range gw.Spec.Listeners {
		out = append(out, &listenerInfo{gw: gw, spec: l, address: addr, envoyPort: t.opts.envoyPort(int32(l.Port)), namespaceLabels: t.ix.namespaceLabels})
	}
	for _, s := range oldestFirst(t.model.ListenerSets) {
		ref := s.Spec.ParentRef
		ns := s.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		if string(ref.Name) != gw.Name || ns != gw.Namespace {
			continue
		}
		if !listenerSetAllowed(gw, s, t.ix.namespaceLabels) {
			msg := fmt.Sprintf("Gateway %s does not allow ListenerSets from namespace %s (its spec.allowedListeners); its listeners are not served", qualified(gw.Namespace, gw.Name), s.Namespace)
			t.problem("ListenerSet", s.Namespace, s.Name, "spec.parentRef", msg)
			t.issue(Issue{Kind: "ListenerSet", Namespace: s.Namespace, Name: s.Name, Condition: ConditionAccepted, Reason: ReasonNotAllowed, Message: msg})
			continue
		}
		for _, le := range s.Spec.Listeners {
			l := gwv1.Listener(le)
			out = append(out, &listenerInfo{gw: gw, setNamespace: s.Namespace, setName: s.Name, spec: l, address: addr, envoyPort: t.opts.envoyPort(int32(l.Port)), namespaceLabels: t.ix.namespaceLabels})
		}
	}
	return out
}

// groupByPort builds one portGroup per (address, port). A listener whose protocol cannot
// share its port with the first listener of the group is reported and left out.
func (t *translator) groupByPort(ls []*listenerInfo) []*portGroup {
	byKey := map[string]*portGroup{}
	var out []*portGroup
	for _, l := range ls {
		k := fmt.Sprintf("%s:%d", l.address, l.envoyPort)
		g := byKey[k]
		if g == nil {
			g = &portGroup{gw: l.gw, address: l.address, envoyPort: l.envoyPort, gatewayPort: int32(l.spec.Port)}
			byKey[k] = g
			out = append(out, g)
		}
		if msg := listenerUnservable(l); msg != "" {
			// The API server refuses such a Gateway; one read from a file would make a
			// listener Envoy refuses with the whole configuration.
			t.problem("Gateway", l.gw.Namespace, l.gw.Name, "listeners["+string(l.spec.Name)+"]", msg)
			t.listenerIssue(l, ConditionProgrammed, ReasonInvalid, msg)
			t.notServed(l)
			continue
		}
		isTLS := l.spec.Protocol == gwv1.HTTPSProtocolType || l.spec.Protocol == gwv1.TLSProtocolType
		// HTTP shares a port with HTTP only, HTTPS and TLS with each other; a later
		// listener of another protocol (TCP, UDP, …) on a served port conflicts with it.
		if len(g.listeners) > 0 && (isTLS != g.tls || (!isTLS && l.spec.Protocol != gwv1.HTTPProtocolType)) {
			msg := fmt.Sprintf("protocol %s cannot share port %d with a listener of protocol %s; this listener is not served", l.spec.Protocol, l.spec.Port, g.listeners[0].spec.Protocol)
			t.problem("Gateway", l.gw.Namespace, l.gw.Name, "listeners["+string(l.spec.Name)+"]", msg)
			t.listenerIssue(l, ConditionConflicted, ReasonProtocolConflict, msg)
			t.notServed(l)
			continue
		}
		switch l.spec.Protocol {
		case gwv1.HTTPProtocolType, gwv1.HTTPSProtocolType, gwv1.TLSProtocolType:
		default:
			msg := fmt.Sprintf("protocol %q is not supported (HTTP, HTTPS and TLS are); this listener is not served", l.spec.Protocol)
			t.problem("Gateway", l.gw.Namespace, l.gw.Name, "listeners["+string(l.spec.Name)+"].protocol", msg)
			t.listenerIssue(l, ConditionAccepted, ReasonUnsupportedProtocol, msg)
			t.notServed(l)
			continue
		}
		if !isTLS {
			// Plain HTTP listeners of a port are told apart by hostname: the later of two
			// with the same one conflicts (TLS groups check hostnames per filter chain).
			if prev := sameHostname(g.listeners, l); prev != nil {
				msg := fmt.Sprintf("hostname %q on port %d is already served by listener %s; this listener is not served", l.hostname(), l.spec.Port, prev.id())
				t.problem("Gateway", l.gw.Namespace, l.gw.Name, "listeners["+string(l.spec.Name)+"].hostname", msg)
				t.listenerIssue(l, ConditionConflicted, ReasonHostnameConflict, msg)
				t.notServed(l)
				continue
			}
		}
		g.tls = isTLS
		g.listeners = append(g.listeners, l)
	}
	return out
}

// sameHostname returns the listener of ls with l's hostname, nil when none has it.
func sameHostname(ls []*listenerInfo, l *listenerInfo) *listenerInfo {
	for _, o := range ls {
		if o.hostname() == l.hostname() {
			return o
		}
	}
	return nil
}

// routeAllowed reports whether a route of kind in namespace ns may attach to l.
func routeAllowed(l *listenerInfo, kind, ns string) bool {
	ar := l.spec.AllowedRoutes
	ownerNs := l.gw.Namespace
	if l.setName != "" {
		ownerNs = l.setNamespace
	}
	from := gwv1.NamespacesFromSame
	if ar != nil && ar.Namespaces != nil && ar.Namespaces.From != nil {
		from = *ar.Namespaces.From
	}
	switch from {
	case gwv1.NamespacesFromAll:
	case gwv1.NamespacesFromSame:
		if ns != ownerNs {
			return false
		}
	case gwv1.NamespacesFromSelector:
		if !selectsNamespace(ar.Namespaces.Selector, l.namespaceLabels, ns, ownerNs) {
			return false
		}
	default:
		return false // None, or a value this version does not know
	}
	if ar != nil && len(ar.Kinds) > 0 {
		for _, k := range ar.Kinds {
			if string(k.Kind) == kind {
				return true
			}
		}
		return false
	}
	switch l.spec.Protocol {
	case gwv1.HTTPProtocolType, gwv1.HTTPSProtocolType:
		return kind == "HTTPRoute" || kind == "GRPCRoute" // GRPCRoutes: grpcroute.go
	case gwv1.TLSProtocolType:
		return kind == "TLSRoute"
	}
	return false
}

// listenerSetAllowed says whether gw's spec.allowedListeners admits ListenerSet s (the
// default admits none).
func listenerSetAllowed(gw *gwv1.Gateway, s *gwv1.ListenerSet, namespaceLabels map[string]map[string]string) bool {
	al := gw.Spec.AllowedListeners
	if al == nil || al.Namespaces == nil || al.Namespaces.From == nil {
		return false
	}
	switch *al.Namespaces.From {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSame:
		return s.Namespace == gw.Namespace
	case gwv1.NamespacesFromSelector:
		return selectsNamespace(al.Namespaces.Selector, namespaceLabels, s.Namespace, gw.Namespace)
	}
	return false
}

// selectsNamespace says whether a listener's namespace selector admits routes of namespace
// ns. Without Namespaces in the model (files without them) only the listener's own
// namespace is admitted, and an invalid selector admits none.
func selectsNamespace(sel *metav1.LabelSelector, namespaceLabels map[string]map[string]string, ns, ownerNs string) bool {
	if namespaceLabels == nil {
		return ns == ownerNs
	}
	lbls, ok := namespaceLabels[ns]
	if !ok || sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(lbls))
}

// listenerUnservable says why listener l cannot be served as written ("" when it can): a
// port outside 1–65535 (here or where the port map puts it), a hostname that is not one.
func listenerUnservable(l *listenerInfo) string {
	if l.spec.Port < 1 || l.spec.Port > 65535 || l.envoyPort < 1 || l.envoyPort > 65535 {
		return fmt.Sprintf("port %d is not a port (1-65535); this listener is not served", l.spec.Port)
	}
	if h := l.spec.Hostname; h != nil && !gatewayHostname(string(*h)) {
		return fmt.Sprintf("hostname %q is not a hostname (Gateway API: a lowercase DNS name, optionally starting with *.); this listener is not served", string(*h))
	}
	return ""
}

// gatewayHostname reports whether h is a Gateway API Hostname, as the API server checks it:
// at most 253 characters, lowercase DNS labels of letters, digits and inner hyphens, the
// first label possibly "*" (^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$).
// Written out rather than as a regular expression: it runs for every route of every
// translation.
func gatewayHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	h = strings.TrimPrefix(h, "*.")
	for {
		label, rest, more := strings.Cut(h, ".")
		if !dnsLabel(label) {
			return false
		}
		if !more {
			return true
		}
		h = rest
	}
}

// dnsLabel reports whether l is a lowercase DNS label: letters, digits and hyphens, not
// empty, no hyphen first or last.
func dnsLabel(l string) bool {
	if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// intersectHostnames returns the hostnames a route serves on a listener, following the
// Gateway API rules; nil means none (the route does not attach), []string{"*"} any host.
func intersectHostnames(listenerHost string, routeHosts []string) []string {
	if len(routeHosts) == 0 {
		if listenerHost == "" {
			return []string{"*"}
		}
		return []string{listenerHost}
	}
	if listenerHost == "" {
		return routeHosts
	}
	var out []string
	for _, h := range routeHosts {
		switch {
		case h == listenerHost:
			out = append(out, h)
		case strings.HasPrefix(listenerHost, "*.") && !strings.HasPrefix(h, "*.") && strings.HasSuffix(h, listenerHost[1:]):
			out = append(out, h)
		case strings.HasPrefix(h, "*.") && !strings.HasPrefix(listenerHost, "*.") && strings.HasSuffix(listenerHost, h[1:]):
			out = append(out, listenerHost)
		case strings.HasPrefix(h, "*.") && strings.HasPrefix(listenerHost, "*."):
			if strings.HasSuffix(h, listenerHost[1:]) {
				out = append(out, h)
			} else if strings.HasSuffix(listenerHost, h[1:]) {
				out = append(out, listenerHost)
			}
		}
	}
	return out
}

// parentListeners returns the listeners a parentRef of a route in routeNs selects.
func parentListeners(groups []*portGroup, ref gwv1.ParentReference, routeNs string) []*listenerInfo {
	kind := "Gateway"
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if ref.Group != nil && string(*ref.Group) != gwv1.GroupName {
		return nil
	}
	ns := routeNs
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	var out []*listenerInfo
	for _, g := range groups {
		for _, l := range g.listeners {
			switch kind {
			case "Gateway":
				// A Gateway parentRef selects the Gateway's own listeners, never those of
				// its ListenerSets (which routes name as parents of their own).
				if l.gw.Name != string(ref.Name) || l.gw.Namespace != ns || l.setName != "" {
					continue
				}
			case "ListenerSet":
				if l.setName != string(ref.Name) || l.setNamespace != ns {
					continue
				}
			default:
				continue
			}
			if ref.SectionName != nil && string(*ref.SectionName) != string(l.spec.Name) {
				continue
			}
			if ref.Port != nil && int32(*ref.Port) != int32(l.spec.Port) {
				continue
			}
			out = append(out, l)
		}
	}
	return out
}
