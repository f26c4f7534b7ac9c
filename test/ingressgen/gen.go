// Package ingressgen generates random Ingress sets for property tests: ordinary ones and
// hostile ones — placeholder, uppercase, wildcard and overlong hosts, paths and pathTypes the
// API server refuses, annotations of the catalog with valid and invalid values, Services with
// named and numbered ports, TLS sections, canaries, default backends. Set(seed, i) is a pure
// function of its arguments, so a failing set is reproduced from the two numbers alone.
//
// Mutate and InvalidObjects make objects the API server must refuse, to show that offline
// validation and the API server agree on rejections too.
package ingressgen

import (
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/gatebridge-dev/gatebridge/annotations"
	"github.com/gatebridge-dev/gatebridge/converters"
)

// Set is one generated conversion input with the options to convert it with.
type Set struct {
	Seed    int64
	Index   int
	Input   converters.Input
	Options converters.Options
}

// Name says how to reproduce the set.
func (s Set) Name() string { return fmt.Sprintf("seed %d set %d", s.Seed, s.Index) }

// long returns a string of n copies of c.
func long(c string, n int) string { return strings.Repeat(c, n) }

// hostPool are the hosts a rule or TLS section draws from, by kind.
var hostPool = map[string][]string{
	"valid":       {"shop.example.com", "api.example.com", "www.example.com", "example.com", "a.b.c.example.org", "xn--bcher-kva.example", "app-1.internal"},
	"wildcard":    {"*.example.com", "*.apps.example.org"},
	"placeholder": {"registry.<your domain>", "__ingress_host__", "{{ .Values.host }}", "${HOST}", "chart-example.local", "<no value>"},
	"uppercase":   {"Shop.Example.com", "API.EXAMPLE.COM"},
	"overlong":    {long("a", 64) + ".example.com", strings.TrimSuffix(long("abcdefghi.", 26), ".") + ".example.com"},
	"odd":         {"*", "10.0.0.1", "example.com.", "example.com:8080", "bücher.example", "a..example.com", "-a.example.com", "*.*.example.com", "foo.*.example.com", " shop.example.com"},
	"empty":       {""},
}

var (
	hostKinds        = []weighted{{"valid", 85}, {"wildcard", 10}, {"empty", 5}}
	hostileHostKinds = []weighted{{"placeholder", 8}, {"uppercase", 6}, {"overlong", 5}, {"odd", 8}}
)

// Paths and pathTypes: the ordinary ones, and the hostile ones only a hostile Ingress uses.
var (
	paths = []weighted{
		{"/", 10}, {"/api", 12}, {"/api/v1", 6}, {"/app(/|$)(.*)", 5}, {"/.well-known/acme-challenge", 2},
		{"/static/", 4}, {"/Mixed/Case", 2}, {"/café", 1}, {"/api/*", 1}, {"/(foo|bar)", 2},
	}
	hostilePaths = []weighted{
		{"api", 3}, {"", 2}, {"/foo//bar", 1}, {"/a b", 2}, {"/%2F..", 1}, {"/x?y=1", 1}, {"/*", 2}, {"/[unclosed", 1},
		{"/" + long("p", 1100), 1}, {"/{id}", 1}, {"/ws;", 1}, {"/a\\b", 1}, {"/x#frag", 1},
	}
	pathTypes        = []weighted{{"Prefix", 40}, {"Exact", 15}, {"ImplementationSpecific", 20}}
	hostilePathTypes = []weighted{{"", 10}, {"Regex", 5}, {"prefix", 3}}
)

