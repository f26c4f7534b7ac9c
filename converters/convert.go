package converters

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/gatebridge-dev/gatebridge/annotations"
	gbv1 "github.com/gatebridge-dev/gatebridge/api/v1alpha1"
	"github.com/gatebridge-dev/gatebridge/internal/emit"
	"github.com/gatebridge-dev/gatebridge/internal/parallel"
)

// Result is what Convert produces.
type Result struct {
	// Objects are sorted (kind order, then namespace, then name): apply them in this order.
	Objects []client.Object
	// Encoded are the same objects' encodings, in the same order, when Options.Encoder is
	// set (Objects is then nil).
	Encoded []emit.Encoded
	// EncodingError is the first object the Encoder failed on (a bug: the output is then
	// incomplete).
	EncodingError error
	Report        Report
	// RefusedLocations are the locations of refused Ingresses (refused.go), sorted by
	// host and path: no object serves them, and a data plane must answer them 503 rather
	// than let them fall through to another Ingress's path or catch-all. In bridge mode
	// they include the locations of the Ingresses not migrated (NotMigratedReason), and
	// all of them go to the fallback (bridge.go).
	RefusedLocations []RefusedLocation
}

// conversion holds what every part of one conversion shares (parts.go): the settings, the
// lookups, and what belongs to no Ingress (global findings).
type conversion struct {
	opts     Options
	defaults annotations.Defaults
	sel      classSelector
	services map[string]*corev1.Service
	secrets  map[string]*corev1.Secret
	// configMaps are the input's valid ConfigMaps by namespace/name (custom-headers).
	configMaps map[string]*corev1.ConfigMap
	global     []Finding
	// inputFindings are the global findings about Services and Secrets the API server
	// would reject (ignored); they stand as long as the lookups do.
	inputFindings []Finding
	// configMapName is the controller ConfigMap read, for the report.
	configMapName string
	// checks validates the input's Ingresses as the API server does, once each.
	checks *ingressChecks
	// collided are the Ingresses (input index) refused because an object of theirs would
	// have another Ingress's kind, namespace and name, with the reason (convert).
	collided map[int]string
	// dropIn are the Ingresses of a gatebridge IngressClass, with their class (Input.DropIn).
	dropIn map[string]string
}

// converter holds the state of one part of a conversion: its Ingresses, their host model
// and the objects they produce. It reads the shared conversion and never writes to it.
type converter struct {
	*conversion
	sources             []*source // selected, non-canary and canary, in ingress-nginx order
	primaries, canaries []*source
	joined              map[backend]*canaryJoin
	model               *model
	// hosts are what each host of the part emits, decided by analyse (in hostname order).
	hosts []*hostPlan
	// listeners is the plan of the whole conversion: only the part's own hosts are read.
	listeners *listenerPlan
	out       *objectSet
	// names are the object names each Ingress emits (uniqueName).
	names map[nameKey]bool
}

// hostPlan is what one host emits, decided before the listener plan so that a listener is
// planned only for routes that attach to it.
type hostPlan struct {
	host *hostModel
	// routes are the route sets of the host's served Ingresses, in ingress-nginx order.
	routes []*routeSet
	// https: some route attaches to the host's HTTPS listeners (listenersOf).
	https bool
	// passthrough is the location whose backend the host's TLSRoute sends to (nil: none).
	passthrough *location
	// wwwRedirect: the host's from-to-www redirect route is emitted.
	wwwRedirect bool
}

// objectSet collects generated objects and remembers which Ingress each belongs to.
type objectSet struct {
	objs []client.Object
	// members are, by object, the position of its Ingress among its part's members (-1:
	// the conversion's own), so that dropDuplicates can name it.
	members []int
}

func (o *objectSet) add(obj client.Object) {
	o.objs, o.members = append(o.objs, obj), append(o.members, -1)
}

func (o *objectSet) addFor(src *source, obj client.Object) {
	o.objs, o.members = append(o.objs, obj), append(o.members, src.member)
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	src.report.Objects = append(src.report.Objects, ObjectRef{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()})
}

// Convert converts in with opts. It never fails: every problem is in the Report.
func Convert(in Input, opts Options) Result {
	res, _ := convert(in, opts.withDefaults(), nil, nil, modeOnce)
	return res
}

