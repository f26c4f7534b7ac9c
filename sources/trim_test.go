package sources

import (
	"os"
	"path/filepath"
	"testing"
)

// exported is an Ingress, a Service and a Secret as `kubectl get -o yaml` exports them:
// managedFields, status and a field no Go type knows.
const exported = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  managedFields:
  - manager: kubectl
    operation: Update
    fieldsType: FieldsV1
    fieldsV1: {"f:spec": {"f:rules": {}}}
  unknownMetadataField: x
spec:
  rules:
  - host: shop.example
status:
  loadBalancer:
    ingress:
    - ip: 203.0.113.7
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  managedFields:
  - manager: kube-controller-manager
    operation: Update
spec:
  ports: [{port: 80}]
status:
  loadBalancer:
    ingress:
    - ip: 203.0.113.8
---
apiVersion: v1
kind: Secret
metadata:
  name: tls
  namespace: shop
  managedFields: [{manager: kubectl}]
type: kubernetes.io/tls
`

// TestDecodeKeepsOnlyWhatConversionReads: managedFields and the status of Ingresses and
// Services are not kept; the rest is.
func TestDecodeKeepsOnlyWhatConversionReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "export.yaml")
	if err := os.WriteFile(path, []byte(exported), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := ReadPaths([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Problems) > 0 || len(l.Input.Ingresses) != 1 || len(l.Input.Services) != 1 || len(l.Input.Secrets) != 1 {
		t.Fatalf("read %+v, problems %+v", l.Input, l.Problems)
	}
	ing, svc, sec := l.Input.Ingresses[0], l.Input.Services[0], l.Input.Secrets[0]
	if ing.ManagedFields != nil || len(ing.Status.LoadBalancer.Ingress) > 0 {
		t.Errorf("Ingress keeps managedFields %v or status %+v", ing.ManagedFields, ing.Status)
	}
	if ing.Spec.Rules[0].Host != "shop.example" || ing.Name != "web" {
		t.Errorf("Ingress = %+v", ing)
	}
	if svc.ManagedFields != nil || len(svc.Status.LoadBalancer.Ingress) > 0 || svc.Spec.Ports[0].Port != 80 {
		t.Errorf("Service = %+v", svc)
	}
	if sec.ManagedFields != nil || sec.Type != "kubernetes.io/tls" {
		t.Errorf("Secret = %+v", sec)
	}
}

// TestReadPathsPointersIntoInput: Loaded.Services and Secrets of ReadPaths point at
// Input's objects, so that the decoded documents are not held twice.
func TestReadPathsPointersIntoInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "export.yaml")
	if err := os.WriteFile(path, []byte(exported), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := ReadPaths([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Services) != 1 || l.Services[0] != &l.Input.Services[0] || len(l.Secrets) != 1 || l.Secrets[0] != &l.Input.Secrets[0] {
		t.Errorf("Services %p (Input %p), Secrets %p (Input %p)", l.Services, &l.Input.Services[0], l.Secrets, &l.Input.Secrets[0])
	}
}
