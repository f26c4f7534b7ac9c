package authz

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Vectors generated once on a Debian 12 machine with `htpasswd` (apache2-utils 2.4),
// `openssl passwd` (OpenSSL 3.0) and glibc crypt(3) via Python's crypt module.
var hashVectors = []struct {
	name, hash, password string
	scheme               hashScheme
}{
	// htpasswd -nbm alice apr-secret
	{"apr1 htpasswd", "$apr1$GL134CVQ$pK5oZ0vmUjdZ27/V8ornL/", "apr-secret", schemeAPR1},
	// openssl passwd -apr1 -salt 'x.Y/z9' 'p@ss:wörd with spaces'
	{"apr1 short salt utf8 colon", "$apr1$x.Y/z9$CHYMStI1qD4QcSMsJH5iI1", "p@ss:wörd with spaces", schemeAPR1},
	// openssl passwd -apr1 -salt ab ''
	{"apr1 empty password", "$apr1$ab$S8K6Sgp3W8c9Jb6LxgywZ.", "", schemeAPR1},
	// openssl passwd -1 -salt md5salt1 md5-secret
	{"md5-crypt", "$1$md5salt1$nx4WYwSAetf.u866Tt8zc/", "md5-secret", schemeMD5Crypt},
	// crypt('x'*100, '$1$longpw')
	{"md5-crypt long password", "$1$longpw$OT8TUeMFGjQvYQ5Igfne71", strings.Repeat("x", 100), schemeMD5Crypt},
	// htpasswd -nbs sha sha-secret
	{"sha", "{SHA}KkPcK3XYeA35EhWhKYmaCyAgadY=", "sha-secret", schemeSHA},
	// base64(sha1("ssha-secret" + salt) + salt), salt = "\x01\x02saltX"
	{"ssha", "{SSHA}uCg5f+zoqWiqE7XGJMudFh1sH8ABAnNhbHRY", "ssha-secret", schemeSSHA},
	{"plain", "{PLAIN}plain-secret", "plain-secret", schemePlain},
	// openssl passwd -5 -salt saltstring sha256-secret
	{"sha256-crypt", "$5$saltstring$6YIgxIHWNc5e4fVfv1hkp6l4yo89L6.XIRDD6x9pKb3", "sha256-secret", schemeSHA256Crypt},
	// openssl passwd -5 -salt 'rounds=1500$xyz' rounds-secret
	{"sha256-crypt rounds", "$5$rounds=1500$xyz$dZUDPNOJpVacxzhJF57pc/oaphZNB6vl/e8lADrPJJC", "rounds-secret", schemeSHA256Crypt},
	// crypt('This is just a test', '$5$rounds=5000$toolongsaltstring'): salt cut to 16 bytes
	{"sha256-crypt explicit default rounds", "$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5", "This is just a test", schemeSHA256Crypt},
	// openssl passwd -6 -salt saltsaltsaltsalt sha512-secret
	{"sha512-crypt", "$6$saltsaltsaltsalt$dy1v7wXfoGflqgRGeFRxdDStY8Er3521KnGXedBRUTtbQHb7AFvSfGP.OI371abf5fphBhKm52VTSwc2Zmco50", "sha512-secret", schemeSHA512Crypt},
	// openssl passwd -6 -salt short '<76-byte password>'
	{"sha512-crypt long password", "$6$short$LyfW/bfq5rzj9M6swPZRkM7XqEYtgnxyEfjM6c/b7T4faQc0sd0iqHRYYR7JuKgg6/ZfKKiRh9GkvKQ93yAAi/", "a very long password that is longer than sixty-four bytes in total length ok", schemeSHA512Crypt},
	// crypt('we have a short salt string but not a short password', '$6$rounds=77777$short')
	{"sha512-crypt rounds", "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0", "we have a short salt string but not a short password", schemeSHA512Crypt},
	// htpasswd -nbB -C 5 bc bcrypt-secret
	{"bcrypt 2y", "$2y$05$hBL47duyabjBsWWDogFX8u4ifnHvR0dUs2PF9Y4KLBFnyxW72I9Fq", "bcrypt-secret", schemeBcrypt},
	// the same hash with the $2b$ and $2a$ prefixes (identical algorithm for this password)
	{"bcrypt 2b", "$2b$05$hBL47duyabjBsWWDogFX8u4ifnHvR0dUs2PF9Y4KLBFnyxW72I9Fq", "bcrypt-secret", schemeBcrypt},
	{"bcrypt 2a", "$2a$05$hBL47duyabjBsWWDogFX8u4ifnHvR0dUs2PF9Y4KLBFnyxW72I9Fq", "bcrypt-secret", schemeBcrypt},
	// crypt('', '$6$emptypw')
	{"sha512-crypt empty password", "$6$emptypw$TWmzQ8/uLn1BFSZ5Lkfum8lAba5vixF9Nl3Aiof.Praatq9nh0kkPuTdoVrIL6du0L6LAoadbPq.q.D7keveg/", "", schemeSHA512Crypt},
}

