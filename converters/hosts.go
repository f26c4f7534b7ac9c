package converters

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
)

// hostModel is one nginx server: everything that applies to one hostname.
type hostModel struct {
	name string
	// locations by key (pathType + path), winners only.
	locations map[string]*location
	// regexMode: some Ingress of the host uses use-regex or a rewrite-target ≠ path.
	regexMode bool
	// tls is the certificate of the host (first Ingress wins); nil = no TLS.
	tls *tlsCert
	// passthrough is OR-ed over the host's Ingresses.
	passthrough *source
	// aliases come from aliasSrc, the first Ingress of the host that sets server-alias;
	// servedAliases are those the host serves (assignAliases).
	aliases       []string
	aliasSrc      *source
	servedAliases []string
	// appRoot is the first app-root of the host's Ingresses.
	appRoot    string
	appRootSrc *source
	// fromToWWW is the first Ingress asking for the www redirect.
	fromToWWW *source
	// first is the oldest Ingress with a rule for this host.
	first *source
	// clientCert is the first Ingress asking for client certificates on this host.
	clientCert *source
	// serverSnippet is the first Ingress with a server-snippet ingress-nginx ran: its
	// snippet applies to every location of the host.
	serverSnippet *source
	// ciphers are the cipher suites of the first Ingress of the host with ssl-ciphers
	// (cipherSrc); nil: the Gateway's default.
	ciphers   []string
	cipherSrc *source
}

// tlsCert is a certificate reference for a host.
type tlsCert struct {
	namespace, secret string
	src               *source
	// useDefault means the Ingress tls entry had no secretName.
	useDefault bool
}

// canaryJoin is a canary Ingress joined to a primary upstream.
type canaryJoin struct {
	src     *source
	backend backend
	cfg     annotations.Canary
}

// model is the host view of all selected Ingresses.
type model struct {
	hosts map[string]*hostModel
	// services by namespace/name, for named ports and existence checks.
	services map[string]*corev1.Service
	secrets  map[string]*corev1.Secret
	defaults annotations.Defaults
	// sorted is sortedHosts' answer until a host is added (it is asked ~10 times a part).
	sorted []*hostModel
}

func (m *model) host(name string) *hostModel {
	h, ok := m.hosts[name]
	if !ok {
		h = &hostModel{name: name, locations: map[string]*location{}}
		m.hosts[name] = h
		m.sorted = nil
	}
	return h
}

// sortedHosts returns hosts by name ("" — the catch-all — first). Callers range over it
// and do not change it.
func (m *model) sortedHosts() []*hostModel {
	if m.sorted == nil && len(m.hosts) > 0 {
		m.sorted = make([]*hostModel, 0, len(m.hosts))
		for _, h := range m.hosts {
			m.sorted = append(m.sorted, h)
		}
		slices.SortFunc(m.sorted, func(a, b *hostModel) int { return strings.Compare(a.name, b.name) })
	}
	return m.sorted
}

// resolveBackend turns an Ingress backend into a Service backend; ok is false (with a
// finding) when it cannot be expressed.
func (m *model) resolveBackend(src *source, b *networkingv1.IngressBackend, field string) (backend, bool) {
	ns := src.ing.Namespace
	if b == nil || b.Service == nil {
		if b != nil && b.Resource != nil {
			src.add(Finding{Field: field, Severity: SeverityWarning,
				Message: fmt.Sprintf("resource backend %s/%s is not supported (ingress-nginx ignores it too); the path is not converted", b.Resource.Kind, b.Resource.Name)})
		} else {
			src.add(Finding{Field: field, Severity: SeverityWarning, Message: "has no service backend; the path is not converted"})
		}
		return backend{}, false
	}
	svcName := b.Service.Name
	out := backend{namespace: ns, service: svcName}
	svc := m.services[ns+"/"+svcName]
	switch {
	case b.Service.Port.Name != "":
		out.portLabel = b.Service.Port.Name
		if svc == nil {
			src.add(Finding{Field: field + ".backend.service.port.name", Value: b.Service.Port.Name, Severity: SeverityWarning,
				Message: fmt.Sprintf("names port %q of Service %s/%s, which is not in the input, so the port number is unknown; the path is not converted — include the Service (e.g. kubectl get svc -o yaml) or use a port number", b.Service.Port.Name, ns, svcName)})
			return out, false
		}
		for _, p := range svc.Spec.Ports {
			if p.Name == b.Service.Port.Name {
				out.port = p.Port
			}
		}
		if out.port == 0 {
			src.add(Finding{Field: field + ".backend.service.port.name", Value: b.Service.Port.Name, Severity: SeverityWarning,
				Message: fmt.Sprintf("Service %s/%s has no port named %q; ingress-nginx answers 503 for this path; the path is not converted", ns, svcName, b.Service.Port.Name)})
			return out, false
		}
	default:
		out.port = b.Service.Port.Number
		out.portLabel = fmt.Sprint(out.port)
		if out.port <= 0 || out.port > 65535 {
			src.add(Finding{Field: field + ".backend.service.port", Severity: SeverityWarning,
				Message: "has no valid port number or name; the path is not converted"})
			return out, false
		}
		if svc == nil && len(m.services) > 0 {
			src.add(Finding{Field: field + ".backend.service.name", Value: svcName, Severity: SeverityInfo,
				Message: fmt.Sprintf("Service %s/%s is not in the input; the route is generated and will report ResolvedRefs=False until the Service exists, and until then this path answers 500 (Gateway API's answer for a backend that does not exist) where ingress-nginx answers 503", ns, svcName)})
		}
	}
	return out, true
}