// newConversion starts a conversion of in. prev, when not nil, is the state of a previous
// conversion of the same Services and Secrets: its lookups are taken over.
func newConversion(in Input, opts Options, prev *state) *conversion {
	cv := &conversion{opts: opts, checks: newIngressChecks(in.Ingresses), dropIn: in.DropIn}
	// Objects the API server would reject never exist in a cluster: they are ignored, and
	// said so first among the global findings.
	var classes []networkingv1.IngressClass
	for _, ic := range in.IngressClasses {
		if fs := objectFindings("IngressClass", "", ic.Name, ic.ObjectMeta); len(fs) > 0 {
			cv.global = append(cv.global, fs...)
			continue
		}
		classes = append(classes, ic)
	}
	cv.sel = newClassSelector(opts, classes)
	cm := in.ControllerConfigMap
	if cm != nil {
		if fs := objectFindings("ConfigMap", cm.Namespace, cm.Name, cm.ObjectMeta); len(fs) > 0 {
			cv.global = append(cv.global, fs...)
			cm = nil
		}
	}
	cv.readConfigMap(cm)
	if cm != nil {
		cv.configMapName = cm.Namespace + "/" + cm.Name
	}
	if prev != nil {
		cv.services, cv.secrets, cv.inputFindings = prev.services, prev.secrets, prev.inputFindings
	} else {
		cv.indexServicesAndSecrets(in)
	}
	cv.global = append(cv.global, cv.inputFindings...)
	cv.configMaps = make(map[string]*corev1.ConfigMap, len(in.ConfigMaps))
	for i := range in.ConfigMaps {
		m := &in.ConfigMaps[i]
		if len(objectFindings("ConfigMap", m.Namespace, m.Name, m.ObjectMeta)) == 0 {
			cv.configMaps[m.Namespace+"/"+m.Name] = m
		}
	}
	return cv
}

// indexServicesAndSecrets builds the lookups of the input's valid Services and Secrets.
// Their metadata is checked on all cores first (~4 µs an object, as long as converting a
// few Ingresses), then the lookups and findings are built in input order.
func (cv *conversion) indexServicesAndSecrets(in Input) {
	serviceFindings := make([][]Finding, len(in.Services))
	parallel.For(len(in.Services), func(i int) {
		s := &in.Services[i]
		serviceFindings[i] = objectFindings("Service", s.Namespace, s.Name, s.ObjectMeta)
	})
	secretFindings := make([][]Finding, len(in.Secrets))
	parallel.For(len(in.Secrets), func(i int) {
		s := &in.Secrets[i]
		secretFindings[i] = objectFindings("Secret", s.Namespace, s.Name, s.ObjectMeta)
	})
	cv.services, cv.secrets = make(map[string]*corev1.Service, len(in.Services)), make(map[string]*corev1.Secret, len(in.Secrets))
	for i := range in.Services {
		s := &in.Services[i]
		if fs := serviceFindings[i]; len(fs) > 0 {
			cv.inputFindings = append(cv.inputFindings, fs...)
			continue
		}
		cv.services[s.Namespace+"/"+s.Name] = s
	}
	for i := range in.Secrets {
		s := &in.Secrets[i]
		if fs := secretFindings[i]; len(fs) > 0 {
			cv.inputFindings = append(cv.inputFindings, fs...)
			continue
		}
		cv.secrets[s.Namespace+"/"+s.Name] = s
	}
}

// analyse builds the host model of the part's Ingresses (parsed by the caller): paths placed
// first-wins, client-certificate hosts refused, canaries joined, regex mode decided, aliases
// assigned; then what each host emits (planHost) and the listeners that needs.
func (c *converter) analyse() []*plannedListener {
	sortByAge(c.sources)
	for _, s := range c.sources {
		if s.ann.Canary.Enabled {
			c.canaries = append(c.canaries, s)
		} else {
			c.primaries = append(c.primaries, s)
		}
	}
	for _, s := range c.primaries {
		c.checkDeniedReferences(s)
		for _, l := range c.model.collectLocations(s) {
			c.model.place(l)
		}
	}
	c.refuseClientCertHosts()
	c.model.refuseServerSnippetHosts()
	c.joined = map[backend]*canaryJoin{}
	for _, s := range c.canaries {
		if !s.refused() {
			c.model.joinCanary(s, c.joined)
		}
	}
	c.model.attachCanaries(c.joined)
	// After canaries joined: they join the location as written (/same), which ingress-nginx
	// splits only when it renders the server.
	c.model.splitSelfRewrites()
	c.model.computeRegexMode()
	c.model.refuseServerSnippetLocations()
	c.model.refuseNestedLocations()
	c.model.assignAliases()
	for _, h := range c.model.sortedHosts() {
		c.hosts = append(c.hosts, c.planHost(h))
	}
	return c.hostListeners()
}

