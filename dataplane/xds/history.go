package xds

import "slices"

// historySize is how many recent snapshots ACKs can be matched against. A client lagging
// further behind holds "an older version", which is all WaitForAck needs to know.
const historySize = 256

// historyEntry is what the accounting needs to know about one published snapshot.
type historyEntry struct {
	version      uint64
	typeVersions [numKinds]uint64
	digests      [numKinds]setDigest
}

func (s *Server) recordHistoryLocked(version uint64, c *config) {
	entry := historyEntry{version: version}
	for k := range numKinds {
		entry.typeVersions[k] = c.sets[k].version
		entry.digests[k] = c.sets[k].digest
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
