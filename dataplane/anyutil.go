package dataplane

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

type anyType = anypb.Any

// mustAny packs a message built by this package. Packing only fails for messages that are
// not registered, which would be a programming error.
func mustAny(m proto.Message) *anypb.Any {
	// Deterministic: map fields (RBAC policies, context extensions) must encode the same
	// way every time, or an unchanged configuration would look changed and be pushed again.
	a := &anypb.Any{}
	err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true})
	if err != nil {
		panic(fmt.Sprintf("dataplane: packing %T: %v", m, err))
	}
	return a
}