// planHost decides what host h emits: the routes of its served Ingresses, its TLSRoute
// and its www redirect. The findings this gives are those of emitting (in host order).
func (c *converter) planHost(h *hostModel) *hostPlan {
	p := &hostPlan{host: h, routes: c.buildHostRoutes(h)}
	p.https = c.hostHasHTTPS(h) && slices.ContainsFunc(p.routes, func(rs *routeSet) bool { return len(rs.https) > 0 })
	if h.passthrough != nil && !h.passthrough.refused() {
		p.passthrough = passthroughTarget(h)
	}
	if h.fromToWWW != nil && !h.fromToWWW.refused() {
		p.wwwRedirect = c.planWWWRedirect(h)
	}
	return p
}

// emit builds the part's objects once the listener plan is made.
func (c *converter) emit(plan *listenerPlan) {
	c.listeners = plan
	routesBySrc := map[*source][]*gwv1.HTTPRoute{}
	for _, p := range c.hosts {
		for _, rs := range p.routes {
			routes := c.emitRouteSet(rs)
			for _, r := range routes {
				c.out.addFor(rs.src, r)
			}
			for _, f := range rs.filters {
				if c.claimName(rs.src, "RouteFilter", f.Name) {
					c.out.addFor(rs.src, f)
				}
			}
			routesBySrc[rs.src] = append(routesBySrc[rs.src], routes...)
			c.emitSlashRoutes(rs)
			c.emitNestedRoutes(rs)
		}
		if p.passthrough != nil {
			c.emitPassthrough(p.host, p.passthrough)
		}
		if p.wwwRedirect {
			c.emitWWWRedirect(p.host)
		}
	}
	for _, s := range c.primaries {
		c.emitIngressPolicy(s, routesBySrc[s])
	}
	c.emitCanaryGrants(c.joined)
	// Objects are named during emission only: the part waits for the others to finish
	// without its names (~700 bytes a part, while all parts are live).
	c.names = nil
}

// finishSources completes the part's findings once the conversion knows whether it emits
// a Gateway: certificate notes, canary extension use, verdicts.
func (c *converter) finishSources(listeners []*plannedListener, gatewayEmitted bool) {
	if gatewayEmitted {
		c.noteDefaultCertificates(listeners)
	}
	for _, s := range c.canaries {
		s.needGatebridge(joinedNotPortable(s, c.model)...)
	}
}

// readConfigMap reads the controller ConfigMap into defaults.
func (c *conversion) readConfigMap(cm *corev1.ConfigMap) {
	c.defaults = annotations.DefaultDefaults()
	if cm == nil {
		return
	}
	d, findings := annotations.DefaultsFromConfigMap(cm.Data)
	c.defaults = d
	for _, f := range findings {
		c.global = append(c.global, Finding{Field: "ConfigMap " + cm.Namespace + "/" + cm.Name + " data." + f.Key, Value: f.Value, Severity: SeverityWarning, Message: f.Message})
	}
	c.global = append(c.global, tracingConfigFindings(cm, &c.defaults)...)
	if d.GlobalAuthURL != "" {
		c.global = append(c.global, Finding{Field: "ConfigMap " + cm.Namespace + "/" + cm.Name + " data.global-auth-url", Value: d.GlobalAuthURL, Severity: SeverityWarning,
			Message: "global external auth is not converted yet: add a Gateway-level TrafficPolicy externalAuth by hand, or keep these Ingresses on ingress-nginx"})
	}
}

