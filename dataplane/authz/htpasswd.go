package authz

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // {SHA} and {SSHA} htpasswd hashes are SHA-1 by definition.
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// BcryptCompareFunc checks password against a bcrypt hash ("$2a$", "$2b$", "$2y$"): nil means
// it matches. golang.org/x/crypto/bcrypt.CompareHashAndPassword (the default) has exactly this
// signature.
type BcryptCompareFunc func(hashedPassword, password []byte) error

// hashScheme is the format of one htpasswd hash.
type hashScheme int

const (
	schemeUnsupported hashScheme = iota
	schemeBcrypt                 // $2a$, $2b$, $2y$ (and $2x$): delegated to a BcryptCompareFunc
	schemeAPR1                   // $apr1$: Apache MD5
	schemeMD5Crypt               // $1$: MD5-crypt
	schemeSHA256Crypt            // $5$
	schemeSHA512Crypt            // $6$
	schemeSHA                    // {SHA}: base64(SHA-1(password))
	schemeSSHA                   // {SSHA}: base64(SHA-1(password salt) salt)
	schemePlain                  // {PLAIN}: the password itself
)

var schemeNames = map[hashScheme]string{
	schemeUnsupported: "unsupported",
	schemeBcrypt:      "bcrypt",
	schemeAPR1:        "apr1",
	schemeMD5Crypt:    "md5-crypt",
	schemeSHA256Crypt: "sha256-crypt",
	schemeSHA512Crypt: "sha512-crypt",
	schemeSHA:         "{SHA}",
	schemeSSHA:        "{SSHA}",
	schemePlain:       "{PLAIN}",
}

func (h hashScheme) String() string { return schemeNames[h] }

// credential is one user's stored hash, classified once when the policy table is set.
type credential struct {
	hash   string
	scheme hashScheme
	// why says, for schemeUnsupported, what the hash looks like ("des-crypt", ...). It never
	// contains the hash itself.
	why string
}

// classifyHash works out the format of an htpasswd hash. Formats nginx would hand to the
// system crypt(3) but that this package does not implement come back as schemeUnsupported
// with a short description.
func classifyHash(h string) credential {
	c := credential{hash: h}
	switch {
	case strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"), strings.HasPrefix(h, "$2y$"), strings.HasPrefix(h, "$2x$"):
		c.scheme = schemeBcrypt
	case strings.HasPrefix(h, "$apr1$"):
		c.scheme = schemeAPR1
	case strings.HasPrefix(h, "$1$"):
		c.scheme = schemeMD5Crypt
	case strings.HasPrefix(h, "$5$"), strings.HasPrefix(h, "$6$"):
		c.scheme = schemeSHA256Crypt
		if h[1] == '6' {
			c.scheme = schemeSHA512Crypt
		}
		if _, _, _, err := parseSHACryptSetting(h[3:]); err != nil {
			c.scheme, c.why = schemeUnsupported, "sha-crypt with invalid rounds"
		}
	case strings.HasPrefix(h, "{SHA}"):
		c.scheme = schemeSHA
	case strings.HasPrefix(h, "{SSHA}"):
		c.scheme = schemeSSHA
	case strings.HasPrefix(h, "{PLAIN}"):
		c.scheme = schemePlain
	case len(h) == 13 && isCryptAlphabet(h):
		c.why = "des-crypt"
	case strings.HasPrefix(h, "_") && len(h) == 20:
		c.why = "bsdi-des-crypt"
	case h == "":
		c.why = "empty hash"
	case strings.HasPrefix(h, "$"):
		id, _, _ := strings.Cut(h[1:], "$")
		c.why = "crypt scheme $" + sanitizeID(id) + "$"
	default:
		c.why = "unknown hash format"
	}
	return c
}

