package dnssec

import (
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// supportedAlg are the signing algorithms this validator checks (those
// miekg/dns verifies); others make a zone insecure (RFC 4035 §5.2).
func supportedAlg(alg uint8) bool {
	switch alg {
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512, dns.ECDSAP256SHA256, dns.ECDSAP384SHA384, dns.ED25519:
		return true
	}
	return false
}

func supportedDigest(d uint8) bool {
	return d == dns.SHA1 || d == dns.SHA256 || d == dns.SHA384
}

// sigTime turns an RRSIG time (seconds mod 2^32, RFC 4034 §3.1.5) into the
// time nearest now.
func sigTime(v uint32, now time.Time) time.Time {
	t := int64(v)
	base := now.Unix()
	for t < base-(1<<31) {
		t += 1 << 32
	}
	return time.Unix(t, 0).UTC()
}

// rrset collects the records of one owner and type from a section.
func rrset(section []dns.RR, name string, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range section {
		if rr.Header().Rrtype == t && strings.EqualFold(rr.Header().Name, name) {
			out = append(out, rr)
		}
	}
	return out
}

// sigsFor are the RRSIGs over (name, t) in a section.
func sigsFor(section []dns.RR, name string, t uint16) []*dns.RRSIG {
	var out []*dns.RRSIG
	for _, rr := range section {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == t && strings.EqualFold(s.Hdr.Name, name) {
			out = append(out, s)
		}
	}
	return out
}

// check is the outcome of verifying one RRset.
type check struct {
	sigs    []SigInfo
	ok      bool
	code    string
	reason  string
	expires time.Time
}

// verifySet checks the RRset against its signatures with the zone's keys:
// it holds when one signature by a key of keys verifies and is in its
// validity period. Otherwise code and reason name the best problem found.
func verifySet(set []dns.RR, sigs []*dns.RRSIG, keys []*dns.DNSKEY, zone string, now time.Time) check {
	var c check
	if len(set) == 0 {
		return check{code: CodeNoSignature, reason: "no records to check"}
	}
	what := fmt.Sprintf("%s %s", set[0].Header().Name, dns.TypeToString[set[0].Header().Rrtype])
	if len(sigs) == 0 {
		return check{code: CodeNoSignature, reason: "no RRSIG over " + what}
	}
	rank := 0 // how close the best failure came: 1 no key, 2 bad signature, 3 out of its period
	for _, s := range sigs {
		info := SigInfo{Covers: dns.TypeToString[s.TypeCovered], Owner: s.Hdr.Name, KeyTag: s.KeyTag, Algorithm: s.Algorithm,
			Signer: s.SignerName, Inception: sigTime(s.Inception, now), Expiration: sigTime(s.Expiration, now)}
		code, reason, r := verifyOne(set, s, keys, zone, now, info)
		if code == "" {
			info.Valid = true
			c.ok = true
			if c.expires.IsZero() || info.Expiration.Before(c.expires) {
				c.expires = info.Expiration
			}
		} else {
			info.Problem = reason
			if r > rank {
				rank, c.code, c.reason = r, code, reason
			}
		}
		c.sigs = append(c.sigs, info)
	}
	if c.ok {
		c.code, c.reason = "", ""
	} else if c.reason != "" {
		c.reason = what + ": " + c.reason
	}
	return c
}

func verifyOne(set []dns.RR, s *dns.RRSIG, keys []*dns.DNSKEY, zone string, now time.Time, info SigInfo) (string, string, int) {
	if !strings.EqualFold(s.SignerName, zone) {
		return CodeBadSignature, fmt.Sprintf("signed by %s, not by the zone %s", s.SignerName, zone), 1
	}
	if !supportedAlg(s.Algorithm) {
		return CodeAlgUnsupported, fmt.Sprintf("algorithm %s is not supported", algName(s.Algorithm)), 1
	}
	var found bool
	var lastErr error
	for _, k := range keys {
		if k.KeyTag() != s.KeyTag || k.Algorithm != s.Algorithm {
			continue
		}
		found = true
		if err := s.Verify(k, set); err != nil {
			lastErr = err
			continue
		}
		switch {
		case now.Before(info.Inception):
			return CodeNotYetValid, fmt.Sprintf("signature by key %d is not valid before %s", s.KeyTag, info.Inception.Format(time.RFC3339)), 3
		case now.After(info.Expiration):
			return CodeExpired, fmt.Sprintf("signature by key %d expired at %s", s.KeyTag, info.Expiration.Format(time.RFC3339)), 3
		}
		return "", "", 0
	}
	if !found {
		return CodeNoSignature, fmt.Sprintf("no trusted key %d (%s) of %s to check the signature with", s.KeyTag, algName(s.Algorithm), zone), 1
	}
	return CodeBadSignature, fmt.Sprintf("signature by key %d does not verify: %v", s.KeyTag, lastErr), 2
}

func algName(a uint8) string {
	if n, ok := dns.AlgorithmToString[a]; ok {
		return fmt.Sprintf("%d (%s)", a, n)
	}
	return fmt.Sprintf("%d", a)
}

// zoneKeys keeps the DNSKEYs that may sign zone data (ZONE flag set, not
// revoked).
func zoneKeys(rrs []dns.RR) []*dns.DNSKEY {
	var out []*dns.DNSKEY
	for _, rr := range rrs {
		if k, ok := rr.(*dns.DNSKEY); ok && k.Flags&dns.ZONE != 0 && k.Flags&dns.REVOKE == 0 {
			out = append(out, k)
		}
	}
	return out
}

// dsMatches says whether ds is the digest of key.
func dsMatches(ds *dns.DS, key *dns.DNSKEY) bool {
	if ds.KeyTag != key.KeyTag() || ds.Algorithm != key.Algorithm || !supportedDigest(ds.DigestType) {
		return false
	}
	got := key.ToDS(ds.DigestType)
	return got != nil && strings.EqualFold(got.Digest, ds.Digest)
}