// collectLocations expands the rules of one non-canary Ingress into locations, and
// records its server-level settings on its hosts (first Ingress wins).
func (m *model) collectLocations(src *source) []*location {
	var out []*location
	ing := src.ing
	seenHosts := map[string]bool{}
	for ri, rule := range ing.Spec.Rules {
		host := strings.ToLower(rule.Host)
		if rule.HTTP == nil {
			continue
		}
		seenHosts[host] = true
		for pi, p := range rule.HTTP.Paths {
			field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", ri, pi)
			path := effectivePath(p.Path)
			if err := validatePath(path); err != nil {
				src.add(Finding{Field: field + ".path", Value: p.Path, Severity: SeverityError,
					Message: err.Error() + "; the path is not converted"})
				continue
			}
			be, ok := m.resolveBackend(src, &p.Backend, field)
			if !ok {
				continue
			}
			out = append(out, &location{src: src, host: host, path: path, pathType: effectivePathType(p.PathType), backend: be, field: field})
		}
	}
	// spec.defaultBackend: the "/" of each of the Ingress's hosts when no Ingress defines
	// one, and of the catch-all server when the Ingress has no rules.
	if db := ing.Spec.DefaultBackend; db != nil {
		if be, ok := m.resolveBackend(src, db, "spec.defaultBackend"); ok {
			hosts := sortedKeys(seenHosts)
			if len(ing.Spec.Rules) == 0 {
				hosts = []string{""}
			}
			for _, h := range hosts {
				out = append(out, &location{src: src, host: h, path: "/", pathType: pathPrefix, backend: be, field: "spec.defaultBackend", implicit: true})
			}
		}
	}
	for _, h := range sortedKeys(seenHosts) {
		m.applyServerSettings(src, m.host(h))
	}
	return out
}

// applyServerSettings records the server-level settings of src on host h; the first
// (oldest) Ingress of the host wins each of them, as in ingress-nginx.
func (m *model) applyServerSettings(src *source, h *hostModel) {
	ann := src.ann
	if h.first == nil {
		h.first = src
	}
	if len(ann.Backend.ServerAlias) > 0 {
		if h.aliases == nil {
			h.aliases, h.aliasSrc = ann.Backend.ServerAlias, src
		} else {
			src.add(Finding{Annotation: "server-alias", Severity: SeverityWarning, Level: annotations.Exact,
				Message: fmt.Sprintf("is ignored for host %s: an older Ingress of the host already sets server-alias (first wins)", h.name)})
		}
	}
	if ann.Backend.SSLPassthrough {
		switch {
		case h.name == "":
			// ingress-nginx never passes its catch-all server through: passthrough picks a
			// server by the SNI name, and a rule without host has none.
			src.add(Finding{Annotation: "ssl-passthrough", Severity: SeverityWarning, Level: annotations.Exact,
				Message: "is ignored for the rules without host: passthrough routes TLS by its SNI host name, and a rule without host names none (ingress-nginx ignores it too); set spec.rules[].host to pass that host's TLS through"})
		case h.passthrough == nil:
			h.passthrough = src
		}
	}
	if ann.Rewrite.AppRoot != "" {
		if h.appRoot == "" {
			h.appRoot, h.appRootSrc = ann.Rewrite.AppRoot, src
		} else if h.appRoot != ann.Rewrite.AppRoot {
			src.add(Finding{Annotation: "app-root", Severity: SeverityWarning, Level: annotations.Exact,
				Message: fmt.Sprintf("is ignored for host %s: %s, older, redirects / to %s", h.name, h.appRootSrc.key(), h.appRoot)})
		}
	}
	m.applyClientCert(src, h)
	if (ann.ServerSnippet != nil || ann.ServerSnippetFailed) && h.serverSnippet == nil {
		h.serverSnippet = src
	}
	m.applyCiphers(src, h)
	if ann.Redirect.FromToWWW {
		switch {
		case h.name == "":
			// The catch-all has no name, so no www. name pairs with it.
			src.add(Finding{Annotation: "from-to-www-redirect", Severity: SeverityInfo, Level: annotations.Exact,
				Message: "is ignored for the rules without host: they have no host name to pair with a www. name (ingress-nginx does nothing there either)"})
		case h.fromToWWW == nil:
			h.fromToWWW = src
		}
	}
	m.applyTLS(src, h)
}

