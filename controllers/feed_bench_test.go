package controllers

import (
	"fmt"
	"testing"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/test/bench"
)

// BenchmarkFeedOneChange is the serving side's work for one changed object, from the
// informer event (Feed.note) to the snapshot published to a plane of two groups (the
// reference and one group of Envoys, as with one Envoy connected): 1,000 HTTPRoutes,
// 5,000 Services and EndpointSlices. No Envoy: CPU only.
//   - route: one HTTPRoute changed;
//   - policy: one TrafficPolicy targeting a route changed (what the writer applies after
//     a migrated Ingress's HTTPRoute);
//   - endpoints: one EndpointSlice changed.
func BenchmarkFeedOneChange(b *testing.B) {
	for _, what := range []string{"route", "policy", "endpoints"} {
		b.Run(what, func(b *testing.B) {
			const routes, services = 1000, 5000
			m := bench.GenerateRoutes(services, 8080)
			m.HTTPRoutes = m.HTTPRoutes[:routes]
			plane := NewPlane(PlaneOptions{Log: logr.Discard()})
			plane.mu.Lock()
			g := plane.newGroupLocked(groupMeta{portMap: map[int32]uint32{80: 8080}})
			plane.groups[g.key] = g
			plane.mu.Unlock()
			f := NewFeed(nil, plane, FeedOptions{}, logr.Discard())
			for _, o := range bench.Objects(m) {
				f.note(kindOf(o), o, false)
			}
			f.note("TrafficPolicy", benchPolicy(0, "v0"), false)
			f.publish()
			if f.state.Err != "" {
				b.Fatal(f.state.Err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			c := 0
			for b.Loop() {
				c++
				i := (c * 7919) % routes
				switch what {
				case "route":
					f.note("HTTPRoute", bench.Route(i, fmt.Sprintf("change-%d", c)), false)
				case "policy":
					f.note("TrafficPolicy", benchPolicy(i, fmt.Sprintf("v%d", c)), false)
				case "endpoints":
					s := m.EndpointSlices[i].DeepCopy()
					s.ResourceVersion = fmt.Sprint(c)
					s.Endpoints = s.Endpoints[:1+c%2]
					f.note("EndpointSlice", s, false)
				}
				f.publish()
				if f.state.Err != "" {
					b.Fatal(f.state.Err)
				}
			}
		})
	}
}

func kindOf(o any) string {
	return fmt.Sprintf("%T", o)[len("*v1."):]
}

// benchPolicy is a TrafficPolicy for route i that sets a response header of value v.
func benchPolicy(i int, v string) *gbv1.TrafficPolicy {
	r := bench.Route(i, "")
	p := &gbv1.TrafficPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: r.Name, Namespace: r.Namespace, Labels: map[string]string{"v": v}},
	}
	p.Spec.TargetRefs = append(p.Spec.TargetRefs, gwv1.LocalPolicyTargetReferenceWithSectionName{
		LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{Group: gwv1.GroupName, Kind: "HTTPRoute", Name: gwv1.ObjectName(r.Name)},
	})
	return p
}
