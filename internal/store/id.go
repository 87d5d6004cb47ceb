package store

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// b32 is lowercase base32 without padding: URL-safe and unambiguous to read.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// randomToken returns n random bytes as lowercase base32.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics rather than return short)
	return strings.ToLower(b32.EncodeToString(b))
}

// newID returns a random identifier: 16 bytes (128 bits), 26 characters.
func newID() string { return randomToken(16) }