// selectOne decides the class of one Ingress and, when it is selected, parses its
// annotations into a source. apiProblems are the API server's objections to it
// (ValidateIngress): such an Ingress is refused and gives no source, so that the
// conversion goes on as if it were absent, whatever its class.
func (c *conversion) selectOne(ing *networkingv1.Ingress, apiProblems []Finding) (*IngressReport, *source) {
	class, ok, why := c.sel.decide(ing)
	rep := &IngressReport{Namespace: ing.Namespace, Name: ing.Name, Class: class, Findings: []Finding{}, Objects: []ObjectRef{}}
	if own, ok := c.dropIn[ing.Namespace+"/"+ing.Name]; ok {
		rep.Class = own
	}
	rep.Hosts = ingressHosts(ing)
	if len(apiProblems) > 0 {
		rep.Verdict = VerdictRefused
		rep.Findings = append(rep.Findings, apiProblems...)
		rep.Findings = append(rep.Findings, Finding{Severity: SeverityError,
			Message: "not converted: the API server rejects this Ingress (see the findings above), so it can never exist in a cluster and ingress-nginx never serves it; gatebridge converts the others as if it were absent (it claims no host, path or certificate) — fix the fields above"})
		if c.opts.Bridge && ok {
			rep.Migration = c.rejectedMigration(ing.Namespace+"/"+ing.Name, ing.Annotations)
		}
		return rep, nil
	}
	if !ok {
		rep.Verdict = VerdictSkipped
		rep.Findings = append(rep.Findings, Finding{Field: "spec.ingressClassName", Value: class, Severity: SeverityInfo, Message: why})
		return rep, nil
	}
	ann := annotations.Parse(ing.Annotations, c.opts.AnnotationsPrefix, c.defaults)
	src := &source{ing: ing, ann: ann, report: rep}
	rep.Canary = ann.Canary.Enabled
	for _, f := range ann.Findings {
		rep.Findings = append(rep.Findings, annotationFinding(f))
	}
	c.noteSnippets(src)
	c.noteApproximateAnnotations(src)
	if ann.Canary.Enabled {
		c.noteIgnoredCanaryAnnotations(src)
	}
	c.readBridge(src)
	return rep, src
}

// noteApproximateAnnotations states the catalog's difference for every approximate
// annotation of the Ingress that no more specific finding already explains, so that no
// difference between ingress-nginx and the data plane goes unreported.
func (c *conversion) noteApproximateAnnotations(src *source) {
	// from-to-www-redirect is explained where its redirect is planned (it may not be).
	explained := map[string]bool{"from-to-www-redirect": true}
	for _, f := range src.report.Findings {
		explained[f.Annotation] = true
	}
	keys := make([]string, 0, len(src.ing.Annotations))
	for k := range src.ing.Annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, ok := annotations.SplitName(k, c.opts.AnnotationsPrefix)
		if !ok || explained[name] {
			continue
		}
		if spec, known := annotations.Lookup(name); known && spec.Level == annotations.Approximate && spec.Note != "" {
			src.add(Finding{Annotation: name, Value: displayValue(src.ing.Annotations[k]), Severity: SeverityInfo, Level: annotations.Approximate, Message: spec.Note})
		}
	}
}

// noteIgnoredCanaryAnnotations: a canary inherits the primary's location, so its own
// annotations (except affinity and load balancing) do nothing.
func (c *conversion) noteIgnoredCanaryAnnotations(src *source) {
	for k := range src.ing.Annotations {
		name, ok := annotations.SplitName(k, c.opts.AnnotationsPrefix)
		if !ok || strings.HasPrefix(name, "canary") || strings.HasPrefix(name, "affinity") || strings.HasPrefix(name, "session-cookie") || name == "load-balance" || name == "upstream-hash-by" {
			continue
		}
		if spec, known := annotations.Lookup(name); known && spec.Level != annotations.Refused {
			src.add(Finding{Annotation: name, Severity: SeverityInfo, Level: spec.Level,
				Message: "is ignored on a canary Ingress: the primary's annotations apply (as in ingress-nginx)"})
		}
	}
	sort.SliceStable(src.report.Findings, func(i, j int) bool { return src.report.Findings[i].Annotation < src.report.Findings[j].Annotation })
}

func ingressHosts(ing *networkingv1.Ingress) []string {
	seen := map[string]bool{}
	for _, r := range ing.Spec.Rules {
		seen[strings.ToLower(r.Host)] = true
	}
	var out []string
	for _, h := range sortedKeys(seen) {
		out = append(out, hostOrAll(h))
	}
	return out
}

