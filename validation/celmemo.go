package validation

import (
	"reflect"
	"sync"
	"unsafe"

	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	"k8s.io/apiserver/pkg/cel/common"
)

// Why this file exists
//
// The CEL rules read the object through k8s.io/apiserver/pkg/cel/common's values, which look
// up the schema of a field on every access (`l.name`, `has(l.port)`) by calling Properties()
// on the schema adaptor of package model — and that builds a new map of every property,
// with a heap copy of each property's schema, on each call. The Gateway API's listener rules
// (`self.all(l1, self.exists_one(l2, l1.name == l2.name))`, and the port/protocol/hostname
// one) look at n² pairs of listeners, so a ListenerSet of 64 listeners made ~100,000 such
// maps: ~270 ms of CPU, mostly allocation and garbage collection, for 8,192 comparisons
// (~30 ms with the lookups memoised). HTTPRoute's rules pay the same way (1.3 → 0.6 ms).
//
// The library gives no way to pass another adaptor: the CEL validator builds its
// activations (the binding of `self`) with an unexported function field. memoiseSchemas
// replaces that function on every node of a validator with one that binds `self` to the
// same value read through memoSchema: the library's own adaptor, whose Properties, Items,
// AdditionalProperties and WithTypeAndObjectMeta are computed once per schema node and then
// shared. Everything else — compilation, evaluation, cost accounting, messages, error paths
// — is the library's, unchanged; the values CEL sees are identical, so are the answers
// (TestMemoisedSchemasGiveTheSameAnswers compares the two on thousands of objects).
//
// If a future version of the library no longer has the field with the expected type,
// memoiseSchemas changes nothing and returns false: validation stays correct, only slower,
// and TestSchemaMemoisationIsInstalled fails so that the upgrade notices.

// activationFactory is the type of cel.Validator's celActivationFactory field.
type activationFactory = func(sts *structuralschema.Structural, obj, oldObj any) (activation, optionalOldSelfActivation interpreter.Activation)

// activationFactoryOffset is where the field sits in cel.Validator, or ok false when the
// library does not have it with this type.
var activationFactoryOffset = sync.OnceValues(func() (offset uintptr, ok bool) {
	f, found := reflect.TypeFor[cel.Validator]().FieldByName("celActivationFactory")
	if !found || f.Type != reflect.TypeFor[activationFactory]() {
		return 0, false
	}
	return f.Offset, true
})

// memoiseSchemas makes every node of v bind `self` through memoSchema (see above). It must
// run before v is used, and only once per validator. It reports whether it could.
func memoiseSchemas(v *cel.Validator) bool {
	offset, ok := activationFactoryOffset()
	if !ok || v == nil {
		return false
	}
	var visit func(n *cel.Validator)
	visit = func(n *cel.Validator) {
		factory := (*activationFactory)(unsafe.Add(unsafe.Pointer(n), offset))
		if *factory != nil {
			*factory = memoisedActivations(*factory, n.Schema)
		}
		if n.Items != nil {
			visit(n.Items)
		}
		if n.AdditionalProperties != nil {
			visit(n.AdditionalProperties)
		}
		for _, a := range n.AllOfValidators {
			visit(a)
		}
		// Properties holds values: update a copy and put it back.
		for k, p := range n.Properties {
			visit(&p)
			n.Properties[k] = p
		}
	}
	visit(v)
	return true
}

// memoisedActivations wraps the library's activation factory of a node whose schema is
// nodeSchema: `self` is the same object read through a memoSchema; every other name
// (oldSelf, absent on create) resolves as the library resolves it.
func memoisedActivations(library activationFactory, nodeSchema *structuralschema.Structural) activationFactory {
	node := newMemoSchema(nodeSchema)
	return func(sts *structuralschema.Structural, obj, oldObj any) (interpreter.Activation, interpreter.Activation) {
		activation, optional := library(sts, obj, oldObj)
		s := node
		if sts != nodeSchema {
			// The root of a resource: the validator passes a fresh copy of its schema with
			// apiVersion, kind and metadata added (model.WithTypeAndObjectMeta).
			s = newMemoSchema(sts)
		}
		self := common.UnstructuredToVal(obj, s)
		return &selfActivation{self: self, library: activation}, &selfActivation{self: self, library: optional}
	}
}

// selfActivation binds `self` to a value and leaves every other name to the library's
// activation.
type selfActivation struct {
	self    ref.Val
	library interpreter.Activation
}

func (a *selfActivation) ResolveName(name string) (any, bool) {
	if name == cel.ScopedVarName {
		return a.self, true
	}
	return a.library.ResolveName(name)
}

func (a *selfActivation) Parent() interpreter.Activation { return nil }

// memoSchema is model.Structural (the adaptor the library uses) with the results that
// walk to other schema nodes computed once and kept. Safe for concurrent use.
type memoSchema struct {
	*model.Structural

	propsOnce sync.Once
	props     map[string]common.Schema

	itemsOnce sync.Once
	items     common.Schema

	addOnce sync.Once
	add     common.SchemaOrBool

	metaOnce sync.Once
	meta     common.Schema
}

var _ common.Schema = (*memoSchema)(nil)

func newMemoSchema(s *structuralschema.Structural) *memoSchema {
	return &memoSchema{Structural: &model.Structural{Structural: s}}
}

// Properties is model.Structural.Properties, built once.
func (s *memoSchema) Properties() map[string]common.Schema {
	s.propsOnce.Do(func() {
		if s.Structural.Structural.Properties == nil {
			return
		}
		s.props = make(map[string]common.Schema, len(s.Structural.Structural.Properties))
		for name, prop := range s.Structural.Structural.Properties {
			p := prop // as the library does: each property's schema is a copy
			s.props[name] = newMemoSchema(&p)
		}
	})
	return s.props
}

// Items is model.Structural.Items, built once.
func (s *memoSchema) Items() common.Schema {
	s.itemsOnce.Do(func() {
		if s.Structural.Structural.Items != nil {
			s.items = newMemoSchema(s.Structural.Structural.Items)
		}
	})
	return s.items
}

// AdditionalProperties is model.Structural.AdditionalProperties, built once.
func (s *memoSchema) AdditionalProperties() common.SchemaOrBool {
	s.addOnce.Do(func() {
		if ap := s.Structural.Structural.AdditionalProperties; ap != nil {
			sb := &memoSchemaOrBool{allows: ap.Bool}
			if ap.Structural != nil {
				sb.schema = newMemoSchema(ap.Structural)
			}
			s.add = sb
		}
	})
	return s.add
}

// WithTypeAndObjectMeta is model.Structural.WithTypeAndObjectMeta, built once.
func (s *memoSchema) WithTypeAndObjectMeta() common.Schema {
	s.metaOnce.Do(func() {
		s.meta = newMemoSchema(model.WithTypeAndObjectMeta(s.Structural.Structural))
	})
	return s.meta
}

// memoSchemaOrBool is model.StructuralOrBool over a memoSchema.
type memoSchemaOrBool struct {
	schema *memoSchema
	allows bool
}

func (sb *memoSchemaOrBool) Schema() common.Schema {
	if sb.schema == nil {
		return nil
	}
	return sb.schema
}

func (sb *memoSchemaOrBool) Allows() bool { return sb.allows }
