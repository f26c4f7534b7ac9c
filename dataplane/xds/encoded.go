package xds

import (
	"bytes"
	"errors"
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/runtime/protoiface"
)

// EncodedCluster is a Cluster held as its deterministic encoding, for a publisher that keeps
// thousands: a Cluster proto is 576 bytes before any of its fields is set, a Service's EDS
// cluster ~120 bytes encoded (10,000 Services: ~7.7 MB of the control plane's heap as
// protos, ~2 MB encoded). It is published exactly as the Cluster it was made from: as a
// proto message it is a Cluster whose every field is an unknown field (encodedMessage), so
// it encodes to the very same bytes and has the same version, and the server validates it
// decoded. What the server reads of a cluster — its name and the load assignment and
// secrets it refers to — is read once, when it is encoded.
//
// An EncodedCluster is immutable; the same pointer handed over again is known unchanged
// (Publish reuses what it found about it), as a proto pointer is.
type EncodedCluster struct {
	name string
	// wire is the Cluster's deterministic encoding.
	wire []byte
	refs clusterRefs
	// err is why the cluster could not be encoded, refsErr why its references could not be
	// read; Publish refuses the configuration with them where it would the Cluster's.
	err, refsErr error
}

// clusterRefs are the resources a cluster refers to by name.
type clusterRefs struct {
	// eds is the ClusterLoadAssignment an EDS cluster asks for ("" for other types).
	eds string
	// secrets are the SDS secrets of its transport sockets.
	secrets []socketSecret
}

// socketSecret is an SDS secret and where the cluster names it ("transport socket %q",
// after the transport socket match's name when in one), as an error about it says.
type socketSecret struct{ via, secret string }

var clusterDescriptor = (&clusterv3.Cluster{}).ProtoReflect().Descriptor()

// EncodeCluster returns c encoded. c is not used afterwards.
func EncodeCluster(c *clusterv3.Cluster) *EncodedCluster {
	out := &EncodedCluster{name: c.GetName()}
	var err error
	if out.wire, err = encodeResource(c); err != nil {
		out.err = err
		return out
	}
	out.refs, out.refsErr = referencesOf(c)
	return out
}

// ProtoReflect is the cluster as a proto message: a Cluster whose fields are all unknown
// fields, its encoding.
func (c *EncodedCluster) ProtoReflect() protoreflect.Message { return (*encodedMessage)(c) }

// GetName is the cluster's name (go-control-plane reads it: types.ResourceWithName).
func (c *EncodedCluster) GetName() string { return c.name }

// Err is why the cluster could not be encoded (a string that is not valid UTF-8), nil
// when it was: Publish would refuse the whole configuration for it, so a translator can
// leave the cluster out instead.
func (c *EncodedCluster) Err() error { return c.err }

// encoding is the cluster's deterministic encoding.
func (c *EncodedCluster) encoding() []byte { return c.wire }

// Decode returns the Cluster c was made from, for tests, tools and the state-of-the-world
// snapshot (which reads protos).
func (c *EncodedCluster) Decode() (*clusterv3.Cluster, error) {
	if c.err != nil {
		return nil, fmt.Errorf("encoding cluster %q: %w", c.name, c.err)
	}
	out := &clusterv3.Cluster{}
	if err := proto.Unmarshal(c.encoding(), out); err != nil {
		return nil, fmt.Errorf("decoding cluster %q: %w", c.name, err)
	}
	return out, nil
}

// Same reports whether c and other are the same cluster: the same name and encoding.
func (c *EncodedCluster) Same(other *EncodedCluster) bool {
	return c.name == other.name && c.err == nil && other.err == nil && bytes.Equal(c.encoding(), other.encoding())
}

// decodedForSnapshot returns item with an EncodedCluster decoded: go-control-plane's
// snapshot reads clusters as protos (the references Snapshot.Consistent checks, and what
// state-of-the-world clients are sent).
func decodedForSnapshot(item types.Resource) types.Resource {
	e, ok := item.(*EncodedCluster)
	if !ok {
		return item
	}
	c, err := e.Decode()
	if err != nil {
		return item // not reached: Publish refused it
	}
	return c
}

// encodedMessage is an EncodedCluster as a protoreflect.Message: a Cluster that has no
// field set and its encoding as unknown fields, which is all that encoding it or comparing
// it (proto.Equal) reads. It is read-only: what would change it panics. Its type is the
// Cluster's, so a new message of its type is a Cluster. (A dynamicpb message would do the
// same for ~150 bytes more a cluster: its two maps.)
type encodedMessage EncodedCluster

// emptyCluster answers for the fields of an encodedMessage, none of which is set.
var emptyCluster = (&clusterv3.Cluster{}).ProtoReflect()

