package sources

import (
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
)

// servedKinds are the kinds, besides those the converter reads, that the data plane serves
// when they are found in the input: "apiVersion/kind" → a new empty object.
var servedKinds = map[string]func() client.Object{
	"gateway.networking.k8s.io/v1/GatewayClass":        func() client.Object { return &gwv1.GatewayClass{} },
	"gateway.networking.k8s.io/v1/Gateway":             func() client.Object { return &gwv1.Gateway{} },
	"gateway.networking.k8s.io/v1/ListenerSet":         func() client.Object { return &gwv1.ListenerSet{} },
	"gateway.networking.k8s.io/v1/HTTPRoute":           func() client.Object { return &gwv1.HTTPRoute{} },
	"gateway.networking.k8s.io/v1/TLSRoute":            func() client.Object { return &gwv1.TLSRoute{} },
	"gateway.networking.k8s.io/v1/GRPCRoute":           func() client.Object { return &gwv1.GRPCRoute{} },
	"gateway.networking.k8s.io/v1/BackendTLSPolicy":    func() client.Object { return &gwv1.BackendTLSPolicy{} },
	"gateway.networking.k8s.io/v1beta1/ReferenceGrant": func() client.Object { return &gwv1b1.ReferenceGrant{} },
	"gateway.networking.k8s.io/v1/ReferenceGrant":      func() client.Object { return &gwv1b1.ReferenceGrant{} },
	"gatebridge.dev/v1alpha1/TrafficPolicy":            func() client.Object { return &v1alpha1.TrafficPolicy{} },
	"gatebridge.dev/v1alpha1/RouteFilter":              func() client.Object { return &v1alpha1.RouteFilter{} },
	"discovery.k8s.io/v1/EndpointSlice":                func() client.Object { return &discoveryv1.EndpointSlice{} },
	//lint:ignore SA1019 legacy Endpoints objects are still found in manifests; run resolves Services through them as a cluster would
	"v1/Endpoints": func() client.Object { return &corev1.Endpoints{} },
}

// readKinds are the kinds gatebridge reads, each at the apiVersion it reads it at (the
// converter's kinds and servedKinds), in a fixed order: the nearest one is suggested for a
// misspelled apiVersion or kind.
var readKinds = func() []typeName {
	out := []typeName{
		{"networking.k8s.io/v1", "Ingress"},
		{"networking.k8s.io/v1", "IngressClass"},
		{"v1", "Service"},
		{"v1", "Secret"},
		{"v1", "ConfigMap"},
	}
	var served []typeName
	for k := range servedKinds {
		i := strings.LastIndexByte(k, '/')
		served = append(served, typeName{k[:i], k[i+1:]})
	}
	sort.Slice(served, func(i, j int) bool {
		if served[i].kind != served[j].kind {
			return served[i].kind < served[j].kind
		}
		// gateway.networking.k8s.io/v1 before v1beta1: suggest the newest.
		return len(served[i].apiVersion) < len(served[j].apiVersion)
	})
	return append(out, served...)
}()

// typeName is an apiVersion and a kind.
type typeName struct{ apiVersion, kind string }

// genuineKinds are real kinds close enough to one gatebridge reads to look like a typo of
// it (TCPRoute and TLSRoute differ by two letters): they are other kinds, ignored.
var genuineKinds = map[string]bool{"TCPRoute": true, "UDPRoute": true, "XListenerSet": true}

