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
	"errors"
	"slices"
	"strconv"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
)

type protocol string

const (
	stateOfTheWorld protocol = "sotw"
	delta           protocol = "delta"
)

// streamKey identifies a stream. Each Serve call has its own go-control-plane server, and
// each numbers its state-of-the-world and delta streams independently from 1.
type streamKey struct {
	serve    uint64
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

// maxPending bounds the delta responses remembered per stream and type. Envoy answers each
// response at once; a client that does not is taken to have accepted the oldest ones, as
// an ACK of a later response would imply.
const maxPending = 64

func (ts *typeState) addPending(r deltaResponse) {
	if len(ts.pending) == maxPending {
		ts.held.apply(ts.pending[0])
		ts.pending = slices.Delete(ts.pending, 0, 1)
	}
	ts.pending = append(ts.pending, r)
}

// put records that the client holds name at version. A version sent with a mark
// (resend.go: the content hash and the publish that sent it again) is held as its content
// hash: what the client holds is compared with the published sets, which hold hashes.
func (h *heldResources) put(name, version string) {
	version = contentVersion(version)
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
func (s *Server) sotwRequest(key streamKey, req *discoveryv3.DiscoveryRequest) {
	s.mu.Lock()
	event := s.sotwRequestLocked(key, req)
	s.notifyLocked()
	s.mu.Unlock()
	s.logNACK(event)
}

func (s *Server) sotwRequestLocked(key streamKey, req *discoveryv3.DiscoveryRequest) *nackEvent {
	cs := s.streamLocked(key, req.GetNode())
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

func (s *Server) sotwResponse(key streamKey, resp *discoveryv3.DiscoveryResponse) {
	k, known := kindOf(resp.GetTypeUrl())
	if !known {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cs, ok := s.streams[key]; ok {
		cs.types[k].sent = sentResponse{nonce: resp.GetNonce(), version: resp.GetVersionInfo()}
	}
}

func (s *Server) deltaRequest(key streamKey, req *discoveryv3.DeltaDiscoveryRequest) {
	s.mu.Lock()
	event := s.deltaRequestLocked(key, req)
	s.notifyLocked()
	s.mu.Unlock()
	s.logNACK(event)
}

func (s *Server) deltaRequestLocked(key streamKey, req *discoveryv3.DeltaDiscoveryRequest) *nackEvent {
	cs := s.streamLocked(key, req.GetNode())
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

func (s *Server) deltaResponse(key streamKey, resp *discoveryv3.DeltaDiscoveryResponse) {
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
	if cs, ok := s.streams[key]; ok {
		cs.types[k].addPending(sent)
	}
}
