package e2e

import "testing"

// TestRedirects: app-root answers 302 for "/" only, dropping the query (§3.4);
// permanent-redirect / temporal-redirect answer with the literal URL, never appending the
// request path or query, with their codes; temporal wins over permanent; a relative
// permanent-redirect is made absolute on the request host (§3.6); from-to-www-redirect
// sends www.<host> to <host> with the request URI.
func TestRedirects(t *testing.T) {
	apply(t, `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: root
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/app-root: /app1}
spec:
  ingressClassName: nginx
  rules:
  - host: approot.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: perm
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/permanent-redirect: "https://new.example.com/landing"}
spec:
  ingressClassName: nginx
  rules:
  - host: redir.example.com
    http:
      paths:
      - {path: /perm, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: perm308
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/permanent-redirect: "https://new.example.com/moved"
    nginx.ingress.kubernetes.io/permanent-redirect-code: "308"
spec:
  ingressClassName: nginx
  rules:
  - host: redir.example.com
    http:
      paths:
      - {path: /perm308, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: temp
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/temporal-redirect: "http://temp.example.com/maintenance"}
spec:
  ingressClassName: nginx
  rules:
  - host: redir.example.com
    http:
      paths:
      - {path: /temp, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: temp307
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/temporal-redirect: "https://temp.example.com/busy"
    nginx.ingress.kubernetes.io/temporal-redirect-code: "307"
spec:
  ingressClassName: nginx
  rules:
  - host: redir.example.com
    http:
      paths:
      - {path: /temp307, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: query
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/permanent-redirect: "https://new.example.com/search?q=old&lang=en"}
spec:
  ingressClassName: nginx
  rules:
  - host: redir.example.com
    http:
      paths:
      - {path: /query, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: both
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/permanent-redirect: "https://perm.example.com/"
    nginx.ingress.kubernetes.io/temporal-redirect: "https://temp.example.com/wins"
spec:
  ingressClassName: nginx
  rules:
  - host: redir.example.com
    http:
      paths:
      - {path: /both, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: relative
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/permanent-redirect: /new-location}
spec:
  ingressClassName: nginx
  rules:
  - host: redir.example.com
    http:
      paths:
      - {path: /relative, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: plain, namespace: e2e}
spec:
  ingressClassName: nginx
  rules:
  - host: redir.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: www
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/from-to-www-redirect: "true"}
spec:
  ingressClassName: nginx
  rules:
  - host: site.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: root-guarded
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/app-root: /home
    nginx.ingress.kubernetes.io/auth-type: basic
    nginx.ingress.kubernetes.io/auth-secret: no-such-secret
spec:
  ingressClassName: nginx
  rules:
  - host: approot-guarded.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: root-tls
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/app-root: /app1}
spec:
  ingressClassName: nginx
  tls: [{hosts: [approot-tls.example.com], secretName: approot-tls}]
  rules:
  - host: approot-tls.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: moved-tls
  namespace: e2e
  annotations: {nginx.ingress.kubernetes.io/permanent-redirect: "https://new.example.com/tls"}
spec:
  ingressClassName: nginx
  tls: [{hosts: [approot-tls.example.com], secretName: approot-tls}]
  rules:
  - host: approot-tls.example.com
    http:
      paths:
      - {path: /moved, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: root-regex
  namespace: e2e
  annotations:
    nginx.ingress.kubernetes.io/app-root: /start
    nginx.ingress.kubernetes.io/use-regex: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: approot-regex.example.com
    http:
      paths:
      - {path: "/.*", pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
{{.TLSSecret "e2e" "approot-tls" "approot-tls.example.com"}}
{{.Service "e2e" "web" "web"}}{{.Service "e2e" "api" "api"}}
`)
	ar := "http://approot.example.com"
	check(t, "app-root-302", request{url: ar + "/"}, expect{status: 302, location: ar + "/app1", local: true})
	check(t, "app-root-drops-query", request{url: ar + "/?a=1&b=2"}, expect{status: 302, location: ar + "/app1"})
	check(t, "app-root-only-for-root", request{url: ar + "/other?x=1"}, expect{status: 200, backend: "web", uri: "/other?x=1", noLocation: true})
	check(t, "app-root-before-ssl-redirect", request{url: "http://approot-tls.example.com/"}, expect{status: 302, location: "http://approot-tls.example.com/app1"})
	check(t, "app-root-target-then-ssl-redirected", request{url: "http://approot-tls.example.com/app1"}, expect{status: 308, location: httpsLoc("approot-tls.example.com", "/app1")})
	check(t, "app-root-over-https", request{url: "https://approot-tls.example.com/?x=1"}, expect{status: 302, location: "https://approot-tls.example.com/app1"})
	check(t, "permanent-redirect-before-ssl-redirect", request{url: "http://approot-tls.example.com/moved/x"}, expect{status: 301, location: "https://new.example.com/tls"})
	check(t, "permanent-redirect-over-https", request{url: "https://approot-tls.example.com/moved"}, expect{status: 301, location: "https://new.example.com/tls"})
	check(t, "app-root-before-regex-locations", request{url: "http://approot-regex.example.com/"}, expect{status: 302, location: "http://approot-regex.example.com/start"})
	check(t, "app-root-regex-host-other-paths", request{url: "http://approot-regex.example.com/x"}, expect{status: 200, backend: "web", uri: "/x"})
	check(t, "app-root-answers-before-auth", request{url: "http://approot-guarded.example.com/"}, expect{status: 302, location: "http://approot-guarded.example.com/home"})
	check(t, "app-root-host-other-paths-guarded", request{url: "http://approot-guarded.example.com/home"}, expect{status: 503, local: true})
	check(t, "app-root-target-served", request{url: ar + "/app1"}, expect{status: 200, backend: "web", uri: "/app1"})

	r := "http://redir.example.com"
	check(t, "permanent-301-literal-url", request{url: r + "/perm/deep/path?x=1"}, expect{status: 301, location: "https://new.example.com/landing", local: true})
	check(t, "permanent-exact-path", request{url: r + "/perm"}, expect{status: 301, location: "https://new.example.com/landing"})
	check(t, "permanent-code-308", request{method: "POST", url: r + "/perm308/a", body: "x"}, expect{status: 308, location: "https://new.example.com/moved"})
	check(t, "temporal-302", request{url: r + "/temp/x?y=2"}, expect{status: 302, location: "http://temp.example.com/maintenance"})
	check(t, "temporal-code-307", request{url: r + "/temp307"}, expect{status: 307, location: "https://temp.example.com/busy"})
	check(t, "url-with-own-query", request{url: r + "/query/x?mine=1"}, expect{status: 301, location: "https://new.example.com/search?q=old&lang=en"})
	check(t, "temporal-wins-over-permanent", request{url: r + "/both"}, expect{status: 302, location: "https://temp.example.com/wins"})
	check(t, "relative-made-absolute", request{url: r + "/relative/x?q=1"}, expect{status: 301, location: "http://redir.example.com/new-location"})
	check(t, "other-paths-not-redirected", request{url: r + "/permanent"}, expect{status: 200, backend: "api", uri: "/permanent", noLocation: true})

	check(t, "www-to-host", request{url: "http://www.site.example.com/path/x?q=1"}, expect{status: 308, location: "http://site.example.com/path/x?q=1", local: true})
	check(t, "host-itself-served", request{url: "http://site.example.com/path"}, expect{status: 200, backend: "web", uri: "/path"})
}
