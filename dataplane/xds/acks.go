package xds

// ACK/NACK accounting.
//
// The question the accounting answers is, per connected client and resource type: which is
// the newest snapshot version whose resources of that type the client has accepted (it
// "holds" that version)? WaitForAck and Stats are built on it. The two protocols answer it
// differently:
//
// State of the world. Every request carries version_info, the version of the last response
// of that type the client accepted, and a response replaces everything of its type. A type's
// version in our snapshots is the snapshot version that last changed it, so a client whose
// version_info for a type is v holds every snapshot version whose type version is v; we keep
// a history of recent snapshots' type versions to map v to the newest such snapshot. Two
// requests are rewritten before the cache sees them (see sotwRequest): a NACK, so that the
// cache does not re-send the rejected version in a loop, and a stream's first request of a
// type, whose version_info may come from another server (versions restart at 1 with the
// process), so that the cache always answers it.
//
// Delta. Requests carry no version; a response carries only the resources that changed,
// each with its own version (a content hash), and types or resources that did not change are
// not sent at all — so "the last acknowledged response" says nothing about types that had
// nothing to send. Instead we track what the client holds: every response sent is
// remembered by its nonce (OnStreamDeltaResponse) with the resources it adds and removes;
// a request whose response_nonce names it and that has no error_detail is its ACK, and we
// apply it to the client's set of held resources (names unsubscribed are dropped, and the
// initial_resource_versions of a reconnecting client are its starting set). The client holds
// version V of a type when its set equals the published set of that type in V; sets are
// compared by digest against the history of recent snapshots.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
)

// historySize is how many recent snapshots ACKs can be matched against. A client lagging
// further behind holds "an older version", which is all WaitForAck needs to know.
const historySize = 256

// historyEntry is what the accounting needs to know about one published snapshot.
type historyEntry struct {
	version      uint64
	typeVersions [numKinds]uint64
	digests      [numKinds]setDigest
	hasResources [numKinds]bool
}

func (s *Server) recordHistoryLocked(version uint64, c *config) {
	entry := historyEntry{version: version}
	for k := range numKinds {
		entry.typeVersions[k] = c.sets[k].version
		entry.digests[k] = c.sets[k].digest
		entry.hasResources[k] = len(c.sets[k].items) > 0
	}
	if len(s.history) == historySize {
		s.history = slices.Delete(s.history, 0, 1)
	}
	s.history = append(s.history, entry)
}

// entryLocked returns the history entry of version, or the oldest one if version is older
// than the history (its requirements are at least as strict).
func (s *Server) entryLocked(version uint64) historyEntry {
	for i := len(s.history) - 1; i >= 0; i-- {
		if s.history[i].version <= version {
			return s.history[i]
		}
	}
	return s.history[0]
}

type protocol string

const (
	stateOfTheWorld protocol = "sotw"
	delta           protocol = "delta"
)

// streamKey identifies a stream: the two protocols number their streams independently.
type streamKey struct {
	protocol protocol
	id       int64
}

// clientStream is the accounting of one ADS stream, i.e. one connected Envoy.
type clientStream struct {
	key    streamKey
	nodeID string
	// requested is set by the first request: only then is the stream a client whose ACKs
	// WaitForAck waits for.
	requested bool
	types     [numKinds]typeState
}

// typeState is what one client has of one resource type.
type typeState struct {
	requested bool
	// sotwVersion is the type version (see historyEntry.typeVersions) the client says it
	// holds, 0 if none or one this stream was not sent.
	sotwVersion uint64
	// sent is the last state-of-the-world response, to know what a NACK rejects.
	sent sentResponse
	// held and pending are the delta bookkeeping: what the client has acknowledged, and the
	// responses sent but not yet acknowledged, oldest first.
	held    heldResources
	pending []deltaResponse
	// lastACK is the type version of the last response the client acknowledged; nack is
	// the last response it rejected, until it acknowledges a later one.
	lastACK uint64
	nack    *rejection
}

type sentResponse struct {
	nonce   string
	version string
}

type rejection struct {
	typeVersion uint64
	message     string
}

