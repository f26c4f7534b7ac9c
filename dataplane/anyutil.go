package dataplane

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

type anyType = anypb.Any

// mustAny packs a message built by this package. Packing fails for a string that is not
// valid UTF-8, which a model decoded from JSON or YAML never holds (the decoders replace
// such bytes with U+FFFD) but one built in Go may: the strings are then repaired the same
// way rather than the translation failing. Any other failure (a message type not
// registered) is a programming error.
func mustAny(m proto.Message) *anypb.Any {
	a, err := packDeterministic(m)
	if err != nil {
		repaired := proto.Clone(m)
		repairUTF8(repaired.ProtoReflect())
		if a, err = packDeterministic(repaired); err != nil {
			panic(fmt.Sprintf("dataplane: packing %T: %v", m, err))
		}
	}
	return a
}

// packDeterministic packs m. Deterministic: map fields (RBAC policies, context extensions)
// must encode the same way every time, or an unchanged configuration would look changed
// and be pushed again.
func packDeterministic(m proto.Message) (*anypb.Any, error) {
	a := &anypb.Any{}
	return a, anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true})
}

// repairUTF8 replaces the invalid UTF-8 in every string of m, as encoding/json does when it
// decodes.
func repairUTF8(m protoreflect.Message) {
	fix := func(v protoreflect.Value) (protoreflect.Value, bool) {
		if s, ok := v.Interface().(string); ok && !utf8.ValidString(s) {
			return protoreflect.ValueOfString(strings.ToValidUTF8(s, "\uFFFD")), true
		}
		return v, false
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				if fd.Message() != nil {
					repairUTF8(l.Get(i).Message())
				} else if nv, changed := fix(l.Get(i)); changed {
					l.Set(i, nv)
				}
			}
		case fd.IsMap():
			repairMap(fd, v.Map(), fix)
		case fd.Message() != nil:
			repairUTF8(v.Message())
		default:
			if nv, changed := fix(v); changed {
				m.Set(fd, nv)
			}
		}
		return true
	})
}

// repairMap repairs the strings of a map field's keys and values.
func repairMap(fd protoreflect.FieldDescriptor, mp protoreflect.Map, fix func(protoreflect.Value) (protoreflect.Value, bool)) {
	type entry struct {
		key protoreflect.MapKey
		val protoreflect.Value
	}
	var rekeyed []entry
	mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		if fd.MapValue().Message() != nil {
			repairUTF8(v.Message())
		} else if nv, changed := fix(v); changed {
			mp.Set(k, nv)
		}
		if nk, changed := fix(k.Value()); changed {
			rekeyed = append(rekeyed, entry{nk.MapKey(), mp.Get(k)})
			mp.Clear(k)
		}
		return true
	})
	for _, e := range rekeyed {
		mp.Set(e.key, e.val)
	}
}
