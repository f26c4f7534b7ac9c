package converters

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gatebridge-dev/gatebridge/internal/parallel"
)

// Input objects are validated as the kube-apiserver (v1.37) validates them on create, before
// anything is converted: an object the API server rejects never exists in a cluster, so
// ingress-nginx never saw it, and gatebridge must not let it shape anything. An invalid
// Ingress is refused and converted as if it were absent (it claims no host, path,
// certificate or listener); an invalid Service, Secret, IngressClass or ConfigMap is ignored.
// The rules are those of k8s.io/kubernetes pkg/apis/networking/validation (Ingress create)
// and the metadata rules of apimachinery, which are called directly.

// ValidateIngress validates ing as the kube-apiserver validates the creation of a
// networking.k8s.io/v1 Ingress: its metadata (name, namespace, labels, annotations) and its
// spec (hosts, paths and pathTypes, backends, TLS, ingressClassName). Each problem is one
// finding naming the field, the value and the rule; none means the API server accepts it.
func ValidateIngress(ing *networkingv1.Ingress) []Finding {
	errs := validateObjectMeta(&ing.ObjectMeta, true, dnsSubdomainName)
	errs = append(errs, validateIngressSpec(&ing.Spec, field.NewPath("spec"))...)
	if class, ok := ing.Annotations[legacyClassAnnotation]; ok && ing.Spec.IngressClassName != nil && class != *ing.Spec.IngressClassName {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "annotations").Key(legacyClassAnnotation), class, "must match `ingressClassName` when both are specified"))
	}
	return apiFindings(errs, "Ingress")
}

// validateIngressSpec checks the spec: rules or a default backend, each backend, each rule
// and each tls entry, the class name.
func validateIngressSpec(spec *networkingv1.IngressSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
		errs = append(errs, field.Invalid(path, "", "either `defaultBackend` or `rules` must be specified"))
	}
	if spec.DefaultBackend != nil {
		errs = append(errs, validateIngressBackend(spec.DefaultBackend, path.Child("defaultBackend"))...)
	}
	for i := range spec.Rules {
		errs = append(errs, validateIngressRule(&spec.Rules[i], path.Child("rules").Index(i))...)
	}
	for i, t := range spec.TLS {
		tp := path.Child("tls").Index(i)
		for j, h := range t.Hosts {
			errs = append(errs, hostErrors(h, tp.Child("hosts").Index(j), false)...)
		}
		if t.SecretName != "" {
			for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(t.SecretName, false) {
				errs = append(errs, field.Invalid(tp.Child("secretName"), t.SecretName, msg))
			}
		}
	}
	if spec.IngressClassName != nil {
		for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(*spec.IngressClassName, false) {
			errs = append(errs, field.Invalid(path.Child("ingressClassName"), *spec.IngressClassName, msg))
		}
	}
	return errs
}

// hostErrors checks a hostname: a lowercase DNS-1123 subdomain, optionally starting with
// "*." (one label), and — for rule hosts — not an IP address.
func hostErrors(host string, path *field.Path, rule bool) field.ErrorList {
	var errs field.ErrorList
	if rule && isIPAddress(host) {
		errs = append(errs, field.Invalid(path, host, "must be a DNS name, not an IP address"))
	}
	var msgs []string
	switch {
	case !strings.Contains(host, "*"):
		msgs = validation.IsDNS1123Subdomain(host)
	case isWildcardSubdomain(host):
	default:
		msgs = validation.IsWildcardDNS1123Subdomain(host)
	}
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(path, host, msg))
	}
	return errs
}

// isWildcardSubdomain is the fast answer of validation.IsWildcardDNS1123Subdomain for a
// valid host ("*." and a DNS-1123 subdomain, 253 characters at most), which compiles its
// regular expression on every call; that one is asked only for the messages of an invalid
// host.
func isWildcardSubdomain(host string) bool {
	rest, ok := strings.CutPrefix(host, "*.")
	return ok && len(host) <= 253 && len(validation.IsDNS1123Subdomain(rest)) == 0
}

// isIPAddress is the API server's IP test for hosts: IPv6, or IPv4 with leading zeros
// allowed ("010.1.1.1" counts, as its sloppy parser reads it).
func isIPAddress(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || p == "" || n > 255 {
			return false
		}
	}
	return true
}

func validateIngressRule(r *networkingv1.IngressRule, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r.Host != "" {
		errs = append(errs, hostErrors(r.Host, path.Child("host"), true)...)
	}
	if r.HTTP == nil {
		return errs
	}
	hp := path.Child("http")
	if len(r.HTTP.Paths) == 0 {
		errs = append(errs, field.Required(hp.Child("paths"), "must list at least one path"))
	}
	for i := range r.HTTP.Paths {
		errs = append(errs, validateIngressPath(&r.HTTP.Paths[i], hp.Child("paths").Index(i))...)
	}
	return errs
}

