package xds

import (
	"fmt"
	"maps"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// resolveReferences checks that every name a listener or cluster uses is published: RDS
// route configurations named by an HttpConnectionManager in any filter chain, directly or
// through an inline list of scopes; with SRDS (scoped_rds), every scoped route configuration
// and the route configuration each names; the ClusterLoadAssignment of every EDS cluster;
// and SDS secrets named by a Downstream- or UpstreamTlsContext. Envoy would otherwise wait
// forever for the missing resource (listener or cluster warming), so a dangling name is an
// error.
//
// It returns c without the scoped route configurations, route configurations,
// ClusterLoadAssignments and secrets that nothing uses, and their descriptions. They are
// useless to Envoy and harmful in ADS mode: the snapshot cache answers a state-of-the-world
// RDS/EDS/SDS request only once it names every resource of that type, so one unused
// resource would stall every state-of-the-world client's updates of that type.
//
// The HttpConnectionManager and TLS contexts are decoded from their typed_config and
// validated too, since a listener's own validation does not look inside an Any.
//
// memo is what the last call found about the clusters (nil: nothing); when the clusters,
// endpoints and secrets are the very sets it found it about, the clusters are not walked
// again. It is updated to this call's findings.
func resolveReferences(c *config, memo *clusterReferences) (resolved *config, unused []string, err error) {
	r := referenceChecker{config: c}
	known := memo.validFor(c)
	for _, k := range referencedKinds {
		if k == kindEndpoint && known {
			continue // only clusters use endpoints: memo.endpoints, read only
		}
		// Sized for the common case, where everything is used: 10,000 EDS clusters would
		// otherwise grow the map of used endpoints a dozen times on every publish.
		r.used[k] = make(map[string]bool, len(c.sets[k].items))
	}
	for _, item := range c.sets[kindListener].items {
		l := item.(*listenerv3.Listener)
		if err := r.checkListener(l); err != nil {
			return nil, nil, fmt.Errorf("listener %q: %w", l.GetName(), err)
		}
	}
	// Only once every listener is checked is it known whether the scopes, and so the route
	// configurations they name, are used at all.
	if r.scopedRDS {
		if err := r.useScopes(); err != nil {
			return nil, nil, err
		}
	}
	if known {
		r.used[kindEndpoint] = memo.endpoints
		for name := range memo.secrets {
			r.used[kindSecret][name] = true
		}
	} else {
		// The clusters' own findings, apart from the listeners'.
		listenerSecrets := r.used[kindSecret]
		r.used[kindSecret] = map[string]bool{}
		for _, item := range c.sets[kindCluster].items {
			if err := r.checkCluster(item); err != nil {
				return nil, nil, err
			}
		}
		if memo != nil {
			*memo = clusterReferences{clusters: c.sets[kindCluster].original(), endpointSet: c.sets[kindEndpoint].original(),
				secretSet: c.sets[kindSecret].original(), endpoints: r.used[kindEndpoint], secrets: maps.Clone(r.used[kindSecret])}
		}
		for name := range listenerSecrets {
			r.used[kindSecret][name] = true
		}
	}
	resolved, unused = r.withoutUnused()
	return resolved, unused, nil
}

// clusterReferences is what walking a set of clusters found: the ClusterLoadAssignments
// and secrets they use, all present in the endpoint and secret sets they were checked
// against. These maps are never modified once recorded.
type clusterReferences struct {
	clusters, endpointSet, secretSet *resourceSet
	endpoints, secrets               map[string]bool
}

// validFor reports whether m was found for c's clusters, endpoints and secrets.
func (m *clusterReferences) validFor(c *config) bool {
	return m != nil && m.clusters != nil && m.clusters == c.sets[kindCluster].original() &&
		m.endpointSet == c.sets[kindEndpoint].original() && m.secretSet == c.sets[kindSecret].original()
}

// referencedKinds are the kinds other resources refer to by name.
var referencedKinds = []kind{kindScopedRoute, kindRoute, kindEndpoint, kindSecret}

// referenceChecker records which route configurations, endpoints and secrets are used.
type referenceChecker struct {
	config *config
	used   [numKinds]map[string]bool
	// scopedRDS is set when an HttpConnectionManager gets its scopes by SRDS.
	scopedRDS bool
}

func (r *referenceChecker) use(k kind, name string) error {
	if !r.config.sets[k].has(name) {
		return fmt.Errorf("uses %s %q, which is not published", k, name)
	}
	r.used[k][name] = true
	return nil
}

// withoutUnused returns the config without the referenced kinds' resources nothing uses.
func (r *referenceChecker) withoutUnused() (*config, []string) {
	out := r.config
	var unused []string
	for _, k := range referencedKinds {
		set := r.config.sets[k]
		if len(r.used[k]) == len(set.items) {
			continue
		}
		for _, item := range set.items {
			if name := cachev3.GetResourceName(item); !r.used[k][name] {
				unused = append(unused, fmt.Sprintf("%s %q", k, name))
			}
		}
		out = out.with(k, set.only(r.used[k]))
	}
	return out, unused
}

func (r *referenceChecker) checkListener(l *listenerv3.Listener) error {
	chains := l.GetFilterChains()
	if l.GetDefaultFilterChain() != nil {
		chains = append(chains[:len(chains):len(chains)], l.GetDefaultFilterChain())
	}
	for i, chain := range chains {
		if err := r.checkFilterChain(chain); err != nil {
			return fmt.Errorf("filter chain #%d %q: %w", i, chain.GetName(), err)
		}
	}
	return nil
}

func (r *referenceChecker) checkFilterChain(chain *listenerv3.FilterChain) error {
	for _, filter := range chain.GetFilters() {
		if err := r.checkNetworkFilter(filter); err != nil {
			return fmt.Errorf("filter %q: %w", filter.GetName(), err)
		}
	}
	return r.checkTransportSocket(chain.GetTransportSocket())
}

// checkNetworkFilter follows an HttpConnectionManager to the route configurations it names,
// and notes whether it uses SRDS. Other network filters reference nothing gatebridge
// publishes.
func (r *referenceChecker) checkNetworkFilter(filter *listenerv3.Filter) error {
	hcm := &hcmv3.HttpConnectionManager{}
	found, err := decodeTyped(filter.GetTypedConfig(), hcm)
	if !found || err != nil {
		return err
	}
	if name := hcm.GetRds().GetRouteConfigName(); name != "" {
		if err := r.use(kindRoute, name); err != nil {
			return err
		}
	}
	scoped := hcm.GetScopedRoutes()
	for _, scope := range scoped.GetScopedRouteConfigurationsList().GetScopedRouteConfigurations() {
		if err := r.use(kindRoute, scope.GetRouteConfigurationName()); err != nil {
			return err
		}
	}
	if scoped.GetScopedRds() != nil {
		r.scopedRDS = true
	}
	return nil
}

// checkCluster records what a cluster (a Cluster or an EncodedCluster, whose references
// were read when it was encoded) refers to.
func (r *referenceChecker) checkCluster(item types.Resource) error {
	var refs clusterRefs
	var err error
	switch cl := item.(type) {
	case *EncodedCluster:
		refs, err = cl.refs, cl.refsErr
	case *clusterv3.Cluster:
		refs, err = referencesOf(cl)
	}
	if err != nil {
		return fmt.Errorf("cluster %q: %w", cachev3.GetResourceName(item), err)
	}
	if err := r.useClusterRefs(refs); err != nil {
		return fmt.Errorf("cluster %q: %w", cachev3.GetResourceName(item), err)
	}
	return nil
}

// referencesOf reads what cl refers to: the load assignment of an EDS cluster and the SDS
// secrets of its transport sockets.
func referencesOf(cl *clusterv3.Cluster) (clusterRefs, error) {
	var refs clusterRefs
	if cl.GetType() == clusterv3.Cluster_EDS {
		refs.eds = edsServiceName(cl)
	}
	add := func(socket *corev3.TransportSocket, match string) error {
		names, err := sdsSecretNames(socket.GetTypedConfig())
		if err != nil {
			return fmt.Errorf("transport socket %q: %w", socket.GetName(), err)
		}
		for _, name := range names {
			via := fmt.Sprintf("transport socket %q", socket.GetName())
			if match != "" {
				via = fmt.Sprintf("transport socket match %q: %s", match, via)
			}
			refs.secrets = append(refs.secrets, socketSecret{via, name})
		}
		return nil
	}
	if err := add(cl.GetTransportSocket(), ""); err != nil {
		return refs, err
	}
	for _, match := range cl.GetTransportSocketMatches() {
		if err := add(match.GetTransportSocket(), match.GetName()); err != nil {
			return refs, fmt.Errorf("transport socket match %q: %w", match.GetName(), err)
		}
	}
	return refs, nil
}

// useClusterRefs records a cluster's references, each of which must be published.
func (r *referenceChecker) useClusterRefs(refs clusterRefs) error {
	if refs.eds != "" {
		if err := r.use(kindEndpoint, refs.eds); err != nil {
			return err
		}
	}
	for _, s := range refs.secrets {
		if err := r.use(kindSecret, s.secret); err != nil {
			return fmt.Errorf("%s: %w", s.via, err)
		}
	}
	return nil
}

// edsServiceName is the name of the ClusterLoadAssignment an EDS cluster asks for.
func edsServiceName(cl *clusterv3.Cluster) string {
	if name := cl.GetEdsClusterConfig().GetServiceName(); name != "" {
		return name
	}
	return cl.GetName()
}

// checkTransportSocket follows a TLS transport socket to the SDS secrets it names.
func (r *referenceChecker) checkTransportSocket(socket *corev3.TransportSocket) error {
	names, err := sdsSecretNames(socket.GetTypedConfig())
	if err != nil {
		return fmt.Errorf("transport socket %q: %w", socket.GetName(), err)
	}
	for _, name := range names {
		if err := r.use(kindSecret, name); err != nil {
			return fmt.Errorf("transport socket %q: %w", socket.GetName(), err)
		}
	}
	return nil
}

// sdsSecretNames returns the SDS secret names used by a Downstream- or UpstreamTlsContext.
func sdsSecretNames(typed *anypb.Any) ([]string, error) {
	if typed == nil {
		return nil, nil // most clusters: not worth allocating the contexts to find out
	}
	downstream := &tlsv3.DownstreamTlsContext{}
	if found, err := decodeTyped(typed, downstream); found || err != nil {
		names := commonTLSSecretNames(downstream.GetCommonTlsContext())
		names = appendName(names, downstream.GetSessionTicketKeysSdsSecretConfig())
		return names, err
	}
	upstream := &tlsv3.UpstreamTlsContext{}
	found, err := decodeTyped(typed, upstream)
	if !found || err != nil {
		return nil, err
	}
	return commonTLSSecretNames(upstream.GetCommonTlsContext()), nil
}

func commonTLSSecretNames(common *tlsv3.CommonTlsContext) []string {
	var names []string
	for _, certificate := range common.GetTlsCertificateSdsSecretConfigs() {
		names = appendName(names, certificate)
	}
	names = appendName(names, common.GetValidationContextSdsSecretConfig())
	names = appendName(names, common.GetCombinedValidationContext().GetValidationContextSdsSecretConfig())
	return names
}

func appendName(names []string, config *tlsv3.SdsSecretConfig) []string {
	if name := config.GetName(); name != "" {
		names = append(names, name)
	}
	return names
}

// decodedMessage is an Envoy message that can check its own validation rules.
type decodedMessage interface {
	proto.Message
	validator
}

// decodeTyped decodes typed into into when typed holds that message type, and validates it.
// found is false, with no error, when typed is nil or holds another type.
func decodeTyped(typed *anypb.Any, into decodedMessage) (found bool, err error) {
	if typed == nil || !typed.MessageIs(into) {
		return false, nil
	}
	name := into.ProtoReflect().Descriptor().Name()
	if err := typed.UnmarshalTo(into); err != nil {
		return true, fmt.Errorf("decoding %s: %w", name, err)
	}
	if err := into.ValidateAll(); err != nil {
		return true, fmt.Errorf("invalid %s: %w", name, err)
	}
	return true, nil
}
