package controllers

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// incrementalCluster is a small cluster that random edits change, Ingress by Ingress.
type incrementalCluster struct {
	rng       *rand.Rand
	ingresses map[string]networkingv1.Ingress
	services  []corev1.Service
	next      int
}

var (
	incrementalHosts      = []string{"a.example.com", "b.example.com", "www.b.example.com", "c.example.com", "d.example.com", "e.example.com"}
	incrementalNamespaces = []string{"shop", "blog"}
	incrementalServices   = []string{"web", "api", "admin"}
)

// ingress makes a random Ingress named name: hosts, paths and Services shared with others
// (so that parts tie and split), TLS, the migrate annotation and annotations that make
// policies (body size, basic auth, rewrite), a canary now and then.
func (c *incrementalCluster) ingress(namespace, name string) networkingv1.Ingress {
	r := c.rng
	ing := tlsIngress(name, namespace, incrementalHosts[r.IntN(len(incrementalHosts))])
	if r.IntN(3) > 0 {
		ing.Spec.TLS = nil
	}
	ing.UID = types.UID(fmt.Sprintf("uid-%s-%s-%d", namespace, name, c.next))
	ing.CreationTimestamp = metav1.Unix(int64(1000+c.next), 0)
	c.next++
	p := &ing.Spec.Rules[0].HTTP.Paths[0]
	p.Path = []string{"/", "/app", "/api", "/static"}[r.IntN(4)]
	p.Backend.Service.Name = incrementalServices[r.IntN(len(incrementalServices))]
	ann := map[string]string{}
	if r.IntN(2) == 0 {
		ann[MigrateAnnotation] = "true"
	}
	const nginx = "nginx.ingress.kubernetes.io/"
	switch r.IntN(6) {
	case 0:
		ann[nginx+"proxy-body-size"] = fmt.Sprintf("%dm", 1+r.IntN(8))
	case 1:
		ann[nginx+"auth-type"] = "basic"
		ann[nginx+"auth-secret"] = "users"
	case 2:
		ann[nginx+"rewrite-target"] = "/"
	case 3:
		ann[nginx+"canary"] = "true"
		ann[nginx+"canary-weight"] = "20"
	case 4:
		ann[nginx+"limit-rps"] = "not-a-number"
	}
	ing.Annotations = ann
	return ing
}

// edit changes the cluster at random and returns the Ingress keys it changed (nil: a
// Service changed, so everything may have).
func (c *incrementalCluster) edit() map[string]bool {
	r := c.rng
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range c.ingresses {
			if !yield(k) {
				return
			}
		}
	})
	changed := map[string]bool{}
	switch op := r.IntN(10); {
	case op == 0 && len(c.services) > 0:
		s := c.services[r.IntN(len(c.services))].DeepCopy()
		s.Spec.Ports[0].Port = int32(80 + r.IntN(3))
		for i := range c.services {
			if c.services[i].Name == s.Name && c.services[i].Namespace == s.Namespace {
				c.services[i] = *s
			}
		}
		return nil
	case op <= 2 && len(keys) > 0: // delete
		k := keys[r.IntN(len(keys))]
		delete(c.ingresses, k)
		changed[k] = true
	case op <= 4: // add
		ns := incrementalNamespaces[r.IntN(len(incrementalNamespaces))]
		ing := c.ingress(ns, fmt.Sprintf("ing-%d", c.next))
		k := ns + "/" + ing.Name
		c.ingresses[k] = ing
		changed[k] = true
	default: // edit one or two
		for range 1 + r.IntN(2) {
			if len(keys) == 0 {
				break
			}
			k := keys[r.IntN(len(keys))]
			old := c.ingresses[k]
			ing := c.ingress(old.Namespace, old.Name)
			ing.UID, ing.CreationTimestamp = old.UID, old.CreationTimestamp
			c.ingresses[k] = ing
			changed[k] = true
		}
	}
	return changed
}