// annotationFinding turns a parser finding into a report finding.
func annotationFinding(f annotations.Finding) Finding {
	sev := SeverityInfo
	switch {
	case f.Invalid, f.Level == annotations.Refused:
		sev = SeverityError
	case f.Warning, f.Level == annotations.Unsupported, f.Level == annotations.Unknown:
		sev = SeverityWarning
	}
	return Finding{Annotation: f.Annotation, Value: displayValue(f.Value), Level: f.Level, Severity: sev, Message: f.Message}
}

// planWWWRedirect decides the from-to-www redirect of host h (its Ingress is not refused):
// the other name answers 308 to h, unless an Ingress defines the other name itself. A rule
// without host never gets here (applyServerSettings).
func (c *converter) planWWWRedirect(h *hostModel) bool {
	src := h.fromToWWW
	other := wwwPair(h.name)
	if len(other) > 253 {
		src.add(Finding{Annotation: "from-to-www-redirect", Severity: SeverityInfo, Level: annotations.Exact,
			Message: fmt.Sprintf("is ignored for %s: %s would be longer than the 253 characters a hostname may have (no client can ask for it)", h.name, other)})
		return false
	}
	if _, defined := c.model.hosts[other]; defined || strings.HasPrefix(h.name, "*") {
		src.add(Finding{Annotation: "from-to-www-redirect", Severity: SeverityInfo, Level: annotations.Exact,
			Message: fmt.Sprintf("is ignored for %s: %s is defined by an Ingress (as in ingress-nginx)", h.name, other)})
		return false
	}
	spec, _ := annotations.Lookup("from-to-www-redirect")
	src.add(Finding{Annotation: "from-to-www-redirect", Severity: SeverityInfo, Level: annotations.Approximate,
		Message: other + " answers 308 to " + h.name + ": " + spec.Note})
	return true
}

// emitWWWRedirect builds the route of the from-to-www redirect planned for host h.
func (c *converter) emitWWWRedirect(h *hostModel) {
	src := h.fromToWWW
	other := wwwPair(h.name)
	rule := gwv1.HTTPRouteRule{
		Name:    ptr(gwv1.SectionName("www-redirect")),
		Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr("/")}}},
		Filters: []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterRequestRedirect,
			RequestRedirect: &gwv1.HTTPRequestRedirectFilter{Hostname: ptr(gwv1.PreciseHostname(h.name)), StatusCode: ptr(308)}}},
	}
	name := c.uniqueName(src, "HTTPRoute", objectName(253, src.ing.Name, hostLabel(other), "www-redirect"), other, "www-redirect")
	parents := c.parents(h, false)
	for _, l := range c.listeners.byHost[h.name] {
		if l.www {
			parents = append(parents, c.parentRef(l))
		}
	}
	r := &gwv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: c.meta(src, name, src.ing.Namespace),
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: parents},
			Hostnames:       []gwv1.Hostname{gwv1.Hostname(other)},
			Rules:           []gwv1.HTTPRouteRule{rule},
		},
	}
	c.out.addFor(src, r)
	// The Location drops one trailing "/" of the request URI (the redirect server's Lua), which
	// RequestRedirect cannot say.
	if c.lost(src, Finding{Annotation: "from-to-www-redirect", Severity: SeverityInfo, Level: annotations.Approximate},
		"the www redirect dropping one trailing \"/\" of the path (RequestRedirect keeps the path as sent)") {
		return
	}
	c.out.addFor(src, &gbv1.TrafficPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: gbv1.GroupVersion.String(), Kind: "TrafficPolicy"},
		ObjectMeta: c.meta(src, c.uniqueName(src, "TrafficPolicy", name, other), src.ing.Namespace),
		Spec: gbv1.TrafficPolicySpec{
			TargetRefs: []gwv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{
				Group: gwv1.GroupName, Kind: "HTTPRoute", Name: gwv1.ObjectName(name)}}},
			Redirects: &gbv1.RedirectPolicy{HostnameTrailingSlash: gbv1.TrailingSlashStrip},
		},
	})
}