func TestHashVectors(t *testing.T) {
	for _, v := range hashVectors {
		t.Run(v.name, func(t *testing.T) {
			c := classifyHash(v.hash)
			if c.scheme != v.scheme {
				t.Fatalf("classifyHash: scheme %v, want %v", c.scheme, v.scheme)
			}
			ok, err := c.verify([]byte(v.password), bcrypt.CompareHashAndPassword)
			if err != nil || !ok {
				t.Fatalf("verify(right password) = %v, %v; want true, nil", ok, err)
			}
			ok, err = c.verify([]byte(v.password+"x"), bcrypt.CompareHashAndPassword)
			if err != nil || ok {
				t.Fatalf("verify(wrong password) = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

func TestClassifyUnsupported(t *testing.T) {
	for hash, why := range map[string]string{
		"KhrY50t6Smz8U":            "des-crypt", // htpasswd -nbd des desecret
		"_J9..rasmBYk8r9AiWNc":     "bsdi-des-crypt",
		"$y$j9T$abc$def":           "crypt scheme $y$",
		"":                         "empty hash",
		"plaintext-not-a-hash!":    "unknown hash format",
		"$5$rounds=10$low$abcdefg": "sha-crypt with invalid rounds",
	} {
		c := classifyHash(hash)
		if c.scheme != schemeUnsupported || c.why != why {
			t.Errorf("classifyHash(%q) = %v %q, want unsupported %q", hash, c.scheme, c.why, why)
		}
		if ok, err := c.verify([]byte("desecret"), nil); ok || err == nil {
			t.Errorf("verify(%q) = %v, %v; want false and an error", hash, ok, err)
		}
	}
}

func TestBcryptDelegation(t *testing.T) {
	// htpasswd -nbB -C 5 bc bcrypt-secret
	const hash = "$2y$05$hBL47duyabjBsWWDogFX8u4ifnHvR0dUs2PF9Y4KLBFnyxW72I9Fq"
	c := classifyHash(hash)
	if c.scheme != schemeBcrypt {
		t.Fatalf("scheme %v, want bcrypt", c.scheme)
	}
	if _, err := c.verify([]byte("bcrypt-secret"), nil); !errors.Is(err, errNoBcrypt) {
		t.Fatalf("without a BcryptCompareFunc: err %v, want errNoBcrypt", err)
	}
	var gotHash, gotPW string
	cmp := func(h, pw []byte) error {
		gotHash, gotPW = string(h), string(pw)
		if string(pw) == "bcrypt-secret" {
			return nil
		}
		return errors.New("mismatch")
	}
	if ok, err := c.verify([]byte("bcrypt-secret"), cmp); !ok || err != nil {
		t.Fatalf("verify = %v, %v", ok, err)
	}
	if gotHash != hash || gotPW != "bcrypt-secret" {
		t.Fatalf("comparer got (%q, %q)", gotHash, gotPW)
	}
	if ok, _ := c.verify([]byte("nope"), cmp); ok {
		t.Fatal("wrong password accepted")
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2x$"} {
		if s := classifyHash(prefix + hash[4:]).scheme; s != schemeBcrypt {
			t.Errorf("%s: scheme %v", prefix, s)
		}
	}
}
