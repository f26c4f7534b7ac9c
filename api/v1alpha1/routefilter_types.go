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
// +kubebuilder:validation:XValidation:rule="[has(self.regexRewrite), has(self.redirect), has(self.response), has(self.headers)].filter(x, x).size() == 1",message="exactly one of regexRewrite, redirect, response or headers must be set"
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

	// Response answers the request itself, without a backend. From a snippet's nginx
	// `return CODE [TEXT]` (docs/snippets.md).
	// +optional
	Response *DirectResponse `json:"response,omitempty"`

	// Headers sets request and response headers whose values use nginx variables, which
	// the data plane evaluates per request. From a snippet's proxy_set_header, add_header
	// or more_set_headers with a variable (docs/snippets.md).
	// +optional
	Headers *HeaderTemplates `json:"headers,omitempty"`
}

// HeaderTemplates are headers computed per request.
type HeaderTemplates struct {
	// Request headers replace the request's before it is sent to the backend.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Request []HeaderTemplate `json:"request,omitempty"`
	// Response headers are set on the response to the client.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Response []HeaderTemplate `json:"response,omitempty"`
}

// HeaderTemplate is one header. Value is literal text with nginx variables: $http_host,
// $http_<name> (a request header), $remote_addr, $request_method, $request_uri, $scheme
// and $req_id (the request's X-Request-ID); no others.
type HeaderTemplate struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`
	Name string `json:"name"`
	// +kubebuilder:validation:MaxLength=4096
	Value string `json:"value"`
	// Append adds the header (nginx add_header) instead of replacing it.
	// +optional
	Append bool `json:"append,omitempty"`
}

// DirectResponse is nginx `return CODE [TEXT]`: the status, and the text as the body
// (Content-Type text/plain) when there is one.
type DirectResponse struct {
	// StatusCode of the response.
	// +kubebuilder:validation:Minimum=200
	// +kubebuilder:validation:Maximum=599
	StatusCode int32 `json:"statusCode"`
	// Body is the response body ("" = none).
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Body string `json:"body,omitempty"`
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