// snapshot is the cluster as the writer reads it: fresh copies, in namespace/name order.
func (c *incrementalCluster) snapshot() Snapshot {
	var s Snapshot
	for _, ing := range c.ingresses {
		s.Ingresses = append(s.Ingresses, *ing.DeepCopy())
	}
	sort.Slice(s.Ingresses, func(i, j int) bool {
		a, b := &s.Ingresses[i], &s.Ingresses[j]
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	s.Services = slices.Clone(c.services)
	return s
}

// TestIncrementalPlanMatchesFullPlan: after every random edit, the plan the writer makes
// through its converters.Incremental, told which Ingresses changed, is the plan of a full
// conversion — Ingresses, states, notes, report hashes and every object — and the apply
// forms it reuses from earlier passes are those newApplyForm makes afresh.
func TestIncrementalPlanMatchesFullPlan(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed-", seed), func(t *testing.T) {
			c := &incrementalCluster{rng: rand.New(rand.NewPCG(seed, 13)), ingresses: map[string]networkingv1.Ingress{}}
			for _, ns := range incrementalNamespaces {
				for _, name := range incrementalServices {
					c.services = append(c.services, *service(ns, name))
				}
			}
			for i := range 30 {
				ns := incrementalNamespaces[i%len(incrementalNamespaces)]
				ing := c.ingress(ns, fmt.Sprintf("ing-%d", c.next))
				c.ingresses[ns+"/"+ing.Name] = ing
			}
			opts := Options{}.withDefaults()
			w := newWriter(nil, nil, nil, opts, logr.Discard())
			var changed map[string]bool // the first pass converts everything
			for step := range 60 {
				s := c.snapshot()
				inc := buildPlan(s, opts, func(in converters.Input, _ converters.Options) converters.Result {
					return w.conv.Convert(in, changed)
				})
				full := BuildPlan(c.snapshot(), opts)
				if got, want := renderPlan(t, inc), renderPlan(t, full); !bytes.Equal(got, want) {
					t.Fatalf("step %d (changed %v): the incremental plan differs from the full plan:\n%s\nwant:\n%s", step, sortedKeys(changed), got, want)
				}
				for i, ip := range inc.Ingresses {
					if got, want := reportHash(ip), reportHash(full.Ingresses[i]); got != want {
						t.Fatalf("step %d: report hash of %s/%s = %s, want %s", step, ip.Ingress.Namespace, ip.Ingress.Name, got, want)
					}
				}
				for _, d := range inc.Objects {
					got, err := w.formOf(d, inc.requires[keyOf(d.Object)])
					if err != nil {
						t.Fatal(err)
					}
					var owner *networkingv1.Ingress
					if d.Owner != nil {
						owner = d.Owner.Ingress
					}
					want, err := newApplyForm(d.Object, owner, full.requires[keyOf(d.Object)])
					if err != nil {
						t.Fatal(err)
					}
					if got.hash != want.hash {
						t.Fatalf("step %d: %s: reused apply form has hash %s, a new one %s", step, want.key, got.hash, want.hash)
					}
				}
				w.forgetGone(inc)
				changed = c.edit()
			}
		})
	}
}

// TestApplyFormsAreReusedForUnchangedObjects: an object the conversion kept (the same
// pointer) for the same owner keeps its form; a new object or another owner gets a new one.
func TestApplyFormsAreReusedForUnchangedObjects(t *testing.T) {
	w := newWriter(nil, nil, nil, Options{}, logr.Discard())
	ing := tlsIngress("shop", "apps", "shop.example.com")
	ing.UID = "uid-1"
	ing.Annotations = map[string]string{MigrateAnnotation: "true"}
	s := Snapshot{Ingresses: []networkingv1.Ingress{ing}}
	conv := func(in converters.Input, _ converters.Options) converters.Result { return w.conv.Convert(in, nil) }
	p := buildPlan(s, w.opts, conv)
	d := routeOf(t, p)
	first, err := w.formOf(d, "")
	if err != nil {
		t.Fatal(err)
	}
	if first.obj == nil {
		t.Fatal("the first form of an object has no object")
	}
	again, _ := w.formOf(d, "")
	if again.obj != nil || again.hash != first.hash {
		t.Errorf("the same object and owner got a new form (or another hash: %s, want %s)", again.hash, first.hash)
	}
	if full, err := fullForm(again, d, ""); err != nil || full.obj == nil || full.hash != first.hash {
		t.Errorf("fullForm of a reused form: %+v, %v", full, err)
	}
	recreated := *d.Owner
	recreated.Ingress = ing.DeepCopy()
	recreated.Ingress.UID = "uid-2"
	other, _ := w.formOf(DesiredObject{Object: d.Object, Owner: &recreated}, "")
	if other.obj == nil || other.hash == first.hash {
		t.Errorf("an Ingress recreated under the same name (new uid) kept the old form (owner reference)")
	}
	copied, _ := w.formOf(DesiredObject{Object: d.Object.DeepCopyObject().(*gwv1.HTTPRoute), Owner: &recreated}, "")
	if copied.obj == nil {
		t.Errorf("a new object got the cached form")
	}
}

// routeOf returns the plan's HTTPRoute of a migrating Ingress.
func routeOf(t *testing.T, p *Plan) DesiredObject {
	t.Helper()
	for _, d := range p.Objects {
		if _, ok := d.Object.(*gwv1.HTTPRoute); ok && d.Owner != nil {
			return d
		}
	}
	t.Fatal("the plan has no HTTPRoute of an Ingress")
	return DesiredObject{}
}