// misspelledKind returns the Problem message for an object whose apiVersion and kind
// gatebridge does not read but which looks like one it reads, so that a typo never drops
// an object silently. The rule, in order:
//   - no apiVersion and no kind: not an object at all (a values file) unless it is named;
//   - no kind, but a name: the apiVersion is one gatebridge reads kinds of, or close to
//     one (a Helm Chart.yaml has apiVersion v2 and no metadata: not an object);
//   - a kind gatebridge reads, exactly, with an apiVersion close to its own: missing (for
//     a named object: a kind alone is not a manifest), no group, a group within two edits or cut short (networking.k8s), or another version;
//   - a kind that differs only in case from one gatebridge reads (ingress), whatever the
//     apiVersion: kinds are case-sensitive and never lowercase;
//   - a kind within two edits of one gatebridge reads (Ingres, Ingresses), with an
//     apiVersion equal or close to its own.
//
// Anything else (Deployment, an Istio Gateway, a Knative Service) is another kind.
func misspelledKind(apiVersion, kind string, named bool) (string, bool) {
	looked := describeType(apiVersion, kind)
	switch {
	case apiVersion == "" && kind == "":
		if !named {
			return "", false
		}
		return looked + ", so gatebridge cannot tell what it is and does not read it; set them (networking.k8s.io/v1 Ingress for an Ingress)", true
	case kind == "":
		if !named {
			return "", false
		}
		var kinds []string
		for _, k := range readKinds {
			if (apiVersion == k.apiVersion || apiVersionNear(apiVersion, k.apiVersion)) && !slices.Contains(kinds, k.kind) {
				kinds = append(kinds, k.kind)
			}
		}
		if len(kinds) == 0 {
			return "", false
		}
		return looked + ": not read; set the kind (gatebridge reads " + joinOr(kinds) + " there)", true
	case apiVersion == "" && !named:
		// A kind alone, no name: a list of kinds in some other file (a report, a
		// kustomization), not a manifest.
		return "", false
	}
	best, bestScore := typeName{}, 0
	for _, k := range readKinds {
		if s := kindNearness(apiVersion, kind, k); s > bestScore {
			best, bestScore = k, s
		}
	}
	if bestScore == 0 {
		return "", false
	}
	return looked + ": not a kind gatebridge reads, so this object is not read; did you mean " + best.apiVersion + " " + best.kind + "?", true
}

// kindNearness scores how likely (apiVersion, kind) is a misspelling of k: 0 not at all,
// higher nearer.
func kindNearness(apiVersion, kind string, k typeName) int {
	apiNear := apiVersion == k.apiVersion || apiVersionNear(apiVersion, k.apiVersion)
	switch {
	case kind == k.kind && apiNear:
		return 4
	case kind == k.kind:
		return 0 // another project's kind of the same name
	case strings.EqualFold(kind, k.kind) && apiNear:
		return 3
	case strings.EqualFold(kind, k.kind):
		return 2
	case apiNear && !genuineKinds[kind] && editDistance(kind, k.kind) <= 2:
		return 1
	}
	return 0
}

// apiVersionNear reports whether apiVersion looks like a misspelling of known (which it
// is not): missing, missing its group, another version of the same group, or a group
// within two edits of the known one or cut short at a dot (networking.k8s). A group of
// another project is not near: serving.knative.dev/v1 Service is Knative's, not a typo.
func apiVersionNear(apiVersion, known string) bool {
	if apiVersion == known {
		return false
	}
	if apiVersion == "" {
		return true
	}
	group, _ := splitAPIVersion(apiVersion)
	knownGroup, _ := splitAPIVersion(known)
	switch {
	case group == knownGroup:
		return true
	case group == "" || knownGroup == "":
		// A kind of a named group written with a bare version (v1 Ingress); a core kind
		// with a group is another project's kind.
		return group == ""
	case editDistance(group, knownGroup) <= 2:
		return true
	}
	return strings.HasPrefix(knownGroup, group+".") || strings.HasPrefix(group, knownGroup+".")
}

// splitAPIVersion splits group/version; an apiVersion without a slash is a version of the
// core group, unless it has a dot: then it is a group missing its version.
func splitAPIVersion(apiVersion string) (group, version string) {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i], apiVersion[i+1:]
	}
	if strings.Contains(apiVersion, ".") {
		return apiVersion, ""
	}
	return "", apiVersion
}

// describeType writes what an object's type looked like: apiVersion networking.k8s/v1,
// kind Ingress (or no apiVersion, no kind).
func describeType(apiVersion, kind string) string {
	a, k := "apiVersion "+apiVersion, "kind "+kind
	if apiVersion == "" {
		a = "no apiVersion"
	}
	if kind == "" {
		k = "no kind"
	}
	return a + ", " + k
}

func joinOr(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// editDistance is the Levenshtein distance of a and b (bytes); 3 when their lengths
// alone differ by more than 2: only "within two edits" is asked.
func editDistance(a, b string) int {
	if d := len(a) - len(b); d > 2 || d < -2 {
		return 3
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
