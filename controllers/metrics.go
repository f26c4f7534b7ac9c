package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/gatebridge-dev/gatebridge/converters"
)

// gatebridge's metrics, served next to controller-runtime's on the metrics port. They are
// set by the writer's passes, which every replica runs; what only the leader knows (an
// object that could not be written: failed) is current on the leader only.
var (
	ingressesByVerdict = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gatebridge_ingresses",
		Help: "Ingresses by the verdict of their assessment (skipped: another IngressClass).",
	}, []string{"verdict"})
	migratedIngresses = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "gatebridge_migrated_ingresses",
		Help: "Ingresses served from owned Gateway API objects (gatebridge.dev/migrate: \"true\" or the gatebridge IngressClass) whose objects were written.",
	})
	migrationsNotWritten = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gatebridge_migrations_not_written",
		Help: "Ingresses asked to migrate that got no objects, by state: refused (by the conversion) or failed (an object could not be written).",
	}, []string{"state"})
	ownedObjectWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatebridge_owned_object_writes_total",
		Help: "Writes to the API server by kind, operation (apply, delete, annotate: the report-hash annotation of an Ingress) and result (ok, error).",
	}, []string{"kind", "operation", "result"})
	ingressesByMigration = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gatebridge_ingresses_by_migration_state",
		Help: "Converted Ingresses by migration state, as their gatebridge.dev/state says: observed, migrating (at a weight below 100), native, refused, failed (failed is known to the leader only).",
	}, []string{"state"})
	passes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatebridge_writer_passes_total",
		Help: "Passes of the writer (convert everything, write what differs) by result (ok, error).",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(ingressesByVerdict, ingressesByMigration, migratedIngresses, migrationsNotWritten, ownedObjectWrites, passes)
}

// recordVerdicts sets the per-pass gauges from the plan.
func recordVerdicts(p *Plan) {
	counts := map[converters.Verdict]int{}
	states := map[converters.MigrationState]int{}
	migrated, refused, failed := 0, 0, 0
	for _, ip := range p.Ingresses {
		counts[ip.Report.Verdict]++
		if ip.Assessed() {
			states[migrationOf(ip).State]++
		}
		switch ip.State {
		case StateMigrated:
			migrated++
		case StateRefused:
			refused++
		case StateFailed:
			failed++
		}
	}
	for _, v := range []converters.Verdict{converters.VerdictExact, converters.VerdictApproximate, converters.VerdictAttention, converters.VerdictRefused, converters.VerdictSkipped} {
		ingressesByVerdict.WithLabelValues(string(v)).Set(float64(counts[v]))
	}
	for _, st := range []converters.MigrationState{converters.MigrationObserved, converters.MigrationMigrating, converters.MigrationNative, converters.MigrationRefused, MigrationFailed} {
		ingressesByMigration.WithLabelValues(string(st)).Set(float64(states[st]))
	}
	migratedIngresses.Set(float64(migrated))
	migrationsNotWritten.WithLabelValues(string(StateRefused)).Set(float64(refused))
	migrationsNotWritten.WithLabelValues(string(StateFailed)).Set(float64(failed))
}

func countWrite(kind, operation string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	ownedObjectWrites.WithLabelValues(kind, operation, result).Inc()
}
