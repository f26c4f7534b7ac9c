package controllers

import (
	"fmt"
	"net/netip"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// The address pool (--gateway-address-pool CIDR): every Gateway of our classes gets an IP
// address of its own from it, which Envoy binds each of the Gateway's listener ports on
// and which its status.addresses shows. It is for Envoys that can bind those addresses —
// one on the host, as in local and test runs (all of 127.0.0.0/8 is local), or a node
// whose interfaces hold the pool.
//
// The allocation is a pure function of the Gateways (spec and status), so every replica,
// the data plane and the status writer compute the same one, and it is stable:
//
//  1. a Gateway keeps the pool address its status.addresses already shows (after a
//     restart, or when another Gateway was deleted) or, before its status shows one, the
//     address this pool gave it last, unless its spec.addresses no longer asks for it —
//     oldest Gateway first should two claim the same;
//  2. a Gateway whose spec.addresses asks for addresses gets them when they are IPAddress
//     values inside the pool that no other Gateway holds; otherwise it gets none and is not
//     served: Accepted False (UnsupportedAddress) for another address type, Programmed
//     False (AddressNotUsable) for an address outside the pool or held by another Gateway.
//     An entry without a value asks for any address of the pool; gatebridge serves a
//     Gateway on one address, so a second requested address is not usable;
//  3. every other Gateway gets the lowest free address of the pool, oldest Gateway first.

// AddressPool is the parsed --gateway-address-pool. It remembers the last allocation, so
// that a Gateway keeps its address while its status does not show it yet (the feed does
// not translate again for a status change) even when lower addresses are freed meanwhile;
// the data plane and the status writer share one pool.
type AddressPool struct {
	prefix netip.Prefix

	mu sync.Mutex
	// last is the address each Gateway (by UID) was last given.
	last map[types.UID]netip.Addr
}

// ParseAddressPool parses a CIDR ("127.0.1.0/24").
func ParseAddressPool(cidr string) (*AddressPool, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("--gateway-address-pool %q: want a CIDR such as 127.0.1.0/24: %w", cidr, err)
	}
	p = p.Masked()
	pool := &AddressPool{prefix: p, last: map[types.UID]netip.Addr{}}
	if _, ok := pool.first(); !ok {
		return nil, fmt.Errorf("--gateway-address-pool %q holds no usable address", cidr)
	}
	return pool, nil
}

// String is the pool's CIDR.
func (p *AddressPool) String() string { return p.prefix.String() }

// usable says whether a is an address of the pool a Gateway can be given: inside the
// prefix, neither its network address nor (IPv4) its broadcast address when it has them.
func (p *AddressPool) usable(a netip.Addr) bool {
	a = a.Unmap()
	if !p.prefix.Contains(a) {
		return false
	}
	hostBits := a.BitLen() - p.prefix.Bits()
	if hostBits < 2 {
		return true // a /31, /32 (or /127, /128): every address is a host
	}
	if a == p.prefix.Addr() {
		return false
	}
	if a.Is4() {
		last := p.prefix.Addr().As4()
		for i := range last {
			bits := max(0, min(8, p.prefix.Bits()-8*i))
			last[i] |= byte(0xff >> bits)
		}
		return a != netip.AddrFrom4(last)
	}
	return true
}

