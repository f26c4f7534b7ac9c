package dataplane

import (
	"errors"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
	"github.com/gatebridge-dev/gatebridge/internal/envoyregex"
)

// Validate checks every resource against Envoy's own constraints (protoc-gen-validate), and
// every regular expression against what Envoy's RE2 takes (envoyregex.Check), typed
// configurations (Any) included, so that a translation bug is caught here rather than
// NACKed by Envoy.
// Route configurations and load assignments are checked expanded (wireform.go), and encoded
// clusters decoded. For tests and tools: it walks every field.
func Validate(res *xds.Resources) error {
	type validator interface {
		proto.Message
		ValidateAll() error
	}
	check := func(kind, name string, v validator) error {
		if err := v.ValidateAll(); err != nil {
			return fmt.Errorf("%s %q: %w", kind, name, err)
		}
		if err := checkEnvoyRulesIn(v.ProtoReflect()); err != nil {
			return fmt.Errorf("%s %q: %w", kind, name, err)
		}
		return nil
	}
	for _, r := range res.Listeners {
		if err := check("listener", r.Name, r); err != nil {
			return err
		}
	}
	for _, r := range res.Routes {
		if err := check("route configuration", r.Name, Expanded(r)); err != nil {
			return err
		}
	}
	for _, r := range res.ScopedRoutes {
		if err := check("scoped route configuration", r.Name, r); err != nil {
			return err
		}
	}
	for _, r := range res.Clusters {
		if err := check("cluster", r.Name, r); err != nil {
			return err
		}
	}
	for _, r := range res.EncodedClusters {
		c, err := r.Decode()
		if err != nil {
			return err
		}
		if err := check("cluster", c.Name, c); err != nil {
			return err
		}
	}
	for _, r := range res.Endpoints {
		if err := check("endpoints", r.ClusterName, Expanded(r)); err != nil {
			return err
		}
	}
	for _, r := range res.Secrets {
		if err := check("secret", r.Name, r); err != nil {
			return err
		}
	}
	return nil
}

// checkEnvoyRulesIn runs envoyregex.Check on every regular expression of m (the regex of every
// RegexMatcher, Envoy's or xDS's) and checks every header added or removed as Envoy does
// when it loads them (headerOptionWhy, modifiableHeader), looking into typed
// configurations (Any) too.
func checkEnvoyRulesIn(m protoreflect.Message) error {
	switch m.Descriptor().FullName() {
	case "envoy.config.core.v3.HeaderValueOption":
		h := m.Interface().(*corev3.HeaderValueOption).GetHeader()
		if why := headerOptionWhy(h.GetKey(), h.GetValue()); why != "" {
			return errors.New(why)
		}
		return nil
	case "envoy.type.matcher.v3.RegexMatcher", "xds.type.matcher.v3.RegexMatcher":
		re := m.Get(m.Descriptor().Fields().ByName("regex")).String()
		if err := envoyregex.Check(re); err != nil {
			return fmt.Errorf("regular expression %.100q: %w", re, err)
		}
		return nil
	case "google.protobuf.Any":
		inner, err := anypb.UnmarshalNew(m.Interface().(*anypb.Any), proto.UnmarshalOptions{})
		if err != nil {
			return nil // not a type this binary knows: nothing to look into
		}
		// The outer message's ValidateAll stops at the Any; Envoy does not.
		if err := validateMessage(inner); err != nil {
			return fmt.Errorf("%s: %w", inner.ProtoReflect().Descriptor().FullName(), err)
		}
		return checkEnvoyRulesIn(inner.ProtoReflect())
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && (fd.Name() == "request_headers_to_remove" || fd.Name() == "response_headers_to_remove"):
			for i := 0; i < v.List().Len() && err == nil; i++ {
				if name := v.List().Get(i).String(); !modifiableHeader(name) {
					err = fmt.Errorf("%s: header %q cannot be removed", fd.Name(), name)
				}
			}
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len() && err == nil; i++ {
				err = checkEnvoyRulesIn(v.List().Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				err = checkEnvoyRulesIn(mv.Message())
				return err == nil
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			err = checkEnvoyRulesIn(v.Message())
		}
		return err == nil
	})
	return err
}
