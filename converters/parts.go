package converters

import (
	"cmp"
	"maps"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatebridge-dev/gatebridge/annotations"
	"github.com/gatebridge-dev/gatebridge/internal/emit"
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
	// keys are its Ingresses, in input order: its identity from one conversion to the next.
	keys []ingressKey
	// dead: the part was dissolved; the tie index may still name it (state).
	dead bool
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
	// placed and gatewayEmitted are what the part was built with of the conversion-wide
	// plan: where each listener lives and its name, and whether the conversion emits a
	// Gateway (it decides certificate findings). A reused part whose plan changed is
	// converted again.
	placed         []placement
	gatewayEmitted bool
	// objects are in output order (keyedObject); keyed are the same with their keys.
	objects []client.Object
	keyed   []keyedObject
	// seen and built are the generation (state.gen) of the conversion that last had the
	// part and that last built it.
	seen, built int
	// annotations are the annotation names of its selected Ingresses, once per Ingress
	// that has it, for the totals (a list: a map per part cost 15 MB at 50,000 Ingresses).
	annotations []string
	// refused are the locations of its refused Ingresses (refused.go).
	refused []RefusedLocation
}

// Incremental converts an input that changes a little at a time — `gatebridge run`
// watching files — re-converting only the parts (above) with a changed Ingress and reusing
// the objects of the others, so that an edit of one Ingress among 10,000 costs the
// Ingresses of its hosts. Its Results are those of Convert, byte for byte; unchanged
// objects are the same pointers as in the previous Result, so the data plane's memo sees
// them unchanged at no cost. Not safe for concurrent use; objects must not be modified.
type Incremental struct {
	opts  Options
	state *state
	// weightsChanged are the Ingresses whose previous weight SetPreviousWeights changed:
	// the next conversion converts them again.
	weightsChanged map[string]bool
}

// SetPreviousWeights replaces Options.PreviousWeights for the next conversions (bridge
// mode: the last valid gatebridge.dev/weight of each Ingress, see RememberWeights). The
// Ingresses whose entry changed are converted again, so that the Result stays that of
// Convert.
func (x *Incremental) SetPreviousWeights(w map[string]int) {
	old := x.opts.PreviousWeights
	for k, v := range w {
		if ov, ok := old[k]; !ok || ov != v {
			x.markWeightChanged(k)
		}
	}
	for k := range old {
		if _, ok := w[k]; !ok {
			x.markWeightChanged(k)
		}
	}
	x.opts.PreviousWeights = w
}

func (x *Incremental) markWeightChanged(k string) {
	if x.weightsChanged == nil {
		x.weightsChanged = map[string]bool{}
	}
	x.weightsChanged[k] = true
}

// ingressKey is an Ingress's namespace and name.
type ingressKey struct{ namespace, name string }

func keyOf(ing *networkingv1.Ingress) ingressKey { return ingressKey{ing.Namespace, ing.Name} }

// state is what a conversion leaves for the next: its parts by Ingress, and the part that
// holds each tie. A dissolved part is marked dead rather than removed from ties; a tie
// found on a dead part is as good as absent.
type state struct {
	parts map[ingressKey]*part
	ties  map[tie]*part
	// fullTies is how many ties the last full partition found: ties of dead parts that no
	// new part took over stay in ties, and when they have come to outnumber the live ones,
	// the next conversion partitions everything afresh.
	fullTies int
	// gen counts the conversions; sorted are the last one's objects in order, kept to merge
	// the next one's into instead of sorting 20,000 objects again.
	gen    int
	sorted []keyedObject
	// reportOrder is the last report's order of entries.
	reportOrder *reportOrder
	// collided: the conversion refused Ingresses for object names (convert); the next one
	// must be full.
	collided bool
	// services and secrets are the conversion's lookups, which stand as long as the
	// Services and Secrets do, and so do inputFindings (about the invalid ones).
	services      map[string]*corev1.Service
	secrets       map[string]*corev1.Secret
	inputFindings []Finding
}

// NewIncremental returns an Incremental converter with opts.
func NewIncremental(opts Options) *Incremental { return &Incremental{opts: opts.withDefaults()} }

