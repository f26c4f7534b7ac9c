package converters

import (
	networkingv1 "k8s.io/api/networking/v1"
)

// legacyClassAnnotation is the pre-IngressClass way to name a class; ingress-nginx still
// honours it.
const legacyClassAnnotation = "kubernetes.io/ingress.class"

// classSelector decides which Ingresses belong to the converted class.
type classSelector struct {
	class string
	// classIsDefault: the converted class is the cluster's default IngressClass.
	classIsDefault bool
	// classNames are the IngressClass object names handled by ingress-nginx (controller
	// k8s.io/ingress-nginx) — the converted class counts even if not listed.
	includeUnclassed bool
}

func newClassSelector(opts Options, classes []networkingv1.IngressClass) classSelector {
	cs := classSelector{class: opts.IngressClass, includeUnclassed: opts.IncludeUnclassed}
	for _, c := range classes {
		if c.Name == opts.IngressClass && c.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true" {
			cs.classIsDefault = true
		}
	}
	return cs
}

// decide returns the effective class of ing, whether it is selected and, if not, why.
func (cs classSelector) decide(ing *networkingv1.Ingress) (class string, selected bool, why string) {
	switch {
	case ing.Spec.IngressClassName != nil && *ing.Spec.IngressClassName != "":
		class = *ing.Spec.IngressClassName
	case ing.Annotations[legacyClassAnnotation] != "":
		class = ing.Annotations[legacyClassAnnotation]
	}
	if class == cs.class {
		return class, true, ""
	}
	if class != "" {
		return class, false, "belongs to IngressClass " + class + ", not " + cs.class + " (use --ingress-class " + class + " to convert it)"
	}
	if cs.classIsDefault {
		return "", true, ""
	}
	if cs.includeUnclassed {
		return "", true, ""
	}
	return "", false, "has no IngressClass and " + cs.class + " is not marked as the default IngressClass in the input; pass --include-unclassed to convert it (ingress-nginx serves it only with --watch-ingress-without-class)"
}
