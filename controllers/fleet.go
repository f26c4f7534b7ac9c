package controllers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Envoy reports: with several replicas (--leader-elect), each serves the Envoys that
// connected to it, and only the leader writes status. For Programmed to mean "every
// connected Envoy acknowledged it" and a NACK to show whichever replica's Envoy sent it,
// every replica reports what its Envoys acknowledged in a Lease of its own
// (gatebridge-envoys-<replica>, labelled EnvoyReportLabel), renewed every
// envoyReportRenew; the leader reads the fresh ones (renewed within envoyReportExpiry)
// and combines them with its own (statusView.programmed). The report is per Gateway and
// ListenerSet — the generation all of the replica's Envoys acknowledged, or the NACK at
// a generation — because versions are each replica's own counters, generations are not.
// A replica that stops deletes its Lease; one that dies is ignored once its Lease is
// stale, and the leader deletes Leases stale for envoyReportGarbage. Without leader
// election there is one replica and no report.

const (
	// EnvoyReportLabel marks the report Leases.
	EnvoyReportLabel = "gatebridge.dev/envoy-report"
	// envoyReportAnnotation holds the report (JSON) on the Lease.
	envoyReportAnnotation = "gatebridge.dev/envoy-report"
	envoyReportRenew      = 10 * time.Second
	envoyReportExpiry     = 30 * time.Second
	envoyReportGarbage    = 10 * time.Minute
	// envoyReportMinInterval batches reports: a burst of ACKs writes once.
	envoyReportMinInterval = time.Second
)

// envoyReport is what one replica's Envoys made of what it published.
type envoyReport struct {
	// Replica names the reporting replica (its Lease's holderIdentity).
	Replica string `json:"-"`
	// Envoys counts the Envoys connected to the replica.
	Envoys int `json:"envoys"`
	// Programmed maps "Kind/namespace/name" of each Gateway and ListenerSet to the
	// generation every connected Envoy acknowledged.
	Programmed map[string]int64 `json:"programmed,omitempty"`
	// NACKs maps the same keys to Envoy's rejection of a version carrying that generation.
	NACKs map[string]envoyNACK `json:"nacks,omitempty"`
}

type envoyNACK struct {
	Generation int64  `json:"generation"`
	Message    string `json:"message"`
}

func reportKey(k objectKey) string { return k.Kind + "/" + k.Namespace + "/" + k.Name }

// reportOf is the report of a replica's served state. Pure.
func reportOf(s ServedState) envoyReport {
	r := envoyReport{Envoys: s.Envoys, Programmed: map[string]int64{}, NACKs: map[string]envoyNACK{}}
	for k, since := range s.Since {
		if s.Acked >= since.version && s.Acked > 0 {
			r.Programmed[reportKey(k)] = since.generation
		}
		if s.NACK != "" && s.NACKVersion >= since.version {
			r.NACKs[reportKey(k)] = envoyNACK{Generation: since.generation, Message: s.NACK}
		}
	}
	return r
}

// otherEnvoys is what the other replicas' Envoys say of one Gateway or ListenerSet at
// generation: a NACK (the first replica's, by name), else whether every replica with
// Envoys acknowledged it (pending names the first that did not), and how many Envoys
// those replicas have. Pure.
func otherEnvoys(reports []envoyReport, k objectKey, generation int64) (envoys int, nack, pending string) {
	key := reportKey(k)
	for _, r := range reports {
		if r.Envoys == 0 {
			continue
		}
		envoys += r.Envoys
		if n, ok := r.NACKs[key]; ok && n.Generation == generation && nack == "" {
			nack = fmt.Sprintf("an Envoy of replica %s rejected the configuration and keeps serving the last one it accepted: %s", r.Replica, n.Message)
		}
		if r.Programmed[key] != generation && pending == "" {
			pending = r.Replica
		}
	}
	return envoys, nack, pending
}

// replicaIdentity names this replica: the Pod's name (the hostname in a cluster) and a
// random suffix, so that a restarted or second in-process replica never shares a Lease.
func replicaIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "gatebridge"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(host) + "-" + hex.EncodeToString(b[:])
}

// leaseName is the report Lease of a replica: a DNS subdomain of at most 253 characters.
func leaseName(identity string) string {
	name := "gatebridge-envoys-" + identity
	return name[:min(len(name), 253)]
}

// EnvoyReporter writes this replica's report Lease (every replica).
type EnvoyReporter struct {
	client client.Client
	// reader reads the Lease from the API server: the cache may not show a Lease just
	// created.
	reader    client.Reader
	feed      *Feed
	namespace string
	identity  string
	log       logr.Logger
}

// NeedLeaderElection: every replica reports.
func (r *EnvoyReporter) NeedLeaderElection() bool { return false }