// Convert converts in. changed names (namespace/name) every Ingress added, removed or
// edited since the previous call; everything else of the input must be as it was then. A
// nil changed means anything may have changed: the first call, and whenever IngressClasses,
// Services, Secrets or the controller ConfigMap changed.
func (x *Incremental) Convert(in Input, changed map[string]bool) Result {
	prev := x.state
	var keys map[ingressKey]bool
	if changed == nil || prev != nil && len(prev.ties) > 2*prev.fullTies+1024 {
		prev = nil
	} else {
		keys = make(map[ingressKey]bool, len(changed)+len(x.weightsChanged))
		for _, set := range []map[string]bool{changed, x.weightsChanged} {
			for k := range set {
				ns, name, _ := strings.Cut(k, "/")
				keys[ingressKey{ns, name}] = true
			}
		}
	}
	x.weightsChanged = nil
	res, next := convert(in, x.opts, prev, keys, modeKeep)
	x.state = next
	return res
}

// convertMode says how convert partitions and what it keeps.
type convertMode int

const (
	// modeOnce converts once: nothing is kept for a next conversion.
	modeOnce convertMode = iota
	// modeKeep keeps the parts and the tie index for Incremental.
	modeKeep
	// modeOnePart converts everything as one part (tests).
	modeOnePart
)

// convert runs one conversion, reusing the parts of prev whose Ingresses are not in
// changed (see Incremental).
//
// Objects are named after their Ingress, so two Ingresses rarely make objects of one kind,
// namespace and name; when they do (collisions), the later Ingress of each such name is
// refused and everything is converted again — so it fails closed like any refused Ingress
// and no listener or certificate of its own remains. A state left by a conversion that
// refused Ingresses so is not reused: the next conversion is a full one, which finds the
// collisions afresh.
func convert(in Input, opts Options, prev *state, changed map[ingressKey]bool, mode convertMode) (Result, *state) {
	if prev != nil && prev.collided {
		prev, changed = nil, nil
	}
	var collided map[int]string
	for {
		res, next, losers := convertPass(in, opts, prev, changed, mode, collided)
		if len(losers) == 0 || len(collided) >= len(in.Ingresses) {
			return res, next
		}
		if collided == nil {
			collided = map[int]string{}
		}
		maps.Copy(collided, losers)
		prev, changed = nil, nil
	}
}

