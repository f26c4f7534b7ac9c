package sources

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// ReadCluster lists Ingresses, IngressClasses and Services (namespace "" = all) and the
// ingress-nginx ConfigMap from a live cluster. Secrets are not read: the converter only
// needs their names, and reading them would need far more privilege than a report should.
func ReadCluster(ctx context.Context, kubeconfig, namespace, configMap string) (*Loaded, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %s: %w", kubeconfig, err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating client: %w", err)
	}
	l := &Loaded{Ignored: map[string]int{}}
	ings, err := cs.NetworkingV1().Ingresses(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Ingresses: %w", err)
	}
	l.Input.Ingresses = ings.Items
	classes, err := cs.NetworkingV1().IngressClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing IngressClasses: %w", err)
	}
	l.Input.IngressClasses = classes.Items
	svcs, err := cs.CoreV1().Services(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Services: %w", err)
	}
	l.Input.Services = svcs.Items
	for i := range l.Input.Services {
		TrimService(&l.Input.Services[i])
	}
	// pipeline.Build reads Loaded.Services, convert and report read Input.Services: fill
	// both, as the file reader does, so a cluster read builds a model with its Services.
	l.Services = make([]*corev1.Service, len(l.Input.Services))
	for i := range l.Input.Services {
		l.Services[i] = &l.Input.Services[i]
	}
	if configMap != "" {
		ns, name := splitNamespaced(configMap)
		cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading ConfigMap %s: %w", configMap, err)
		}
		l.Input.ControllerConfigMap = cm
	}
	return l, nil
}

func splitNamespaced(ref string) (string, string) {
	for i := 0; i < len(ref); i++ {
		if ref[i] == '/' {
			return ref[:i], ref[i+1:]
		}
	}
	return "default", ref
}
