package annotations

import (
	"net/url"
	"strings"
)

func init() {
	register(
		Spec{Name: "rewrite-target", Family: "rewrite", Level: Exact, Risk: RiskMedium, Scope: ScopeIngress,
			Accepts:  "a path of -._~a-zA-Z0-9/:$ characters; $1…$9 are capture groups of the path",
			Note:     "Replaces the whole path (query kept); without $n a URLRewrite ReplaceFullPath, with $n a RouteFilter regexRewrite; switches the whole host to regex mode.",
			Target:   "HTTPRoute URLRewrite / RouteFilter.regexRewrite",
			validate: validateRewriteTarget},
		Spec{Name: "use-regex", Family: "rewrite", Level: Exact, Risk: RiskLow, Scope: ScopeLocation, Default: "false",
			Accepts: "boolean", validate: validateBool,
			Note:   "Every path of the host becomes a case-insensitive regex anchored at the start only, tried longest path string first; first match wins.",
			Target: "HTTPRoute RegularExpression matches + TrafficPolicy.pathMatching"},
		Spec{Name: "app-root", Family: "rewrite", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "a relative path such as /app1", validate: maxLength(maxPath, "Gateway API redirect path", validateAppRoot),
			Note:   "GET / on the host answers 302 to the app root (query dropped), before any other rule.",
			Target: "HTTPRoute rule Exact / with RequestRedirect 302"},
		Spec{Name: "x-forwarded-prefix", Family: "rewrite", Level: Exact, Risk: RiskMedium, Scope: ScopeLocation,
			Accepts: "a path", validate: maxLength(maxHeaderValue, "Gateway API header value", validateRegexp(rewriteTargetChars, "a path of -._~a-zA-Z0-9/: characters")),
			Note:   "Sets the X-Forwarded-Prefix request header, only on rules that also rewrite (as nginx).",
			Target: "HTTPRoute RequestHeaderModifier"},
	)
}

// validateRewriteTarget accepts a path (ingress-nginx's RegexPathWithCapture characters)
// that fits the Gateway API path it becomes. A value with a URI scheme is not a path:
// http(s) URLs make nginx redirect instead, any other scheme ("file:///…") would be sent
// to the backend as a nonsense path.
func validateRewriteTarget(v string) error {
	if strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
		return errorf("is an absolute URL, which nginx turns into a redirect rather than a rewrite; use permanent-redirect instead")
	}
	written := len(v) // the converter writes it with a leading "/"
	if !strings.HasPrefix(v, "/") {
		written++
	}
	if written > maxPath {
		return errorf("is %d characters long; the Gateway API path it becomes holds at most %d", written, maxPath)
	}
	if uriScheme.MatchString(v) {
		return errorf("is a URL with a scheme, not a path; a rewrite target must be a path such as /app or /$2")
	}
	return validateRegexp(rewriteTargetChars, "a path of -._~a-zA-Z0-9/:$ characters")(v)
}

func validateAppRoot(v string) error {
	u, err := url.ParseRequestURI(v)
	if err != nil || u.IsAbs() || u.Host != "" {
		return errorf("must be a relative path starting with /")
	}
	if strings.ContainsAny(v, "$ \"'{};\\") {
		return errorf("contains characters not allowed in a path")
	}
	return nil
}

// Rewrite is the rewrite family of one Ingress.
type Rewrite struct {
	// Target is rewrite-target ("" = none).
	Target string
	// UseRegex is use-regex.
	UseRegex bool
	// AppRoot is app-root ("" = none).
	AppRoot string
	// XForwardedPrefix is x-forwarded-prefix ("" = none).
	XForwardedPrefix string
}

// HasCaptureRefs reports whether the target uses $1…$9.
func (rw Rewrite) HasCaptureRefs() bool {
	return strings.Contains(rw.Target, "$")
}

func parseRewrite(r *reader) Rewrite {
	var rw Rewrite
	rw.Target, _ = r.str("rewrite-target")
	if strings.Contains(rw.Target, "$") && !captureRefsOnly(rw.Target) {
		r.invalid("rewrite-target", rw.Target, "uses \"$\" other than $1…$9")
		rw.Target = ""
	}
	rw.UseRegex = r.boolean("use-regex", false)
	rw.AppRoot, _ = r.str("app-root")
	rw.XForwardedPrefix, _ = r.str("x-forwarded-prefix")
	if rw.XForwardedPrefix != "" && rw.Target == "" {
		r.note("x-forwarded-prefix", Exact, "has no effect without rewrite-target (as in ingress-nginx)")
	}
	return rw
}

// captureRefsOnly reports whether every "$" in s starts $1…$9.
func captureRefsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '$' {
			if i+1 >= len(s) || s[i+1] < '1' || s[i+1] > '9' {
				return false
			}
		}
	}
	return true
}
