package dataplane

import (
	"strconv"
	"strings"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
)

// TranslateEndpoints re-resolves the given endpoint resources (by their names,
// "namespace/service/port") against the Services, EndpointSlices and Endpoints of m. It
// is the endpoint-only update path: nothing but endpoints is rebuilt.
func TranslateEndpoints(m *Model, previous []*endpointv3.ClusterLoadAssignment) []*endpointv3.ClusterLoadAssignment {
	t := &translator{model: m, ix: newIndex(m)}
	out := make([]*endpointv3.ClusterLoadAssignment, 0, len(previous))
	for _, p := range previous {
		parts := strings.Split(p.ClusterName, "/")
		if len(parts) != 3 {
			out = append(out, p)
			continue
		}
		port, err := strconv.Atoi(parts[2])
		svc := t.ix.services[qualified(parts[0], parts[1])]
		if err != nil || svc == nil {
			out = append(out, &endpointv3.ClusterLoadAssignment{ClusterName: p.ClusterName})
			continue
		}
		sp := findServicePort(svc, int32(port))
		if sp == nil {
			out = append(out, &endpointv3.ClusterLoadAssignment{ClusterName: p.ClusterName})
			continue
		}
		out = append(out, t.loadAssignment(p.ClusterName, svc, sp))
	}
	return out
}
