package local

import "golang.org/x/crypto/bcrypt"

// bcryptCompare lets the auth service verify bcrypt htpasswd entries ($2y$ and friends),
// the most common kind in real htpasswd files.
func bcryptCompare(hash, password []byte) error { return bcrypt.CompareHashAndPassword(hash, password) }