// convertPass is one conversion; collided are the Ingresses (by input index) refused for
// an object name another Ingress has, with the reason. It returns the Ingresses whose
// objects collide with another's (collisions), to be refused by another pass.
func convertPass(in Input, opts Options, prev *state, changed map[ingressKey]bool, mode convertMode, collided map[int]string) (Result, *state, map[int]string) {
	cv := newConversion(in, opts, prev)
	cv.collided = collided
	selected := make([]bool, len(in.Ingresses))
	for i := range in.Ingresses {
		_, selected[i], _ = cv.sel.decide(&in.Ingresses[i])
	}
	pt := partitioner{ings: in.Ingresses, selected: selected, prefix: opts.AnnotationsPrefix, checks: cv.checks}
	var groups [][]int
	var reused, dissolved []*part
	var newTies map[tie]int
	if prev != nil {
		groups, reused, dissolved, newTies = pt.update(prev, changed)
	}
	if groups == nil {
		prev = nil
		cv.checks.checkAll()
		groups, newTies = pt.all(mode == modeOnePart, mode == modeKeep)
		reused = make([]*part, len(groups))
	}
	parts := make([]*part, len(groups))
	var built []*part
	for gi, g := range groups {
		p := reused[gi]
		if p == nil {
			p = &part{keys: make([]ingressKey, len(g))}
			for j, i := range g {
				p.keys[j] = keyOf(&in.Ingresses[i])
			}
			built = append(built, p)
		}
		p.members = g
		parts[gi] = p
	}
	// A streaming conversion builds and encodes each part in one go (stream.go).
	streamed := opts.Encoder != nil && prev == nil && mode == modeOnce
	reanalyse := streamed && len(built) >= reanalyseMinParts
	if reanalyse {
		cv.analyseListeners(in, built)
	} else {
		cv.analyse(in, built)
	}
	plan := planListeners(parts, opts.GatewayName, opts.MaxListenersPerGateway)
	var encoders *encoderPool
	gatewayEmitted := false
	if streamed {
		encoders = newEncoderPool(opts.Encoder)
		gatewayEmitted = cv.buildEncoded(in, built, plan, reanalyse, encoders)
		if !gatewayEmitted {
			// No object at all: the parts were finished as if the Gateway were emitted.
			opts.Encoder = nil
			res, next, losers := convertPass(in, opts, prev, changed, mode, collided)
			res.Objects, res.Encoded = nil, []emit.Encoded{}
			return res, next, losers
		}
	} else {
		parallel.For(len(built), func(k int) { built[k].conv.emit(plan) })
		for _, p := range parts {
			gatewayEmitted = gatewayEmitted || len(p.objects) > 0 || (p.conv != nil && len(p.conv.out.objs) > 0)
		}
		built = cv.rebuildReplanned(in, parts, built, plan, gatewayEmitted)
		parallel.For(len(built), func(k int) { built[k].finish(gatewayEmitted) })
	}

	var global []client.Object
	if gatewayEmitted && opts.Portable {
		global = cv.gatewayObjects(plan)
		cv.global = append(cv.global, portableDefaultsLost(opts))
	} else if gatewayEmitted {
		global = append(cv.gatewayObjects(plan), cv.defaultsPolicy())
		cv.global = append(cv.global, Finding{Field: "TrafficPolicy " + opts.GatewayNamespace + "/" + DefaultsPolicyName, Severity: SeverityInfo,
			Message: "carries ingress-nginx's gateway-wide defaults (1 MiB body limit, idle timeouts, retries, https redirects dropping the trailing slash, full-path redirects dropping the query, nginx regex order); other implementations ignore it, so \"portable\" routes behave there with their own defaults"})
	}
	gen := 0
	var prevOrder *reportOrder
	if prev != nil {
		gen, prevOrder = prev.gen+1, prev.reportOrder
	}
	// sorted stays whole for the next conversion to merge into; the output drops what
	// repeats a kind, namespace and name.
	globalKeyed := keyedObjects(global, nil, nil)
	if streamed {
		// The Gateway and its ListenerSets hold every listener: encoded one per core.
		parallel.For(len(globalKeyed), func(i int) { encodeKeyed(encoders, globalKeyed[i:i+1]) })
	}
	sorted := orderObjects(prev, parts, built, globalKeyed, gen, mode == modeKeep)
	losers := collisions(sorted, in.Ingresses)
	out, dups := dropDuplicates(sorted)
	report, order := cv.report(in, parts, prevOrder, dups)
	res := Result{Report: report}
	if streamed {
		res.Encoded, res.EncodingError = make([]emit.Encoded, len(out)), encoders.err
	} else {
		res.Objects = make([]client.Object, len(out))
	}
	for i := range out {
		if streamed {
			res.Encoded[i] = out[i].enc
		} else {
			res.Objects[i] = out[i].obj
		}
		res.Report.Totals.Objects[out[i].kind]++
	}
	for _, p := range parts {
		res.RefusedLocations = append(res.RefusedLocations, p.refused...)
	}
	sortRefused(res.RefusedLocations)
	res.Report.Global = cv.global
	if res.Report.Global == nil {
		res.Report.Global = []Finding{}
	}
	if mode != modeKeep {
		return res, nil, losers
	}
	next := nextState(prev, parts, built, dissolved, newTies)
	next.services, next.secrets, next.inputFindings, next.gen, next.sorted, next.reportOrder = cv.services, cv.secrets, cv.inputFindings, gen, sorted, order
	next.collided = len(collided) > 0
	return res, next, losers
}

