package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
	"github.com/gatebridge-dev/gatebridge/internal/testenv"
)

// TestProgrammedFromEveryReplica: the leader's Programmed condition combines its own
// Envoys with the other replicas' reports: a NACK anywhere is Invalid, a replica whose
// Envoys have not acknowledged the generation keeps it Pending, and a leader without
// Envoys is Programmed when the other replicas' Envoys all acknowledged it.
func TestProgrammedFromEveryReplica(t *testing.T) {
	k := objectKey{"Gateway", "gatebridge-system", "gatebridge"}
	state := ServedState{Version: 3, Since: map[objectKey]generationSince{k: {generation: 2, version: 3}}}
	acked := envoyReport{Replica: "b", Envoys: 2, Programmed: map[string]int64{reportKey(k): 2}}
	behind := envoyReport{Replica: "c", Envoys: 1, Programmed: map[string]int64{reportKey(k): 1}}
	rejected := envoyReport{Replica: "d", Envoys: 1, NACKs: map[string]envoyNACK{reportKey(k): {Generation: 2, Message: "bad listener"}}}
	oldNACK := envoyReport{Replica: "e", Envoys: 1, Programmed: map[string]int64{reportKey(k): 2}, NACKs: map[string]envoyNACK{reportKey(k): {Generation: 1, Message: "old"}}}
	idle := envoyReport{Replica: "f", Envoys: 0}
	leaderAcked := state
	leaderAcked.Acked, leaderAcked.Envoys = 3, 1
	for _, c := range []struct {
		name   string
		state  ServedState
		others []envoyReport
		want   bool
		reason string
		msg    string
	}{
		{"no Envoy anywhere", state, nil, false, "Pending", "no Envoy is connected"},
		{"only idle replicas", state, []envoyReport{idle}, false, "Pending", "no Envoy is connected"},
		{"the leader's Envoys acknowledged", leaderAcked, []envoyReport{idle}, true, "Programmed", ""},
		{"only another replica's Envoys, acknowledged", state, []envoyReport{acked, oldNACK}, true, "Programmed", ""},
		{"another replica behind", leaderAcked, []envoyReport{acked, behind}, false, "Pending", "replica c"},
		{"another replica's NACK", leaderAcked, []envoyReport{acked, rejected}, false, "Invalid", "bad listener"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := newStatusView(c.state, "")
			v.others = c.others
			ok, reason, msg := v.programmed(k)
			if ok != c.want || reason != c.reason || !strings.Contains(msg, c.msg) {
				t.Errorf("programmed = %v, %s, %q; want %v, %s, containing %q", ok, reason, msg, c.want, c.reason, c.msg)
			}
		})
	}
}

// TestReportOf: a replica reports, per Gateway, the generation its Envoys acknowledged
// and a NACK of the version carrying the current generation.
func TestReportOf(t *testing.T) {
	a := objectKey{"Gateway", "ns", "a"}
	b := objectKey{"ListenerSet", "ns", "b"}
	s := ServedState{Acked: 4, Envoys: 2, NACK: "nope", NACKVersion: 5,
		Since: map[objectKey]generationSince{a: {generation: 3, version: 4}, b: {generation: 7, version: 6}}}
	r := reportOf(s)
	if r.Envoys != 2 || r.Programmed[reportKey(a)] != 3 || r.Programmed[reportKey(b)] != 0 {
		t.Errorf("programmed %v", r.Programmed)
	}
	// Version 5 carried a's generation 3 (a changed last at 4) but not b's 7 (6).
	if n, ok := r.NACKs[reportKey(a)]; !ok || n.Generation != 3 || n.Message != "nope" {
		t.Errorf("nacks %v, want a's", r.NACKs)
	}
	if _, ok := r.NACKs[reportKey(b)]; ok {
		t.Errorf("a NACK of a version before b's generation is reported on b")
	}
}

// TestProgrammedCountsTheFollowersEnvoys: with two replicas, an Envoy connected to the
// follower only makes the leader write Programmed True once it acknowledged; before, with
// no Envoy anywhere, Pending. Each replica's report is a Lease of its own.
func TestProgrammedCountsTheFollowersEnvoys(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background() // each check is short; eventually bounds them
	// A Gateway of its own: the one other tests share must not be left Programmed.
	opts := harnessOptions{writer: Options{Converter: converters.Options{IngressClass: "nginx-fleet", GatewayName: "fleet"}}, leaderElection: true, serve: true}
	leader := startWriter(t, env, opts)
	leader.waitPasses(0, 1)
	follower := startWriter(t, env, opts)
	follower.waitPasses(0, 1)
	programmed := func() (*metav1.Condition, int64, error) {
		var gw gwv1.Gateway
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: gatewayNS, Name: "fleet"}, &gw); err != nil {
			return nil, 0, err
		}
		c := meta.FindStatusCondition(gw.Status.Conditions, "Programmed")
		if c == nil {
			return nil, 0, fmt.Errorf("no Programmed condition: %+v", gw.Status.Conditions)
		}
		return c, gw.Generation, nil
	}
	eventually(t, func() error {
		c, gen, err := programmed()
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionFalse || c.Reason != "Pending" || c.ObservedGeneration != gen {
			return fmt.Errorf("Programmed %s/%s %q, want False/Pending with no Envoy connected", c.Status, c.Reason, c.Message)
		}
		return nil
	})
	t.Logf("%s: an Envoy connects to the follower only", time.Now().Format(time.StampMilli))
	envoy := connectDelta(t, follower.xds, "follower-envoy", map[int32]uint32{80: 8080, 443: 8443}, "")
	envoy.listener()
	envoy.ackForever()
	eventually(t, func() error {
		c, gen, err := programmed()
		if err != nil {
			return err
		}
		if c.Status != metav1.ConditionTrue || c.ObservedGeneration != gen {
			var leases coordinationv1.LeaseList
			_ = env.Client.List(ctx, &leases, client.InNamespace(gatewayNS))
			var seen []string
			for _, l := range leases.Items {
				seen = append(seen, l.Name+" "+l.Annotations[envoyReportAnnotation])
			}
			return fmt.Errorf("Programmed %s/%s %q, want True from the follower's Envoy; leases %v", c.Status, c.Reason, c.Message, seen)
		}
		return nil
	})
}