func isCryptAlphabet(s string) bool {
	for i := range len(s) {
		if strings.IndexByte(cryptAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// sanitizeID keeps a crypt scheme id printable and short enough to log.
func sanitizeID(id string) string {
	if len(id) > 8 {
		id = id[:8]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return '?'
		}
		return r
	}, id)
}

var errNoBcrypt = errors.New("no BcryptCompareFunc configured")

// verify reports whether password matches the credential. Comparisons of computed and
// stored hashes are constant-time.
func (c credential) verify(password []byte, bcryptCompare BcryptCompareFunc) (bool, error) {
	switch c.scheme {
	case schemeBcrypt:
		if bcryptCompare == nil {
			return false, errNoBcrypt
		}
		return bcryptCompare([]byte(c.hash), password) == nil, nil
	case schemeAPR1:
		return constantTimeEqual(md5Crypt(password, "$apr1$", c.hash[len("$apr1$"):]), c.hash), nil
	case schemeMD5Crypt:
		return constantTimeEqual(md5Crypt(password, "$1$", c.hash[len("$1$"):]), c.hash), nil
	case schemeSHA256Crypt, schemeSHA512Crypt:
		got, err := shaCrypt(password, c.hash[:3], c.hash[3:])
		if err != nil {
			return false, err
		}
		return constantTimeEqual(got, c.hash), nil
	case schemeSHA:
		sum := sha1.Sum(password) //nolint:gosec // see import
		return constantTimeEqual("{SHA}"+base64.StdEncoding.EncodeToString(sum[:]), c.hash), nil
	case schemeSSHA:
		// Like nginx: decode the stored value, take everything after the 20-byte digest as the
		// salt, and compare the re-encoded result with the stored string.
		raw, err := base64.StdEncoding.DecodeString(c.hash[len("{SSHA}"):])
		if err != nil || len(raw) < sha1.Size {
			return false, fmt.Errorf("malformed {SSHA} hash")
		}
		salt := raw[sha1.Size:]
		h := sha1.New() //nolint:gosec // see import
		h.Write(password)
		h.Write(salt)
		sum := append(h.Sum(nil), salt...)
		return constantTimeEqual("{SSHA}"+base64.StdEncoding.EncodeToString(sum), c.hash), nil
	case schemePlain:
		return constantTimeEqual("{PLAIN}"+string(password), c.hash), nil
	default:
		return false, fmt.Errorf("unsupported hash format (%s)", c.why)
	}
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// parseHtpasswd reads an htpasswd file the way nginx's auth_basic_user_file does: one
// "user:hash" per line (LF or CRLF), lines starting with '#' are comments, blank lines and
// lines without ':' are ignored, the hash ends at the next ':' (so "user:hash:comment" works),
// and the first line for a user wins.
func parseHtpasswd(data []byte) map[string]credential {
	users := make(map[string]credential)
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 || line[0] == '#' || line[0] == '\r' {
			continue
		}
		user, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		hash, _, _ := bytes.Cut(rest, []byte{':'})
		// A CR inside a line ends the field in nginx's parser too.
		if i := bytes.IndexByte(hash, '\r'); i >= 0 {
			hash = hash[:i]
		}
		if _, dup := users[string(user)]; dup {
			continue
		}
		users[string(user)] = classifyHash(string(hash))
	}
	return users
}

// parseBasicCredentials extracts user and password from an Authorization header value the
// way nginx does: case-insensitive "Basic " scheme, optional extra spaces, base64 (padding
// optional, anything after the first '=' ignored), split at the first ':', and an empty user
// or a missing ':' is invalid.
func parseBasicCredentials(authorization string) (user, password string, ok bool) {
	const prefix = "basic "
	if len(authorization) < len(prefix) || !strings.EqualFold(authorization[:len(prefix)], prefix) {
		return "", "", false
	}
	enc := strings.TrimLeft(authorization[len(prefix):], " ")
	if enc == "" {
		return "", "", false
	}
	if i := strings.IndexByte(enc, '='); i >= 0 {
		enc = enc[:i]
	}
	for i := range len(enc) {
		if !isBase64Char(enc[i]) {
			return "", "", false
		}
	}
	raw, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil {
		return "", "", false
	}
	user, password, found := strings.Cut(string(raw), ":")
	if !found || user == "" {
		return "", "", false
	}
	return user, password, true
}

// isBase64Char reports whether c belongs to the standard base64 alphabet (Go's decoder would
// otherwise silently skip CR and LF, which nginx rejects).
func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}
