package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of gatebridge's extension kinds.
var GroupVersion = schema.GroupVersion{Group: "gatebridge.dev", Version: "v1alpha1"}

// SchemeBuilder registers the kinds of this package with a runtime.Scheme.
var SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

// AddToScheme adds the kinds of this package to a scheme.
var AddToScheme = SchemeBuilder.AddToScheme

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion,
		&TrafficPolicy{}, &TrafficPolicyList{},
		&RouteFilter{}, &RouteFilterList{},
	)
	metav1AddToGroupVersion(scheme)
	return nil
}