// rebuildReplanned builds again, in place, the reused parts built with another plan or
// another gatewayEmitted (the tie index names them); their listeners are the same, so the
// plan stands. It returns built with them.
func (cv *conversion) rebuildReplanned(in Input, parts, built []*part, plan *listenerPlan, gatewayEmitted bool) []*part {
	var rebuilt []*part
	var placed [][]placement
	for _, p := range parts {
		if p.conv == nil && (p.gatewayEmitted != gatewayEmitted || !samePlacement(p)) {
			rebuilt, placed = append(rebuilt, p), append(placed, placementOf(p.listeners))
			*p = part{keys: p.keys, members: p.members}
		}
	}
	if len(rebuilt) > 0 {
		cv.analyse(in, rebuilt)
		for k, p := range rebuilt {
			for i, l := range p.listeners {
				l.owner, l.name = placed[k][i].owner, placed[k][i].name
			}
			p.conv.emit(plan)
		}
		built = append(built, rebuilt...)
	}
	return built
}

// orderObjects returns the objects of parts and global in order. After a previous
// conversion (prev), the objects of parts it had and did not build again keep their order
// and those built now are merged in; else everything is sorted, and the parts let go of
// their own lists unless they are kept for a next conversion (keep).
func orderObjects(prev *state, parts, built []*part, global []keyedObject, gen int, keep bool) []keyedObject {
	for _, p := range built {
		p.built = gen
	}
	if prev == nil {
		// Sized first: 150,000 objects of 50,000 Ingresses are ~20 MB to copy, once.
		n := len(global)
		for _, p := range parts {
			n += len(p.keyed)
		}
		all := make([]keyedObject, 0, n)
		for _, p := range parts {
			p.seen = gen
			all = append(all, p.keyed...)
			if !keep {
				p.keyed = nil // nothing converts after this one: one copy fewer while sorting
			}
		}
		all = append(all, global...)
		return sortedKeyed(all)
	}
	// New are the parts built now and those the previous conversion did not have (an
	// input changed without saying so may bring a part back).
	fresh := []keyedObject{}
	for _, p := range parts {
		if p.built == gen || p.seen != prev.gen {
			fresh = append(fresh, p.keyed...)
		}
		p.seen = gen
	}
	fresh = append(fresh, global...)
	sortKeyed(fresh)
	// Objects of dissolved or vanished parts, and the conversion's own, are not kept. Two
	// parts never make objects of the same key (names include the source Ingress), so
	// merging gives the order sorting everything gives.
	return mergeKeyed(prev.sorted, func(k *keyedObject) bool {
		return k.part != nil && k.part.seen == gen && k.part.built != gen
	}, fresh)
}

