package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WriteIngressTree writes the Ingress form of GenerateRoutes to dir, spread over files the
// way a repository of manifests is: one file per hostname with its n/RouteHosts Ingresses
// (ingresses-<h>.yaml) and one with their Services and EndpointSlices (services-<h>.yaml,
// endpoints on 127.0.0.1 and 127.0.0.2 at port). Ingress i is ns-<i%200>/ing-<i> for host
// host-<i%200>.example.com with the Prefix paths /r<i>/api and /r<i> to port 80 of Service
// svc-<i>: after conversion, n HTTPRoutes of 2 rules over RouteHosts hostnames.
func WriteIngressTree(dir string, n int, port int32) error {
	for h := range min(n, RouteHosts) {
		if err := WriteHostFile(dir, n, h, nil); err != nil {
			return err
		}
		var b strings.Builder
		for i := h; i < n; i += RouteHosts {
			ns, svc := routeNames(i)
			fmt.Fprintf(&b, `apiVersion: v1
kind: Service
metadata: {name: %[2]s, namespace: %[1]s}
spec: {ports: [{name: http, port: 80, targetPort: %[3]d}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: %[2]s-1, namespace: %[1]s, labels: {kubernetes.io/service-name: %[2]s}}
addressType: IPv4
ports: [{name: http, port: %[3]d}]
endpoints:
- {addresses: ["127.0.0.1"], conditions: {ready: true}}
- {addresses: ["127.0.0.2"], conditions: {ready: true}}
---
`, ns, svc, port)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("services-%d.yaml", h)), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WriteHostFile (re)writes the Ingress file of hostname h; paths overrides the first path
// of some Ingresses (by index), which is how the benchmark changes one Ingress.
func WriteHostFile(dir string, n, h int, paths map[int]string) error {
	var b strings.Builder
	for i := h; i < n; i += RouteHosts {
		ns, svc := routeNames(i)
		first := fmt.Sprintf("/r%d/api", i)
		if p, ok := paths[i]; ok {
			first = p
		}
		fmt.Fprintf(&b, `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ing-%[1]d
  namespace: %[2]s
  creationTimestamp: "%[6]s"
spec:
  ingressClassName: nginx
  rules:
  - host: %[3]s
    http:
      paths:
      - {path: %[4]s, pathType: Prefix, backend: {service: {name: %[5]s, port: {number: 80}}}}
      - {path: /r%[1]d, pathType: Prefix, backend: {service: {name: %[5]s, port: {number: 80}}}}
---
`, i, ns, RouteHost(i), first, svc, BaseTime.Add(time.Duration(i)*time.Second).Format("2006-01-02T15:04:05Z"))
	}
	return os.WriteFile(filepath.Join(dir, fmt.Sprintf("ingresses-%d.yaml", h)), []byte(b.String()), 0o644)
}
