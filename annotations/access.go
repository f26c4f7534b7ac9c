package annotations

import "net/netip"

func init() {
	register(
		Spec{Name: "allowlist-source-range", Family: "access", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "ConfigMap whitelist-source-range",
			Accepts: "comma-separated CIDRs or addresses", validate: validateAccessList,
			Note: "Clients outside the list get 403; replaces the ConfigMap list.", Target: "TrafficPolicy.access.allow"},
		Spec{Name: "whitelist-source-range", Family: "access", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, AliasOf: "allowlist-source-range",
			Accepts: "comma-separated CIDRs or addresses", validate: validateAccessList,
			Note: "Alias of allowlist-source-range; the canonical name wins when both are set.", Target: "TrafficPolicy.access.allow"},
		Spec{Name: "denylist-source-range", Family: "access", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation, Default: "ConfigMap denylist-source-range",
			Accepts: "comma-separated CIDRs or addresses", validate: validateAccessList,
			Note: "Clients in the list get 403; evaluated before the allow list.", Target: "TrafficPolicy.access.deny"},
	)
}

// Access is the IP access family. Nil slices mean "not set" (the ConfigMap applies).
type Access struct {
	Allow []netip.Prefix
	Deny  []netip.Prefix
}

// parseAccess reads the lists. An invalid list fails closed: ingress-nginx answers 503
// ("location denied") and gatebridge does not serve the paths.
func parseAccess(r *reader) Access {
	var a Access
	a.Allow = cidrsClosed(r, aliasOr(r, "allowlist-source-range", "whitelist-source-range"))
	a.Deny = cidrsClosed(r, "denylist-source-range")
	return a
}

// aliasOr returns the canonical name when set and non-empty, else the alias; the other one
// is marked seen with a note when both are present.
func aliasOr(r *reader, canonical, alias string) string {
	if normalize(r.values[canonical]) != "" {
		if r.has(alias) {
			r.seen[alias] = true
			r.note(alias, Exact, "is ignored because "+canonical+" is also set (the canonical name wins)")
		}
		return canonical
	}
	if r.has(canonical) {
		r.seen[canonical] = true
	}
	return alias
}

func cidrsClosed(r *reader, name string) []netip.Prefix {
	v, ok := r.strClosed(name)
	if !ok {
		return nil
	}
	p, err := parseCIDRList(v)
	if err != nil {
		return nil
	}
	return p
}
