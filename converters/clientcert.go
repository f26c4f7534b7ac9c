package converters

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gatebridge-dev/gatebridge/annotations"
	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/internal/clientca"
)

// checkClientCA checks the CA Secret of an Ingress's auth-tls-secret. ingress-nginx denies
// the Ingress's locations (503) when it cannot read the CA, and the Ingress's auth-tls-*
// then do not become its host's: so does gatebridge, never serving the host's paths of
// that Ingress without client certificates. A Secret absent from the input counts as
// unusable unless Options.SecretsNotInInput says the input holds no Secrets by design (the
// controller, where the data plane checks the Secret and fails closed itself).
func (c *converter) checkClientCA(s *source) {
	ref := s.ann.ClientCert.Secret
	if ref == "" {
		return
	}
	ns, name := splitRef(ref, s.ing.Namespace)
	if c.opts.SecretsNotInInput {
		return
	}
	var why string
	sec, ok := c.model.secrets[ns+"/"+name]
	if !ok {
		why = fmt.Sprintf("Secret %s/%s is not in the input, so its CA cannot be checked: ingress-nginx denies these paths (503) until it exists, and so does gatebridge (fails closed); include the Secret in the input (kubectl get secret -n %s %s -o yaml)", ns, name, ns, name)
	} else if _, err := clientca.Check(secretData(sec, "ca.crt"), secretData(sec, "ca.crl")); err != nil {
		why = fmt.Sprintf("Secret %s/%s cannot be used as the client CA (%v): ingress-nginx denies these paths (503), and so does gatebridge (fails closed); put the CA certificates in ca.crt (PEM) and, optionally, revocation lists in ca.crl (PEM)", ns, name, err)
	}
	if why == "" {
		return
	}
	s.add(Finding{Annotation: "auth-tls-secret", Value: ref, Level: annotations.Exact, Severity: SeverityError, Message: why})
	s.denied = append(s.denied, "auth-tls-secret "+ns+"/"+name+" unusable")
	s.clientCAInvalid = true
}

// clientCertificatePolicy is frontendTLS.clientCertificate for the auth-tls-* of src, and
// the namespace of its CA Secret.
func clientCertificatePolicy(src *source) (*gbv1.ClientCertificatePolicy, string) {
	cc := src.ann.ClientCert
	ns, name := splitRef(cc.Secret, src.ing.Namespace)
	return &gbv1.ClientCertificatePolicy{
		CACertificateRef:   gwv1.SecretObjectReference{Name: gwv1.ObjectName(name), Namespace: ptr(gwv1.Namespace(ns))},
		Mode:               clientCertModes[cc.Verify],
		VerifyDepth:        int32(cc.Depth),
		ErrorPageURL:       cc.ErrorPage,
		ForwardCertificate: cc.PassCertificate,
		SubjectMatch:       cc.MatchCN,
	}, ns
}

// clientCertModes maps auth-tls-verify-client to the policy's modes.
var clientCertModes = map[annotations.VerifyClient]gbv1.ClientCertificateMode{
	annotations.VerifyOn:           gbv1.ClientCertificateRequired,
	annotations.VerifyOptional:     gbv1.ClientCertificateOptional,
	annotations.VerifyOptionalNoCA: gbv1.ClientCertificateOptionalNoCA,
	annotations.VerifyOff:          gbv1.ClientCertificateNotRequested,
}

// secretData is a Secret's key, from data or (for input files not yet through the API
// server) stringData.
func secretData(sec *corev1.Secret, key string) []byte {
	if b, ok := sec.Data[key]; ok {
		return b
	}
	if v, ok := sec.StringData[key]; ok {
		return []byte(v)
	}
	return nil
}