// first is the lowest usable address.
func (p *AddressPool) first() (netip.Addr, bool) {
	for a := p.prefix.Addr(); p.prefix.Contains(a); a = a.Next() {
		if p.usable(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// GatewayAddress is what the pool gave one Gateway: an address, or the issue that keeps
// it from having one.
type GatewayAddress struct {
	Address string
	Issue   *dataplane.Issue
}

// AddressAllocation is the address of every Gateway of the pool's allocation.
type AddressAllocation map[types.NamespacedName]GatewayAddress

// Allocate gives each of gws an address (see the rules above). gws are the Gateways of
// our classes; any order.
func (p *AddressPool) Allocate(gws []*gwv1.Gateway) AddressAllocation {
	sorted := append([]*gwv1.Gateway(nil), gws...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	out := AddressAllocation{}
	holder := map[netip.Addr]*gwv1.Gateway{}
	take := func(gw *gwv1.Gateway, a netip.Addr) {
		holder[a] = gw
		out[types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}] = GatewayAddress{Address: a.String()}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// 1. What Gateways already show, or were given last.
	for _, gw := range sorted {
		var held []netip.Addr
		for _, sa := range gw.Status.Addresses {
			if a, err := netip.ParseAddr(sa.Value); err == nil && (sa.Type == nil || *sa.Type == gwv1.IPAddressType) {
				held = append(held, a.Unmap())
			}
		}
		if a, ok := p.last[gw.UID]; ok {
			held = append(held, a)
		}
		for _, a := range held {
			if p.usable(a) && holder[a] == nil && requests(gw, a) {
				take(gw, a)
				break
			}
		}
	}
	// 2. What Gateways ask for.
	for _, gw := range sorted {
		if len(gw.Spec.Addresses) == 0 {
			continue
		}
		key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
		a, issue := p.requested(gw, holder)
		if held, ok := out[key]; ok && (issue != nil || a.IsValid()) {
			h, _ := netip.ParseAddr(held.Address)
			delete(holder, h)
			delete(out, key)
		}
		switch {
		case issue != nil:
			out[key] = GatewayAddress{Issue: issue}
		case a.IsValid():
			take(gw, a)
		}
	}
	// 3. The lowest free address for the others.
	next, _ := p.first()
	for _, gw := range sorted {
		key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
		if _, done := out[key]; done {
			continue
		}
		for p.prefix.Contains(next) && (holder[next] != nil || !p.usable(next)) {
			next = next.Next()
		}
		if !p.prefix.Contains(next) {
			out[key] = GatewayAddress{Issue: &dataplane.Issue{Condition: dataplane.ConditionProgrammed, Reason: string(gwv1.GatewayReasonAddressNotAssigned),
				Message: fmt.Sprintf("every address of the pool %s (--gateway-address-pool) is taken", p.prefix)}}
			continue
		}
		take(gw, next)
	}
	clear(p.last)
	for _, gw := range sorted {
		if a, err := netip.ParseAddr(out[types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}].Address); err == nil && gw.UID != "" {
			p.last[gw.UID] = a
		}
	}
	return out
}

// requests says whether gw may keep address a: it asks for no particular address, or a is
// one it asks for.
func requests(gw *gwv1.Gateway, a netip.Addr) bool {
	if len(gw.Spec.Addresses) == 0 {
		return true
	}
	for _, sa := range gw.Spec.Addresses {
		if sa.Value == "" {
			return true
		}
		if r, err := netip.ParseAddr(sa.Value); err == nil && r.Unmap() == a {
			return true
		}
	}
	return false
}

// requested checks gw's spec.addresses against the pool (holder: who holds which
// address; gw may hold its own already). It returns the address asked for (none for "any
// address") or the issue that keeps gw from being served.
func (p *AddressPool) requested(gw *gwv1.Gateway, holder map[netip.Addr]*gwv1.Gateway) (netip.Addr, *dataplane.Issue) {
	notUsable := func(format string, args ...any) (netip.Addr, *dataplane.Issue) {
		return netip.Addr{}, &dataplane.Issue{Condition: dataplane.ConditionProgrammed, Reason: dataplane.ReasonAddressNotUsable, Message: fmt.Sprintf(format, args...)}
	}
	// An unsupported type anywhere makes the Gateway not Accepted, whatever the rest says.
	for i, sa := range gw.Spec.Addresses {
		if sa.Type != nil && *sa.Type != gwv1.IPAddressType {
			return netip.Addr{}, &dataplane.Issue{Condition: dataplane.ConditionAccepted, Reason: dataplane.ReasonUnsupportedAddress,
				Message: fmt.Sprintf("spec.addresses[%d].type %q is not supported: gatebridge gives Gateways IP addresses (type IPAddress) from its pool %s", i, *sa.Type, p.prefix)}
		}
	}
	var want netip.Addr
	for i, sa := range gw.Spec.Addresses {
		field := fmt.Sprintf("spec.addresses[%d]", i)
		if i > 0 {
			return notUsable("%s: gatebridge serves a Gateway on one address; remove all but one of spec.addresses", field)
		}
		if sa.Value == "" {
			continue // any address: step 3, unless step 1 kept one
		}
		a, err := netip.ParseAddr(sa.Value)
		if err != nil {
			return notUsable("%s.value %q is not an IP address", field, sa.Value)
		}
		a = a.Unmap()
		if !p.usable(a) {
			return notUsable("%s.value %s is not an address of the pool %s (--gateway-address-pool) Envoy serves Gateways on; use one inside it or remove spec.addresses", field, a, p.prefix)
		}
		if h := holder[a]; h != nil && h != gw {
			return notUsable("%s.value %s is the address of Gateway %s/%s already", field, a, h.Namespace, h.Name)
		}
		want = a
	}
	return want, nil
}

// poolGateways are the Gateways of m whose class is controllerName's.
func poolGateways(m *dataplane.Model, controllerName string) []*gwv1.Gateway {
	if m == nil {
		return nil
	}
	classes := map[string]bool{}
	for _, c := range m.GatewayClasses {
		if string(c.Spec.ControllerName) == controllerName {
			classes[c.Name] = true
		}
	}
	var out []*gwv1.Gateway
	for _, gw := range m.Gateways {
		if classes[string(gw.Spec.GatewayClassName)] {
			out = append(out, gw)
		}
	}
	return out
}
