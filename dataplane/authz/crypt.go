package authz

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// cryptAlphabet is the "./0-9A-Za-z" alphabet of the crypt(3) family (not RFC 4648 order).
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// appendCrypt64 appends n characters encoding the low 6·n bits of v, least significant first.
func appendCrypt64(dst []byte, v uint32, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, cryptAlphabet[v&0x3f])
		v >>= 6
	}
	return dst
}

// cryptSalt returns the salt that follows a crypt prefix: up to max bytes, ending at the
// next '$' (or the end of s).
func cryptSalt(s string, limit int) string {
	if i := strings.IndexByte(s, '$'); i >= 0 {
		s = s[:i]
	}
	if len(s) > limit {
		s = s[:limit]
	}
	return s
}

// md5Crypt computes the MD5-based crypt of password with the given magic ("$1$" for the
// FreeBSD/glibc MD5-crypt, "$apr1$" for Apache's variant; the two differ only in the magic)
// and salt (at most 8 bytes are used). It returns the whole hash string:
// magic + salt + "$" + 22 characters.
func md5Crypt(password []byte, magic, salt string) string {
	salt = cryptSalt(salt, 8)

	alt := md5.New()
	alt.Write(password)
	alt.Write([]byte(salt))
	alt.Write(password)
	altSum := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(password)
	ctx.Write([]byte(magic))
	ctx.Write([]byte(salt))
	for n := len(password); n > 0; n -= md5.Size {
		ctx.Write(altSum[:min(n, md5.Size)])
	}
	// The historical algorithm mixes in a zero byte for every set bit of the password length
	// and the password's first byte for every clear bit.
	for n := len(password); n != 0; n >>= 1 {
		if n&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(password[:1])
		}
	}
	final := ctx.Sum(nil)

	// 1000 rounds of key stretching.
	for i := range 1000 {
		h := md5.New()
		if i&1 != 0 {
			h.Write(password)
		} else {
			h.Write(final)
		}
		if i%3 != 0 {
			h.Write([]byte(salt))
		}
		if i%7 != 0 {
			h.Write(password)
		}
		if i&1 != 0 {
			h.Write(final)
		} else {
			h.Write(password)
		}
		final = h.Sum(final[:0])
	}

	out := make([]byte, 0, len(magic)+len(salt)+1+22)
	out = append(out, magic...)
	out = append(out, salt...)
	out = append(out, '$')
	for _, g := range [5][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		out = appendCrypt64(out, uint32(final[g[0]])<<16|uint32(final[g[1]])<<8|uint32(final[g[2]]), 4)
	}
	out = appendCrypt64(out, uint32(final[11]), 2)
	return string(out)
}

// SHA-crypt parameters (Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512").
const (
	shaCryptDefaultRounds = 5000
	shaCryptMinRounds     = 1000
	shaCryptMaxRounds     = 999_999_999
	shaCryptRoundsPrefix  = "rounds="
)

// sha256CryptOrder and sha512CryptOrder list the digest bytes, three at a time, in the order
// the final encoding emits them; the trailing bytes are handled by shaCrypt.
var (
	sha256CryptOrder = [][3]int{
		{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29},
	}
	sha512CryptOrder = [][3]int{
		{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
		{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51},
		{31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35},
		{15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19},
		{62, 20, 41},
	}
)

var errBadRounds = errors.New("rounds out of range")

// parseSHACryptSetting splits the part of a "$5$"/"$6$" hash after the magic into the round
// count (and whether it was given explicitly) and the salt (at most 16 bytes).
func parseSHACryptSetting(setting string) (rounds int, explicit bool, salt string, err error) {
	rounds = shaCryptDefaultRounds
	if rest, ok := strings.CutPrefix(setting, shaCryptRoundsPrefix); ok {
		num, after, found := strings.Cut(rest, "$")
		if !found {
			return 0, false, "", fmt.Errorf("%w: no '$' after %q", errBadRounds, shaCryptRoundsPrefix)
		}
		n, perr := strconv.Atoi(num)
		if perr != nil || n < shaCryptMinRounds || n > shaCryptMaxRounds {
			return 0, false, "", fmt.Errorf("%w: %q (must be %d..%d)", errBadRounds, num, shaCryptMinRounds, shaCryptMaxRounds)
		}
		rounds, explicit, setting = n, true, after
	}
	return rounds, explicit, cryptSalt(setting, 16), nil
}

// shaCrypt computes the SHA-256 ("$5$") or SHA-512 ("$6$") crypt of password. setting is what
// follows the magic in a stored hash: an optional "rounds=N$" and the salt.
func shaCrypt(password []byte, magic, setting string) (string, error) {
	var (
		newHash func() hash.Hash
		order   [][3]int
	)
	switch magic {
	case "$5$":
		newHash, order = sha256.New, sha256CryptOrder
	case "$6$":
		newHash, order = sha512.New, sha512CryptOrder
	default:
		return "", fmt.Errorf("unknown SHA-crypt magic %q", magic)
	}
	rounds, explicit, salt, err := parseSHACryptSetting(setting)
	if err != nil {
		return "", err
	}
	pw, sl := password, []byte(salt)

	// Digest B = H(password salt password).
	hb := newHash()
	hb.Write(pw)
	hb.Write(sl)
	hb.Write(pw)
	b := hb.Sum(nil)
	size := len(b)

	// Digest A = H(password salt B-repeated-to-len(password) bits-of-len(password)).
	ha := newHash()
	ha.Write(pw)
	ha.Write(sl)
	ha.Write(repeatTo(b, len(pw)))
	for n := len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			ha.Write(b)
		} else {
			ha.Write(pw)
		}
	}
	a := ha.Sum(nil)

	// P = H(password repeated len(password) times), stretched to len(password).
	hp := newHash()
	for range len(pw) {
		hp.Write(pw)
	}
	p := repeatTo(hp.Sum(nil), len(pw))

	// S = H(salt repeated 16+A[0] times), stretched to len(salt).
	hs := newHash()
	for range 16 + int(a[0]) {
		hs.Write(sl)
	}
	s := repeatTo(hs.Sum(nil), len(sl))

	c := a
	for i := range rounds {
		h := newHash()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(c[:0])
	}

	out := make([]byte, 0, 128)
	out = append(out, magic...)
	if explicit {
		out = append(out, shaCryptRoundsPrefix...)
		out = strconv.AppendInt(out, int64(rounds), 10)
		out = append(out, '$')
	}
	out = append(out, salt...)
	out = append(out, '$')
	for _, g := range order {
		out = appendCrypt64(out, uint32(c[g[0]])<<16|uint32(c[g[1]])<<8|uint32(c[g[2]]), 4)
	}
	if size == sha256.Size {
		out = appendCrypt64(out, uint32(c[31])<<8|uint32(c[30]), 3)
	} else {
		out = appendCrypt64(out, uint32(c[63]), 2)
	}
	return string(out), nil
}

// repeatTo returns n bytes made of digest repeated (whole copies, then a prefix).
func repeatTo(digest []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out)+len(digest) <= n {
		out = append(out, digest...)
	}
	return append(out, digest[:n-len(out)]...)
}
