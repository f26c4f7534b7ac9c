package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The serving half's metrics. Unlike the writer's, every replica's are current: each
// serves its own Envoys.
var (
	xdsPushes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatebridge_xds_pushes_total",
		Help: "xDS snapshots published that changed what Envoy is sent, by type: full (a translation) or endpoints (endpoints re-resolved only); one per group of Envoys with the same port mapping.",
	}, []string{"type"})
	connectedEnvoys = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "gatebridge_xds_connected_envoys",
		Help: "ADS streams open (one per connected Envoy).",
	})
	changeToACK = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "gatebridge_change_to_ack_seconds",
		Help:    "Time from an object change (informer event) to every connected Envoy acknowledging the configuration that holds it.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60},
	})
	publishFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gatebridge_xds_publish_failures_total",
		Help: "Batches of changes that could not be published (Envoy keeps the last good configuration).",
	})
	statusWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatebridge_status_writes_total",
		Help: "Status patches of Gateway API objects by kind and result (ok, error).",
	}, []string{"kind", "result"})
	xdsNACKs = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "gatebridge_xds_nacks_total",
		Help: "Responses Envoys rejected (NACK); the message shows in the Gateways' Programmed condition.",
	}, totalNACKs)
)

// planes are the planes of the process (one, but tests start several), for xdsNACKs.
var planes struct {
	sync.Mutex
	live    map[*Plane]bool
	retired uint64
}

func registerPlane(p *Plane) {
	planes.Lock()
	defer planes.Unlock()
	if planes.live == nil {
		planes.live = map[*Plane]bool{}
	}
	planes.live[p] = true
}

func retirePlane(p *Plane) {
	n := p.NACKs()
	planes.Lock()
	defer planes.Unlock()
	if planes.live[p] {
		delete(planes.live, p)
		planes.retired += n
	}
}

func totalNACKs() float64 {
	planes.Lock()
	live := make([]*Plane, 0, len(planes.live))
	for p := range planes.live {
		live = append(live, p)
	}
	n := planes.retired
	planes.Unlock()
	for _, p := range live {
		n += p.NACKs()
	}
	return float64(n)
}

func init() {
	metrics.Registry.MustRegister(xdsPushes, connectedEnvoys, changeToACK, publishFailures, statusWrites, xdsNACKs)
}