// deltaResponse is what a delta response changed: resources added or updated, with their
// versions, and resources removed.
type deltaResponse struct {
	nonce       string
	typeVersion uint64
	updated     []namedVersion
	removed     []string
}

type namedVersion struct{ name, version string }

// heldResources is the set of (name, version) a delta client has acknowledged.
type heldResources struct {
	versions map[string]string
	digest   setDigest
}

func (h *heldResources) put(name, version string) {
	if h.versions == nil {
		h.versions = make(map[string]string)
	}
	if old, ok := h.versions[name]; ok {
		if old == version {
			return
		}
		h.digest.remove(name, old)
	}
	h.versions[name] = version
	h.digest.add(name, version)
}

func (h *heldResources) drop(name string) {
	if old, ok := h.versions[name]; ok {
		delete(h.versions, name)
		h.digest.remove(name, old)
	}
}

func (h *heldResources) apply(r deltaResponse) {
	for _, u := range r.updated {
		h.put(u.name, u.version)
	}
	for _, name := range r.removed {
		h.drop(name)
	}
}

// nackEvent is a NACK to log once the lock is released.
type nackEvent struct {
	stream  streamKey
	nodeID  string
	typeURL string
	version string
	nonce   string
	message string
}

func (s *Server) logNACK(e *nackEvent) {
	if e == nil {
		return
	}
	s.log.Error(errors.New(e.message), "xDS client rejected configuration (NACK)",
		"node", e.nodeID, "protocol", e.stream.protocol, "stream", e.stream.id,
		"typeURL", e.typeURL, "version", e.version, "nonce", e.nonce)
}

// countNACKLocked counts a NACK and returns it for logging.
func (s *Server) countNACKLocked(cs *clientStream, typeURL, version, nonce string, detail string) *nackEvent {
	s.counts.nacks++
	s.counts.nacksByType[typeURL]++
	s.counts.lastNACK = detail
	return &nackEvent{stream: cs.key, nodeID: cs.nodeID, typeURL: typeURL, version: version, nonce: nonce, message: detail}
}

func (s *Server) openStream(key streamKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams[key] = &clientStream{key: key}
	s.notifyLocked()
}

func (s *Server) closeStream(key streamKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.streams, key)
	s.notifyLocked() // a lagging client leaving may be what WaitForAck waits for
}

// streamLocked returns the accounting of a stream, creating it if the open callback has
// not been seen (it always is; this keeps a request from being dropped if not).
func (s *Server) streamLocked(key streamKey, node *corev3.Node) *clientStream {
	cs, ok := s.streams[key]
	if !ok {
		cs = &clientStream{key: key}
		s.streams[key] = cs
	}
	cs.requested = true
	if id := node.GetId(); id != "" {
		cs.nodeID = id
	}
	return cs
}

// sotwRequest accounts for a state-of-the-world request and rewrites two kinds of request
// before the cache sees it (see the top of this file for why).
func (s *Server) sotwRequest(id int64, req *discoveryv3.DiscoveryRequest) {
	s.mu.Lock()
	event := s.sotwRequestLocked(id, req)
	s.notifyLocked()
	s.mu.Unlock()
	s.logNACK(event)
}

func (s *Server) sotwRequestLocked(id int64, req *discoveryv3.DiscoveryRequest) *nackEvent {
	cs := s.streamLocked(streamKey{stateOfTheWorld, id}, req.GetNode())
	k, known := kindOf(req.GetTypeUrl())
	var ts *typeState
	if known {
		ts = &cs.types[k]
		ts.requested = true
	}

	if req.GetResponseNonce() == "" {
		// First request of the type on this stream: whatever version it claims was not
		// sent by us on this stream, maybe not by this process. Forget it so the cache
		// answers with the current resources rather than trusting a reused number.
		req.VersionInfo = ""
		if ts != nil {
			ts.sotwVersion = 0
		}
		return nil
	}
	if ts != nil {
		ts.sotwVersion = parseVersion(req.GetVersionInfo())
	}

	if detail := req.GetErrorDetail(); detail != nil {
		rejected := ""
		if ts != nil && ts.sent.nonce == req.GetResponseNonce() {
			rejected = ts.sent.version
			ts.nack = &rejection{typeVersion: parseVersion(rejected), message: detail.GetMessage()}
			// Pretend the client is at the rejected version: the cache then waits for a
			// new snapshot instead of answering the NACK with the same rejected resources,
			// which the client would NACK again, in a loop.
			req.VersionInfo = rejected
		}
		return s.countNACKLocked(cs, req.GetTypeUrl(), rejected, req.GetResponseNonce(), detail.GetMessage())
	}
	if ts != nil {
		ts.lastACK = ts.sotwVersion
		ts.nack = nil
	}
	return nil
}

