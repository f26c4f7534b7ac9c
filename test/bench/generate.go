package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Namespaces is the number of namespaces the generated Ingresses are spread over.
const Namespaces = 200

// BaseTime is the creationTimestamp of Ingress 0; Ingress i is i seconds younger, so the
// age order (oldest wins in ingress-nginx) is the index order.
var BaseTime = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// Annotations are the three annotations every generated Ingress carries.
var Annotations = map[string]string{
	"nginx.ingress.kubernetes.io/proxy-body-size":    "8m",
	"nginx.ingress.kubernetes.io/proxy-read-timeout": "120",
	"nginx.ingress.kubernetes.io/ssl-redirect":       "true",
}

// Generate returns n Ingresses and their n Services, deterministically: Ingress i is
// ns-<i%200>/app-<i> for host app-<i>.example.com with TLS (Secret app-<i>-tls), the paths
// / and /api (Prefix) to port "http" of Service app-<i>, IngressClass nginx, the three
// Annotations and creationTimestamp BaseTime + i seconds. Service app-<i> maps port http 80
// to targetPort 8080.
func Generate(n int) (ingresses []networkingv1.Ingress, services []corev1.Service) {
	ingresses = make([]networkingv1.Ingress, n)
	services = make([]corev1.Service, n)
	for i := range n {
		services[i] = service(i)
		ingresses[i] = ingress(i)
	}
	return ingresses, services
}

func names(i int) (namespace, name, host string, created metav1.Time) {
	name = "app-" + strconv.Itoa(i)
	return "ns-" + strconv.Itoa(i%Namespaces), name, name + ".example.com",
		metav1.NewTime(BaseTime.Add(time.Duration(i) * time.Second))
}

func service(i int) corev1.Service {
	ns, name, _, created := names(i)
	return corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: created},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{
				Name:       "http",
				Protocol:   corev1.ProtocolTCP,
				Port:       80,
				TargetPort: intstr.FromInt32(8080),
			}},
		},
	}
}

func ingress(i int) networkingv1.Ingress {
	ns, name, host, created := names(i)
	ann := make(map[string]string, len(Annotations))
	for k, v := range Annotations {
		ann[k] = v
	}
	class := "nginx"
	prefix := networkingv1.PathTypePrefix
	path := func(p string) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{
			Path:     p,
			PathType: &prefix,
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
				Name: name,
				Port: networkingv1.ServiceBackendPort{Name: "http"},
			}},
		}
	}
	return networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: created, Annotations: ann},
		Spec: networkingv1.IngressSpec{
			IngressClassName: &class,
			TLS:              []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: name + "-tls"}},
			Rules: []networkingv1.IngressRule{{
				Host: host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{path("/"), path("/api")},
				}},
			}},
		},
	}
}

// yamlPair is Service i then Ingress i, as kubectl would print them; it must describe the
// same objects as service(i) and ingress(i) (TestWriteYAMLMatchesGenerate checks it).
// Arguments: namespace, name, host, creationTimestamp.
const yamlPair = `apiVersion: v1
kind: Service
metadata:
  name: %[2]s
  namespace: %[1]s
  creationTimestamp: "%[4]s"
spec:
  type: ClusterIP
  selector:
    app: %[2]s
  ports:
  - name: http
    protocol: TCP
    port: 80
    targetPort: 8080
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: %[2]s
  namespace: %[1]s
  creationTimestamp: "%[4]s"
  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: 8m
    nginx.ingress.kubernetes.io/proxy-read-timeout: "120"
    nginx.ingress.kubernetes.io/ssl-redirect: "true"
spec:
  ingressClassName: nginx
  tls:
  - hosts:
    - %[3]s
    secretName: %[2]s-tls
  rules:
  - host: %[3]s
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: %[2]s
            port:
              name: http
      - path: /api
        pathType: Prefix
        backend:
          service:
            name: %[2]s
            port:
              name: http
`

// WriteYAML writes the n generated Services and Ingresses as one multi-document YAML stream:
// Service i, then Ingress i, separated by "---" lines.
func WriteYAML(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for i := range n {
		if i > 0 {
			if _, err := bw.WriteString("---\n"); err != nil {
				return err
			}
		}
		ns, name, host, created := names(i)
		if _, err := fmt.Fprintf(bw, yamlPair, ns, name, host, created.UTC().Format(time.RFC3339)); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteJSON writes the n generated Services and Ingresses as one JSON v1 List (as
// kubectl get -o json), Service i then Ingress i, one item per line.
func WriteJSON(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw) // Encode appends the newline between items
	if _, err := bw.WriteString("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"metadata\":{},\"items\":[\n"); err != nil {
		return err
	}
	for i := range n {
		if i > 0 {
			if _, err := bw.WriteString(","); err != nil {
				return err
			}
		}
		svc, ing := service(i), ingress(i)
		if err := enc.Encode(&svc); err != nil {
			return err
		}
		if _, err := bw.WriteString(","); err != nil {
			return err
		}
		if err := enc.Encode(&ing); err != nil {
			return err
		}
	}
	if _, err := bw.WriteString("]}\n"); err != nil {
		return err
	}
	return bw.Flush()
}