// invalidPathSequences and invalidPathSuffixes are refused in Exact and Prefix paths.
var (
	invalidPathSequences = []string{"//", "/./", "/../", "%2f", "%2F"}
	invalidPathSuffixes  = []string{"/..", "/."}
)

// validateIngressPath checks one path: pathType Exact, Prefix or ImplementationSpecific;
// Exact and Prefix paths absolute and free of dot segments, double slashes and encoded
// slashes; ImplementationSpecific paths absolute when set; and its backend.
func validateIngressPath(p *networkingv1.HTTPIngressPath, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if p.PathType == nil {
		return append(errs, field.Required(path.Child("pathType"), "must be set: Exact, Prefix or ImplementationSpecific"))
	}
	pp := path.Child("path")
	switch *p.PathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
		if !strings.HasPrefix(p.Path, "/") {
			errs = append(errs, field.Invalid(pp, p.Path, "must be an absolute path"))
		}
		if p.Path != "" {
			for _, seq := range invalidPathSequences {
				if strings.Contains(p.Path, seq) {
					errs = append(errs, field.Invalid(pp, p.Path, fmt.Sprintf("must not contain '%s'", seq)))
				}
			}
			for _, suffix := range invalidPathSuffixes {
				if strings.HasSuffix(p.Path, suffix) {
					errs = append(errs, field.Invalid(pp, p.Path, fmt.Sprintf("cannot end with '%s'", suffix)))
				}
			}
		}
	case networkingv1.PathTypeImplementationSpecific:
		if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
			errs = append(errs, field.Invalid(pp, p.Path, "must be an absolute path"))
		}
	default:
		errs = append(errs, field.NotSupported(path.Child("pathType"), *p.PathType, []string{"Exact", "ImplementationSpecific", "Prefix"}))
	}
	return append(errs, validateIngressBackend(&p.Backend, path.Child("backend"))...)
}

// validateIngressBackend checks a backend: exactly one of service and resource; a service
// with a name (a DNS-1123 label: Kubernetes 1.37 validates Service names so) and exactly
// one of a port name and a port number.
func validateIngressBackend(b *networkingv1.IngressBackend, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case b.Resource != nil && b.Service != nil:
		return append(errs, field.Invalid(path, "", "cannot set both resource and service backends"))
	case b.Resource != nil:
		errs = append(errs, validateResourceBackend(b.Resource, path.Child("resource"))...)
	case b.Service != nil:
		sp := path.Child("service")
		if b.Service.Name == "" {
			errs = append(errs, field.Required(sp.Child("name"), "must name a Service"))
		} else {
			for _, msg := range apimachineryvalidation.NameIsDNSLabel(b.Service.Name, false) {
				errs = append(errs, field.Invalid(sp.Child("name"), b.Service.Name, msg))
			}
		}
		port := b.Service.Port
		switch {
		case port.Name != "" && port.Number != 0:
			errs = append(errs, field.Invalid(path, "", "cannot set both port name & port number"))
		case port.Name != "":
			for _, msg := range validation.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(sp.Child("port", "name"), port.Name, msg))
			}
		case port.Number != 0:
			for _, msg := range validation.IsValidPortNum(int(port.Number)) {
				errs = append(errs, field.Invalid(sp.Child("port", "number"), port.Number, msg))
			}
		default:
			errs = append(errs, field.Required(path, "must give a port name (service.port.name) or number (service.port.number)"))
		}
	default:
		errs = append(errs, field.Invalid(path, "", "resource or service backend is required"))
	}
	return errs
}

// validateResourceBackend checks a resource backend reference (apiGroup, kind, name).
func validateResourceBackend(r *corev1.TypedLocalObjectReference, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r.APIGroup != nil {
		for _, msg := range validation.IsDNS1123Subdomain(*r.APIGroup) {
			errs = append(errs, field.Invalid(path.Child("apiGroup"), *r.APIGroup, msg))
		}
	}
	for _, f := range []struct{ name, value string }{{"kind", r.Kind}, {"name", r.Name}} {
		if f.value == "" {
			errs = append(errs, field.Required(path.Child(f.name), "must be set"))
			continue
		}
		for _, msg := range validPathSegment(f.value) {
			errs = append(errs, field.Invalid(path.Child(f.name), f.value, msg))
		}
	}
	return errs
}

// validPathSegment is the API server's rule for names used in a URL path segment.
func validPathSegment(s string) []string {
	if s == "." || s == ".." {
		return []string{fmt.Sprintf("may not be '%s'", s)}
	}
	var msgs []string
	for _, bad := range []string{"/", "%"} {
		if strings.Contains(s, bad) {
			msgs = append(msgs, fmt.Sprintf("may not contain '%s'", bad))
		}
	}
	return msgs
}

