// Package authz is gatebridge's in-process envoy.service.auth.v3.Authorization (ext_authz,
// gRPC mode) service. It owns ingress-nginx's authentication semantics that Envoy's own
// filters cannot reproduce:
//
//   - auth_basic (auth-type: basic, auth-secret, auth-realm): htpasswd parsing as nginx does
//     it, bcrypt (golang.org/x/crypto/bcrypt, replaceable), Apache MD5 ($apr1$), MD5-crypt
//     ($1$), SHA-crypt ($5$, $6$), {SHA}, {SSHA} and {PLAIN} hashes, 401 with
//     WWW-Authenticate, removal of the Authorization header on success, 503 when the Secret
//     is unusable;
//   - auth_request (auth-url and friends): the subrequest to the exact auth URL with nginx
//     variables expanded and ingress-nginx's headers (X-Original-URL, X-Auth-Request-Redirect,
//     ...), 2xx/401/403/other-status mapping, auth-response-headers copied upstream,
//     Set-Cookie to the client, and auth-signin's 401 → 302 redirect with the escaped
//     original URL.
//
// The auth subrequests are sent by this package's Go HTTP client, not through Envoy. Where
// there is no cluster DNS (`gatebridge run`), SetServiceResolver lets that client resolve
// auth-url hosts naming a Service of the input (name.namespace[.svc[.cluster.local]]) to the
// Service's ready endpoints, round robin per connection; other names, and every name in a
// cluster, go to the system resolver.
//
// Envoy selects the policy per route through the context extension ContextExtensionKey;
// gatebridge pushes the policy table with SetPolicies on every configuration publish and
// registers the service on its xDS gRPC server with Register.
//
// It must not translate (annotations and Secrets become Policy values elsewhere) and knows
// nothing about xDS: it never builds or publishes Envoy configuration. Its only inputs are
// Policy values and CheckRequests, its only outputs CheckResponses and auth subrequests.
//
// Choices and deliberate differences from nginx (mostly imposed by Envoy or net/http):
//   - Set-Cookie from an allowing auth response is added to every upstream response; nginx's
//     add_header only adds it to 2xx/3xx answers unless auth-always-set-cookie.
//   - Several Set-Cookie headers stay separate; nginx would join them into one value.
//   - The auth service's body is passed through on 401/403 when small (nginx sends its own
//     error page); locally generated answers use an nginx-like error page.
//   - An auth-url without a path is requested at "/"; nginx would send its internal
//     /_external-auth-... location path.
//   - net/http sends "Content-Length: 0" on POST, PUT and PATCH auth requests without a body;
//     nginx sends no Content-Length. Other methods carry none.
//   - Bytes that a request line cannot carry (spaces, control characters, non-ASCII) in the
//     expanded auth-url are percent-encoded; nginx would send them raw.
//   - $remote_addr (X-Real-IP, X-Forwarded-For) is the CheckRequest's source address, i.e.
//     the downstream connection's peer (or PROXY-protocol) address, never an address taken
//     from X-Forwarded-For.
//   - $escaped_request_uri is set-misc's set_escape_uri (what ingress-nginx's template uses):
//     every byte except A-Z a-z 0-9 - . _ ~ is percent-encoded.
//   - Traditional DES crypt and other crypt(3) schemes are not supported: such users can never
//     log in (SetPolicies logs them).
//
// Passwords, stored hashes and Authorization values are never logged.
package authz