// nextState records the parts of a conversion for the next one: prev (nil after a full
// partition) updated in place with the parts dissolved and built, or a new state.
func nextState(prev *state, parts, built, dissolved []*part, newTies map[tie]int) *state {
	next := prev
	if next == nil {
		next = &state{parts: make(map[ingressKey]*part), ties: make(map[tie]*part, len(newTies)), fullTies: len(newTies)}
	}
	for _, p := range dissolved {
		for _, k := range p.keys {
			if next.parts[k] == p {
				delete(next.parts, k)
			}
		}
	}
	for _, p := range built {
		for _, k := range p.keys {
			next.parts[k] = p
		}
	}
	// newTies are by group, and groups are parts in order.
	for t, gi := range newTies {
		next.ties[t] = parts[gi]
	}
	return next
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
		i := m.p.members[m.j]
		m.p.reports[m.j], m.p.sources[m.j] = cv.selectOne(&in.Ingresses[i], cv.checks.of(i))
		if s := m.p.sources[m.j]; s != nil {
			s.member = m.j
			if why := cv.collided[i]; why != "" {
				s.hostRefusals = append(s.hostRefusals, why)
			}
		}
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
	if c.opts.Bridge {
		c.applyBridge(p.sources)
	}
	p.annotations = nil
	for j, s := range p.sources {
		if s == nil {
			continue
		}
		rep := p.reports[j]
		rep.Verdict = verdictOf(s, c.opts.Bridge)
		rep.Portable = rep.Verdict != VerdictRefused && len(s.notPortable) == 0
		if rep.Verdict != VerdictRefused && len(s.notPortable) > 0 {
			// Sorted: the order they were met in depends on the input's.
			rep.NotPortable = slices.Sorted(slices.Values(s.notPortable))
		}
		if c.opts.Bridge {
			rep.Migration = migrationOf(s.bridge, rep.Verdict)
		}
		for k := range s.ing.Annotations {
			if name, ok := annotations.SplitName(k, c.opts.AnnotationsPrefix); ok {
				p.annotations = append(p.annotations, name)
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
	p.refused = c.refusedLocations()
	p.keyed = keyedObjects(c.out.objs, c.out.members, p)
	sortKeyed(p.keyed)
	p.objects = make([]client.Object, len(p.keyed))
	for i := range p.keyed {
		p.objects[i] = p.keyed[i].obj
	}
	p.placed = placementOf(p.listeners)
	for _, l := range p.listeners {
		if l.cert != nil {
			l.cert = &tlsCert{namespace: l.cert.namespace, secret: l.cert.secret, useDefault: l.cert.useDefault}
		}
	}
	p.gatewayEmitted = gatewayEmitted
	p.conv, p.sources = nil, nil
}

// report assembles the Report: every Ingress's entry by namespace/name, and the totals.
// prevOrder is the order of the previous conversion's entries (nil if none): it stands
// when the input has the same Ingress keys in the same order. The order used is returned.
// dups are the objects the output dropped (dropDuplicates): their Ingresses say so.
func (cv *conversion) report(in Input, parts []*part, prevOrder *reportOrder, dups []duplicate) (Report, *reportOrder) {
	r := Report{
		SchemaVersion: ReportSchemaVersion,
		Settings: ReportSettings{IngressClass: cv.opts.IngressClass, IncludeUnclassed: cv.opts.IncludeUnclassed,
			AnnotationsPrefix: cv.opts.AnnotationsPrefix, Gateway: cv.opts.GatewayNamespace + "/" + cv.opts.GatewayName,
			GatewayClass: cv.opts.GatewayClassName, ConfigMap: cv.configMapName, Portable: cv.opts.Portable},
		Totals:    Totals{Annotations: map[string]int{}, Objects: map[string]int{}},
		Ingresses: make([]IngressReport, len(in.Ingresses)),
	}
	ro := reportOrderOf(in.Ingresses, prevOrder)
	// Each entry goes straight to its place in namespace/name order.
	for _, p := range parts {
		for j, m := range p.members {
			r.Ingresses[ro.place[m]] = *p.reports[j]
		}
		for _, name := range p.annotations {
			r.Totals.Annotations[name]++
		}
	}
	for _, d := range dups {
		if i := d.dropped.ingressIndex(); i >= 0 {
			noteDropped(&r.Ingresses[ro.place[i]], d)
		}
	}
	for i := range r.Ingresses {
		countVerdict(&r.Totals, &r.Ingresses[i])
	}
	return r, ro
}

// reportOrderOf returns the order of the report entries of ings: by namespace/name, equal
// keys in input order. prev (nil if none) stands when ings have the same keys in the same
// order.
func reportOrderOf(ings []networkingv1.Ingress, prev *reportOrder) *reportOrder {
	ro := &reportOrder{keys: make([]ingressKey, len(ings))}
	for i := range ings {
		ro.keys[i] = keyOf(&ings[i])
	}
	if prev != nil && slices.Equal(prev.keys, ro.keys) {
		ro.place = prev.place
		return ro
	}
	// Indices are sorted, not the entries.
	order := make([]int, len(ings))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := &ings[i], &ings[j]
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name), i-j)
	})
	ro.place = make([]int, len(ings))
	for k, i := range order {
		ro.place[i] = k
	}
	return ro
}

