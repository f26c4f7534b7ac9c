package xds

import (
	"maps"
	"strconv"
)

// Stats is a point-in-time view of the Server's publishing and of its clients.
type Stats struct {
	// PublishedVersions counts the snapshots published; Version is the one being served
	// ("" before the first).
	PublishedVersions uint64
	Version           string
	// ValidationFailures counts Publish and PublishEndpoints calls rejected.
	ValidationFailures uint64
	// NACKs counts requests in which a client rejected a response, in total and per type
	// URL; LastNACKError is the error message of the latest.
	NACKs         uint64
	NACKsByType   map[string]uint64
	LastNACKError string
	// ConnectedStreams counts open ADS streams, state-of-the-world and delta.
	ConnectedStreams int
	// AckedVersions maps each type URL that has resources to the newest snapshot version
	// every connected client holds (has acknowledged) for that type; a type is missing
	// when no client is connected or some client holds none of the recent versions.
	AckedVersions map[string]string
	// Clients describes each stream that has sent a request.
	Clients []ClientStats
}

// ClientStats is the ACK state of one connected client.
type ClientStats struct {
	NodeID   string
	Protocol string // "sotw" or "delta"
	StreamID int64
	// AckedVersions maps each type URL the client has requested to the newest snapshot
	// version whose resources of that type it holds; missing if it holds none of the
	// recent versions. For a delta client this accounts for types and resources that a
	// change did not touch, which are not re-sent.
	AckedVersions map[string]string
	// LastACKs maps each type URL to the version of the last response the client
	// acknowledged (for delta, the version of the snapshot that response came from).
	LastACKs map[string]string
}

// Stats returns the current counters and the ACK state of every client.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	stats := Stats{
		PublishedVersions:  s.counts.published,
		Version:            s.versionLocked(),
		ValidationFailures: s.counts.validationFailures,
		NACKs:              s.counts.nacks,
		NACKsByType:        maps.Clone(s.counts.nacksByType),
		LastNACKError:      s.counts.lastNACK,
		ConnectedStreams:   len(s.streams),
		AckedVersions:      make(map[string]string),
	}
	clients := s.clientsLocked()
	for _, cs := range clients {
		stats.Clients = append(stats.Clients, s.clientStatsLocked(cs))
	}
	if s.current != nil && len(clients) > 0 {
		for k := range numKinds {
			if len(s.current.config.sets[k].items) == 0 {
				continue
			}
			if version := s.heldByAllLocked(clients, k); version > 0 {
				stats.AckedVersions[k.typeURL()] = strconv.FormatUint(version, 10)
			}
		}
	}
	return stats
}

func (s *Server) clientStatsLocked(cs *clientStream) ClientStats {
	client := ClientStats{
		NodeID:        cs.nodeID,
		Protocol:      string(cs.key.protocol),
		StreamID:      cs.key.id,
		AckedVersions: make(map[string]string),
		LastACKs:      make(map[string]string),
	}
	for k := range numKinds {
		ts := &cs.types[k]
		if !ts.requested {
			continue
		}
		if held := s.heldVersionLocked(cs, k); held > 0 {
			client.AckedVersions[k.typeURL()] = strconv.FormatUint(held, 10)
		}
		if ts.lastACK > 0 {
			client.LastACKs[k.typeURL()] = strconv.FormatUint(ts.lastACK, 10)
		}
	}
	return client
}

// heldByAllLocked returns the newest version of kind k that every client holds, 0 if some
// client holds none.
func (s *Server) heldByAllLocked(clients []*clientStream, k kind) uint64 {
	var lowest uint64
	for i, cs := range clients {
		held := s.heldVersionLocked(cs, k)
		if i == 0 || held < lowest {
			lowest = held
		}
	}
	return lowest
}