// wwwCertificate is the certificate the from-to-www redirect server of host h presents for
// the other name: the host's own when it covers that name (its Secret's certificate, or,
// when the Secret is not in the input, the Ingress tls entry listing the name), else
// ingress-nginx's default certificate ("Redirects will not work for HTTPS to HTTPS").
func (c *converter) wwwCertificate(h *hostModel, other string) *tlsCert {
	cert := h.tls
	if cert == nil || cert.useDefault {
		return cert
	}
	covered := false
	if sec := c.model.secrets[cert.namespace+"/"+cert.secret]; sec != nil {
		covered = certificateCovers(sec.Data["tls.crt"], other)
	} else {
		covered = tlsEntryLists(cert.src.ing, cert.secret, other)
	}
	if covered {
		return cert
	}
	cert.src.add(Finding{Annotation: "from-to-www-redirect", Severity: SeverityWarning, Level: annotations.Exact,
		Message: fmt.Sprintf("the certificate of Secret %s/%s does not cover %s: HTTPS requests for it get the default certificate (clients refuse it) before the redirect, as in ingress-nginx; add %s to the certificate", cert.namespace, cert.secret, other, other)})
	return &tlsCert{namespace: cert.namespace, src: cert.src, useDefault: true}
}

// certificateCovers reports whether the first certificate of a PEM bundle is valid for host.
func certificateCovers(pemData []byte, host string) bool {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return false
	}
	crt, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return false
	}
	return crt.VerifyHostname(host) == nil
}

// tlsEntryLists reports whether a tls entry of ing with secretName secret lists host.
func tlsEntryLists(ing *networkingv1.Ingress, secret, host string) bool {
	for _, t := range ing.Spec.TLS {
		if t.SecretName == secret && slices.Contains(t.Hosts, host) {
			return true
		}
	}
	return false
}

