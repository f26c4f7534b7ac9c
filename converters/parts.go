package converters

import (
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/annotations"
	"github.com/gatebridge-dev/gatebridge/internal/parallel"
)

// A conversion is made of parts: sets of Ingresses that ingress-nginx ties together.
// Ingresses are tied when they share a hostname (paths first-wins, server settings, regex
// mode, client certificates, the implicit "/"), when one names another's host as a
// server-alias or as the other half of a www redirect, or when they share a Service (a
// canary joins every location of its primary's upstream, on any host). Converted alone, a
// part gives exactly what the whole conversion gives for its Ingresses — except for the
// listener plan, which packs every part's listeners into the Gateway and its ListenerSets
// in hostname order; it is made from all parts before any part builds its objects.
//
// Parts are what makes Incremental cheap: an edit re-converts the parts of the edited
// Ingresses and reuses the others, objects and all. Convert uses the same path with nothing
// to reuse, and TestPartsChangeNothing checks that parts give what one part of everything
// gives.

// part is one part of a conversion, and after it what the part produced.
type part struct {
	// keys are the namespace/name of its Ingresses, in input order: its identity from one
	// conversion to the next.
	keys []string
	// members are the indices of its Ingresses in the current input.
	members []int
	// conv, sources: the part's converter and parsed Ingresses (nil when not selected),
	// while it is converted.
	conv    *converter
	sources []*source
	// reports, by member.
	reports []*IngressReport
	// listeners are the HTTPS and passthrough listeners of its hosts, in hostname order.
	listeners []*plannedListener
	// owners and gatewayEmitted are what the part was built with of the conversion-wide
	// plan: where each listener lives, and whether the conversion emits a Gateway (it
	// decides certificate findings). A reused part whose plan changed is converted again.
	owners         []string
	gatewayEmitted bool
	// objects are sorted by sortObjects.
	objects []client.Object
	// annotations counts the annotation names of its selected Ingresses, for the totals.
	annotations map[string]int
}

// Incremental converts an input that changes a little at a time — `gatebridge run`
// watching files — re-converting only the parts (above) with a changed Ingress and reusing
// the objects of the others, so that an edit of one Ingress among 10,000 costs the
// Ingresses of its hosts. Its Results are those of Convert, byte for byte; unchanged
// objects are the same pointers as in the previous Result, so the data plane's memo sees
// them unchanged at no cost. Not safe for concurrent use; objects must not be modified.
type Incremental struct {
	opts  Options
	parts map[string]*part
}

// NewIncremental returns an Incremental converter with opts.
func NewIncremental(opts Options) *Incremental { return &Incremental{opts: opts.withDefaults()} }

// Convert converts in. changed names (namespace/name) every Ingress added, removed or
// edited since the previous call; everything else of the input must be as it was then. A
// nil changed means anything may have changed: the first call, and whenever IngressClasses,
// Services, Secrets or the controller ConfigMap changed.
func (x *Incremental) Convert(in Input, changed map[string]bool) Result {
	prev := x.parts
	if changed == nil {
		prev = nil
	}
	res, parts := convert(in, x.opts, prev, changed, false)
	x.parts = parts
	return res
}

