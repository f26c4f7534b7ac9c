package annotations

import (
	"regexp"
	"strings"
)

func init() {
	register(
		Spec{Name: "upstream-hash-by", Family: "backend", Level: Approximate, Risk: RiskHigh, Scope: ScopeLocation,
			Accepts:  "nginx variables $request_uri, $uri, $host, $http_host, $server_name, $remote_addr, $binary_remote_addr, $http_<name>, $cookie_<name>, $arg_<name>, combined with literal text (characters A-Za-z0-9-_${})",
			validate: validateRegexp(hashByChars, "made of A-Za-z0-9-_${} (ingress-nginx's rule)"),
			Note:     "Envoy ring hash on the same request properties: each key sticks to one endpoint, but not the endpoint nginx would pick; a request missing the header, cookie or argument goes to a random endpoint (nginx hashes the empty string); $uri also hashes the query; a key of literal text only, or another variable, refuses the Ingress.",
			Target:   "TrafficPolicy.backend.consistentHash"},
		Spec{Name: "upstream-hash-by-subset", Family: "backend", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note:   "Envoy has no subset hashing: each key goes to one endpoint instead of a random endpoint of a subset, which balances a hot key less evenly.",
			Target: "TrafficPolicy.backend.consistentHash (plain ring hash)"},
		Spec{Name: "upstream-hash-by-subset-size", Family: "backend", Level: Approximate, Risk: RiskLow, Scope: ScopeLocation, Default: "3",
			Accepts: "integer ≥ 1", validate: validateIntAtMost(1<<20, "a subset size"),
			Note: "Subset size of upstream-hash-by-subset; with plain ring hashing the subset is always one endpoint."},
	)
}

// hashByChars is ingress-nginx's validation of upstream-hash-by (parser.AlphaNumericWithVars
// style): letters, digits, -, _, $, { and }.
var hashByChars = regexp.MustCompile(`^[A-Za-z0-9\-_${}]+$`)

// HashKeySource is where a part of the hash key comes from.
type HashKeySource string

// Hash key sources: the nginx variables Envoy's hash policies can read.
const (
	HashRequestURI HashKeySource = "RequestURI"
	HashHost       HashKeySource = "Host"
	HashSourceIP   HashKeySource = "SourceIP"
	HashHeader     HashKeySource = "Header"
	HashCookie     HashKeySource = "Cookie"
	HashQueryParam HashKeySource = "QueryParameter"
)

// HashKey is one variable of upstream-hash-by.
type HashKey struct {
	Source HashKeySource
	// Name of the header, cookie or query parameter.
	Name string
}

// HashBy is upstream-hash-by with its subset options.
type HashBy struct {
	// Expression as written.
	Expression string
	// Keys are the variables, in order; Envoy combines their hashes. Literal text between
	// them is constant for every request and is left out.
	Keys []HashKey
	// Subset and SubsetSize are upstream-hash-by-subset(-size), kept for the report.
	Subset     bool
	SubsetSize int
}

// maxHashKeys bounds the parts of a key (the TrafficPolicy CRD's limit).
const maxHashKeys = 16

// hashVariable matches $name and ${name}.
var hashVariable = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)`)

func parseHashBy(r *reader) *HashBy {
	expr, ok := r.str("upstream-hash-by")
	if !ok {
		for _, n := range []string{"upstream-hash-by-subset", "upstream-hash-by-subset-size"} {
			if r.has(n) {
				r.seen[n] = true
				r.note(n, Approximate, "has no effect without upstream-hash-by (as in ingress-nginx)")
			}
		}
		return nil
	}
	h := &HashBy{Expression: expr, SubsetSize: r.integer("upstream-hash-by-subset-size", 3)}
	keys, why := hashKeys(expr)
	if why != "" {
		r.refuse("upstream-hash-by", why+"; hash on $request_uri, $remote_addr, $host, $http_<name>, $cookie_<name> or $arg_<name>, or use affinity: cookie")
		return nil
	}
	h.Keys = keys
	if h.Subset = r.boolean("upstream-hash-by-subset", false); h.Subset {
		r.note("upstream-hash-by-subset", Approximate, "Envoy has no subset hashing: each key goes to one endpoint of a ring hash instead of a random endpoint of a subset")
	}
	for _, m := range hashVariable.FindAllStringSubmatch(expr, -1) {
		if m[1]+m[2] == "uri" {
			r.note("upstream-hash-by", Approximate, "$uri is hashed with the query string (as $request_uri): requests differing only in their query may go to different endpoints")
			break
		}
	}
	return h
}

// hashKeys reads the variables of an upstream-hash-by expression; why says what cannot
// be hashed by Envoy ("" = all of it can).
func hashKeys(expr string) ([]HashKey, string) {
	var keys []HashKey
	for _, m := range hashVariable.FindAllStringSubmatch(expr, -1) {
		name := m[1] + m[2]
		k, ok := hashKeyOf(name)
		if !ok {
			return nil, "the nginx variable $" + name + " cannot be hashed by Envoy"
		}
		keys = append(keys, k)
	}
	if len(keys) > maxHashKeys {
		return nil, "more than 16 variables"
	}
	if len(keys) == 0 {
		// nginx would send every request to one endpoint; Envoy needs a request property.
		return nil, "a key of literal text only (" + expr + ") sends every request to one endpoint in nginx, which Envoy's hash policies cannot express"
	}
	return keys, ""
}

func hashKeyOf(variable string) (HashKey, bool) {
	switch variable {
	case "request_uri", "uri":
		return HashKey{Source: HashRequestURI}, true
	case "host", "http_host", "server_name":
		return HashKey{Source: HashHost}, true
	case "remote_addr", "binary_remote_addr":
		return HashKey{Source: HashSourceIP}, true
	}
	for prefix, src := range map[string]HashKeySource{"http_": HashHeader, "cookie_": HashCookie, "arg_": HashQueryParam} {
		if name, ok := strings.CutPrefix(variable, prefix); ok && name != "" {
			if src == HashHeader {
				// nginx's $http_x_user is the header X-User.
				name = strings.ReplaceAll(strings.ToLower(name), "_", "-")
			}
			return HashKey{Source: src, Name: name}, true
		}
	}
	return HashKey{}, false
}
