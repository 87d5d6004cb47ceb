package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/store"
)

// Anonymous web clients are told apart by a random token the server gives
// them (a cookie, or the X-Client-Token header for other clients): their
// measurements are listed to them only. The token is never stored; its
// hash is the owner recorded with each measurement.
const (
	clientCookie      = "dnsscience_client"
	clientTokenHeader = "X-Client-Token"
	clientTokenTTL    = 365 * 24 * time.Hour
)

// goodToken is a token the server could have made: long enough not to be
// guessed (at least 128 bits of hex or base64url).
var goodToken = regexp.MustCompile(`^[A-Za-z0-9_-]{32,128}$`)

// who is the caller of a request.
type who struct {
	// limitKey keys rate limits and the fairness queue: "key:ID", or
	// "ip:ADDR" (an IPv6 client's /64 by default).
	limitKey string
	// scale multiplies rate-limit quotas (key holders get more).
	scale int
	// owner is what measurements are stored and listed under: "key:ID" or
	// "web:HASH"; empty for an anonymous caller without a token.
	owner string
	// key is the API key presented, if any.
	key *store.APIKey
	// token is the anonymous caller's token ("" for key holders).
	token string
}

// caller identifies who asks. A key that is presented but unknown or
// revoked, or a malformed Authorization header, is refused rather than
// ignored.
func (s *Server) caller(r *http.Request) (who, error) {
	k, err := s.lookupKey(r)
	if err != nil {
		return who{}, err
	}
	if k != nil {
		id := "key:" + k.ID
		return who{limitKey: id, scale: s.cfg.KeyScale, owner: id, key: k}, nil
	}
	w := who{limitKey: "ip:" + s.clientNet(r), scale: 1}
	if t := clientToken(r); t != "" {
		w.token, w.owner = t, tokenOwner(t)
	}
	return w, nil
}

// clientNet is the client's address as rate limits and queues see it: an
// IPv4 address, or the IPv6 network of Config.IPv6Prefix bits around it
// (one host usually holds a whole /64).
func (s *Server) clientNet(r *http.Request) string {
	a := s.clientIP(r)
	if !a.Is6() {
		return a.String()
	}
	p, err := a.Prefix(s.cfg.IPv6Prefix)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// clientToken is the token a request carries (header first), or "".
func clientToken(r *http.Request) string {
	if t := strings.TrimSpace(r.Header.Get(clientTokenHeader)); goodToken.MatchString(t) {
		return t
	}
	if c, err := r.Cookie(clientCookie); err == nil && goodToken.MatchString(c.Value) {
		return c.Value
	}
	return ""
}

func tokenOwner(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "web:" + hex.EncodeToString(sum[:16])
}

// ensureOwner gives an anonymous caller without a token a new one (a
// cookie and the X-Client-Token header) so that it can list what it
// creates.
func (s *Server) ensureOwner(w http.ResponseWriter, c *who) {
	if c.owner != "" {
		return
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	c.token = hex.EncodeToString(b[:])
	c.owner = tokenOwner(c.token)
	w.Header().Set(clientTokenHeader, c.token)
	http.SetCookie(w, &http.Cookie{Name: clientCookie, Value: c.token, Path: "/", MaxAge: int(clientTokenTTL.Seconds()),
		HttpOnly: true, Secure: s.cfg.TLS, SameSite: http.SameSiteStrictMode})
}

// apiKey is the key a request presents: Authorization: Bearer KEY (the
// scheme in any case), or X-API-Key. An Authorization header of another
// form is an error, not an anonymous request.
func apiKey(r *http.Request) (string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, key, ok := strings.Cut(strings.TrimSpace(h), " ")
		key = strings.TrimSpace(key)
		if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" || strings.ContainsAny(key, " \t") {
			return "", &Problem{Type: problemBase + "unauthorized", Title: "Unauthorized", Status: http.StatusUnauthorized,
				Detail: fmt.Sprintf("malformed Authorization header: want \"Bearer KEY\" (got scheme %q)", scheme)}
		}
		return key, nil
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key")), nil
}

// ipv6Prefix validates Config.IPv6Prefix.
func ipv6Prefix(bits int) (int, error) {
	if bits == 0 {
		return 64, nil
	}
	if _, err := netip.IPv6Unspecified().Prefix(bits); err != nil || bits < 16 {
		return 0, fmt.Errorf("IPv6 client prefix /%d: want 16 to 128", bits)
	}
	return bits, nil
}