// noteDropped tells the Ingress whose object d dropped (dropDuplicates): the object leaves
// its list, an error finding says why, and the verdict is at least needs-attention. The
// entry's slices are shared with the part (reused by Incremental), so they are copied,
// never appended to.
func noteDropped(rep *IngressReport, d duplicate) {
	obj := d.dropped.kind + " " + d.dropped.ns + "/" + d.dropped.name
	msg := obj + " is not emitted: gatebridge made two objects of that kind and name for this Ingress and keeps the first (a gatebridge bug: please report it with this Ingress)"
	if d.kept.ingressIndex() != d.dropped.ingressIndex() {
		msg = obj + " is not emitted: another object of the output has that kind and name and comes first, and the API server holds one object per kind, namespace and name; rename the Ingress"
	}
	ref := ObjectRef{Kind: d.dropped.kind, Namespace: d.dropped.ns, Name: d.dropped.name}
	if i := slices.Index(rep.Objects, ref); i >= 0 {
		rep.Objects = slices.Delete(slices.Clone(rep.Objects), i, i+1)
	}
	rep.Findings = append(slices.Clip(rep.Findings), Finding{Severity: SeverityError, Message: msg})
	if rep.Verdict == VerdictExact || rep.Verdict == VerdictApproximate {
		rep.Verdict = VerdictAttention
	}
}

// reportOrder is the order of a report's entries for an input's Ingress keys: place[i]
// is the place of the entry of the input's Ingress i.
type reportOrder struct {
	keys  []ingressKey
	place []int
}

// placement is where a listener lives (owner) and its name.
type placement struct{ owner, name string }

func placementOf(ls []*plannedListener) []placement {
	out := make([]placement, len(ls))
	for i, l := range ls {
		out[i] = placement{l.owner, l.name}
	}
	return out
}

// samePlacement reports whether the plan left the part's listeners where and as they were
// when the part was built.
func samePlacement(p *part) bool {
	for i, l := range p.listeners {
		if (placement{l.owner, l.name}) != p.placed[i] {
			return false
		}
	}
	return true
}

// tie is what two Ingresses can share: a hostname ('h'), a Service ('s'), or their key
// ('i': the same Ingress listed twice, so that a key names one part).
type tie struct {
	kind byte
	a, b string
}

// partitioner finds the parts of an input (see above).
type partitioner struct {
	ings     []networkingv1.Ingress
	selected []bool
	prefix   string
	checks   *ingressChecks
}

// ties calls fn with every tie of Ingress i: none when it is not selected or the API
// server would reject it (it is a part of its own, and shares nothing with anyone).
func (pt *partitioner) ties(i int, fn func(tie)) {
	if !pt.selected[i] || len(pt.checks.of(i)) > 0 {
		return
	}
	ing := &pt.ings[i]
	host := func(h string) {
		fn(tie{kind: 'h', a: h})
		if h != "" {
			fn(tie{kind: 'h', a: wwwPair(h)})
		}
	}
	service := func(b *networkingv1.IngressBackend) {
		if b.Service != nil {
			fn(tie{'s', ing.Namespace, b.Service.Name})
		}
	}
	fn(tie{'i', ing.Namespace, ing.Name})
	for _, r := range ing.Spec.Rules {
		host(strings.ToLower(r.Host))
		if r.HTTP != nil {
			for pi := range r.HTTP.Paths {
				service(&r.HTTP.Paths[pi].Backend)
			}
		}
	}
	if db := ing.Spec.DefaultBackend; db != nil {
		service(db)
		if len(ing.Spec.Rules) == 0 {
			host("")
		}
	}
	for _, a := range annotations.AliasNames(ing.Annotations, pt.prefix) {
		host(a)
	}
}

// unionFind joins indices into groups.
type unionFind []int

func newUnionFind(n int) unionFind {
	u := make(unionFind, n)
	for i := range u {
		u[i] = i
	}
	return u
}

func (u unionFind) find(i int) int {
	for u[i] != i {
		u[i] = u[u[i]]
		i = u[i]
	}
	return i
}

func (u unionFind) union(i, j int) {
	if ri, rj := u.find(i), u.find(j); ri != rj {
		u[max(ri, rj)] = min(ri, rj)
	}
}

// link ties i to the first Ingress that had t (recorded in first).
func (u unionFind) link(first map[tie]int, i int, t tie) {
	if j, ok := first[t]; ok {
		u.union(i, j)
	} else {
		first[t] = i
	}
}