// validateMeta validates the metadata of another input object (Service, Secret, ConfigMap:
// namespaced, names a DNS-1123 label for Services and a subdomain otherwise; IngressClass:
// cluster-scoped, its namespace cleared as the API server clears it).
func validateMeta(kind string, meta metav1.ObjectMeta) []Finding {
	name, namespaced := dnsSubdomainName, true
	switch kind {
	case "Service":
		name = dnsLabelName
	case "IngressClass":
		namespaced, meta.Namespace = false, ""
	}
	return apiFindings(validateObjectMeta(&meta, namespaced, name), kind)
}

// validateObjectMeta is apimachinery's metadata validation, its errors in a stable order
// (it walks the labels and annotations maps in random order).
func validateObjectMeta(meta *metav1.ObjectMeta, namespaced bool, name nameRule) field.ErrorList {
	if plainlyValidMeta(meta, namespaced, name) {
		return nil
	}
	errs := apimachineryvalidation.ValidateObjectMeta(meta, namespaced, name.validate, field.NewPath("metadata"))
	slices.SortStableFunc(errs, func(a, b *field.Error) int {
		return cmp.Or(cmp.Compare(a.Field, b.Field), cmp.Compare(fmt.Sprint(a.BadValue), fmt.Sprint(b.BadValue)), cmp.Compare(a.Detail, b.Detail))
	})
	return errs
}

// apiFindings turns the API server's errors into findings, one per error.
func apiFindings(errs field.ErrorList, kind string) []Finding {
	if len(errs) == 0 {
		return nil
	}
	out := make([]Finding, 0, len(errs))
	for _, e := range errs {
		f := Finding{Field: e.Field, Severity: SeverityError}
		switch e.Type {
		case field.ErrorTypeRequired:
			f.Message = cmp.Or(e.Detail, "must be set")
		case field.ErrorTypeNotSupported:
			f.Value = displayValue(fmt.Sprint(e.BadValue))
			f.Message = "is not supported; " + e.Detail
		case field.ErrorTypeTooLong, field.ErrorTypeTooMany:
			f.Message = e.ErrorBody()
		default:
			if s := fmt.Sprint(e.BadValue); s != "" {
				f.Value = displayValue(s)
			}
			f.Message = cmp.Or(e.Detail, e.ErrorBody())
		}
		f.Message += "; the API server rejects this " + kind
		out = append(out, f)
	}
	return out
}

// displayValue shortens a value for the report: a finding names the value, it does not
// carry 50 MB of it.
func displayValue(v string) string {
	const max = 256
	if len(v) <= max {
		return v
	}
	cut := v[:max]
	for !utf8.ValidString(cut) {
		cut = cut[:len(cut)-1]
	}
	return fmt.Sprintf("%s… (%d bytes)", cut, len(v))
}

// ingressChecks remembers ValidateIngress for the Ingresses of one conversion, by input
// index: the partitioner asks first (an invalid Ingress ties to nothing), selectOne
// reports. Each index is checked by one goroutine at a time.
type ingressChecks struct {
	ings     []networkingv1.Ingress
	done     []bool
	findings [][]Finding
}

func newIngressChecks(ings []networkingv1.Ingress) *ingressChecks {
	return &ingressChecks{ings: ings, done: make([]bool, len(ings)), findings: make([][]Finding, len(ings))}
}

// checkAll checks every Ingress not checked yet, on all cores. A full partition asks for
// every selected Ingress, and analyse for every Ingress, one after the other: checked here
// first, the partitioner's sequential pass only reads the answers (ValidateIngress is
// ~8 µs an Ingress, 40 ms of 5,000).
func (ic *ingressChecks) checkAll() {
	parallel.For(len(ic.ings), func(i int) { ic.of(i) })
}

// of returns the API server's objections to Ingress i (none: it is valid).
func (ic *ingressChecks) of(i int) []Finding {
	if !ic.done[i] {
		ic.findings[i], ic.done[i] = ValidateIngress(&ic.ings[i]), true
	}
	return ic.findings[i]
}

// objectFindings are the API server's objections to the metadata of a Service, Secret,
// IngressClass or ConfigMap of the input, as global findings naming the object and the
// field; such an object never exists in a cluster, so the conversion ignores it.
func objectFindings(kind, namespace, name string, meta metav1.ObjectMeta) []Finding {
	fs := validateMeta(kind, meta)
	id := name
	if namespace != "" && kind != "IngressClass" {
		id = namespace + "/" + name
	}
	for i := range fs {
		fs[i].Field = kind + " " + id + " " + fs[i].Field
		fs[i].Severity = SeverityWarning
		fs[i].Message += ", so gatebridge ignores it"
	}
	return fs
}
