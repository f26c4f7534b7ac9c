package xds

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
)

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
		return cmp.Or(cmp.Compare(a.key.serve, b.key.serve), cmp.Compare(a.key.protocol, b.key.protocol), cmp.Compare(a.key.id, b.key.id))
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
