package v1alpha1

// CipherSuiteNames are the values FrontendTLSPolicy.CipherSuites accepts (the CRD's enum):
// the TLS 1.2 suites Envoy's BoringSSL offers to clients with a certificate. Envoy refuses
// a listener naming any other, so the data plane checks them again for objects that did not
// go through the API server.
var CipherSuiteNames = []string{
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
	"ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA", "AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA", "AES256-SHA",
}
