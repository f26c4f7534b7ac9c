package envoy

import (
	metricsv3 "github.com/envoyproxy/go-control-plane/envoy/config/metrics/v3"
)

// Statistics per source and side of the bridge (docs/bridge.md, "Metrics"). On the bridged
// Gateway every route has the stat_prefix "gatebridge.<side>.<source>" (dataplane,
// RouteStatPrefix), so Envoy counts the requests it forwards upstream as
//
//	vhost.<host>.route.gatebridge.<side>.<source>.upstream_rq_total (and _2xx, _time…)
//
// The tags below turn those names into one metric family per statistic, labelled by host,
// side and source: /stats/prometheus shows
//
//	envoy_gatebridge_upstream_rq_total{host="shop.example.com",side="fallback",ingress="shop/web"}
//
// Source is an Ingress "namespace/name", "httproute:namespace/name" for a hand-written
// HTTPRoute, "none" for requests no route names. Kubernetes names hold no "_", so
// ".upstream_" ends the source unambiguously. Envoy's own virtual-host tag still takes the
// first label of the host (envoy_virtual_host="shop"); the host tag holds all of it.
const (
	StatTagHost   = "host"
	StatTagSide   = "side"
	StatTagSource = "ingress"
)

// StatsTags are the tag extractions of the bridge's route statistics (every bootstrap has
// them; they match nothing without the bridge). Envoy matches them (ECMAScript regular
// expressions) against the whole statistic name; the first group is cut out of the name,
// the second is the tag's value.
func StatsTags() []*metricsv3.TagSpecifier {
	tag := func(name, re string) *metricsv3.TagSpecifier {
		return &metricsv3.TagSpecifier{TagName: name, TagValue: &metricsv3.TagSpecifier_Regex{Regex: re}}
	}
	return []*metricsv3.TagSpecifier{
		tag(StatTagHost, `^(vhost\.(.*?)\.route\.)gatebridge\.(?:native|fallback)\.`),
		tag(StatTagSide, `^vhost\..*?\.route\.gatebridge\.((native|fallback)\.)`),
		tag(StatTagSource, `^vhost\..*?\.route\.gatebridge\.(?:native|fallback)\.((.+)\.)upstream_`),
	}
}