func (m *encodedMessage) Descriptor() protoreflect.MessageDescriptor { return clusterDescriptor }
func (m *encodedMessage) Type() protoreflect.MessageType             { return emptyCluster.Type() }
func (m *encodedMessage) New() protoreflect.Message                  { return emptyCluster.New() }
func (m *encodedMessage) Interface() protoreflect.ProtoMessage       { return (*EncodedCluster)(m) }
func (m *encodedMessage) Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool) {
}
func (m *encodedMessage) Has(protoreflect.FieldDescriptor) bool { return false }
func (m *encodedMessage) Get(fd protoreflect.FieldDescriptor) protoreflect.Value {
	return emptyCluster.Get(fd)
}
func (m *encodedMessage) NewField(fd protoreflect.FieldDescriptor) protoreflect.Value {
	return emptyCluster.NewField(fd)
}
func (m *encodedMessage) WhichOneof(protoreflect.OneofDescriptor) protoreflect.FieldDescriptor {
	return nil
}
func (m *encodedMessage) GetUnknown() protoreflect.RawFields { return m.wire }
func (m *encodedMessage) IsValid() bool                      { return m != nil }
func (m *encodedMessage) ProtoMethods() *protoiface.Methods  { return nil }

func (m *encodedMessage) Clear(protoreflect.FieldDescriptor) { panic(errReadOnly) }
func (m *encodedMessage) Set(protoreflect.FieldDescriptor, protoreflect.Value) {
	panic(errReadOnly)
}
func (m *encodedMessage) Mutable(protoreflect.FieldDescriptor) protoreflect.Value {
	panic(errReadOnly)
}
func (m *encodedMessage) SetUnknown(protoreflect.RawFields) { panic(errReadOnly) }

var errReadOnly = errors.New("xds: an EncodedCluster is read-only")

// edsReferencesMatch checks that the EDS clusters among clusters name exactly the load
// assignments of endpoints, as Snapshot.Consistent does, but reading an EncodedCluster's
// references from its encoding (edsReference) rather than from the references it was
// encoded with, so that it stays a second opinion.
func edsReferencesMatch(clusters, endpoints *resourceSet) error {
	used := make(map[string]bool, len(endpoints.checked))
	for _, item := range clusters.items {
		var name string
		switch cl := item.(type) {
		case *EncodedCluster:
			var err error
			if name, err = edsReference(cl); err != nil {
				return err
			}
		case *clusterv3.Cluster:
			if cl.GetType() == clusterv3.Cluster_EDS {
				name = edsServiceName(cl)
			}
		}
		if name == "" {
			continue
		}
		if !endpoints.has(name) {
			return fmt.Errorf("inconsistent %q reference: %q not listed", resourcev3.EndpointType, name)
		}
		used[name] = true
	}
	if len(used) != len(endpoints.checked) {
		return fmt.Errorf("mismatched %q reference and resource lengths: %d != %d", resourcev3.EndpointType, len(used), len(endpoints.checked))
	}
	return nil
}

// The Cluster fields edsReference reads, by number.
var (
	clusterNameField    = clusterDescriptor.Fields().ByName("name").Number()
	clusterTypeField    = clusterDescriptor.Fields().ByName("type").Number()
	clusterEDSField     = clusterDescriptor.Fields().ByName("eds_cluster_config").Number()
	edsServiceNameField = clusterDescriptor.Fields().ByName("eds_cluster_config").Message().Fields().ByName("service_name").Number()
)

// edsReference reads from c's encoding the load assignment it asks for if it is an EDS
// cluster ("" otherwise): its EDS service name, or its own name without one.
func edsReference(c *EncodedCluster) (string, error) {
	var name, service string
	isEDS := false
	err := eachField(c.wire, func(num protowire.Number, typ protowire.Type, value []byte) error {
		switch {
		case num == clusterNameField && typ == protowire.BytesType:
			name = string(value)
		case num == clusterTypeField && typ == protowire.VarintType:
			v, _ := protowire.ConsumeVarint(value)
			isEDS = clusterv3.Cluster_DiscoveryType(v) == clusterv3.Cluster_EDS
		case num == clusterEDSField && typ == protowire.BytesType:
			return eachField(value, func(num protowire.Number, typ protowire.Type, value []byte) error {
				if num == edsServiceNameField && typ == protowire.BytesType {
					service = string(value)
				}
				return nil
			})
		}
		return nil
	})
	switch {
	case err != nil:
		return "", fmt.Errorf("cluster %q: reading its encoding: %w", c.name, err)
	case !isEDS:
		return "", nil
	case service != "":
		return service, nil
	}
	return name, nil
}

// eachField calls f with each field of an encoded message: its number, its wire type and
// its value (a length-delimited field's content; a varint's encoding).
func eachField(b []byte, f func(protowire.Number, protowire.Type, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		value := b[:n]
		if typ == protowire.BytesType {
			value, _ = protowire.ConsumeBytes(value)
		}
		if err := f(num, typ, value); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