// valuePool holds the candidate annotation values; each annotation keeps the ones its
// catalog entry accepts as valid and the ones it refuses as invalid.
var valuePool = []string{
	"true", "false", "True", "yes", "on", "off", "0", "1", "3", "5", "10", "60", "100", "300", "301", "308", "599",
	"-5", "1.5", "99999999999999999999", "10m", "1g", "8k", "512", "100x", "abc", "", " ", "cookie", "balanced", "persistent",
	"sticky", "legacy", "Lax", "Strict", "None", "round_robin", "ewma", "HTTP", "HTTPS", "GRPC", "GRPCS", "AUTO_HTTP", "FCGI",
	"TLSv1.2 TLSv1.3", "TLSv1.9", "error timeout http_502", "error bogus", "404,503", "200 202 401 5m", "404,abc",
	"/", "/app", "/api/$1", "/$2/x", "/new/path", "/" + long("r", 1100), "relative", "https://auth.example.com/verify",
	"http://auth.example.com/oauth2/auth?rd=$escaped_request_uri", "https://example.org/login?rd=$request_uri",
	"https://www.example.com/" + long("u", 1100), "file:///etc/passwd", "javascript:alert(1)", "http://169.254.169.254/latest",
	"ftp://example.com", "https://", "10.0.0.0/8", "192.168.1.1, 10.0.0.0/8", "10.0.0.0/33", "::1/128", "not-a-cidr",
	"default/ca-secret", "basic-auth", "ns/", "Bad_Name", "alias.example.com", "alias.example.com,Alias2.example.com",
	"~^regex.*\\.example\\.com$", "*.example.com", "internal.example.com", "X-Canary", "X Bad Header", "canary", "always",
	"^(a|b)$", "(unclosed", "CN=client", "GET", "POST", "GET, POST, OPTIONS", "https://a.example.com, https://*.example.org",
	"*", "null", "X-User, X-Email", "auth-map", "auth-file", "any", "all", "$host$request_uri", "value\nwith newline",
	"\"quoted\"", "日本語", long("h", 300), "svc-0", "missing-service", "on-failure", "DEFAULT", "HIGH:!aNULL",
}

type weighted struct {
	v string
	w int
}

func pick(r *rand.Rand, ws []weighted) string {
	total := 0
	for _, w := range ws {
		total += w.w
	}
	n := r.Intn(total)
	for _, w := range ws {
		if n < w.w {
			return w.v
		}
		n -= w.w
	}
	return ws[len(ws)-1].v
}

func one[T any](r *rand.Rand, xs []T) T { return xs[r.Intn(len(xs))] }

// annotationValues are one catalog annotation's valid and invalid candidate values.
type annotationValues struct {
	name           string
	valid, invalid []string
	// hostileOnly: refused by gatebridge whatever the value (snippets, ModSecurity, …), or
	// a canary setting that makes ingress-nginx reject an Ingress that is no canary.
	hostileOnly bool
}