func (s *Server) sotwResponse(id int64, resp *discoveryv3.DiscoveryResponse) {
	k, known := kindOf(resp.GetTypeUrl())
	if !known {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs, ok := s.streams[streamKey{stateOfTheWorld, id}]; ok {
		cs.types[k].sent = sentResponse{nonce: resp.GetNonce(), version: resp.GetVersionInfo()}
	}
}

func (s *Server) deltaRequest(id int64, req *discoveryv3.DeltaDiscoveryRequest) {
	s.mu.Lock()
	event := s.deltaRequestLocked(id, req)
	s.notifyLocked()
	s.mu.Unlock()
	s.logNACK(event)
}

func (s *Server) deltaRequestLocked(id int64, req *discoveryv3.DeltaDiscoveryRequest) *nackEvent {
	cs := s.streamLocked(streamKey{delta, id}, req.GetNode())
	k, known := kindOf(req.GetTypeUrl())
	if !known {
		if detail := req.GetErrorDetail(); detail != nil {
			return s.countNACKLocked(cs, req.GetTypeUrl(), "", req.GetResponseNonce(), detail.GetMessage())
		}
		return nil
	}
	ts := &cs.types[k]
	if !ts.requested {
		// A reconnecting client starts with what it already has.
		ts.requested = true
		for name, version := range req.GetInitialResourceVersions() {
			ts.held.put(name, version)
		}
	}

	var event *nackEvent
	if nonce := req.GetResponseNonce(); nonce != "" {
		event = s.deltaAnswerLocked(cs, ts, req)
	}
	for _, name := range req.GetResourceNamesUnsubscribe() {
		ts.held.drop(name)
	}
	return event
}

// deltaAnswerLocked applies the ACK or NACK of the response named by req's nonce. Responses
// of the type sent before it and never answered are taken as accepted: the cache already
// assumes the client has them.
func (s *Server) deltaAnswerLocked(cs *clientStream, ts *typeState, req *discoveryv3.DeltaDiscoveryRequest) *nackEvent {
	nonce := req.GetResponseNonce()
	i := slices.IndexFunc(ts.pending, func(r deltaResponse) bool { return r.nonce == nonce })
	detail := req.GetErrorDetail()
	if i < 0 {
		if detail != nil {
			return s.countNACKLocked(cs, req.GetTypeUrl(), "", nonce, detail.GetMessage())
		}
		return nil
	}
	answered := ts.pending[i]
	for _, r := range ts.pending[:i] {
		ts.held.apply(r)
	}
	ts.pending = slices.Delete(ts.pending, 0, i+1)

	version := strconv.FormatUint(answered.typeVersion, 10)
	if detail != nil {
		ts.nack = &rejection{typeVersion: answered.typeVersion, message: detail.GetMessage()}
		return s.countNACKLocked(cs, req.GetTypeUrl(), version, nonce, detail.GetMessage())
	}
	ts.held.apply(answered)
	ts.lastACK = answered.typeVersion
	ts.nack = nil
	return nil
}

func (s *Server) deltaResponse(id int64, resp *discoveryv3.DeltaDiscoveryResponse) {
	k, known := kindOf(resp.GetTypeUrl())
	if !known {
		return
	}
	sent := deltaResponse{
		nonce:       resp.GetNonce(),
		typeVersion: parseVersion(resp.GetSystemVersionInfo()),
		removed:     slices.Clone(resp.GetRemovedResources()),
	}
	for _, r := range resp.GetResources() {
		sent.updated = append(sent.updated, namedVersion{r.GetName(), r.GetVersion()})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs, ok := s.streams[streamKey{delta, id}]; ok {
		cs.types[k].pending = append(cs.types[k].pending, sent)
	}
}

// heldVersionLocked returns the newest snapshot version whose resources of kind k the
// client holds, 0 if none in the history.
func (s *Server) heldVersionLocked(cs *clientStream, k kind) uint64 {
	ts := &cs.types[k]
	for i := len(s.history) - 1; i >= 0; i-- {
		entry := &s.history[i]
		var holds bool
		if cs.key.protocol == delta {
			holds = entry.digests[k] == ts.held.digest
		} else {
			holds = ts.sotwVersion != 0 && entry.typeVersions[k] == ts.sotwVersion
		}
		if holds {
			return entry.version
		}
	}
	return 0
}

// WaitForAck blocks until at least one client is connected and every connected client
// holds version (or a newer one) of each resource type that has resources in the current
// snapshot, i.e. has acknowledged it. A client that rejects (NACKs) version or a newer
// version of a type it does not yet hold makes WaitForAck return an error at once, as does
// a malformed version. Otherwise it returns ctx's error, saying which client it was
// waiting for, when ctx is done.
//
// For a state-of-the-world client "holds" means its last request of the type carried that
// type's version; for a delta client, that the resources it acknowledged are exactly the
// ones of that type in the snapshot (see the top of acks.go). So a type a change did not
// touch counts as acknowledged without anything being sent.
func (s *Server) WaitForAck(ctx context.Context, version string) error {
	target := parseVersion(version)
	if target == 0 {
		return fmt.Errorf("waiting for ACKs: %q is not a snapshot version", version)
	}
	for {
		s.mu.Lock()
		waitingFor, err := s.unacknowledgedLocked(target)
		changed := s.changed
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("waiting for ACKs of version %s: %w", version, err)
		}
		if waitingFor == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for ACKs of version %s, still waiting for %s: %w", version, waitingFor, ctx.Err())
		case <-changed:
		}
	}
}

