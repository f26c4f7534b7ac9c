package controllers

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// translated is the redirect model as translated, with the state of its publication.
func translated(acked uint64, nack string) (ServedState, *gwv1.Gateway) {
	m := redirectModel()
	out := dataplane.Translate(m, dataplane.Options{})
	s := ServedState{Version: 2, Model: m, Output: out, Since: programmedSince(nil, m, 2), Acked: acked, Envoys: 1}
	if nack != "" {
		s.NACK, s.NACKVersion = nack, 2
	}
	return s, m.Gateways[0]
}

// TestGatewayProgrammedFollowsTheACK: a Gateway is Programmed only once every Envoy
// acknowledged the version that carries its generation; a NACK makes it Invalid with
// Envoy's message; a new generation is Pending again until acknowledged.
func TestGatewayProgrammedFollowsTheACK(t *testing.T) {
	for _, c := range []struct {
		name         string
		acked        uint64
		nack         string
		status       metav1.ConditionStatus
		reason, text string
	}{
		{"not acknowledged", 1, "", metav1.ConditionFalse, "Pending", "waiting for Envoy"},
		{"acknowledged", 2, "", metav1.ConditionTrue, "Programmed", "acknowledged"},
		{"rejected", 1, "cannot bind", metav1.ConditionFalse, "Invalid", "cannot bind"},
	} {
		s, gw := translated(c.acked, c.nack)
		conds, listeners, _ := newStatusView(s, dataplane.DefaultControllerName).gatewayStatus(gw)
		p := meta.FindStatusCondition(conds, "Programmed")
		if p.Status != c.status || p.Reason != c.reason || !strings.Contains(p.Message, c.text) || p.ObservedGeneration != gw.Generation {
			t.Errorf("%s: Programmed %s/%s %q (gen %d)", c.name, p.Status, p.Reason, p.Message, p.ObservedGeneration)
		}
		if a := meta.FindStatusCondition(conds, "Accepted"); a.Status != metav1.ConditionTrue {
			t.Errorf("%s: Accepted %s/%s", c.name, a.Status, a.Reason)
		}
		if len(listeners) != 1 || listeners[0].AttachedRoutes != 1 {
			t.Fatalf("%s: listeners %+v, want http with 1 route", c.name, listeners)
		}
		if lp := meta.FindStatusCondition(listeners[0].Conditions, "Programmed"); lp.Status != c.status {
			t.Errorf("%s: listener Programmed %s, want %s", c.name, lp.Status, c.status)
		}
	}

	// A new generation of the Gateway is Pending until its version is acknowledged.
	s, gw := translated(2, "")
	next := gw.DeepCopy()
	next.Generation = 2
	m := *s.Model
	m.Gateways = []*gwv1.Gateway{next}
	s.Since = programmedSince(s.Since, &m, 3)
	s.Model, s.Version = &m, 3
	conds, _, _ := newStatusView(s, dataplane.DefaultControllerName).gatewayStatus(next)
	if p := meta.FindStatusCondition(conds, "Programmed"); p.Status != metav1.ConditionFalse || p.ObservedGeneration != 2 {
		t.Errorf("generation 2 before its ACK: Programmed %s (gen %d)", p.Status, p.ObservedGeneration)
	}
}

// TestListenerConditionsFromIssues: an unsupported protocol is Accepted False, a missing
// certificate ResolvedRefs False and not Programmed, a listener without problems all good.
func TestListenerConditionsFromIssues(t *testing.T) {
	m := redirectModel()
	gw := m.Gateways[0]
	gw.Spec.Listeners = append(gw.Spec.Listeners,
		gwv1.Listener{Name: "udp", Port: 53, Protocol: gwv1.UDPProtocolType},
		gwv1.Listener{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "missing"}}}},
	)
	s := ServedState{Version: 1, Model: m, Output: dataplane.Translate(m, dataplane.Options{}), Since: programmedSince(nil, m, 1), Acked: 1, Envoys: 1}
	_, listeners, _ := newStatusView(s, dataplane.DefaultControllerName).gatewayStatus(gw)
	want := map[string]map[string]string{
		"http":  {"Accepted": "True/Accepted", "ResolvedRefs": "True/ResolvedRefs", "Programmed": "True/Programmed", "Conflicted": "False/NoConflicts"},
		"udp":   {"Accepted": "False/UnsupportedProtocol", "Programmed": "False/Invalid"},
		"https": {"ResolvedRefs": "False/InvalidCertificateRef", "Programmed": "False/Invalid"},
	}
	for _, l := range listeners {
		for typ, w := range want[string(l.Name)] {
			c := meta.FindStatusCondition(l.Conditions, typ)
			if got := string(c.Status) + "/" + c.Reason; got != w {
				t.Errorf("listener %s %s: %s (%s), want %s", l.Name, typ, got, c.Message, w)
			}
		}
	}
}