// catalogValues classifies valuePool for every catalog annotation with its own validator, so
// "valid" means what gatebridge (and ingress-nginx) accept, whatever the catalog grows into.
var catalogValues = func() []annotationValues {
	var out []annotationValues
	for _, spec := range annotations.Catalog() {
		av := annotationValues{name: spec.Name, hostileOnly: spec.Level == annotations.Refused || strings.HasPrefix(spec.Name, "canary")}
		for _, v := range valuePool {
			if spec.Validate(v) == nil {
				av.valid = append(av.valid, v)
			} else {
				av.invalid = append(av.invalid, v)
			}
		}
		out = append(out, av)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}()

// Annotations returns the names of the catalog the generator draws from.
func Annotations() []string {
	out := make([]string, len(catalogValues))
	for i, a := range catalogValues {
		out[i] = a.name
	}
	return out
}

// baseTime is the creationTimestamp of the oldest generated Ingress.
var baseTime = time.Date(2024, time.March, 1, 0, 0, 0, 0, time.UTC)

// generator holds what one set draws from.
type generator struct {
	r          *rand.Rand
	namespaces []string
	// hosts are the hosts of the set's ordinary Ingresses, hostileHosts those only hostile
	// ones add.
	hosts, hostileHosts []string
	// hostile is set while a hostile Ingress is made: one that may break any API server
	// rule or carry invalid annotation values (about one in three).
	hostile  bool
	services map[string][]corev1.Service // namespace → Services
	secrets  map[string][]string         // namespace → Secret names
}

// SetFor returns set i of seed: 1 to 6 Ingresses over 1 to 3 namespaces, with Services,
// Secrets, sometimes an IngressClass and a controller ConfigMap, and random options.
func SetFor(seed int64, i int) Set {
	r := rand.New(rand.NewSource(seed*1_000_003 + int64(i)))
	g := &generator{r: r, services: map[string][]corev1.Service{}, secrets: map[string][]string{}}
	g.namespaces = g.pickNamespaces()
	for n := 1 + r.Intn(4); n > 0; n-- {
		g.hosts = append(g.hosts, one(r, hostPool[pick(r, hostKinds)]))
	}
	for n := 1 + r.Intn(2); n > 0; n-- {
		g.hostileHosts = append(g.hostileHosts, one(r, hostPool[pick(r, hostileHostKinds)]))
	}
	in := converters.Input{}
	for _, ns := range g.namespaces {
		for k := r.Intn(3); k >= 0; k-- {
			svc := g.service(ns, k)
			g.services[ns] = append(g.services[ns], svc)
			in.Services = append(in.Services, svc)
		}
		for k := r.Intn(3); k > 0; k-- {
			name := fmt.Sprintf("tls-%d", k)
			g.secrets[ns] = append(g.secrets[ns], name)
			in.Secrets = append(in.Secrets, tlsSecret(ns, name))
		}
	}
	n := 1 + r.Intn(6)
	for k := 0; k < n; k++ {
		in.Ingresses = append(in.Ingresses, g.ingress(k))
	}
	// Canaries copy a primary's host and path, as users write them.
	for k := 0; k < n; k++ {
		if r.Intn(100) < 15 {
			in.Ingresses = append(in.Ingresses, g.canaryOf(in.Ingresses[k], n+k))
		}
	}
	if r.Intn(100) < 30 {
		in.IngressClasses = append(in.IngressClasses, ingressClass(r))
	}
	if r.Intn(100) < 15 {
		in.ControllerConfigMap = g.configMap()
	}
	opts := converters.Options{IncludeUnclassed: r.Intn(2) == 0}
	if r.Intn(100) < 20 {
		opts.MaxListenersPerGateway = 1 + r.Intn(3)
	}
	if r.Intn(100) < 10 {
		opts.DefaultCertificate = "default/wildcard-tls"
	}
	return Set{Seed: seed, Index: i, Input: in, Options: opts}
}

func (g *generator) pickNamespaces() []string {
	pool := []weighted{{"default", 30}, {"shop", 30}, {"team-a", 20}, {"payments", 15}, {long("n", 63), 3}}
	if g.r.Intn(100) < 3 {
		pool = []weighted{{long("n", 64), 1}, {"Team_B", 1}}
	}
	seen := map[string]bool{}
	var out []string
	for n := 1 + g.r.Intn(3); n > 0; n-- {
		ns := pick(g.r, pool)
		if !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	return out
}

func (g *generator) service(ns string, k int) corev1.Service {
	svc := corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("svc-%d", k), Namespace: ns},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)},
			{Name: "https", Port: 443, TargetPort: intstr.FromString("https")},
			{Port: 8080},
		}},
	}
	switch g.r.Intn(10) {
	case 0:
		svc.Spec.Type = corev1.ServiceTypeExternalName
		svc.Spec.ExternalName = "backend.example.net"
	case 1:
		svc.Spec.Ports = []corev1.ServicePort{{Port: 9090}} // one unnamed port
	}
	return svc
}

func tlsSecret(ns, name string) corev1.Secret {
	return corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"tls.crt": []byte("not a certificate"), "tls.key": []byte("not a key")},
	}
}

func ingressClass(r *rand.Rand) networkingv1.IngressClass {
	ic := networkingv1.IngressClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "IngressClass"},
		ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
		Spec:       networkingv1.IngressClassSpec{Controller: converters.IngressNginxController},
	}
	if r.Intn(2) == 0 {
		ic.Annotations = map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}
	}
	return ic
}

func (g *generator) configMap() *corev1.ConfigMap {
	keys := []weighted{{"proxy-body-size", 1}, {"ssl-redirect", 1}, {"whitelist-source-range", 1}, {"proxy-read-timeout", 1}, {"use-forwarded-headers", 1}, {"no-tls-redirect-locations", 1}, {"allow-snippet-annotations", 1}}
	data := map[string]string{}
	for n := 1 + g.r.Intn(3); n > 0; n-- {
		data[pick(g.r, keys)] = one(g.r, valuePool)
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "ingress-nginx-controller", Namespace: "ingress-nginx"},
		Data:       data,
	}
}

func (g *generator) ingressName(k int) string {
	if !g.hostile {
		if g.r.Intn(10) == 0 {
			return "web-" + strconv.Itoa(k) + "-" + long("x", 58) // longer than 63: fine for an Ingress, not for a label value
		}
		return "web-" + strconv.Itoa(k)
	}
	switch n := g.r.Intn(100); {
	case n < 60:
		return "web-" + strconv.Itoa(k)
	case n < 90:
		return "web-" + strconv.Itoa(k) + "-" + long("x", 58) // longer than 63: fine for an Ingress, not for a label value
	case n < 93:
		return "web." + strconv.Itoa(k) + ".v1"
	case n < 96:
		return "Web-" + strconv.Itoa(k)
	case n < 98:
		return long("w", 250) + strconv.Itoa(k)
	default:
		return long("w", 260) + strconv.Itoa(k)
	}
}

