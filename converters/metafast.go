package converters

import (
	"strings"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Every input object's metadata is validated as the API server validates it (validate.go).
// apimachinery's rules are regular expressions, and its errors are built as they are met:
// at 5,000 Ingresses with their Services that was ~7% of `gatebridge convert`'s CPU time
// for metadata that is nearly always valid. plainlyValidMeta answers the common case with
// byte loops that accept a subset of what apimachinery accepts (a plain name, labels and
// annotations, nothing else set); whatever it does not accept is validated by apimachinery
// itself, which then gives the errors. TestPlainlyValidMetaAgreesWithApimachinery and
// FuzzPlainlyValidMeta hold the subset to apimachinery's rules.

// nameRule is how an object's name is validated: apimachinery's function, and the byte
// loop that accepts the same names (plainlyValidMeta).
type nameRule struct {
	validate     apimachineryvalidation.ValidateNameFunc
	plainlyValid func(string) bool
}

var (
	dnsSubdomainName = nameRule{apimachineryvalidation.NameIsDNSSubdomain, isDNS1123Subdomain}
	dnsLabelName     = nameRule{apimachineryvalidation.NameIsDNSLabel, isDNS1123Label}
)

// plainlyValidMeta reports whether meta certainly passes apimachinery's ValidateObjectMeta
// with this name rule; false says nothing (validate it).
func plainlyValidMeta(meta *metav1.ObjectMeta, namespaced bool, name nameRule) bool {
	if meta.GenerateName != "" || meta.Generation < 0 || len(meta.OwnerReferences) > 0 ||
		len(meta.Finalizers) > 0 || len(meta.ManagedFields) > 0 || !name.plainlyValid(meta.Name) {
		return false
	}
	if namespaced != (meta.Namespace != "") || namespaced && !isDNS1123Label(meta.Namespace) {
		return false
	}
	for k, v := range meta.Labels {
		if !isQualifiedName(k) || !isLabelValue(v) {
			return false
		}
	}
	size := 0
	for k, v := range meta.Annotations {
		// Annotation keys are qualified names whatever their case.
		if !isQualifiedName(strings.ToLower(k)) {
			return false
		}
		size += len(k) + len(v)
	}
	return size <= apimachineryvalidation.TotalAnnotationSizeLimitB
}

// isDNS1123Label: 1 to 63 of [a-z0-9-], starting and ending with a letter or digit.
func isDNS1123Label(s string) bool {
	return len(s) <= 63 && isDNSLabelChars(s)
}

// isDNS1123Subdomain: at most 253 bytes of DNS-1123 labels (of any length) joined by dots.
func isDNS1123Subdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if !isDNSLabelChars(label) {
			return false
		}
	}
	return true
}

// isDNSLabelChars: not empty, [a-z0-9-], starting and ending with a letter or digit.
func isDNSLabelChars(s string) bool {
	if s == "" || !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isLowerAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

// isQualifiedName: a name part, optionally after a DNS-1123 subdomain prefix and a slash.
func isQualifiedName(s string) bool {
	prefix, name, found := strings.Cut(s, "/")
	if !found {
		return isQualifiedNamePart(s)
	}
	return isDNS1123Subdomain(prefix) && isQualifiedNamePart(name)
}

// isQualifiedNamePart: 1 to 63 of [A-Za-z0-9-_.], starting and ending with a letter or digit.
func isQualifiedNamePart(s string) bool {
	return s != "" && isLabelValue(s)
}

// isLabelValue: empty, or 1 to 63 of [A-Za-z0-9-_.] starting and ending with a letter or digit.
func isLabelValue(s string) bool {
	if s == "" {
		return true
	}
	if len(s) > 63 || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isLowerAlnum(c) || 'A' <= c && c <= 'Z' }
