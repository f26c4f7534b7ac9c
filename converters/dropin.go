package converters

import (
	networkingv1 "k8s.io/api/networking/v1"
)

// DropInController is the spec.controller of a gatebridge IngressClass: its Ingresses are
// served by gatebridge with ingress-nginx's semantics, without being opted in (drop-in).
const DropInController = "gatebridge.dev/ingress-controller"

// DropIn returns in as the converter reads it with drop-in Ingresses: each Ingress of a
// gatebridge IngressClass (controller DropInController) other than convertedClass is
// replaced by a shallow copy naming convertedClass, and Input.DropIn maps it
// ("namespace/name") to its own class, which its report keeps. In bridge mode such an
// Ingress is served natively, whole. in itself is not modified; with no gatebridge
// IngressClass it is returned as it is.
func DropIn(in Input, convertedClass string) Input {
	if convertedClass == "" {
		convertedClass = Options{}.withDefaults().IngressClass
	}
	own := map[string]bool{}
	for _, c := range in.IngressClasses {
		if c.Spec.Controller == DropInController && c.Name != convertedClass {
			own[c.Name] = true
		}
	}
	if len(own) == 0 {
		return in
	}
	ings := make([]networkingv1.Ingress, len(in.Ingresses))
	dropIn := map[string]string{}
	for i, ing := range in.Ingresses {
		if class := ingressClassOf(&ing); own[class] {
			dropIn[ing.Namespace+"/"+ing.Name] = class
			ing = asClass(ing, convertedClass)
		}
		ings[i] = ing
	}
	in.Ingresses, in.DropIn = ings, dropIn
	return in
}

func ingressClassOf(ing *networkingv1.Ingress) string {
	if c := ing.Spec.IngressClassName; c != nil && *c != "" {
		return *c
	}
	return ing.Annotations[legacyClassAnnotation]
}

// asClass returns a shallow copy of ing naming class; what it shares with ing is not
// modified (an informer cache's objects are read-only).
func asClass(ing networkingv1.Ingress, class string) networkingv1.Ingress {
	ing.Spec.IngressClassName = &class
	if _, ok := ing.Annotations[legacyClassAnnotation]; ok {
		ann := make(map[string]string, len(ing.Annotations))
		for k, v := range ing.Annotations {
			if k != legacyClassAnnotation {
				ann[k] = v
			}
		}
		ing.Annotations = ann
	}
	return ing
}