func (g *generator) ingress(k int) networkingv1.Ingress {
	r := g.r
	g.hostile = r.Intn(100) < 35
	defer func() { g.hostile = false }()
	ns := one(r, g.namespaces)
	ing := networkingv1.Ingress{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: metav1.ObjectMeta{
			Name: g.ingressName(k), Namespace: ns,
			CreationTimestamp: metav1.NewTime(baseTime.Add(time.Duration(r.Intn(5)) * time.Hour)),
		},
	}
	g.setClass(&ing)
	if ann := g.annotations(ns); len(ann) > 0 {
		ing.Annotations = ann
	}
	for n := r.Intn(3); n >= 0; n-- {
		ing.Spec.Rules = append(ing.Spec.Rules, g.rule(ns))
	}
	if r.Intn(100) < 10 {
		ing.Spec.Rules = nil // default backend only, or nothing at all
	}
	if r.Intn(100) < 15 || len(ing.Spec.Rules) == 0 && (!g.hostile || r.Intn(2) == 0) {
		b := g.backend(ns)
		ing.Spec.DefaultBackend = &b
	}
	if r.Intn(100) < 35 {
		ing.Spec.TLS = append(ing.Spec.TLS, g.tls(ns, ing.Spec.Rules))
	}
	return ing
}

func (g *generator) setClass(ing *networkingv1.Ingress) {
	switch n := g.r.Intn(100); {
	case n < 60:
		class := "nginx"
		ing.Spec.IngressClassName = &class
	case n < 70:
		ing.Annotations = map[string]string{"kubernetes.io/ingress.class": "nginx"}
	case n < 75:
		class := "traefik"
		ing.Spec.IngressClassName = &class
	case n < 77 && g.hostile:
		class := "Bad_Class"
		ing.Spec.IngressClassName = &class
	}
}

// annotations draws 0 to 6 catalog annotations, most with valid values.
func (g *generator) annotations(ns string) map[string]string {
	r := g.r
	out := map[string]string{}
	for n := r.Intn(7); n > 0; n-- {
		av := one(r, catalogValues)
		if av.hostileOnly && !g.hostile {
			continue
		}
		var v string
		switch {
		case len(av.valid) > 0 && (!g.hostile || r.Intn(100) < 50 || len(av.invalid) == 0):
			v = one(r, av.valid)
		case len(av.invalid) > 0 && g.hostile:
			v = one(r, av.invalid)
		default:
			continue
		}
		if av.name == "default-backend" && r.Intn(2) == 0 && len(g.services[ns]) > 0 {
			v = one(r, g.services[ns]).Name
		}
		out[annotations.DefaultPrefix+"/"+av.name] = v
	}
	if r.Intn(100) < 3 {
		out["example.com/unrelated"] = "x"
	}
	return out
}

// host draws a host of the set: a hostile Ingress may draw a hostile one.
func (g *generator) host() string {
	if g.hostile && g.r.Intn(3) == 0 {
		return one(g.r, g.hostileHosts)
	}
	return one(g.r, g.hosts)
}

func (g *generator) rule(ns string) networkingv1.IngressRule {
	r := g.r
	rule := networkingv1.IngressRule{Host: g.host()}
	if r.Intn(100) < 5 {
		return rule // no http section
	}
	rule.HTTP = &networkingv1.HTTPIngressRuleValue{}
	for n := 1 + r.Intn(3); n > 0; n-- {
		p := networkingv1.HTTPIngressPath{Path: pick(r, paths), Backend: g.backend(ns)}
		pt := pick(r, pathTypes)
		if g.hostile && r.Intn(4) == 0 {
			p.Path = pick(r, hostilePaths)
		}
		if g.hostile && r.Intn(6) == 0 {
			pt = pick(r, hostilePathTypes)
		}
		if pt != "" {
			t := networkingv1.PathType(pt)
			p.PathType = &t
		}
		rule.HTTP.Paths = append(rule.HTTP.Paths, p)
	}
	return rule
}

