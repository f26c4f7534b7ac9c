package controllers

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/gatebridge-dev/gatebridge/dataplane"
)

// The serving half: "in the cluster, Envoy serves what the API server holds". Every
// replica runs a Plane (the xDS server and the auth service, plane.go) fed by a Feed
// (informers → pipeline.Snapshot → pipeline.Publisher, feed.go); the leader also runs the
// StatusWriter (statuswriter.go), which writes Gateway API status from what was published
// and acknowledged. /readyz waits for the first publish.

// setupServing adds the plane, the feed and the status writer to mgr; with several
// replicas (reportNamespace set: leader election), also the Envoy reports (fleet.go).
func setupServing(mgr manager.Manager, o ServeOptions, addresses Options, reportNamespace string, log logr.Logger) (*Feed, error) {
	if log.GetSink() == nil {
		log = mgr.GetLogger()
	}
	var pool *AddressPool
	if addresses.GatewayAddressPool != "" {
		var err error
		if pool, err = ParseAddressPool(addresses.GatewayAddressPool); err != nil {
			return nil, err
		}
	}
	plane := NewPlane(PlaneOptions{
		XDSAddress: o.XDSAddress, AuthzAddress: o.AuthzAddress, AdvertisedAuthzAddress: o.AdvertisedAuthzAddress,
		ControllerName: dataplane.DefaultControllerName, Pool: pool, Log: log.WithName("plane"),
	})
	feed := NewFeed(mgr.GetCache(), plane, o.Feed, log.WithName("feed"))
	status := NewStatusWriter(mgr.GetClient(), feed, dataplane.DefaultControllerName, log.WithName("status"))
	status.pool = pool // the plane's: one allocation, remembered across changes
	if err := status.watchAddresses(mgr.GetCache(), addresses); err != nil {
		return nil, err
	}
	runnables := []manager.Runnable{plane, feed, status}
	if reportNamespace != "" {
		identity := replicaIdentity()
		status.reports = &envoyReports{self: identity}
		poke := func() {
			select {
			case status.poke <- struct{}{}:
			default:
			}
		}
		if err := status.reports.watch(context.Background(), mgr.GetCache(), poke); err != nil {
			return nil, err
		}
		runnables = append(runnables, &EnvoyReporter{client: mgr.GetClient(), reader: mgr.GetAPIReader(), feed: feed, namespace: reportNamespace,
			identity: identity, log: log.WithName("envoy-report")})
	}
	for _, r := range runnables {
		if err := mgr.Add(r); err != nil {
			return nil, fmt.Errorf("adding the serving half: %w", err)
		}
	}
	if err := mgr.AddReadyzCheck("xds", feed.ready); err != nil {
		return nil, fmt.Errorf("adding the xDS readiness check: %w", err)
	}
	return feed, nil
}

// stripSecretForCache is stripForCache, and drops the data of Secrets of types gatebridge
// never reads: only TLS certificates, basic-auth files and client CAs (Opaque) are served.
func stripSecretForCache(in any) (any, error) {
	in, err := stripForCache(in)
	if s, ok := in.(*corev1.Secret); ok && !servedSecretType(s.Type) {
		s.Data, s.StringData = nil, nil
	}
	return in, err
}

func servedSecretType(t corev1.SecretType) bool {
	switch t {
	case corev1.SecretTypeTLS, corev1.SecretTypeOpaque, corev1.SecretTypeBasicAuth, "":
		return true
	}
	return false
}