// TestMergeKeepsTransitionTimes: a condition whose status did not change keeps its
// lastTransitionTime; other controllers' status.parents entries are kept.
func TestMergeKeepsTransitionTimes(t *testing.T) {
	then := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := metav1.NewTime(then.Add(time.Hour))
	live := []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", LastTransitionTime: then},
		{Type: "Programmed", Status: metav1.ConditionFalse, Reason: "Pending", LastTransitionTime: then}}
	got := mergeConditions(live, []metav1.Condition{
		condition("Accepted", true, "Accepted", "", 1), condition("Programmed", true, "Programmed", "", 1)}, now)
	if !got[0].LastTransitionTime.Equal(&then) || !got[1].LastTransitionTime.Equal(&now) {
		t.Errorf("transition times %v, %v; want the old one for the unchanged condition, now for the changed one", got[0].LastTransitionTime, got[1].LastTransitionTime)
	}
	theirs := gwv1.RouteParentStatus{ControllerName: "example.com/other", ParentRef: gwv1.ParentReference{Name: "x"}}
	ours := gwv1.RouteParentStatus{ControllerName: dataplane.DefaultControllerName, ParentRef: gwv1.ParentReference{Name: "gw"}}
	merged := mergeParents([]gwv1.RouteParentStatus{theirs, ours}, nil, dataplane.DefaultControllerName, now)
	if len(merged) != 1 || merged[0].ControllerName != "example.com/other" {
		t.Errorf("merged parents %+v: want only the other controller's entry once ours are gone", merged)
	}
}

// TestRestartKeepsProgrammed: a replica that has not heard an ACK yet does not turn a
// Programmed generation back to Pending; a new generation or a NACK it does.
func TestRestartKeepsProgrammed(t *testing.T) {
	live := []metav1.Condition{{Type: "Programmed", Status: metav1.ConditionTrue, Reason: "Programmed", ObservedGeneration: 3}}
	pending := []metav1.Condition{condition("Programmed", false, "Pending", "waiting", 3)}
	if got := keepProgrammed(live, pending); got[0].Status != metav1.ConditionTrue {
		t.Errorf("same generation, Pending after a restart: %s, want the live True kept", got[0].Status)
	}
	newer := []metav1.Condition{condition("Programmed", false, "Pending", "waiting", 4)}
	if got := keepProgrammed(live, newer); got[0].Status != metav1.ConditionFalse {
		t.Errorf("new generation: %s, want Pending", got[0].Status)
	}
	invalid := []metav1.Condition{condition("Programmed", false, "Invalid", "cannot bind", 3)}
	if got := keepProgrammed(live, invalid); got[0].Reason != "Invalid" {
		t.Errorf("NACK: %s, want Invalid", got[0].Reason)
	}
}

