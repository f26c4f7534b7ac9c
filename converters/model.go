package converters

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
)

// source is one selected Ingress with its parsed annotations and its report entry.
type source struct {
	ing    *networkingv1.Ingress
	ann    *annotations.Ingress
	report *IngressReport
	// order is the position in ingress-nginx processing order (oldest first).
	order int
	// member is its position among its part's members (objectSet).
	member int
	// notPortable are the behaviours of the Ingress the standard Gateway API cannot say
	// (portable.go): served through gatebridge's kinds, or lost with Options.Portable.
	notPortable []string
	// hostRefusals say why the Ingress is refused because of another Ingress: of a host it
	// shares (a host-wide security control gatebridge cannot enforce), or whose object
	// names its own would take (convert).
	hostRefusals []string
	// bridge is what its annotations ask of the bridge (bridge mode only, bridge.go).
	bridge bridgeIntent
	// clientCAInvalid: its auth-tls-secret cannot be used (checkClientCA); ingress-nginx
	// then denies its locations, and its auth-tls-* do not become the host's.
	clientCAInvalid bool
	// denied say why ingress-nginx denies the Ingress's locations (503) for a reference it
	// cannot resolve (a proxy-ssl-secret not in the input): it fails closed.
	denied []string
	// customHeaders are the response headers of custom-headers (resolveCustomHeaders).
	customHeaders []gwv1.HTTPHeader
	// authProxySetHeaders are the headers of auth-proxy-set-headers (resolveAuthProxySetHeaders).
	authProxySetHeaders map[string]string
}

// refused reports whether the Ingress must produce no objects. A refused Ingress still
// owns its paths, certificate and host settings, exactly as in ingress-nginx: newer
// Ingresses do not take them over, and its locations fail closed (refused.go). Its host
// settings reach the Gateway only through a served Ingress of the host that needs them
// (hostListeners).
func (s *source) refused() bool {
	return s.ann.Blocked() || len(s.hostRefusals) > 0 || len(s.denied) > 0
}

func (s *source) key() string { return s.ing.Namespace + "/" + s.ing.Name }

func (s *source) add(f Finding) { s.report.Findings = append(s.report.Findings, f) }

// addOnce adds f unless the Ingress already has the very same finding (one per Ingress
// for what each of its locations would say again).
func (s *source) addOnce(f Finding) {
	for _, g := range s.report.Findings {
		if g == f {
			return
		}
	}
	s.add(f)
}

// pathType is the effective ingress-nginx path type: ImplementationSpecific and a missing
// type are Prefix (SetDefaultNGINXPathType).
type pathType string

const (
	pathExact  pathType = "Exact"
	pathPrefix pathType = "Prefix"
)

// backend is a resolved Service backend.
type backend struct {
	namespace, service string
	port               int32
	// portLabel is how the port was written (name or number), for messages.
	portLabel string
}

func (b backend) String() string { return fmt.Sprintf("%s/%s:%d", b.namespace, b.service, b.port) }

// location is one (host, path, pathType) of one Ingress: nginx's unit of routing.
type location struct {
	src      *source
	host     string
	path     string
	pathType pathType
	backend  backend
	// field is the Ingress field it came from.
	field string
	// implicit is the "/" location added for an Ingress defaultBackend; an explicit "/"
	// of any Ingress wins over it.
	implicit bool
	// canary is the joined canary, if any.
	canary *canaryJoin
	// noRewrite: the exact twin of a Prefix path whose rewrite-target equals it
	// (splitSelfRewrites): ingress-nginx does not rewrite there.
	noRewrite bool
}

func (l *location) key() string { return string(l.pathType) + " " + l.path }

// sortByAge orders sources as ingress-nginx does: oldest creationTimestamp first, ties by
// namespace/name descending (store.sortIngressSlice).
func sortByAge(srcs []*source) {
	sort.SliceStable(srcs, func(i, j int) bool {
		a, b := srcs[i].ing, srcs[j].ing
		ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return a.Namespace+"/"+a.Name > b.Namespace+"/"+b.Name
	})
	for i, s := range srcs {
		s.order = i
	}
}

// effectivePathType applies ingress-nginx's defaulting.
func effectivePathType(pt *networkingv1.PathType) pathType {
	if pt != nil && *pt == networkingv1.PathTypeExact {
		return pathExact
	}
	return pathPrefix
}

// effectivePath applies ingress-nginx's defaulting: an empty path is "/".
func effectivePath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// validatePath refuses paths that could never be a URL path or that smuggle control
// characters (CVE-2021-25745/-25748, CVE-2026-24512 were path injections).
func validatePath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q does not start with /", p)
	}
	// Quotes and white space are never part of a URL path; braces, backslashes and
	// semicolons are regex syntax (`[a-z]{3}`, `\d`) and harmless in typed Envoy config.
	if strings.ContainsAny(p, "\r\n\x00\"'` \t") {
		return fmt.Errorf("path %q contains a quote, space or control character", p)
	}
	return nil
}
