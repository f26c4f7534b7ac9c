package controllers

import (
	"context"
	"fmt"
	"testing"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/test/bench"
)

// BenchmarkPassOneChange is the writer's work for one pass after one migrating Ingress's
// path changed, at 5,000 Ingresses of which 1,000 migrate, everything else in sync:
// convert, plan, build the apply forms, compare with the live objects, apply the changed
// route, hash the reports. The cache reads and the API server are left out (the live
// objects are given; writes go nowhere). full is the pass as it was: everything converted
// and every apply form built again; incremental converts the changed Ingress's part and
// reuses the forms of unchanged objects.
func BenchmarkPassOneChange(b *testing.B) {
	for _, mode := range []string{"full", "incremental"} {
		b.Run(mode, func(b *testing.B) {
			const ingresses, every = 5000, 5 // every 5th migrates: 1,000
			ings, svcs := bench.Generate(ingresses)
			for i := range ings {
				if i%every == 0 {
					ings[i].Annotations[MigrateAnnotation] = "true"
				}
				ings[i].UID = types.UID(ingUID(i))
			}
			ctx := context.Background()
			w := newWriter(nopClient{}, nopClient{}, nopRecorder{}, Options{}, logr.Discard())
			snap := Snapshot{Ingresses: ings, Services: svcs}
			live := liveFromPlan(b, w, snap)
			first := w.reconcile(ctx, snap, live, nil)
			if first.Err != nil || first.Applied != 0 {
				b.Fatalf("the first pass: %d applied, err %v (want everything in sync)", first.Applied, first.Err)
			}
			for _, ip := range first.Plan.Ingresses {
				ip.Ingress.Annotations[ReportHashAnnotation] = reportHash(ip)
			}
			b.ReportAllocs()
			b.ResetTimer()
			c := 0
			for b.Loop() {
				c++
				i := every * ((c * 7919) % (ingresses / every))
				ing := ings[i].DeepCopy()
				ing.Spec.Rules[0].HTTP.Paths[0].Path = fmt.Sprintf("/changed-%d", c)
				ings[i] = *ing
				changed := map[string]bool{ing.Namespace + "/" + ing.Name: true}
				if mode == "full" {
					changed = nil
					clear(w.forms)
				}
				res := w.reconcile(ctx, snap, live, changed)
				if res.Err != nil || res.Applied == 0 {
					b.Fatalf("pass %d: %d applied, err %v", c, res.Applied, res.Err)
				}
			}
		})
	}
}

func ingUID(i int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", i) }

// liveFromPlan is what the API server holds once the plan of snap was applied.
func liveFromPlan(b *testing.B, w *Writer, snap Snapshot) map[objectKey]client.Object {
	b.Helper()
	live := map[objectKey]client.Object{}
	plan := BuildPlan(snap, w.opts)
	for _, d := range plan.Objects {
		form, err := w.formOf(d, plan.requires[keyOf(d.Object)])
		if err != nil {
			b.Fatal(err)
		}
		u := form.obj.DeepCopy()
		u.SetResourceVersion("1")
		live[form.key] = u
	}
	clear(w.forms)
	return live
}

// nopClient takes every write and finds nothing.
type nopClient struct{ client.Client }

func (nopClient) Apply(context.Context, runtime.ApplyConfiguration, ...client.ApplyOption) error {
	return nil
}

func (nopClient) Get(_ context.Context, key client.ObjectKey, _ client.Object, _ ...client.GetOption) error {
	return apierrors.NewNotFound(schema.GroupResource{}, key.Name)
}

type nopRecorder struct{}

func (nopRecorder) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {}
