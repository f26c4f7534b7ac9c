package dataplane

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane/authz"
)

// describeAuthCall says where the external auth subrequests of a route go, for the served
// listing ("" when the route calls no auth service): appended to the route's action as
// "; auth → <destination>".
func (t *translator) describeAuthCall(r *routev3.Route) string {
	cfg := r.GetTypedPerFilterConfig()[filterAuthz]
	if cfg == nil {
		return ""
	}
	var per extauthzv3.ExtAuthzPerRoute
	if err := cfg.UnmarshalTo(&per); err != nil {
		return ""
	}
	p, ok := t.auth[per.GetCheckSettings().GetContextExtensions()[authz.ContextExtensionKey]]
	if !ok || p.External == nil {
		return ""
	}
	return "; auth → " + t.authDestination(p.External.URL)
}

// authDestination describes where an auth-url's subrequests connect: the Service of the
// input its host names (cluster DNS names, resolved like backends by `run`), or the host
// and port the system resolver is asked for.
func (t *translator) authDestination(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "invalid auth-url (503)"
	}
	host := u.Hostname()
	if strings.Contains(host, "$") {
		return "host set per request by variables in auth-url"
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	hostPort := net.JoinHostPort(host, port)
	name, ok := authz.ParseServiceHost(host)
	if !ok {
		return hostPort
	}
	svc := t.ix.services[qualified(name.Namespace, name.Name)]
	if svc == nil {
		return hostPort + " (not a Service of the input: system resolver)"
	}
	n, err := strconv.ParseInt(port, 10, 32)
	if err != nil || findServicePort(svc, int32(n)) == nil {
		return fmt.Sprintf("Service %s has no port %s: auth fails, requests answer 500", name, port)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return fmt.Sprintf("Service %s port %s (ExternalName %s)", name, port, svc.Spec.ExternalName)
	}
	return fmt.Sprintf("Service %s port %s", name, port)
}
