package dataplane

import (
	"fmt"

	"github.com/gatebridge-dev/gatebridge/dataplane/xds"
)

// Validate checks every resource against Envoy's own constraints (protoc-gen-validate), so
// that a translation bug is caught here rather than NACKed by Envoy. Route configurations
// and load assignments are checked expanded (wireform.go), as Envoy decodes them, and
// encoded clusters decoded.
func Validate(res *xds.Resources) error {
	type validator interface{ ValidateAll() error }
	check := func(kind, name string, v validator) error {
		if err := v.ValidateAll(); err != nil {
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