// Start reports until ctx ends, then deletes the Lease.
func (r *EnvoyReporter) Start(ctx context.Context) error {
	var last *envoyReport
	var lastWrite time.Time
	renew := time.NewTicker(envoyReportRenew)
	defer renew.Stop()
	defer r.remove()
	for {
		state, changed := r.feed.State()
		report := reportOf(state)
		if last == nil || !reflect.DeepEqual(*last, report) || time.Since(lastWrite) >= envoyReportRenew {
			if wait := envoyReportMinInterval - time.Since(lastWrite); last != nil && wait > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
				continue // report what holds after the wait
			}
			if err := r.write(ctx, report); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				r.log.Error(err, "could not write this replica's Envoy report; the leader's status may miss its Envoys")
			} else {
				last, lastWrite = &report, time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-renew.C:
		}
	}
}

// write creates or updates the Lease with report, renewed now.
func (r *EnvoyReporter) write(ctx context.Context, report envoyReport) error {
	raw, err := json.Marshal(report)
	if err != nil {
		return fmt.Errorf("encoding the Envoy report: %w", err)
	}
	now := metav1.NewMicroTime(time.Now())
	seconds := int32(envoyReportExpiry / time.Second)
	lease := &coordinationv1.Lease{}
	key := client.ObjectKey{Namespace: r.namespace, Name: leaseName(r.identity)}
	err = r.reader.Get(ctx, key, lease)
	switch {
	case apierrors.IsNotFound(err):
		lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
			Labels: map[string]string{EnvoyReportLabel: "true"}, Annotations: map[string]string{envoyReportAnnotation: string(raw)}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &r.identity, LeaseDurationSeconds: &seconds, AcquireTime: &now, RenewTime: &now}}
		if err := r.client.Create(ctx, lease); err != nil {
			return fmt.Errorf("creating Lease %s: %w", key, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("reading Lease %s: %w", key, err)
	}
	if lease.Annotations == nil {
		lease.Annotations = map[string]string{}
	}
	lease.Annotations[envoyReportAnnotation] = string(raw)
	lease.Spec.RenewTime, lease.Spec.LeaseDurationSeconds = &now, &seconds
	if err := r.client.Update(ctx, lease); err != nil {
		return fmt.Errorf("renewing Lease %s: %w", key, err)
	}
	return nil
}

// remove deletes the Lease when the replica stops: its Envoys reconnect elsewhere.
func (r *EnvoyReporter) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: r.namespace, Name: leaseName(r.identity)}}
	if err := r.client.Delete(ctx, lease); err != nil && !apierrors.IsNotFound(err) {
		r.log.Info("could not delete this replica's Envoy report; it expires", "error", err.Error())
	}
}

// envoyReports is the leader's view of the other replicas' reports, from an informer on
// the report Leases.
type envoyReports struct {
	self string
	mu   sync.Mutex
	// leases by name: the informer's objects.
	leases map[string]*coordinationv1.Lease
}

// watch follows the report Leases of namespace; changed is called on every change.
func (e *envoyReports) watch(ctx context.Context, informers cache.Informers, changed func()) error {
	inf, err := informers.GetInformer(ctx, &coordinationv1.Lease{})
	if err != nil {
		return fmt.Errorf("watching the Envoy report Leases: %w", err)
	}
	e.leases = map[string]*coordinationv1.Lease{}
	note := func(obj any, deleted bool) {
		if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		l, ok := obj.(*coordinationv1.Lease)
		if !ok || l.Labels[EnvoyReportLabel] != "true" {
			return
		}
		e.mu.Lock()
		if deleted {
			delete(e.leases, l.Name)
		} else {
			e.leases[l.Name] = l
		}
		e.mu.Unlock()
		changed()
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { note(obj, false) },
		UpdateFunc: func(_, obj any) { note(obj, false) },
		DeleteFunc: func(obj any) { note(obj, true) },
	})
	if err != nil {
		return fmt.Errorf("watching the Envoy report Leases: %w", err)
	}
	return nil
}

// fresh are the other replicas' reports renewed within envoyReportExpiry of now, by
// replica name; stale are the Leases not renewed for envoyReportGarbage.
func (e *envoyReports) fresh(now time.Time) (reports []envoyReport, stale []*coordinationv1.Lease) {
	if e == nil {
		return nil, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(e.leases)) {
		l := e.leases[name]
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		if holder == e.self {
			continue
		}
		var renewed time.Time
		if l.Spec.RenewTime != nil {
			renewed = l.Spec.RenewTime.Time
		}
		age := now.Sub(renewed)
		if age > envoyReportGarbage {
			stale = append(stale, l)
		}
		if age > envoyReportExpiry {
			continue
		}
		var r envoyReport
		if err := json.Unmarshal([]byte(l.Annotations[envoyReportAnnotation]), &r); err != nil {
			continue // not ours to read: ignored
		}
		r.Replica = holder
		reports = append(reports, r)
	}
	return reports, stale
}
