package converters

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
)

// Input is everything the converter reads.
type Input struct {
	Ingresses      []networkingv1.Ingress
	IngressClasses []networkingv1.IngressClass
	// Services resolve named ports and check that backends exist.
	Services []corev1.Service
	// Secrets are checked for existence and content (TLS, basic auth); optional.
	Secrets []corev1.Secret
	// ControllerConfigMap is the ingress-nginx controller ConfigMap (global defaults); optional.
	ControllerConfigMap *corev1.ConfigMap
	// ConfigMaps are the input's ConfigMaps, read for custom-headers (its response
	// headers); an Ingress whose custom-headers ConfigMap is not here fails closed.
	ConfigMaps []corev1.ConfigMap
	// DropIn maps the Ingresses ("namespace/name") of a gatebridge IngressClass converted in
	// place of the converted class (DropIn) to their own class, which their report keeps.
	// In bridge mode they are served natively, whole, whatever their annotations.
	DropIn map[string]string
}

// Options are the converter settings.
type Options struct {
	// IngressClass to convert (default "nginx").
	IngressClass string
	// IncludeUnclassed converts Ingresses without a class even when IngressClass is not the
	// cluster's default IngressClass.
	IncludeUnclassed bool
	// AnnotationsPrefix as ingress-nginx's --annotations-prefix (default nginx.ingress.kubernetes.io).
	AnnotationsPrefix string
	// GatewayName and GatewayNamespace name the shared Gateway (default gatebridge-system/gatebridge).
	GatewayName      string
	GatewayNamespace string
	// GatewayClassName is the GatewayClass of the shared Gateway (default "gatebridge").
	GatewayClassName string
	// DefaultCertificate ("namespace/name") is used for TLS hosts without secretName, as
	// ingress-nginx's --default-ssl-certificate.
	DefaultCertificate string
	// MaxListenersPerGateway is 64 (the Gateway API limit); lowered only by tests.
	MaxListenersPerGateway int
	// Bridge: the Gateway stands in front of ingress-nginx (bridge.go). Each Ingress gets
	// its migration state in the report (IngressReport.Migration), only the ones opted in
	// with gatebridge.dev/migrate (or of the gatebridge IngressClass) are served natively,
	// and the locations of the others are handed to the data plane to go to the fallback.
	Bridge bool
	// PreviousWeights, in bridge mode, are the last valid gatebridge.dev/weight of each
	// Ingress ("namespace/name"): an invalid value keeps it (a finding says so). An
	// Ingress with an invalid weight and no previous one is served at weight 0.
	PreviousWeights map[string]int
	// Portable emits standard Gateway API kinds only (convert --portable, portable.go):
	// what only gatebridge's kinds can say is left out, and a finding on the Ingress says
	// what is lost; the ingress-nginx defaults policy is left out too (a global finding).
	Portable bool
	// SecretsNotInInput: the input holds no Secrets by design (the controller, reports of
	// a live cluster). Client-certificate CA Secrets are then checked by the data plane,
	// which fails closed itself; otherwise one absent from the input fails the Ingress
	// closed here.
	SecretsNotInInput bool
	// Encoder, when set, makes Convert a streaming conversion (stream.go): each part's
	// objects are encoded as soon as they are built and only their bytes are kept, in
	// Result.Encoded instead of Result.Objects. A new ObjectEncoder is asked for per
	// goroutine. Incremental ignores it.
	Encoder func() ObjectEncoder
}

// ControllerName is the GatewayClass controllerName of gatebridge.
const ControllerName = "gatebridge.dev/gateway-controller"

// IngressNginxController is the IngressClass controller of ingress-nginx.
const IngressNginxController = "k8s.io/ingress-nginx"

func (o Options) withDefaults() Options {
	if o.IngressClass == "" {
		o.IngressClass = "nginx"
	}
	if o.AnnotationsPrefix == "" {
		o.AnnotationsPrefix = annotations.DefaultPrefix
	}
	if o.GatewayName == "" {
		o.GatewayName = "gatebridge"
	}
	if o.GatewayNamespace == "" {
		o.GatewayNamespace = "gatebridge-system"
	}
	if o.GatewayClassName == "" {
		o.GatewayClassName = "gatebridge"
	}
	if o.MaxListenersPerGateway <= 0 || o.MaxListenersPerGateway > 64 {
		o.MaxListenersPerGateway = 64
	}
	return o
}
