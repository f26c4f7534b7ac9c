package dataplane

import (
	"strings"
	"unsafe"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Wire form. Most of the control plane's memory at scale is Envoy protos that nothing reads
// once they are built: the routes of every HTTPRoute and the endpoints of every Service,
// which a Translator remembers only to hand them to xds again. Measured at 10,000
// HTTPRoutes, a route with its match and action is ~1.3 KB of Go objects and ~150 bytes
// encoded; a load assignment with two endpoints ~1.3 KB and ~60 bytes. So they are kept
// encoded:
//   - a route as its deterministic encoding (wireRoute), from the moment its HTTPRoute's
//     translation is complete; the route tables are put together from those encodings
//     (virtualHostInWireForm);
//   - a virtual host and a load assignment in wire form: an empty message of its type
//     whose unknown fields are its encoding (but for the load assignment's cluster name,
//     which xds reads to name it).
//
// A message in wire form encodes to exactly the bytes the whole message encodes to
// (unknown fields are written as they are, and the parts are put in field order), so
// Envoy, the resource versions (hashes of the encoding) and proto.Equal see no difference.
// What reads the fields decodes first (Expanded); the xds server validates route
// configurations and load assignments decoded from their encoding (xds.checkResource).
// Clusters are kept encoded by xds.EncodeCluster, as the translation adds them.

// wireRoute is a Route's deterministic encoding. Two wireRoutes are the same route when they
// are the same bytes in memory (sameWire): a remembered route keeps its encoding.
type wireRoute []byte

var deterministic = proto.MarshalOptions{Deterministic: true}

// encodeRoute encodes r. Encoding fails only for a string field that is not valid UTF-8,
// which Envoy would refuse too.
func encodeRoute(r *routev3.Route) (wireRoute, error) {
	return deterministic.Marshal(r)
}

// encodeOwnRoute encodes one of gatebridge's own routes (not-found, fallback, error
// pages), made of gatebridge's strings and Kubernetes names, which always encode; were
// one not to, the table would end with the not-found route rather than break.
func encodeOwnRoute(r *routev3.Route) wireRoute {
	b, err := encodeRoute(r)
	if err != nil {
		return notFoundWire
	}
	return b
}

// sameWire reports whether a and b are the very same encodings (not merely equal bytes).
func sameWire(a, b wireRoute) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// routesField is VirtualHost.routes's field number.
var routesField = (&routev3.VirtualHost{}).ProtoReflect().Descriptor().Fields().ByName("routes").Number()

// virtualHostInWireForm returns vh, which has no routes, with routes as its routes, in wire
// form: vh's encoding with each route spliced in as field routes, after the fields numbered
// below it — the bytes vh with those routes as protos would encode to.
func virtualHostInWireForm(vh *routev3.VirtualHost, routes []wireRoute) *routev3.VirtualHost {
	own, err := deterministic.Marshal(vh)
	if err != nil {
		// Names and filter configurations made by gatebridge always encode; keep vh whole
		// (without routes) so that xds reports it rather than anything being lost silently.
		return vh
	}
	size := len(own)
	for _, r := range routes {
		size += protowire.SizeTag(routesField) + protowire.SizeBytes(len(r))
	}
	b := make([]byte, 0, size)
	rest := own
	for len(rest) > 0 {
		num, _, n := protowire.ConsumeField(rest)
		if n < 0 || num > routesField {
			break
		}
		b, rest = append(b, rest[:n]...), rest[n:]
	}
	for _, r := range routes {
		b = protowire.AppendTag(b, routesField, protowire.BytesType)
		b = protowire.AppendBytes(b, r)
	}
	b = append(b, rest...)
	w := &routev3.VirtualHost{}
	w.ProtoReflect().SetUnknown(b)
	return w
}

// loadAssignmentInWireForm returns cla in wire form, but for its cluster name, which xds
// reads to name the resource. The cluster name is field 1, written first in the
// deterministic encoding, so the encoding is unchanged. cla is not used afterwards.
func loadAssignmentInWireForm(cla *endpointv3.ClusterLoadAssignment) *endpointv3.ClusterLoadAssignment {
	name := cla.ClusterName
	cla.ClusterName = ""
	b, err := deterministic.Marshal(cla)
	cla.ClusterName = name
	if err != nil {
		return cla // xds reports it
	}
	w := &endpointv3.ClusterLoadAssignment{ClusterName: name}
	w.ProtoReflect().SetUnknown(b)
	return w
}

// Expanded returns m with every part held in wire form decoded into fields: a new message
// when m has such parts, else m itself. For tests and tools that read the translation's
// protos; Envoy and xds need no expansion.
func Expanded[T proto.Message](m T) T {
	if !holdsWireForm(m.ProtoReflect()) {
		return m
	}
	b, err := deterministic.Marshal(m)
	if err != nil {
		return m
	}
	out := m.ProtoReflect().New().Interface().(T)
	if err := proto.Unmarshal(b, out); err != nil {
		return m
	}
	return out
}

// holdsWireForm reports whether m or any message within it has unknown fields.
func holdsWireForm(m protoreflect.Message) bool {
	if len(m.GetUnknown()) > 0 {
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					found = holdsWireForm(mv.Message())
					return !found
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				l := v.List()
				for i := 0; i < l.Len() && !found; i++ {
					found = holdsWireForm(l.Get(i).Message())
				}
			}
		case fd.Message() != nil:
			found = holdsWireForm(v.Message())
		}
		return !found
	})
	return found
}

