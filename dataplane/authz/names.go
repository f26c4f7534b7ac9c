package authz

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ServiceResolver resolves a Service port of the served input to its ready endpoints. `run`
// has no cluster DNS, so the auth subrequests to in-cluster names (auth-url
// http://auth.team.svc.cluster.local:8080/...) are resolved through it; in a cluster none is
// set and the system resolver (cluster DNS) answers.
type ServiceResolver interface {
	// ResolveService returns the "host:port" addresses of the ready endpoints behind port of
	// Service namespace/name. found is false when the input has no such Service (the name
	// is then resolved by the system resolver). With found, err says why there is no
	// address to use (no such port, no ready endpoint).
	ResolveService(namespace, name string, port int32) (addrs []string, found bool, err error)
}

// ServiceName is the Service an in-cluster DNS name stands for.
type ServiceName struct{ Namespace, Name string }

func (n ServiceName) String() string { return n.Namespace + "/" + n.Name }

// ParseServiceHost recognises the names a pod resolves to a Service through cluster DNS:
// "name.namespace", "name.namespace.svc" and "name.namespace.svc.cluster.local"
// (case-insensitive, with or without a final dot). Only the default cluster domain
// cluster.local is known. Any other host (an IP address, a single label, a public name
// with other labels) is not a Service name.
func ParseServiceHost(host string) (ServiceName, bool) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	labels := strings.Split(host, ".")
	switch {
	case len(labels) == 2:
	case len(labels) == 3 && labels[2] == "svc":
	case len(labels) == 5 && labels[2] == "svc" && labels[3] == "cluster" && labels[4] == "local":
	default:
		return ServiceName{}, false
	}
	// Service names are DNS-1035 labels (they start with a letter), namespaces DNS-1123
	// labels: "10.0" or "1.2.3" never name a Service.
	if !isDNSLabel(labels[0], true) || !isDNSLabel(labels[1], false) {
		return ServiceName{}, false
	}
	return ServiceName{Namespace: labels[1], Name: labels[0]}, true
}

// isDNSLabel reports whether s is a lower-case RFC 1123 label (RFC 1035 when letterFirst).
func isDNSLabel(s string, letterFirst bool) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	if letterFirst && (s[0] < 'a' || s[0] > 'z') {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// serviceDialer dials the auth subrequests. A host naming a Service of the current
// resolver's input is dialled at one of that Service port's ready endpoints, round robin
// per new connection; every other host, and every host while no resolver is set (in a
// cluster), goes through the system resolver.
type serviceDialer struct {
	dialer   *net.Dialer
	resolver atomic.Pointer[resolverBox]
	// next holds a round-robin counter (*atomic.Uint64) per "namespace/name/port".
	next sync.Map
}

type resolverBox struct{ r ServiceResolver }

func (d *serviceDialer) set(r ServiceResolver) {
	if r == nil {
		d.resolver.Store(nil)
		return
	}
	d.resolver.Store(&resolverBox{r})
}

func (d *serviceDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	target, err := d.target(addr)
	if err != nil {
		return nil, err
	}
	return d.dialer.DialContext(ctx, network, target)
}

// target returns the address to dial for addr ("host:port" of the auth URL): an endpoint
// of the Service it names, or addr itself for the system resolver.
func (d *serviceDialer) target(addr string) (string, error) {
	box := d.resolver.Load()
	if box == nil {
		return addr, nil
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, nil
	}
	name, ok := ParseServiceHost(host)
	if !ok {
		return addr, nil
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return addr, nil
	}
	addrs, found, err := box.r.ResolveService(name.Namespace, name.Name, int32(port))
	switch {
	case !found:
		return addr, nil
	case err != nil:
		return "", fmt.Errorf("resolving %s through Service %s: %w", host, name, err)
	case len(addrs) == 0:
		return "", fmt.Errorf("resolving %s: Service %s port %d has no ready endpoints", host, name, port)
	}
	key := fmt.Sprintf("%s/%d", name, port)
	c, _ := d.next.LoadOrStore(key, new(atomic.Uint64))
	n := c.(*atomic.Uint64).Add(1) - 1
	return addrs[n%uint64(len(addrs))], nil
}

// SetServiceResolver makes the auth subrequests resolve in-cluster Service names through r
// (nil: through the system resolver only). `run` sets one for every input it serves; a
// controller in a cluster sets none. It only applies to the default HTTP client
// (Options.HTTPClient nil). Idle connections are closed so that new subrequests use the
// new endpoints.
func (s *Server) SetServiceResolver(r ServiceResolver) {
	if s.dialer == nil {
		return
	}
	s.dialer.set(r)
	s.client.CloseIdleConnections()
}
