package converters

import (
	"cmp"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// A refused Ingress produces no objects (the operator writes owned objects per Ingress; a
// refused one owns none), but it still owns its locations, exactly as in ingress-nginx:
// newer Ingresses do not take its paths over. Were its locations simply left out, their
// requests would fall through to whatever else matches — the host's other paths, a
// wildcard host, the catch-all server — and be answered 200 by the wrong backend, where
// ingress-nginx answers 503 ("location denied") or, for the Ingresses it rejects, never
// serves them. So the conversion reports every location of a refused Ingress as a
// RefusedLocation, matched exactly as the location would have been (PathPrefix, Exact, or
// the host's regular expression in regex mode), and the data plane fails those closed
// with the right precedence inside the host (docs/dataplane.md, "Refused Ingresses").
//
// An Ingress the API server rejects (ValidateIngress) is different: it can never exist in
// a cluster, so it owns nothing and has no refused locations; the conversion goes on as if
// it were absent.

// RefusedLocation is a location (host + path) owned by a refused Ingress: the data plane
// answers 503 for it, as ingress-nginx answers a denied location. (When gatebridge bridges
// to ingress-nginx, these are the requests to send to the fallback instead.)
type RefusedLocation struct {
	// Namespace and Ingress name the refused Ingress.
	Namespace string `json:"namespace"`
	Ingress   string `json:"ingress"`
	// Host is the hostname, "*.example.com" for a wildcard; "" is the catch-all server
	// (an Ingress rule without host, or an Ingress with only a defaultBackend).
	Host string `json:"host,omitempty"`
	// Path is how the location would have been matched: Exact or PathPrefix, or the
	// host's case-insensitive RegularExpression in regex mode (in nginx order).
	Path gwv1.HTTPPathMatch `json:"path"`
	// Reason says in one line why the Ingress is refused.
	Reason string `json:"reason"`
}

// refusedLocations are the locations the part's refused Ingresses own, in host order: on
// the host and on each alias it serves, which ingress-nginx serves with the very same
// locations.
func (c *converter) refusedLocations() []RefusedLocation {
	var out []RefusedLocation
	for _, h := range c.model.sortedHosts() {
		for _, l := range h.locations {
			var reason string
			switch {
			case l.src.refused():
				reason = strings.Join(blockedReasons(l.src), "; ")
			case c.opts.Bridge && !l.src.bridge.optedIn:
				reason = NotMigratedReason
			default:
				continue
			}
			match, ok := refusedMatch(l, h.regexMode)
			if !ok {
				continue
			}
			for _, name := range append([]string{h.name}, h.servedAliases...) {
				out = append(out, RefusedLocation{Namespace: l.src.ing.Namespace, Ingress: l.src.ing.Name, Host: name, Path: match, Reason: reason})
			}
		}
	}
	return out
}

// refusedMatch is the match of a refused location, when a data plane can express it (a
// path no route could match, such as a PCRE-only regex, is left out: it could not have
// been served either).
func refusedMatch(l *location, regexMode bool) (gwv1.HTTPPathMatch, bool) {
	if regexMode {
		if checkRegexPath(l.path) != nil || len(nginxRegex(l.path)) > maxGatewayPath {
			return gwv1.HTTPPathMatch{}, false
		}
	} else if gatewayPathProblem(l.path, l.pathType) != "" {
		return gwv1.HTTPPathMatch{}, false
	}
	return pathMatch(l, regexMode), true
}

// sortRefused orders refused locations by host, path and Ingress: the same set in any
// order (whatever the parts) gives the same list.
func sortRefused(ls []RefusedLocation) {
	slices.SortFunc(ls, func(a, b RefusedLocation) int {
		return cmp.Or(cmp.Compare(a.Host, b.Host), cmp.Compare(*a.Path.Value, *b.Path.Value), cmp.Compare(*a.Path.Type, *b.Path.Type),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Ingress, b.Ingress))
	})
}