func (g *generator) backend(ns string) networkingv1.IngressBackend {
	r := g.r
	if r.Intn(100) < 4 {
		group := "k8s.example.com"
		return networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{APIGroup: &group, Kind: "StorageBucket", Name: "assets"}}
	}
	name := "missing"
	if svcs := g.services[ns]; len(svcs) > 0 && r.Intn(100) < 90 {
		name = one(r, svcs).Name
	} else if g.hostile && r.Intn(3) == 0 {
		name = one(r, []string{"Bad_Name", "", long("s", 70)})
	}
	svc := &networkingv1.IngressServiceBackend{Name: name}
	switch n := r.Intn(100); {
	case n < 45:
		svc.Port.Name = "http"
	case n < 55 && g.hostile:
		svc.Port.Name = one(r, []string{"https", "missing", "HTTP", "a_b"})
	case n < 55:
		svc.Port.Name = one(r, []string{"https", "missing"})
	case n < 90 || !g.hostile:
		svc.Port.Number = one(r, []int32{80, 443, 8080, 9090})
	default:
		svc.Port.Number = one(r, []int32{0, -1, 70000})
	}
	b := networkingv1.IngressBackend{Service: svc}
	if g.hostile && r.Intn(100) < 5 {
		group := "k8s.example.com"
		b.Resource = &corev1.TypedLocalObjectReference{APIGroup: &group, Kind: "StorageBucket", Name: "assets"} // both: invalid
	}
	return b
}

func (g *generator) tls(ns string, rules []networkingv1.IngressRule) networkingv1.IngressTLS {
	r := g.r
	var t networkingv1.IngressTLS
	for _, rule := range rules {
		if rule.Host != "" && r.Intn(100) < 80 {
			t.Hosts = append(t.Hosts, rule.Host)
		}
	}
	if r.Intn(100) < 15 {
		t.Hosts = append(t.Hosts, g.host())
	}
	switch n := r.Intn(100); {
	case n < 60 && len(g.secrets[ns]) > 0:
		t.SecretName = one(r, g.secrets[ns])
	case n < 75:
		t.SecretName = "missing-tls"
	case n < 80 && g.hostile:
		t.SecretName = "Bad_Secret"
	}
	return t
}

// canaryOf makes a canary Ingress for primary's first host and path.
func (g *generator) canaryOf(primary networkingv1.Ingress, k int) networkingv1.Ingress {
	r := g.r
	c := *primary.DeepCopy()
	c.Name = "canary-" + strconv.Itoa(k)
	c.CreationTimestamp = metav1.NewTime(primary.CreationTimestamp.Add(time.Minute))
	c.Annotations = map[string]string{annotations.DefaultPrefix + "/canary": "true"}
	if r.Intn(10) == 0 {
		c.Annotations[annotations.DefaultPrefix+"/canary"] = one(r, []string{"false", "yes"})
	}
	switch r.Intn(4) {
	case 0:
		c.Annotations[annotations.DefaultPrefix+"/canary-weight"] = one(r, []string{"10", "50", "100", "-1", "abc"})
	case 1:
		c.Annotations[annotations.DefaultPrefix+"/canary-by-header"] = one(r, []string{"X-Canary", "X Bad"})
		c.Annotations[annotations.DefaultPrefix+"/canary-by-header-value"] = one(r, []string{"always", "v2", "a b"})
	case 2:
		c.Annotations[annotations.DefaultPrefix+"/canary-by-cookie"] = one(r, []string{"canary", "bad cookie"})
	case 3:
		c.Annotations[annotations.DefaultPrefix+"/canary-by-header"] = "X-Canary"
		c.Annotations[annotations.DefaultPrefix+"/canary-by-header-pattern"] = one(r, []string{"^v[0-9]+$", "(unclosed"})
		c.Annotations[annotations.DefaultPrefix+"/canary-weight"] = "20"
		c.Annotations[annotations.DefaultPrefix+"/canary-weight-total"] = one(r, []string{"100", "1000"})
	}
	if class, ok := primary.Annotations["kubernetes.io/ingress.class"]; ok {
		c.Annotations["kubernetes.io/ingress.class"] = class
	}
	if svcs := g.services[c.Namespace]; len(svcs) > 0 {
		for i := range c.Spec.Rules {
			if c.Spec.Rules[i].HTTP == nil {
				continue
			}
			for j := range c.Spec.Rules[i].HTTP.Paths {
				c.Spec.Rules[i].HTTP.Paths[j].Backend = networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: one(r, svcs).Name, Port: networkingv1.ServiceBackendPort{Number: 80}}}
			}
		}
	}
	return c
}
