package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RouteFilter is referenced by an HTTPRoute rule (`filters[].type: ExtensionRef`) for
// behaviour that must not be dropped silently. Exactly one of its blocks is set.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=gatebridge,shortName=gbrf
type RouteFilter struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec RouteFilterSpec `json:"spec"`
}

// RouteFilterList is a list of RouteFilter.
//
// +kubebuilder:object:root=true
type RouteFilterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RouteFilter `json:"items"`
}

// RouteFilterSpec holds one behaviour.
// +kubebuilder:validation:XValidation:rule="[has(self.regexRewrite), has(self.redirect)].filter(x, x).size() == 1",message="exactly one of regexRewrite or redirect must be set"
type RouteFilterSpec struct {
	// RegexRewrite replaces the whole request path using capture groups of the rule's path
	// regex. From `rewrite-target` containing `$1`…`$9`.
	// +optional
	RegexRewrite *RegexRewrite `json:"regexRewrite,omitempty"`

	// Redirect answers with a literal Location, for codes or URLs the standard
	// RequestRedirect cannot express. From `permanent-redirect` / `temporal-redirect`
	// with codes 300, 304, 305, 306 or a URL with a query string.
	// +optional
	Redirect *LiteralRedirect `json:"redirect,omitempty"`
}

// RegexRewrite rewrites the path. The query string is kept.
type RegexRewrite struct {
	// Pattern is an RE2 regular expression that matches the whole (normalised) path.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Pattern string `json:"pattern"`
	// Substitution is the new path; \1…\9 are the pattern's capture groups (empty when a
	// group did not participate).
	// +kubebuilder:validation:MaxLength=4096
	Substitution string `json:"substitution"`
}

// LiteralRedirect is nginx `return <code> <url>`: the Location is exactly URL; the request
// path and query are not appended.
type LiteralRedirect struct {
	// StatusCode of the response.
	// +kubebuilder:validation:Minimum=300
	// +kubebuilder:validation:Maximum=308
	StatusCode int32 `json:"statusCode"`
	// URL is the Location header value.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	URL string `json:"url"`
}