// convert runs one conversion, reusing the parts of prev (by Ingress key) whose Ingresses
// are unchanged; single makes everything one part (tests). It returns the parts by key.
func convert(in Input, opts Options, prev map[string]*part, changed map[string]bool, single bool) (Result, map[string]*part) {
	cv := newConversion(in, opts)
	keys := make([]string, len(in.Ingresses))
	selected := make([]bool, len(in.Ingresses))
	for i := range in.Ingresses {
		ing := &in.Ingresses[i]
		keys[i] = ing.Namespace + "/" + ing.Name
		_, selected[i], _ = cv.sel.decide(ing)
	}
	groups := partition(in.Ingresses, selected, opts.AnnotationsPrefix, single)
	parts := make([]*part, len(groups))
	var built []*part
	for gi, g := range groups {
		p := reusablePart(prev, changed, keys, g)
		if p == nil {
			p = &part{keys: pick(keys, g)}
			built = append(built, p)
		}
		p.members = g
		parts[gi] = p
	}
	cv.analyse(in, built)
	plan := planListeners(parts, opts.GatewayName, opts.MaxListenersPerGateway)
	parallel.For(len(built), func(k int) { built[k].conv.emit(plan) })

	gatewayEmitted := false
	for _, p := range parts {
		gatewayEmitted = gatewayEmitted || len(p.objects) > 0 || (p.conv != nil && len(p.conv.out.objs) > 0)
	}
	// A reused part built with another plan is built again; its listeners are the same,
	// so the plan stands.
	var rebuilt, replaced []*part
	for gi, p := range parts {
		if p.conv == nil && (p.gatewayEmitted != gatewayEmitted || !sameOwners(p)) {
			q := &part{keys: p.keys, members: p.members}
			parts[gi] = q
			rebuilt, replaced = append(rebuilt, q), append(replaced, p)
		}
	}
	if len(rebuilt) > 0 {
		cv.analyse(in, rebuilt)
		for k, q := range rebuilt {
			for i, l := range q.listeners {
				l.owner = replaced[k].listeners[i].owner
			}
			q.conv.emit(plan)
		}
		built = append(built, rebuilt...)
	}
	parallel.For(len(built), func(k int) { built[k].finish(gatewayEmitted) })

	res := Result{Report: cv.report(in, parts)}
	var objs []client.Object
	for _, p := range parts {
		objs = append(objs, p.objects...)
	}
	if gatewayEmitted {
		objs = append(objs, cv.gatewayObjects(plan)...)
		objs = append(objs, cv.defaultsPolicy())
		cv.global = append(cv.global, Finding{Field: "TrafficPolicy " + opts.GatewayNamespace + "/" + DefaultsPolicyName, Severity: SeverityInfo,
			Message: "carries ingress-nginx's gateway-wide defaults (1 MiB body limit, idle timeouts, retries, https redirects dropping the trailing slash, full-path redirects dropping the query, nginx regex order); other implementations ignore it, so \"portable\" routes behave there with their own defaults"})
	}
	res.Objects = sortObjects(objs)
	res.Report.Global = cv.global
	if res.Report.Global == nil {
		res.Report.Global = []Finding{}
	}
	for _, o := range res.Objects {
		res.Report.Totals.Objects[o.GetObjectKind().GroupVersionKind().Kind]++
	}
	byKey := make(map[string]*part, len(keys))
	for _, p := range parts {
		for _, k := range p.keys {
			byKey[k] = p
		}
	}
	return res, byKey
}

// analyse parses the Ingresses of parts (all of them in parallel: the bulk of the work)
// and builds each part's host model and listeners.
func (cv *conversion) analyse(in Input, parts []*part) {
	type member struct {
		p *part
		j int
	}
	var all []member
	for _, p := range parts {
		p.sources = make([]*source, len(p.members))
		p.reports = make([]*IngressReport, len(p.members))
		for j := range p.members {
			all = append(all, member{p, j})
		}
	}
	parallel.For(len(all), func(k int) {
		m := all[k]
		m.p.reports[m.j], m.p.sources[m.j] = cv.selectOne(&in.Ingresses[m.p.members[m.j]])
	})
	parallel.For(len(parts), func(k int) {
		p := parts[k]
		c := &converter{conversion: cv, out: &objectSet{},
			model: &model{hosts: map[string]*hostModel{}, services: cv.services, secrets: cv.secrets, defaults: cv.defaults}}
		for _, s := range p.sources {
			if s != nil {
				c.sources = append(c.sources, s)
			}
		}
		p.listeners = c.analyse()
		p.conv = c
	})
}

// finish completes a built part: findings that depend on the whole conversion, verdicts,
// sorted objects. It drops what only building needed (the parsed Ingresses point into the
// input, which must not stay alive with the part).
func (p *part) finish(gatewayEmitted bool) {
	c := p.conv
	c.finishSources(p.listeners, gatewayEmitted)
	p.annotations = map[string]int{}
	for j, s := range p.sources {
		if s == nil {
			continue
		}
		rep := p.reports[j]
		rep.Verdict = verdictOf(s)
		rep.Portable = rep.Verdict != VerdictRefused && !s.usesExtensions
		for k := range s.ing.Annotations {
			if name, ok := annotations.SplitName(k, c.opts.AnnotationsPrefix); ok {
				p.annotations[name]++
			}
		}
		sort.Slice(rep.Objects, func(i, j int) bool {
			a, b := rep.Objects[i], rep.Objects[j]
			if a.Kind != b.Kind {
				return kindRank(a.Kind) < kindRank(b.Kind)
			}
			return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
		})
	}
	p.objects = sortObjects(c.out.objs)
	p.owners = make([]string, len(p.listeners))
	for i, l := range p.listeners {
		p.owners[i] = l.owner
		if l.cert != nil {
			l.cert = &tlsCert{namespace: l.cert.namespace, secret: l.cert.secret, useDefault: l.cert.useDefault}
		}
	}
	p.gatewayEmitted = gatewayEmitted
	p.conv, p.sources = nil, nil
}

