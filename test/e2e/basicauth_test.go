package e2e

import (
	"crypto/sha1"
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestBasicAuth: auth-type basic with an htpasswd Secret (§3.13): missing or wrong
// credentials get 401 with WWW-Authenticate: Basic realm="<auth-realm>"; the right ones
// reach the backend without the Authorization header. {SHA}, bcrypt and apr1 entries all
// work (htpasswd's usual formats); auth-map Secrets hold one user per key; a missing Secret
// fails closed with 503; a CORS preflight is answered before auth, and the 401 carries the
// CORS headers.
func TestBasicAuth(t *testing.T) {
	bc, err := bcrypt.GenerateFromPassword([]byte("hunter2"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// htpasswd -B writes $2y$; Go writes $2a$; both are the same algorithm.
	bcryptEntry := "$2y$" + strings.TrimPrefix(string(bc), "$2a$")
	sha := func(pw string) string {
		s := sha1.Sum([]byte(pw))
		return "{SHA}" + base64.StdEncoding.EncodeToString(s[:])
	}
	htpasswd := strings.Join([]string{
		"alice:" + sha("password"),
		"bob:" + bcryptEntry,
		"carol:$apr1$abc$mehJE/UcwZsj.w5DYe.b5.", // openssl passwd -apr1 -salt abc password
		"",
	}, "\n")
	b64s := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	scene := `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: protected
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: htpasswd
    nginx.ingress.kubernetes.io/auth-realm: "Protected Area"
spec:
  ingressClassName: nginx
  rules:
  - host: basic.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: public, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: basic.example.com
    http:
      paths:
      - {path: /public, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: mapped
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: users
    nginx.ingress.kubernetes.io/auth-secret-type: auth-map
    nginx.ingress.kubernetes.io/auth-realm: Users
spec:
  ingressClassName: nginx
  rules:
  - host: basic-map.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: nosecret
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: does-not-exist
    nginx.ingress.kubernetes.io/auth-realm: Nope
spec:
  ingressClassName: nginx
  rules:
  - host: basic-missing.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cors-auth
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: htpasswd
    nginx.ingress.kubernetes.io/auth-realm: CORS
    nginx.ingress.kubernetes.io/enable-cors: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: basic-cors.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Secret
metadata: {name: htpasswd, namespace: e2e}
type: Opaque
data: {auth: ` + b64s(htpasswd) + `}
---
apiVersion: v1
kind: Secret
metadata: {name: users, namespace: e2e}
type: Opaque
data: {dave: ` + b64s(sha("s3cret")) + `, erin: ` + b64s("$apr1$xyz$a1OPicwcvNtAvLKd25lWl/") + `}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}
`
	apply(t, scene)
	basic := func(user, pw string) map[string]string {
		return map[string]string{"Authorization": "Basic " + b64s(user+":"+pw)}
	}
	h := "http://basic.example.com"
	challenge := map[string]string{"WWW-Authenticate": `Basic realm="Protected Area"`}
	noAuthUpstream := map[string]string{"Authorization": ""}
	check(t, "missing-credentials-401", request{url: h + "/x"}, expect{status: 401, local: true, headers: challenge})
	check(t, "wrong-password-401", request{url: h + "/x", headers: basic("alice", "nope")}, expect{status: 401, local: true, headers: challenge})
	check(t, "unknown-user-401", request{url: h + "/x", headers: basic("mallory", "password")}, expect{status: 401, local: true})
	check(t, "bearer-instead-of-basic-401", request{url: h + "/x", headers: map[string]string{"Authorization": "Bearer good"}}, expect{status: 401, local: true})
	check(t, "sha-entry-200-authorization-removed", request{url: h + "/x?y=1", headers: basic("alice", "password")}, expect{status: 200, backend: "web", uri: "/x?y=1", upstream: noAuthUpstream})
	check(t, "bcrypt-entry-200", request{method: "POST", url: h + "/x", headers: basic("bob", "hunter2"), body: "data"}, expect{status: 200, backend: "web", method: "POST", upstream: noAuthUpstream})
	check(t, "bcrypt-wrong-password-401", request{url: h + "/x", headers: basic("bob", "hunter3")}, expect{status: 401, local: true})
	check(t, "apr1-entry-200", request{url: h + "/x", headers: basic("carol", "password")}, expect{status: 200, backend: "web", upstream: noAuthUpstream})
	check(t, "apr1-wrong-password-401", request{url: h + "/x", headers: basic("carol", "Password")}, expect{status: 401, local: true})
	check(t, "other-ingress-same-host-unprotected", request{url: h + "/public"}, expect{status: 200, backend: "api"})
	check(t, "other-ingress-keeps-client-authorization", request{url: h + "/public", headers: basic("x", "y")}, expect{status: 200, backend: "api",
		upstream: map[string]string{"Authorization": "Basic " + b64s("x:y")}})

	m := "http://basic-map.example.com"
	check(t, "auth-map-401-realm", request{url: m + "/"}, expect{status: 401, headers: map[string]string{"WWW-Authenticate": `Basic realm="Users"`}})
	check(t, "auth-map-sha-user-200", request{url: m + "/", headers: basic("dave", "s3cret")}, expect{status: 200, backend: "web", upstream: noAuthUpstream})
	check(t, "auth-map-apr1-user-200", request{url: m + "/", headers: basic("erin", "s3cret")}, expect{status: 200, backend: "web"})
	check(t, "auth-map-wrong-401", request{url: m + "/", headers: basic("dave", "password")}, expect{status: 401, local: true})

	check(t, "missing-secret-503", request{url: "http://basic-missing.example.com/", headers: basic("alice", "password")}, expect{status: 503, local: true})

	c := "http://basic-cors.example.com"
	check(t, "cors-preflight-before-auth-204", request{method: "OPTIONS", url: c + "/x", headers: map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}},
		expect{status: 204, local: true, headers: map[string]string{"Access-Control-Allow-Origin": "*"}})
	check(t, "cors-headers-on-401", request{url: c + "/x", headers: map[string]string{"Origin": "https://app.example.com"}},
		expect{status: 401, local: true, headers: map[string]string{"Access-Control-Allow-Origin": "*", "WWW-Authenticate": `Basic realm="CORS"`}})
}