// encodeRouteWhy is encodeRoute of a route Envoy accepts, with the failure said for a
// problem. The route is checked against Envoy's own field rules (protoc-gen-validate) here,
// one route at a time, because a route xds.Publish refuses later fails its whole table and
// the whole configuration with it: a hand-written policy's header value with a line break
// (cors.allowMethods) or an empty session cookie name must cost only the routes it applies
// to. The rules reach into the typed per-filter configurations only as far as their type;
// the headers the route adds and removes are checked as Envoy checks them when it loads
// the table (routeHeadersWhy).
func encodeRouteWhy(r *routev3.Route) (wireRoute, string) {
	if err := r.ValidateAll(); err != nil {
		return nil, "cannot be sent to Envoy, which would refuse it: " + validationCause(err)
	}
	if why := routeHeadersWhy(r); why != "" {
		return nil, "cannot be sent to Envoy, which would refuse it: " + why
	}
	b, err := encodeRoute(r)
	if err != nil {
		return nil, "cannot be sent to Envoy (" + err.Error() + ")"
	}
	return b, ""
}

// validationCause says where and why a protoc-gen-validate error is, from its chain
// ("invalid Route.Route: embedded message failed validation | caused by: invalid
// RouteAction.HashPolicy[0]: … | caused by: invalid HashPolicy_Cookie.Name: value length
// must be at least 1 runes"): the path of fields, then the rule broken ("Route.Route >
// RouteAction.HashPolicy[0] > HashPolicy_Cookie.Name: value length must be at least 1
// runes"). Of several errors, the first.
func validationCause(err error) string {
	var fields []string
	rest := err.Error()
	if multi, ok := err.(interface{ AllErrors() []error }); ok && len(multi.AllErrors()) > 0 {
		rest = multi.AllErrors()[0].Error()
	}
	for {
		segment, next, more := strings.Cut(rest, " | caused by: ")
		field, why, _ := strings.Cut(strings.TrimPrefix(segment, "invalid "), ": ")
		fields = append(fields, field)
		if !more || why != "embedded message failed validation" {
			return strings.Join(fields, " > ") + ": " + why
		}
		rest = next
	}
}

// routesOf returns the routes of vh, a virtual host in wire form, as parts of its encoding
// (not copies); nil when vh is not in wire form.
func routesOf(vh *routev3.VirtualHost) []wireRoute {
	var out []wireRoute
	b := vh.ProtoReflect().GetUnknown()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil
		}
		if num == routesField && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b[n:])
			if m < 0 {
				return nil
			}
			out = append(out, v[:len(v):len(v)])
			b = b[n+m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil
		}
		b = b[n+m:]
	}
	return out
}
