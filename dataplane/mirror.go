package dataplane

import (
	"fmt"
	"regexp"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
)

// mirrorPolicy is the route's copy of each request to the policy's mirror (mirror-target):
// a cluster of its own for the mirror's address, the Host of mirror-host (Envoy then adds
// no "-shadow" suffix). Envoy does not wait for the mirror's answer.
// It is nil for a scheme, host or port the CRD would have refused (a policy read from a
// file).
func (t *translator) mirrorPolicy(m *v1alpha1.MirrorPolicy) *routev3.RouteAction_RequestMirrorPolicy {
	if (m.Scheme != "http" && m.Scheme != "https") || !mirrorHost.MatchString(m.Host) || (m.HostHeader != "" && !mirrorHost.MatchString(m.HostHeader)) || m.Port < 1 || m.Port > 65535 {
		return nil
	}
	name := fmt.Sprintf("mirror/%s/%s/%d", m.Scheme, m.Host, m.Port)
	if _, ok := t.clusters[name]; !ok {
		c := baseCluster(name, defaultConnectTimeout)
		setAddress(c, m.Host, uint32(m.Port))
		if m.Scheme == "https" {
			// nginx's proxy_pass https://: no certificate check, no SNI.
			c.TransportSocket = uncheckedTLS()
		}
		t.clusters[name] = xds.EncodeCluster(c)
	}
	host := m.HostHeader
	if host == "" {
		host = m.Host
	}
	return &routev3.RouteAction_RequestMirrorPolicy{Cluster: name, HostRewriteLiteral: host}
}

// mirrorHost is a DNS name or IP address (the CRD's pattern, with the Host's wildcard).
var mirrorHost = regexp.MustCompile(`^[A-Za-z0-9.:*-]+$`)

// uncheckedTLS is TLS towards an upstream without certificate check, SNI or ALPN.
func uncheckedTLS() *corev3.TransportSocket {
	return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{
		TypedConfig: mustAny(&tlsv3.UpstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{}}),
	}}
}