// groupsOf returns the groups of the indices in order (ascending), each in order, groups
// in the order of their first index.
func (u unionFind) groupsOf(order []int) [][]int {
	var groups [][]int
	index := map[int]int{}
	for _, i := range order {
		r := u.find(i)
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

// all partitions every Ingress; one puts everything in one part. With index it also
// returns the group of every tie, for the next conversion.
func (pt *partitioner) all(one, index bool) ([][]int, map[tie]int) {
	n := len(pt.ings)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if one {
		if n == 0 {
			return nil, nil
		}
		return [][]int{order}, nil
	}
	u := newUnionFind(n)
	first := make(map[tie]int, 4*n)
	for i := range n {
		pt.ties(i, func(t tie) { u.link(first, i, t) })
	}
	groups := u.groupsOf(order)
	if !index {
		return groups, nil
	}
	groupOf := make([]int, n)
	for g, members := range groups {
		for _, i := range members {
			groupOf[i] = g
		}
	}
	for t, i := range first {
		first[t] = groupOf[i]
	}
	return groups, first
}

// update partitions the input from the previous one: the parts of prev without a changed
// Ingress and tied to none stay as they are (reused[g] is the part of group g), and only
// the other Ingresses are tied again — an edit among 10,000 Ingresses costs its part.
// newTies are the ties of the new groups. nil groups: prev does not describe the input
// (an Ingress is missing, or one unchanged is new), partition it all.
func (pt *partitioner) update(prev *state, changed map[ingressKey]bool) (groups [][]int, reused, dissolved []*part, newTies map[tie]int) {
	dissolve := func(p *part) {
		p.dead = true
		dissolved = append(dissolved, p)
	}
	for k := range changed {
		if p := prev.parts[k]; p != nil && !p.dead {
			dissolve(p)
		}
	}
	// Every other Ingress is in a part of prev, with its fellow members.
	members := map[*part][]int{}
	var loose []int
	for i := range pt.ings {
		k := keyOf(&pt.ings[i])
		p := prev.parts[k]
		switch {
		case changed[k] || p != nil && p.dead:
			loose = append(loose, i)
		case p == nil:
			return nil, nil, nil, nil
		default:
			members[p] = append(members[p], i)
		}
	}
	for p, ms := range members {
		if len(ms) != len(p.keys) {
			return nil, nil, nil, nil
		}
		for j, i := range ms {
			if keyOf(&pt.ings[i]) != p.keys[j] {
				return nil, nil, nil, nil
			}
		}
	}
	// Tie the loose Ingresses; a tie held by a part of prev dissolves it into them.
	u := newUnionFind(len(pt.ings))
	newTies = map[tie]int{}
	for q := 0; q < len(loose); q++ {
		i := loose[q]
		pt.ties(i, func(t tie) {
			u.link(newTies, i, t)
			if p := prev.ties[t]; p != nil && !p.dead {
				if ms, ok := members[p]; ok {
					dissolve(p)
					delete(members, p)
					loose = append(loose, ms...)
				}
			}
		})
	}
	slices.Sort(loose)
	groups = u.groupsOf(loose)
	groupOf := make(map[int]int, len(loose))
	for g, ms := range groups {
		for _, i := range ms {
			groupOf[i] = g
		}
	}
	reused = make([]*part, len(groups))
	for p, ms := range members {
		groups, reused = append(groups, ms), append(reused, p)
	}
	// In the order of their first Ingress, as a full partition has them.
	order := make([]int, len(groups))
	for g := range order {
		order[g] = g
	}
	slices.SortFunc(order, func(a, b int) int { return groups[a][0] - groups[b][0] })
	sortedGroups, sortedReused := make([][]int, len(groups)), make([]*part, len(groups))
	position := make([]int, len(groups))
	for pos, g := range order {
		sortedGroups[pos], sortedReused[pos], position[g] = groups[g], reused[g], pos
	}
	for t, i := range newTies {
		newTies[t] = position[groupOf[i]]
	}
	return sortedGroups, sortedReused, dissolved, newTies
}

// wwwPair is the other name of a from-to-www-redirect: www.h for h, h for www.h.
func wwwPair(h string) string {
	if rest, ok := strings.CutPrefix(h, "www."); ok {
		return rest
	}
	return "www." + h
}