// applyClientCert records the auth-tls-* of src on host h: the first (oldest) Ingress of
// the host whose auth-tls-secret can be used wins, as ingress-nginx's server-level
// client-certificate settings (an Ingress whose CA Secret is unusable is denied instead).
func (m *model) applyClientCert(src *source, h *hostModel) {
	switch {
	case !src.ann.ClientCert.Enabled() || src.clientCAInvalid:
	case h.name == "":
		// Not silently dropped: nginx would ask for certificates on the catch-all's HTTPS,
		// which gatebridge does not serve, and answer 403 for auth-tls-match-cn.
		h.clientCert = src
	case h.clientCert == nil:
		h.clientCert = src
	case h.clientCert != src:
		src.add(Finding{Annotation: "auth-tls-secret", Severity: SeverityWarning, Level: annotations.Exact,
			Message: fmt.Sprintf("is ignored for host %s: %s, older, already sets client-certificate authentication for the host (first wins, as in ingress-nginx); its settings apply to this Ingress's paths", h.name, h.clientCert.key())})
	}
}

// applyCiphers records the ssl-ciphers of src on host h: the first (oldest) Ingress of the
// host that sets it wins, as ingress-nginx's server-level ssl_ciphers.
func (m *model) applyCiphers(src *source, h *hostModel) {
	if len(src.ann.CipherSuites) == 0 {
		return
	}
	switch {
	case h.name == "":
		src.add(Finding{Annotation: "ssl-ciphers", Severity: SeverityInfo, Level: annotations.Exact,
			Message: "has no effect on the rules without host: gatebridge's catch-all has no HTTPS listener of its own"})
	case h.cipherSrc == nil:
		h.ciphers, h.cipherSrc = src.ann.CipherSuites, src
	case h.cipherSrc != src:
		src.add(Finding{Annotation: "ssl-ciphers", Severity: SeverityWarning, Level: annotations.Exact,
			Message: fmt.Sprintf("is ignored for host %s: %s, older, already sets ssl-ciphers (first wins, as in ingress-nginx)", h.name, h.cipherSrc.key())})
	}
}

// applyTLS records the certificate of the Ingress's tls entry that covers host h.
func (m *model) applyTLS(src *source, h *hostModel) {
	for ti, t := range src.ing.Spec.TLS {
		if !tlsCovers(t.Hosts, h.name) {
			continue
		}
		cert := &tlsCert{namespace: src.ing.Namespace, secret: t.SecretName, src: src, useDefault: t.SecretName == ""}
		if h.tls == nil {
			h.tls = cert
			if len(m.secrets) > 0 && !cert.useDefault {
				if _, ok := m.secrets[cert.namespace+"/"+cert.secret]; !ok {
					src.add(Finding{Field: fmt.Sprintf("spec.tls[%d].secretName", ti), Value: t.SecretName, Severity: SeverityWarning,
						Message: fmt.Sprintf("Secret %s/%s is not in the input; the HTTPS listener will report ResolvedRefs=False until it exists", cert.namespace, cert.secret)})
				}
			}
		} else if h.tls.src != src && (h.tls.secret != cert.secret || h.tls.namespace != cert.namespace) {
			src.add(Finding{Field: fmt.Sprintf("spec.tls[%d]", ti), Value: t.SecretName, Severity: SeverityWarning,
				Message: fmt.Sprintf("certificate for %s is ignored: %s, older, already provides %s/%s (first wins, as in ingress-nginx)", h.name, h.tls.src.key(), h.tls.namespace, h.tls.secret)})
		}
		return
	}
}

