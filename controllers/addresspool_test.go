package controllers

import (
	"net/netip"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// poolGateway is a Gateway created at minute age (smaller is older), with the given
// spec.addresses and status.addresses values ("type=value" for another type).
func poolGateway(ns, name string, age int, spec []gwv1.GatewaySpecAddress, status ...string) *gwv1.Gateway {
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
		CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, age, 0, 0, time.UTC))}}
	gw.Spec.Addresses = spec
	ip := gwv1.IPAddressType
	for _, s := range status {
		gw.Status.Addresses = append(gw.Status.Addresses, gwv1.GatewayStatusAddress{Type: &ip, Value: s})
	}
	return gw
}

func specAddr(typ, value string) gwv1.GatewaySpecAddress {
	a := gwv1.GatewaySpecAddress{Value: value}
	if typ != "" {
		t := gwv1.AddressType(typ)
		a.Type = &t
	}
	return a
}

func mustPool(t *testing.T, cidr string) *AddressPool {
	t.Helper()
	p, err := ParseAddressPool(cidr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// want is "address" or "Condition/Reason" per Gateway ("ns/name").
func checkAllocation(t *testing.T, got AddressAllocation, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("allocation has %d Gateways, want %d: %+v", len(got), len(want), got)
	}
	for k, w := range want {
		ns, name, _ := cutSlash(k)
		g, ok := got[types.NamespacedName{Namespace: ns, Name: name}]
		s := g.Address
		if g.Issue != nil {
			s = g.Issue.Condition + "/" + g.Issue.Reason
		}
		if !ok || s != w {
			t.Errorf("%s: got %q (%+v), want %q", k, s, g.Issue, w)
		}
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func cutSlash(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return "", s, false
}

func TestParseAddressPool(t *testing.T) {
	for _, bad := range []string{"", "127.0.1.1", "nonsense/24", "127.0.1.0/33"} {
		if _, err := ParseAddressPool(bad); err == nil {
			t.Errorf("ParseAddressPool(%q) accepted it", bad)
		}
	}
	p := mustPool(t, "127.0.1.7/24") // host bits are dropped
	if p.String() != "127.0.1.0/24" {
		t.Errorf("pool %s, want 127.0.1.0/24", p)
	}
	for a, want := range map[string]bool{"127.0.1.0": false, "127.0.1.1": true, "127.0.1.254": true, "127.0.1.255": false, "127.0.2.1": false} {
		if got := p.usable(mustAddr(t, a)); got != want {
			t.Errorf("usable(%s) = %v, want %v", a, got, want)
		}
	}
	if p := mustPool(t, "10.0.0.5/32"); !p.usable(mustAddr(t, "10.0.0.5")) {
		t.Error("a /32 pool's one address is not usable")
	}
}

// TestAllocateLowestFreeOldestFirst: Gateways without a status get the lowest free address,
// oldest first (then by namespace/name), whatever order they come in.
func TestAllocateLowestFreeOldestFirst(t *testing.T) {
	p := mustPool(t, "127.0.1.0/24")
	a, b, c := poolGateway("ns", "a", 3, nil), poolGateway("ns", "b", 1, nil), poolGateway("other", "c", 1, nil)
	want := map[string]string{"ns/b": "127.0.1.1", "other/c": "127.0.1.2", "ns/a": "127.0.1.3"}
	checkAllocation(t, p.Allocate([]*gwv1.Gateway{a, b, c}), want)
	checkAllocation(t, p.Allocate([]*gwv1.Gateway{c, a, b}), want)
}

// TestAllocateStableFromStatus: a Gateway keeps the address its status shows — after a
// restart, or when an older Gateway was deleted — and a new Gateway takes the lowest
// address nobody holds.
func TestAllocateStableFromStatus(t *testing.T) {
	p := mustPool(t, "127.0.1.0/24")
	got := p.Allocate([]*gwv1.Gateway{
		poolGateway("ns", "kept", 5, nil, "127.0.1.2"),
		poolGateway("ns", "new", 6, nil),
		poolGateway("ns", "outside", 1, nil, "10.0.0.1"), // not of the pool: ignored
		poolGateway("ns", "clash", 7, nil, "127.0.1.2"),  // the older Gateway keeps it
	})
	checkAllocation(t, got, map[string]string{"ns/outside": "127.0.1.1", "ns/kept": "127.0.1.2", "ns/new": "127.0.1.3", "ns/clash": "127.0.1.4"})
}

// TestAllocateRequestedAddresses: spec.addresses inside the pool are honoured (even over a
// status address another Gateway's spec does not ask for); another type is not Accepted;
// an address outside the pool, held by another Gateway, or a second one is not usable; an
// empty value asks for any address.
func TestAllocateRequestedAddresses(t *testing.T) {
	p := mustPool(t, "127.0.1.0/24")
	got := p.Allocate([]*gwv1.Gateway{
		poolGateway("ns", "static", 9, []gwv1.GatewaySpecAddress{specAddr("IPAddress", "127.0.1.254")}),
		poolGateway("ns", "untyped", 9, []gwv1.GatewaySpecAddress{specAddr("", "127.0.1.100")}),
		poolGateway("ns", "moved", 1, []gwv1.GatewaySpecAddress{specAddr("", "127.0.1.50")}, "127.0.1.1"),
		poolGateway("ns", "hostname", 2, []gwv1.GatewaySpecAddress{specAddr("Hostname", "gw.example.com")}),
		poolGateway("ns", "fake", 2, []gwv1.GatewaySpecAddress{specAddr("", "127.0.1.9"), specAddr("test/fake-invalid-type", "x")}),
		poolGateway("ns", "outside", 3, []gwv1.GatewaySpecAddress{specAddr("IPAddress", "127.0.2.254"), specAddr("IPAddress", "127.0.1.253")}),
		poolGateway("ns", "taken", 10, []gwv1.GatewaySpecAddress{specAddr("IPAddress", "127.0.1.254")}),
		poolGateway("ns", "two", 4, []gwv1.GatewaySpecAddress{specAddr("IPAddress", "127.0.1.200"), specAddr("IPAddress", "127.0.1.201")}),
		poolGateway("ns", "any", 5, []gwv1.GatewaySpecAddress{specAddr("IPAddress", "")}),
	})
	notUsable := dataplane.ConditionProgrammed + "/" + dataplane.ReasonAddressNotUsable
	unsupported := dataplane.ConditionAccepted + "/" + dataplane.ReasonUnsupportedAddress
	checkAllocation(t, got, map[string]string{
		"ns/static": "127.0.1.254", "ns/untyped": "127.0.1.100", "ns/moved": "127.0.1.50",
		"ns/hostname": unsupported, "ns/fake": unsupported, "ns/outside": notUsable, "ns/taken": notUsable, "ns/two": notUsable,
		"ns/any": "127.0.1.1",
	})
}

// TestAllocatePoolExhausted: a Gateway the pool has no address left for is not served
// (Programmed False, AddressNotAssigned).
func TestAllocatePoolExhausted(t *testing.T) {
	p := mustPool(t, "127.0.1.0/30") // .1 and .2
	got := p.Allocate([]*gwv1.Gateway{poolGateway("ns", "a", 1, nil), poolGateway("ns", "b", 2, nil), poolGateway("ns", "c", 3, nil)})
	checkAllocation(t, got, map[string]string{"ns/a": "127.0.1.1", "ns/b": "127.0.1.2",
		"ns/c": dataplane.ConditionProgrammed + "/" + string(gwv1.GatewayReasonAddressNotAssigned)})
}

// TestSupportedFeatures: sorted by name (the API requires it), core features included, no
// duplicates.
func TestSupportedFeatures(t *testing.T) {
	fs := supportedFeatures()
	seen := map[gwv1.FeatureName]bool{}
	for i, f := range fs {
		if i > 0 && fs[i-1].Name >= f.Name {
			t.Errorf("supportedFeatures not sorted or duplicated at %d: %s after %s", i, f.Name, fs[i-1].Name)
		}
		seen[f.Name] = true
	}
	for _, core := range []gwv1.FeatureName{"Gateway", "HTTPRoute", "ReferenceGrant"} {
		if !seen[core] {
			t.Errorf("supportedFeatures lacks core feature %s", core)
		}
	}
	if len(fs) > 64 {
		t.Errorf("%d supportedFeatures; the API allows 64", len(fs))
	}
}

// TestAllocateRemembersUntilStatusShows: a Gateway whose status does not show its address
// yet keeps the one the pool gave it last, even when a lower address was freed meanwhile
// (the suite reads the address once; the feed does not translate again for a status write).
func TestAllocateRemembersUntilStatusShows(t *testing.T) {
	p := mustPool(t, "127.0.1.0/24")
	old, young := poolGateway("ns", "old", 1, nil), poolGateway("ns", "young", 2, nil)
	old.UID, young.UID = "uid-old", "uid-young"
	checkAllocation(t, p.Allocate([]*gwv1.Gateway{old, young}), map[string]string{"ns/old": "127.0.1.1", "ns/young": "127.0.1.2"})
	// old is deleted; young's status is still empty in the model.
	checkAllocation(t, p.Allocate([]*gwv1.Gateway{young}), map[string]string{"ns/young": "127.0.1.2"})
	// A new Gateway takes the freed address.
	fresh := poolGateway("ns", "fresh", 3, nil)
	fresh.UID = "uid-fresh"
	checkAllocation(t, p.Allocate([]*gwv1.Gateway{young, fresh}), map[string]string{"ns/young": "127.0.1.2", "ns/fresh": "127.0.1.1"})
}
