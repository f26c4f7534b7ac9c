package bridge

import (
	"net/http"
	"sync"
	"testing"
)

// TestWeight25: a migrating Ingress at gatebridge.dev/weight "25" has 25 % ± 5 % of 2,000
// requests served natively (the echo backend received them without nginx's marker) and
// the rest through nginx; every request is answered.
func TestWeight25(t *testing.T) {
	const ns = "bridge"
	r := startRun(t, map[string]string{
		"weighted.yaml": service(ns, "weighted") + ingress(ns, "weighted", "weighted.example.com", "/", "weighted", migrateWeight(25), ""),
	})
	const total, workers = 2000, 8
	c := r.client()
	var mu sync.Mutex
	native, fallback, other := 0, 0, 0
	var firstOther string
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < total; i += workers {
				req, _ := http.NewRequest(http.MethodGet, "http://weighted.example.com/item", nil)
				res, err := send(c, req)
				mu.Lock()
				switch {
				case err != nil:
					other++
					if firstOther == "" {
						firstOther = err.Error()
					}
				case res.status != http.StatusOK || res.backend == nil || res.backend.Server != "weighted":
					other++
					if firstOther == "" {
						firstOther = res.String()
					}
				case res.fallback():
					fallback++
				default:
					native++
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	t.Logf("weight 25: %d native, %d through nginx, %d failed of %d", native, fallback, other, total)
	if other != 0 {
		t.Errorf("%d of %d requests were not answered 200 by the backend; first: %s", other, total, firstOther)
	}
	if lo, hi := total*20/100, total*30/100; native < lo || native > hi {
		t.Errorf("%d of %d requests served natively (%.1f %%), want 25 %% ± 5 %% (%d…%d)", native, total, 100*float64(native)/total, lo, hi)
	}
}