// maxAliases is how many aliases a host serves: a route holds 16 hostnames, the host's own
// and 15 aliases.
const maxAliases = 16 - 1

// assignAliases decides which aliases each host serves. As in ingress-nginx, an alias that
// is the host itself or the host of another server is ignored, and an alias listed twice
// counts once. An alias that several hosts list belongs to the first of them in hostname
// order: ingress-nginx writes its servers in that order, and nginx ignores a server name an
// earlier server already has ("conflicting server name"). So every alias is one listener
// and one route hostname, never two. Hosts tied by an alias are in one part (parts.go), so
// the part decides alone.
func (m *model) assignAliases() {
	owner := map[string]*hostModel{}
	for _, h := range m.sortedHosts() {
		if h.name == "" {
			if h.aliasSrc != nil {
				h.aliasSrc.add(Finding{Annotation: "server-alias", Severity: SeverityInfo, Level: annotations.Exact,
					Message: "has no effect on the rules without host: they answer every hostname no other server has already (as in ingress-nginx)"})
			}
			continue
		}
		listed := map[string]bool{}
		for _, a := range h.aliases {
			if _, own := m.hosts[a]; own || a == h.name || listed[a] {
				continue
			}
			listed[a] = true
			if o, taken := owner[a]; taken {
				if o != h {
					h.aliasSrc.add(Finding{Annotation: "server-alias", Value: a, Severity: SeverityWarning, Level: annotations.Exact,
						Message: fmt.Sprintf("alias %s is ignored for host %s: host %s has it too and comes first in hostname order, where ingress-nginx serves it; requests for %s get %s's routes", a, h.name, o.name, a, o.name)})
				}
				continue
			}
			owner[a] = h
			if len(h.servedAliases) < maxAliases {
				h.servedAliases = append(h.servedAliases, a)
			}
		}
	}
}

// tlsCovers reports whether a tls entry's hosts cover host (exact or one-label wildcard).
// An entry without hosts covers nothing, as in ingress-nginx.
func tlsCovers(hosts []string, host string) bool {
	for _, th := range hosts {
		th = strings.ToLower(th)
		if th == host {
			return true
		}
		if strings.HasPrefix(th, "*.") && host != "" {
			if i := strings.IndexByte(host, '.'); i > 0 && host[i:] == th[1:] {
				return true
			}
		}
	}
	return false
}

// refuseClientCertHosts fails closed every Ingress with a path on a host whose client
// certificates gatebridge cannot ask for: ingress-nginx enforces auth-tls-* for every
// Ingress of the host (server level). gatebridge asks for them on the host's own HTTPS
// listener, which the rules without host and hosts without a tls entry do not have, and
// which --portable cannot express per host.
func (c *converter) refuseClientCertHosts() {
	for _, h := range c.model.sortedHosts() {
		owner := h.clientCert
		if owner == nil {
			continue
		}
		var why string
		switch {
		case h.name == "":
			why = fmt.Sprintf("the rules without host ask for client certificates (auth-tls-* on %s), which gatebridge asks for on a host's own HTTPS listener only and the rules without host have none: give the rules a host listed in spec.tls (fails closed)", owner.key())
		case h.tls == nil:
			why = fmt.Sprintf("host %s asks for client certificates (auth-tls-* on %s) but no Ingress lists it in spec.tls: ingress-nginx would ask for them over HTTPS with its default certificate; add the host to spec.tls so that gatebridge gives it an HTTPS listener (fails closed)", h.name, owner.key())
		case c.opts.Portable:
			why = fmt.Sprintf("host %s asks for client certificates (auth-tls-* on %s), which the standard Gateway API can only ask for on a whole port (every host of 443): not converted with --portable (fails closed)", h.name, owner.key())
		case c.opts.Bridge && !h.allNative():
			h.refuseOptedIn(fmt.Sprintf("host %s asks for client certificates (auth-tls-* on %s): behind the bridge its requests cannot be split between gatebridge and ingress-nginx (ingress-nginx would not get the client's certificate), so the host moves all at once — until every Ingress of the host is opted in at weight 100, ingress-nginx keeps serving the whole host (its TLS passed through)", h.name, owner.key()))
			continue
		default:
			continue
		}
		h.refuseAll(why)
	}
}