// emitCanaryGrants lets a primary's HTTPRoute reference a canary Service in another
// namespace (ingress-nginx joined them across namespaces).
func (c *converter) emitCanaryGrants(joined map[backend]*canaryJoin) {
	type pair struct{ from, to, svc string }
	need := map[pair]*source{}
	for prim, cj := range joined {
		k := pair{prim.namespace, cj.backend.namespace, cj.backend.service}
		// Two canaries may need the same grant: the older one owns it, whatever the map order.
		if cur, ok := need[k]; cj.backend.namespace != prim.namespace && (!ok || cj.src.order < cur.order) {
			need[k] = cj.src
		}
	}
	keys := make([]pair, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	for _, k := range keys {
		src := need[k]
		g := &gwv1b1.ReferenceGrant{
			TypeMeta:   metav1.TypeMeta{APIVersion: gwv1b1.GroupVersion.String(), Kind: "ReferenceGrant"},
			ObjectMeta: c.meta(src, c.uniqueName(src, "ReferenceGrant", objectName(253, "canary-from", k.from, k.svc), k.from, k.svc), k.to),
			Spec: gwv1b1.ReferenceGrantSpec{
				From: []gwv1b1.ReferenceGrantFrom{{Group: gwv1.GroupName, Kind: "HTTPRoute", Namespace: gwv1.Namespace(k.from)}},
				To:   []gwv1b1.ReferenceGrantTo{{Group: "", Kind: "Service", Name: ptr(gwv1.ObjectName(k.svc))}},
			},
		}
		c.out.addFor(src, g)
	}
}

// joinedNotPortable: a canary's result lives in its primary's routes, so what they need
// of gatebridge, it needs too.
func joinedNotPortable(s *source, m *model) []string {
	var out []string
	for _, h := range m.hosts {
		for _, l := range h.locations {
			if l.canary != nil && l.canary.src == s {
				out = append(out, l.src.notPortable...)
			}
		}
	}
	return out
}

func countVerdict(t *Totals, rep *IngressReport) {
	t.Ingresses++
	switch rep.Verdict {
	case VerdictExact:
		t.Exact++
	case VerdictApproximate:
		t.Approximate++
	case VerdictAttention:
		t.Attention++
	case VerdictRefused:
		t.Refused++
	case VerdictSkipped:
		t.Skipped++
	}
	if rep.Portable {
		t.Portable++
	}
}

// verdictOf: refused when blocked; needs-attention when a person must act (errors and
// warnings); approximate when some behaviour differs; else exact.
func verdictOf(s *source, bridge bool) Verdict {
	if s.refused() {
		s.add(Finding{Severity: SeverityError, Message: blockedMessage(s, bridge)})
		return VerdictRefused
	}
	v := VerdictExact
	for _, f := range s.report.Findings {
		switch {
		case f.Severity == SeverityError || f.Severity == SeverityWarning:
			return VerdictAttention
		case f.Level == annotations.Approximate:
			v = VerdictApproximate
		}
	}
	return v
}

func blockedMessage(s *source, bridge bool) string {
	if bridge {
		return "not converted (" + strings.Join(blockedReasons(s), "; ") + "); no objects are generated and its traffic stays on ingress-nginx until the findings above are resolved: behind the bridge, the paths it owns go to ingress-nginx"
	}
	return "not converted (" + strings.Join(blockedReasons(s), "; ") + "); no objects are generated and its traffic stays on ingress-nginx until the findings above are resolved; served by gatebridge alone (gatebridge run), the paths it owns answer 503 (fails closed)"
}

// blockedReasons say why a refused Ingress is refused.
func blockedReasons(s *source) []string {
	a := s.ann
	parts := append([]string{}, s.hostRefusals...)
	if len(a.Refused) > 0 {
		parts = append(parts, "refused annotations: "+strings.Join(a.Refused, ", "))
	}
	if len(a.FailClosed) > 0 {
		parts = append(parts, "invalid security settings: "+strings.Join(a.FailClosed, ", "))
	}
	parts = append(parts, s.denied...)
	if a.Rejected {
		parts = append(parts, "ingress-nginx itself rejects this Ingress")
	}
	return parts
}

// checkDeniedReferences fails closed an Ingress whose location ingress-nginx denies (503)
// for a reference it cannot resolve: a proxy-ssl-secret that is not in the input (when the
// input holds Secrets; without any, the cluster is trusted to have it), a custom-headers
// ConfigMap that is missing or sets a header ingress-nginx does not allow.
func (c *converter) checkDeniedReferences(s *source) {
	c.resolveCustomHeaders(s)
	c.resolveAuthProxySetHeaders(s)
	c.checkClientCA(s)
	if ref := s.ann.Backend.ProxySSL.Secret; ref != "" && len(c.model.secrets) > 0 {
		ns, name := splitRef(ref, s.ing.Namespace)
		if _, ok := c.model.secrets[ns+"/"+name]; !ok {
			s.add(Finding{Annotation: "proxy-ssl-secret", Value: ref, Level: annotations.Exact, Severity: SeverityError,
				Message: "Secret " + ns + "/" + name + " is not in the input: ingress-nginx denies these paths (503) until it exists, and so does gatebridge (fails closed); include the Secret in the input, or create it"})
			s.denied = append(s.denied, "proxy-ssl-secret "+ns+"/"+name+" not found")
		}
	}
}

// resolveCustomHeaders reads the custom-headers ConfigMap of s into s.customHeaders, or
// fails s closed as ingress-nginx denies its locations (503): the ConfigMap is looked up
// by the value as written (namespace/name; a bare name finds none), and every key must be
// a header name and value its parser accepts and be listed in ConfigMap
// global-allowed-response-headers. gatebridge also refuses a ConfigMap of another
// namespace (its data would be copied into this namespace's HTTPRoutes) and more headers
// than a Gateway API ResponseHeaderModifier holds.
func (c *converter) resolveCustomHeaders(s *source) {
	ref := s.ann.Backend.CustomHeaders
	if ref == "" {
		return
	}
	deny := denier(s, "custom-headers", ref, annotations.Approximate)
	cm := c.referencedConfigMap(s, ref, deny)
	if cm == nil {
		return
	}
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var headers []gwv1.HTTPHeader
	for _, k := range keys {
		if why := annotations.CustomHeaderProblem(k, cm.Data[k], c.defaults.AllowedResponseHeaders); why != "" {
			deny(why, "ConfigMap "+ref+": "+why+"; ingress-nginx denies these paths (503), and so does gatebridge (fails closed)")
			return
		}
		headers = append(headers, gwv1.HTTPHeader{Name: gwv1.HTTPHeaderName(k), Value: cm.Data[k]})
	}
	if len(headers) > maxCustomHeaders {
		deny("ConfigMap "+ref+" has more than 15 headers", fmt.Sprintf("ConfigMap %s sets %d headers; a Gateway API ResponseHeaderModifier holds %d besides Strict-Transport-Security, so these paths answer 503 (fails closed); split the headers", ref, len(headers), maxCustomHeaders))
		return
	}
	for _, h := range headers {
		if len(h.Value) > 4096 || len(h.Name) > 256 {
			deny("ConfigMap "+ref+" has a header too long for the Gateway API", "ConfigMap "+ref+": header "+string(h.Name)+" is longer than a Gateway API header holds (256 characters of name, 4096 of value), so these paths answer 503 (fails closed)")
			return
		}
	}
	s.customHeaders = headers
}

// denier records, for an annotation with value, that ingress-nginx denies the Ingress's locations
// (503) and so does gatebridge: why goes to the refusal, msg to the finding.
func denier(s *source, annotation, value string, level annotations.Level) func(why, msg string) {
	return func(why, msg string) {
		s.add(Finding{Annotation: annotation, Value: value, Level: level, Severity: SeverityError, Message: msg})
		s.denied = append(s.denied, annotation+": "+why)
	}
}

// referencedConfigMap finds the ConfigMap an annotation names (namespace/name, as
// ingress-nginx looks it up: a bare name finds none) in the input, or denies s: missing,
// or of another namespace (gatebridge does not copy another namespace's data into this
// Ingress's objects).
func (c *converter) referencedConfigMap(s *source, ref string, deny func(why, msg string)) *corev1.ConfigMap {
	ns, _, qualified := strings.Cut(ref, "/")
	switch {
	case !qualified:
		deny("ConfigMap "+ref+" not found", "names no namespace: ingress-nginx looks the ConfigMap up as written and finds none, so it denies these paths (503), and so does gatebridge (fails closed); write "+s.ing.Namespace+"/"+ref)
		return nil
	case ns != s.ing.Namespace:
		deny("ConfigMap "+ref+" is in another namespace", "names a ConfigMap of namespace "+ns+": gatebridge does not copy another namespace's ConfigMap into this Ingress's routes, so these paths answer 503 (fails closed); copy the ConfigMap into namespace "+s.ing.Namespace)
		return nil
	}
	cm := c.configMaps[ref]
	if cm == nil {
		deny("ConfigMap "+ref+" not found", "ConfigMap "+ref+" is not in the input: ingress-nginx denies these paths (503) until it exists, and so does gatebridge (fails closed); include the ConfigMap in the input")
	}
	return cm
}

// resolveAuthProxySetHeaders reads the auth-proxy-set-headers ConfigMap of s into
// s.authProxySetHeaders, or fails s closed as ingress-nginx denies its locations (503): a
// missing ConfigMap, a key that is not a header name, or a value with a line break.
func (c *converter) resolveAuthProxySetHeaders(s *source) {
	ref := s.ann.ExternalAuth.ProxySetHeaders
	if ref == "" || s.ann.ExternalAuth.URL == "" {
		return
	}
	deny := denier(s, "auth-proxy-set-headers", ref, annotations.Exact)
	cm := c.referencedConfigMap(s, ref, deny)
	if cm == nil {
		return
	}
	if len(cm.Data) > maxAuthProxySetHeaders {
		deny("ConfigMap "+ref+" has too many headers", fmt.Sprintf("ConfigMap %s sets %d headers, more than the %d gatebridge sends to an auth service, so these paths answer 503 (fails closed)", ref, len(cm.Data), maxAuthProxySetHeaders))
		return
	}
	headers := map[string]string{}
	for k, v := range cm.Data {
		if why := annotations.AuthProxyHeaderProblem(k, v); why != "" {
			deny(why, "ConfigMap "+ref+": "+why+"; ingress-nginx denies these paths (503), and so does gatebridge (fails closed)")
			return
		}
		headers[k] = v
	}
	s.authProxySetHeaders = headers
}

// maxAuthProxySetHeaders bounds the headers of auth-proxy-set-headers (the CRD's limit).
const maxAuthProxySetHeaders = 64

// maxCustomHeaders: a ResponseHeaderModifier sets at most 16 headers, one is kept for
// Strict-Transport-Security.
const maxCustomHeaders = 15
