package xds

import (
	"errors"
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// Scoped routes (SRDS over ADS).
//
// An HttpConnectionManager whose scoped_routes use scoped_rds subscribes to every
// ScopedRouteConfiguration: Envoy's SRDS subscription is a wildcard, not a list of names.
// So as soon as one listener has such a manager every published scope is used, and each
// needs the RouteConfiguration it names; without one, no scope is used, and neither are
// the route configurations only scopes name.

// validateScope checks what gatebridge requires of a ScopedRouteConfiguration beyond its
// own rules (which already require a key of at least one fragment): that it names its
// RouteConfiguration, published on its own, rather than embedding one. The reference
// checks, go-control-plane's consistency check and Envoy's RDS subscriptions all follow
// route_configuration_name.
func validateScope(scope *routev3.ScopedRouteConfiguration) error {
	if scope.GetRouteConfiguration() != nil {
		return errors.New("has an inline route_configuration: publish the RouteConfiguration on its own and name it in route_configuration_name")
	}
	if scope.GetRouteConfigurationName() == "" {
		return errors.New("has no route_configuration_name")
	}
	return nil
}

// useScopes marks every scope used, and the route configuration each names.
func (r *referenceChecker) useScopes() error {
	for _, item := range r.config.sets[kindScopedRoute].items {
		scope := item.(*routev3.ScopedRouteConfiguration)
		r.used[kindScopedRoute][scope.GetName()] = true
		if err := r.use(kindRoute, scope.GetRouteConfigurationName()); err != nil {
			return fmt.Errorf("%s %q: %w", kindScopedRoute, scope.GetName(), err)
		}
	}
	return nil
}
