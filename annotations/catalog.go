package annotations

import (
	"sort"
	"strings"
)

// DefaultPrefix is ingress-nginx's default annotation prefix (`--annotations-prefix`).
const DefaultPrefix = "nginx.ingress.kubernetes.io"

// Level says how faithfully gatebridge reproduces an annotation.
type Level string

// Support levels, from best to worst.
const (
	// Exact: the behaviour is preserved.
	Exact Level = "exact"
	// Approximate: converted, with a difference stated in the note.
	Approximate Level = "approximate"
	// Ignored: nginx tuning with no observable behaviour to keep.
	Ignored Level = "ignored"
	// Unsupported: not converted yet; the note says what it does.
	Unsupported Level = "unsupported"
	// Refused: unsafe to convert (raw configuration, WAF rules); the Ingress is not served.
	Refused Level = "refused"
	// Legacy: removed from ingress-nginx; it ignores it too.
	Legacy Level = "legacy"
	// Unknown: not an ingress-nginx annotation at all.
	Unknown Level = "unknown"
)

// Risk is ingress-nginx's own risk rating of an annotation (parser.AnnotationRisk).
type Risk string

// Risk levels. With the default ConfigMap `annotations-risk-level: High`, Critical
// annotations are rejected by ingress-nginx.
const (
	RiskLow      Risk = "Low"
	RiskMedium   Risk = "Medium"
	RiskHigh     Risk = "High"
	RiskCritical Risk = "Critical"
)

// Scope says whether an annotation acts on the whole Ingress or per location (path).
type Scope string

// Scopes.
const (
	ScopeIngress  Scope = "ingress"
	ScopeLocation Scope = "location"
)

// Spec describes one annotation of the catalog.
type Spec struct {
	// Name without the prefix, e.g. "rewrite-target".
	Name string `json:"name"`
	// Family groups related annotations (rewrite, redirect, backend, …).
	Family string `json:"family"`
	// Level of support in gatebridge.
	Level Level `json:"level"`
	// Risk is ingress-nginx's rating; empty for legacy names.
	Risk Risk `json:"risk,omitempty"`
	// Scope of the annotation in ingress-nginx.
	Scope Scope `json:"scope,omitempty"`
	// Default value in ingress-nginx ("" = none; "ConfigMap" defaults are named).
	Default string `json:"default,omitempty"`
	// Accepts describes the valid values.
	Accepts string `json:"accepts,omitempty"`
	// Note: the difference (approximate), the reason (refused, ignored) or what it does
	// (unsupported, legacy). One sentence.
	Note string `json:"note"`
	// AliasOf names the canonical annotation when this name is an alias.
	AliasOf string `json:"aliasOf,omitempty"`
	// Target says what it becomes in gatebridge output.
	Target string `json:"target,omitempty"`

	// validate checks a value as strictly as ingress-nginx (or more); nil accepts anything.
	validate func(string) error
}

// Validate checks value against the annotation's rules. A nil error means valid.
func (s Spec) Validate(value string) error {
	if err := rejectControlChars(value); err != nil {
		return err
	}
	if s.validate == nil {
		return nil
	}
	return s.validate(value)
}

var catalog = map[string]Spec{}

// register adds specs to the catalog; it panics on a duplicate name (a programming error
// caught by every test run).
func register(specs ...Spec) {
	for _, s := range specs {
		if _, dup := catalog[s.Name]; dup {
			panic("annotations: duplicate catalog entry " + s.Name)
		}
		catalog[s.Name] = s
	}
}

// Lookup returns the spec of an annotation name (without prefix).
func Lookup(name string) (Spec, bool) {
	s, ok := catalog[name]
	return s, ok
}

// Catalog returns every spec, sorted by family then name.
func Catalog() []Spec {
	out := make([]Spec, 0, len(catalog))
	for _, s := range catalog {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Family != out[j].Family {
			return familyOrder(out[i].Family) < familyOrder(out[j].Family)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Families lists the families in display order.
var Families = []string{"rewrite", "redirect", "backend", "timeouts", "canary", "affinity", "cors",
	"auth", "access", "ratelimit", "tls", "observability", "raw", "legacy"}

func familyOrder(f string) int {
	for i, x := range Families {
		if x == f {
			return i
		}
	}
	return len(Families)
}

// SplitName splits a full annotation key into its name under prefix; ok is false when
// the key is not under the prefix.
func SplitName(key, prefix string) (name string, ok bool) {
	p := strings.TrimSuffix(prefix, "/") + "/"
	if !strings.HasPrefix(key, p) {
		return "", false
	}
	return key[len(p):], true
}