// unacknowledgedLocked describes what keeps version target from being acknowledged by
// every client, "" if nothing does. It returns an error if a client rejected it.
func (s *Server) unacknowledgedLocked(target uint64) (string, error) {
	if s.current == nil || s.current.version < target {
		return "version " + strconv.FormatUint(target, 10) + " to be published", nil
	}
	clients := s.clientsLocked()
	if len(clients) == 0 {
		return "a client to connect", nil
	}
	needed := s.entryLocked(target)
	for _, cs := range clients {
		for k := range numKinds {
			if len(s.current.config.sets[k].items) == 0 || s.heldVersionLocked(cs, k) >= target {
				continue
			}
			who := fmt.Sprintf("node %q (%s stream %d) to acknowledge %ss", cs.nodeID, cs.key.protocol, cs.key.id, k)
			if nack := cs.types[k].nack; nack != nil && nack.typeVersion >= needed.typeVersions[k] {
				return "", fmt.Errorf("node %q rejected %ss of version %d: %s", cs.nodeID, k, nack.typeVersion, nack.message)
			}
			return who, nil
		}
	}
	return "", nil
}

// clientsLocked returns the streams that have sent a request, in a stable order.
func (s *Server) clientsLocked() []*clientStream {
	var clients []*clientStream
	for _, cs := range s.streams {
		if cs.requested {
			clients = append(clients, cs)
		}
	}
	slices.SortFunc(clients, func(a, b *clientStream) int {
		return cmp.Or(cmp.Compare(a.key.protocol, b.key.protocol), cmp.Compare(a.key.id, b.key.id))
	})
	return clients
}

// parseVersion parses a snapshot or type version; anything else (including "") is 0.
func parseVersion(version string) uint64 {
	v, err := strconv.ParseUint(version, 10, 64)
	if err != nil {
		return 0
	}
	return v
}