// report assembles the Report: every Ingress's entry by namespace/name, and the totals.
func (cv *conversion) report(in Input, parts []*part) Report {
	r := Report{
		SchemaVersion: ReportSchemaVersion,
		Settings: ReportSettings{IngressClass: cv.opts.IngressClass, IncludeUnclassed: cv.opts.IncludeUnclassed,
			AnnotationsPrefix: cv.opts.AnnotationsPrefix, Gateway: cv.opts.GatewayNamespace + "/" + cv.opts.GatewayName,
			GatewayClass: cv.opts.GatewayClassName, ConfigMap: cv.configMapName},
		Totals:    Totals{Annotations: map[string]int{}, Objects: map[string]int{}},
		Ingresses: make([]IngressReport, len(in.Ingresses)),
	}
	for _, p := range parts {
		for j, m := range p.members {
			r.Ingresses[m] = *p.reports[j]
		}
		for name, n := range p.annotations {
			r.Totals.Annotations[name] += n
		}
	}
	for i := range r.Ingresses {
		countVerdict(&r.Totals, &r.Ingresses[i])
	}
	sort.SliceStable(r.Ingresses, func(i, j int) bool {
		a, b := &r.Ingresses[i], &r.Ingresses[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return r
}

// sameOwners reports whether the plan left the part's listeners where they were when the
// part was built.
func sameOwners(p *part) bool {
	for i, l := range p.listeners {
		if l.owner != p.owners[i] {
			return false
		}
	}
	return true
}

// reusablePart returns the part of prev that has exactly the Ingresses of group (by key,
// in order), none of them changed; nil when there is none.
func reusablePart(prev map[string]*part, changed map[string]bool, keys []string, group []int) *part {
	if prev == nil {
		return nil
	}
	p := prev[keys[group[0]]]
	if p == nil || len(p.keys) != len(group) {
		return nil
	}
	for j, i := range group {
		if p.keys[j] != keys[i] || changed[keys[i]] {
			return nil
		}
	}
	return p
}

func pick(keys []string, group []int) []string {
	out := make([]string, len(group))
	for j, i := range group {
		out[j] = keys[i]
	}
	return out
}

// partition groups the Ingresses into parts (see above), each in input order, parts in
// the order of their first Ingress. An Ingress that is not selected is a part of its own;
// single puts everything in one part.
func partition(ings []networkingv1.Ingress, selected []bool, prefix string, single bool) [][]int {
	n := len(ings)
	if single {
		if n == 0 {
			return nil
		}
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return [][]int{all}
	}
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	// tie is what two Ingresses can share: a hostname ('h'), a Service ('s'), or their key
	// ('i': the same Ingress listed twice, so that a key names one part to reuse).
	type tie struct {
		kind byte
		a, b string
	}
	first := make(map[tie]int, 4*n)
	link := func(i int, t tie) {
		j, ok := first[t]
		if !ok {
			first[t] = i
			return
		}
		if ri, rj := find(i), find(j); ri != rj {
			parent[max(ri, rj)] = min(ri, rj)
		}
	}
	linkHost := func(i int, h string) {
		link(i, tie{kind: 'h', a: h})
		if h != "" {
			link(i, tie{kind: 'h', a: wwwPair(h)})
		}
	}
	linkService := func(i int, ns string, b *networkingv1.IngressBackend) {
		if b.Service != nil {
			link(i, tie{'s', ns, b.Service.Name})
		}
	}
	for i := range ings {
		if !selected[i] {
			continue
		}
		ing := &ings[i]
		link(i, tie{'i', ing.Namespace, ing.Name})
		for _, r := range ing.Spec.Rules {
			linkHost(i, strings.ToLower(r.Host))
			if r.HTTP != nil {
				for pi := range r.HTTP.Paths {
					linkService(i, ing.Namespace, &r.HTTP.Paths[pi].Backend)
				}
			}
		}
		if db := ing.Spec.DefaultBackend; db != nil {
			linkService(i, ing.Namespace, db)
			if len(ing.Spec.Rules) == 0 {
				linkHost(i, "")
			}
		}
		for _, a := range annotations.AliasNames(ing.Annotations, prefix) {
			linkHost(i, a)
		}
	}
	var groups [][]int
	index := map[int]int{}
	for i := range ings {
		r := find(i)
		g, ok := index[r]
		if !ok {
			g = len(groups)
			index[r] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// wwwPair is the other name of a from-to-www-redirect: www.h for h, h for www.h.
func wwwPair(h string) string {
	if rest, ok := strings.CutPrefix(h, "www."); ok {
		return rest
	}
	return "www." + h
}
