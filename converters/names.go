package converters

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// dnsSafe lowercases s and replaces everything outside [a-z0-9-] with "-", collapsing runs
// and trimming dashes: a label-safe form of hostnames and paths for object names.
func dnsSafe(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r == '*':
			if b.Len() > 0 && !dash {
				b.WriteByte('-')
			}
			b.WriteString("wildcard")
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

// shortHash is 8 hex characters of SHA-256, for names that must be unique but short.
func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// objectName joins parts into a DNS-subdomain-safe name of at most max characters; when
// too long it is cut and suffixed with a hash of the full name, so it stays unique.
func objectName(max int, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = dnsSafe(p); p != "" {
			kept = append(kept, p)
		}
	}
	n := strings.Join(kept, "-")
	if n == "" {
		n = "x"
	}
	if len(n) <= max {
		return n
	}
	h := shortHash(parts...)
	return strings.TrimRight(n[:max-9], "-") + "-" + h
}

// labelValue makes a valid label value (≤ 63 chars, alnum at both ends).
func labelValue(s string) string {
	if len(s) <= 63 {
		return s
	}
	return strings.Trim(s[:54], "-._") + "-" + shortHash(s)
}

// hostLabel names a host in object and listener names ("" = all hosts).
func hostLabel(host string) string {
	if host == "" {
		return "all-hosts"
	}
	return dnsSafe(host)
}

// nameKey is one object name of one Ingress: its kind, namespace and name.
type nameKey struct {
	src                   *source
	kind, namespace, name string
}

// uniqueName returns name for an object of src of kind, unless src already has an object
// of that kind and name — two of its hostnames with one label, such as a-b.example.com and
// a.b.example.com, or a rule without host next to the host all-hosts: then the name gets a
// hash of salt (what the names stand for), so that no Ingress makes two objects of one
// name. Names are taken in emission order (hosts by name), which does not depend on how
// the conversion is partitioned. Across Ingresses, names hold the Ingress's own, and what
// collides all the same is caught by dropDuplicates.
func (c *converter) uniqueName(src *source, kind, name string, salt ...string) string {
	k := nameKey{src, kind, src.ing.Namespace, name}
	for n := 0; c.names[k]; n++ {
		k.name = objectName(253, name, shortHash(append(append([]string{}, salt...), strconv.Itoa(n))...))
	}
	if c.names == nil {
		c.names = map[nameKey]bool{}
	}
	c.names[k] = true
	return k.name
}

// claimName records that src emits the object kind/name and reports whether it was new:
// the same RouteFilter (named after its content) serves every host of an Ingress but is
// emitted once.
func (c *converter) claimName(src *source, kind, name string) bool {
	k := nameKey{src, kind, src.ing.Namespace, name}
	if c.names[k] {
		return false
	}
	if c.names == nil {
		c.names = map[nameKey]bool{}
	}
	c.names[k] = true
	return true
}
