package converters

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
)

// source is one selected Ingress with its parsed annotations and its report entry.
type source struct {
	ing    *networkingv1.Ingress
	ann    *annotations.Ingress
	report *IngressReport
	// order is the position in ingress-nginx processing order (oldest first).
	order int
	// hasObjects records whether any object was emitted for this Ingress.
	usesExtensions bool
}

func (s *source) key() string { return s.ing.Namespace + "/" + s.ing.Name }

func (s *source) add(f Finding) { s.report.Findings = append(s.report.Findings, f) }

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
	if strings.ContainsAny(p, "\r\n\x00\"'`;{} \t\\") {
		return fmt.Errorf("path %q contains a quote, brace, semicolon, backslash, space or control character", p)
	}
	return nil
}