// allNative reports whether every Ingress with a path on h is opted in at weight 100 and
// served (bridge mode).
func (h *hostModel) allNative() bool {
	for _, l := range h.locations {
		if b := l.src.bridge; !b.optedIn || b.weight < 100 || l.src.refused() {
			return false
		}
	}
	return true
}

// refuseOptedIn fails closed, with why, the opted-in Ingresses with a path on h (bridge
// mode): observed ones stay observed, and none of the host is served natively.
func (h *hostModel) refuseOptedIn(why string) {
	for _, l := range h.locations {
		if l.src.bridge.optedIn && !contains(l.src.hostRefusals, why) {
			l.src.hostRefusals = append(l.src.hostRefusals, why)
		}
	}
}

// refuseAll fails closed, with why, every Ingress with a path on h (those already refused
// keep their own reasons too).
func (h *hostModel) refuseAll(why string) {
	for _, l := range h.locations {
		if !contains(l.src.hostRefusals, why) {
			l.src.hostRefusals = append(l.src.hostRefusals, why)
		}
	}
	if o := h.clientCert; o != nil && !contains(o.hostRefusals, why) {
		o.hostRefusals = append(o.hostRefusals, why)
	}
}

// refuseOthers fails closed, with why, every Ingress with a path on h but owner (whose
// server-level setting gatebridge cannot serve) and those already refused.
func (h *hostModel) refuseOthers(owner *source, why string) {
	for _, l := range h.locations {
		if l.src == owner || l.src.ann.Blocked() {
			continue
		}
		if !contains(l.src.hostRefusals, why) {
			l.src.hostRefusals = append(l.src.hostRefusals, why)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// place puts a location into its host, resolving conflicts: the first (oldest) Ingress wins
// the same host + path + pathType, explicit locations win over implicit default-backend ones.
func (m *model) place(l *location) {
	h := m.host(l.host)
	if l.implicit && l.host != "" && h.first != nil && h.first != l.src {
		// ingress-nginx builds a host's implicit "/" from the host's first Ingress only.
		l.src.add(Finding{Field: l.field, Severity: SeverityInfo,
			Message: fmt.Sprintf("is not used for host %s: the host's implicit / comes from its first Ingress, %s (as in ingress-nginx)", l.host, h.first.key())})
		return
	}
	cur, exists := h.locations[l.key()]
	switch {
	case !exists:
		h.locations[l.key()] = l
	case cur.implicit && !l.implicit:
		h.locations[l.key()] = l
	case !cur.implicit && l.implicit:
		// an explicit "/" already exists: the default backend is not used for this host.
	case cur.src == l.src:
		l.src.add(Finding{Field: l.field, Value: l.path, Severity: SeverityWarning,
			Message: fmt.Sprintf("duplicates path %s (%s) of host %s within the same Ingress; the first one is used", l.path, l.pathType, hostOrAll(l.host))})
	default:
		l.src.add(Finding{Field: l.field, Value: l.path, Severity: SeverityWarning,
			Message: fmt.Sprintf("path %s (%s) of host %s is also defined by %s, which comes first in ingress-nginx order (older, or as old and later by namespace/name) and wins; this path is not converted", l.path, l.pathType, hostOrAll(l.host), cur.src.key())})
		if cur.src.ann.Blocked() {
			l.src.add(Finding{Field: l.field, Value: l.path, Severity: SeverityInfo,
				Message: cur.src.key() + " is refused, so this path stays on ingress-nginx, where " + cur.src.key() + " serves it"})
		}
		cur.src.add(Finding{Field: cur.field, Value: cur.path, Severity: SeverityInfo,
			Message: fmt.Sprintf("path %s (%s) of host %s is also defined by %s, which is newer and loses", cur.path, cur.pathType, hostOrAll(cur.host), l.src.key())})
	}
}

func hostOrAll(h string) string {
	if h == "" {
		return "(all hosts)"
	}
	return h
}

// computeRegexMode marks hosts where some location's Ingress uses use-regex or a
// rewrite-target that differs from the path: ingress-nginx then writes every location of the server
// as a regex location.
func (m *model) computeRegexMode() {
	for _, h := range m.hosts {
		for _, l := range h.locations {
			rw := l.src.ann.Rewrite
			if rw.UseRegex || (rw.Target != "" && rw.Target != l.path) {
				h.regexMode = true
				break
			}
		}
	}
}

// joinCanary attaches a canary Ingress to the primary upstream of the location with the
// same host, path and pathType. Every location using that upstream gets the canary
// (ingress-nginx balances per upstream); only the first canary per upstream is used.
func (m *model) joinCanary(src *source, joined map[backend]*canaryJoin) {
	ing := src.ing
	matched := false
	for ri, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		host := strings.ToLower(rule.Host)
		for pi, p := range rule.HTTP.Paths {
			field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", ri, pi)
			path, pt := effectivePath(p.Path), effectivePathType(p.PathType)
			h := m.hosts[host]
			var primary *location
			if h != nil {
				primary = h.locations[string(pt)+" "+path]
			}
			if primary == nil || primary.implicit {
				src.add(Finding{Field: field, Value: path, Severity: SeverityWarning,
					Message: fmt.Sprintf("canary has no primary: no non-canary Ingress defines %s (%s) on host %s; ingress-nginx drops this canary path and so does gatebridge", path, pt, hostOrAll(host))})
				continue
			}
			be, ok := m.resolveBackend(src, &p.Backend, field)
			if !ok {
				continue
			}
			if cur, taken := joined[primary.backend]; taken && cur.src != src {
				src.add(Finding{Field: field, Severity: SeverityWarning,
					Message: fmt.Sprintf("upstream %s already has canary %s (ingress-nginx uses one canary per primary upstream); this canary is ignored", primary.backend, cur.src.key())})
				continue
			}
			joined[primary.backend] = &canaryJoin{src: src, backend: be, cfg: src.ann.Canary}
			matched = true
			src.add(Finding{Field: field, Severity: SeverityInfo, Annotation: "canary", Level: annotations.Exact,
				Message: fmt.Sprintf("joins %s (%s %s on %s, upstream %s)", primary.src.key(), pt, path, hostOrAll(host), primary.backend)})
		}
	}
	if !matched && len(ing.Spec.Rules) == 0 {
		src.add(Finding{Annotation: "canary", Severity: SeverityWarning, Level: annotations.Exact,
			Message: "canary Ingress has no rules; a canary never creates a host or catch-all, so it is dropped (as in ingress-nginx)"})
	}
}

// attachCanaries sets the canary of every location whose upstream has one.
func (m *model) attachCanaries(joined map[backend]*canaryJoin) {
	for _, h := range m.hosts {
		for _, l := range h.locations {
			if c, ok := joined[l.backend]; ok {
				l.canary = c
			}
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// splitSelfRewrites reproduces what ingress-nginx makes of a Prefix path whose
// rewrite-target is the path itself (/same on /same). It compares the two before it splits
// the path into the prefix location "/same/" and its exact twin "= /same", finds them equal
// and splits; the template then compares the target with the prefix location's "/same/",
// finds them different, and rewrites there — which also puts the whole host in regex mode.
// So sub-paths (/same/…, any case) reach the backend as /same, while /same itself (the
// twin, a regex "^/same" too, matching /samefoo) is proxied unchanged. The twin is not made
// when the host has an Exact /same already.
func (m *model) splitSelfRewrites() {
	for _, h := range m.sortedHosts() {
		for _, key := range sortedLocationKeys(h) {
			l := h.locations[key]
			rw := l.src.ann.Rewrite
			if l.pathType != pathPrefix || l.path == "/" || strings.HasSuffix(l.path, "/") || rw.UseRegex || rw.Target != l.path {
				continue
			}
			prefix := *l
			prefix.path = l.path + "/"
			if _, taken := h.locations[prefix.key()]; taken {
				continue
			}
			delete(h.locations, key)
			h.locations[prefix.key()] = &prefix
			twin := *l
			twin.pathType, twin.noRewrite = pathExact, true
			if _, taken := h.locations[twin.key()]; !taken {
				h.locations[twin.key()] = &twin
			}
			l.src.add(Finding{Field: l.field + ".path", Annotation: "rewrite-target", Value: rw.Target, Severity: SeverityInfo, Level: annotations.Exact,
				Message: fmt.Sprintf("equals the path, but ingress-nginx compares it with the prefix location %s it makes of the path: requests for %s… (any case) reach the backend as %s, while %s itself and longer names such as %sx are proxied unchanged, and every path of host %s becomes a case-insensitive regular expression (as in ingress-nginx)",
					prefix.path, prefix.path, rw.Target, l.path, l.path, hostOrAll(h.name))})
		}
	}
}

// sortedLocationKeys are the keys of h's locations in order, for a deterministic walk.
func sortedLocationKeys(h *hostModel) []string {
	keys := make([]string, 0, len(h.locations))
	for k := range h.locations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