// TestGatewayListenerValidityAndAddressConditions: a Gateway with some listeners that
// cannot be served is Accepted with reason ListenersNotValid (False when none can be); an
// allowedRoutes.kinds entry a listener cannot serve is ResolvedRefs False/InvalidRouteKinds
// with only the kinds it serves in supportedKinds; an address issue of the pool makes the
// Gateway not Accepted (UnsupportedAddress) or not Programmed (AddressNotUsable).
func TestGatewayListenerValidityAndAddressConditions(t *testing.T) {
	class := &gwv1.GatewayClass{}
	class.Name = "gb"
	class.Spec.ControllerName = dataplane.DefaultControllerName
	gateway := func(name string, ls ...gwv1.Listener) *gwv1.Gateway {
		gw := &gwv1.Gateway{}
		gw.Namespace, gw.Name, gw.Generation = "infra", name, 3
		gw.Spec.GatewayClassName = "gb"
		gw.Spec.Listeners = ls
		return gw
	}
	invalidKind := gwv1.RouteGroupKind{Kind: "InvalidRoute"}
	httpKind := gwv1.RouteGroupKind{Kind: "HTTPRoute"}
	some := gateway("some",
		gwv1.Listener{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType, AllowedRoutes: &gwv1.AllowedRoutes{Kinds: []gwv1.RouteGroupKind{invalidKind, httpKind}}},
		gwv1.Listener{Name: "odd", Port: 1111, Protocol: "INVALID"})
	none := gateway("none", gwv1.Listener{Name: "odd", Port: 1111, Protocol: "INVALID"})
	unusable := gateway("unusable", gwv1.Listener{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType})
	unsupported := gateway("unsupported", gwv1.Listener{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType})
	m := &dataplane.Model{GatewayClasses: []*gwv1.GatewayClass{class}, Gateways: []*gwv1.Gateway{some, none, unusable, unsupported}}
	issues := map[string]*dataplane.Issue{
		"unusable":    {Condition: dataplane.ConditionProgrammed, Reason: dataplane.ReasonAddressNotUsable, Message: "not in the pool"},
		"unsupported": {Condition: dataplane.ConditionAccepted, Reason: dataplane.ReasonUnsupportedAddress, Message: "type Hostname"},
	}
	addrs := map[string]string{"some": "127.0.1.1", "none": "127.0.1.2"}
	out := dataplane.Translate(m, dataplane.Options{
		Address: func(gw *gwv1.Gateway) string { return addrs[gw.Name] },
		AddressIssue: func(gw *gwv1.Gateway) *dataplane.Issue {
			if i := issues[gw.Name]; i != nil {
				c := *i
				return &c
			}
			return nil
		},
	})
	s := ServedState{Version: 2, Model: m, Output: out, Since: programmedSince(nil, m, 2), Acked: 2, Envoys: 1}
	v := newStatusView(s, dataplane.DefaultControllerName)
	cond := func(conds []metav1.Condition, typ string) string {
		c := meta.FindStatusCondition(conds, typ)
		if c == nil {
			return "absent"
		}
		if c.ObservedGeneration != 3 {
			t.Errorf("%s at generation %d, want 3", typ, c.ObservedGeneration)
		}
		return string(c.Status) + "/" + c.Reason
	}
	for _, c := range []struct {
		gw                   *gwv1.Gateway
		accepted, programmed string
	}{
		{some, "True/ListenersNotValid", "True/Programmed"},
		{none, "False/ListenersNotValid", "True/Programmed"},
		{unusable, "True/Accepted", "False/AddressNotUsable"},
		{unsupported, "False/UnsupportedAddress", "False/Invalid"},
	} {
		conds, listeners, _ := v.gatewayStatus(c.gw)
		if got := cond(conds, "Accepted"); got != c.accepted {
			t.Errorf("%s: Accepted %s, want %s", c.gw.Name, got, c.accepted)
		}
		if got := cond(conds, "Programmed"); got != c.programmed {
			t.Errorf("%s: Programmed %s, want %s", c.gw.Name, got, c.programmed)
		}
		if c.gw != some {
			continue
		}
		if got := cond(listeners[0].Conditions, "ResolvedRefs"); got != "False/InvalidRouteKinds" {
			t.Errorf("listener http: ResolvedRefs %s, want False/InvalidRouteKinds", got)
		}
		if k := listeners[0].SupportedKinds; len(k) != 1 || k[0].Kind != "HTTPRoute" {
			t.Errorf("listener http: supportedKinds %+v, want HTTPRoute only", k)
		}
		if got := cond(listeners[1].Conditions, "Accepted"); got != "False/UnsupportedProtocol" {
			t.Errorf("listener odd: Accepted %s, want False/UnsupportedProtocol", got)
		}
	}
}
