package dnssec

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Advice codes.
const (
	AdviceAlgDeprecated = "dnssec_algorithm_deprecated"
	AdviceRSASmall      = "dnssec_rsa_key_small"
	AdviceDigestSHA1    = "dnssec_ds_digest_sha1"
	AdviceNSEC3Iter     = "dnssec_nsec3_iterations"
	AdviceNSEC3Salt     = "dnssec_nsec3_salt"
	AdviceExpirySoon    = "dnssec_signature_expires_soon"
)

// ExpiryHorizon is how close a signature's expiry may come before it is a
// warning.
const ExpiryHorizon = 72 * time.Hour

func (r *Result) advise(a Advice) {
	if !slices.Contains(r.Advice, a) {
		r.Advice = append(r.Advice, a)
	}
}

// notes records NSEC3 parameter advice (RFC 9276) from a reply's
// authority section.
func (w *walker) notes(ns []dns.RR) {
	for _, rr := range ns {
		n, ok := rr.(*dns.NSEC3)
		if !ok {
			continue
		}
		zone := "."
		if labels := dns.SplitDomainName(n.Hdr.Name); len(labels) > 1 {
			zone = dns.Fqdn(strings.Join(labels[1:], "."))
		}
		if n.Iterations > 0 {
			w.res.advise(Advice{Code: AdviceNSEC3Iter, Severity: "warning", Zone: zone,
				Detail: fmt.Sprintf("NSEC3 uses %d extra iterations; RFC 9276 asks for 0 (validators may treat more as insecure)", n.Iterations)})
		}
		if n.SaltLength > 0 {
			w.res.advise(Advice{Code: AdviceNSEC3Salt, Severity: "notice", Zone: zone,
				Detail: "NSEC3 uses a salt; RFC 9276 recommends none"})
		}
	}
}

// addAdvice judges the chain's algorithms, key sizes, DS digests and the
// signatures' expiry horizon.
func (r *Result) addAdvice() {
	for _, l := range r.Chain {
		for _, k := range l.Keys {
			switch k.Algorithm {
			case dns.RSAMD5, dns.DSA, dns.DSANSEC3SHA1, dns.ECCGOST, dns.RSASHA1, dns.RSASHA1NSEC3SHA1:
				r.advise(Advice{Code: AdviceAlgDeprecated, Severity: "warning", Zone: l.Zone,
					Detail: fmt.Sprintf("key %d uses algorithm %s, which RFC 8624 says not to sign with; use 13 (ECDSAP256SHA256) or 15 (ED25519)", k.KeyTag, algName(k.Algorithm))})
			}
			rsa := k.Algorithm == dns.RSASHA1 || k.Algorithm == dns.RSASHA1NSEC3SHA1 || k.Algorithm == dns.RSASHA256 || k.Algorithm == dns.RSASHA512
			if rsa && k.Bits > 0 && k.Bits < 2048 {
				r.advise(Advice{Code: AdviceRSASmall, Severity: "warning", Zone: l.Zone,
					Detail: fmt.Sprintf("key %d is RSA of %d bits; use at least 2048 bits, or ECDSA P-256", k.KeyTag, k.Bits)})
			}
		}
		for _, d := range l.DS {
			if d.DigestType == dns.SHA1 {
				r.advise(Advice{Code: AdviceDigestSHA1, Severity: "notice", Zone: l.Zone,
					Detail: fmt.Sprintf("the DS for key %d uses SHA-1 (digest type 1); publish SHA-256 (type 2) instead", d.KeyTag)})
			}
		}
	}
	if !r.Expires.IsZero() && len(r.Chain) > 0 {
		if left := r.Expires.Sub(r.now); left < ExpiryHorizon && left > 0 {
			r.advise(Advice{Code: AdviceExpirySoon, Severity: "warning", Zone: r.Chain[len(r.Chain)-1].Zone,
				Detail: fmt.Sprintf("a signature the chain rests on expires at %s, in %s", r.Expires.Format(time.RFC3339), left.Round(time.Minute))})
		}
	}
}

// keyBits is the key's size: the RSA modulus, or the curve's.
func keyBits(k *dns.DNSKEY) int {
	switch k.Algorithm {
	case dns.ECDSAP256SHA256, dns.ED25519:
		return 256
	case dns.ECDSAP384SHA384:
		return 384
	case dns.RSASHA1, dns.RSASHA1NSEC3SHA1, dns.RSASHA256, dns.RSASHA512, dns.RSAMD5:
		b, err := base64.StdEncoding.DecodeString(k.PublicKey)
		if err != nil || len(b) < 3 {
			return 0
		}
		explen, off := int(b[0]), 1
		if explen == 0 {
			explen, off = int(b[1])<<8|int(b[2]), 3
		}
		mod := b[min(off+explen, len(b)):]
		for len(mod) > 0 && mod[0] == 0 {
			mod = mod[1:]
		}
		if len(mod) == 0 {
			return 0
		}
		bits := len(mod) * 8
		for top := mod[0]; top&0x80 == 0; top <<= 1 {
			bits--
		}
		return bits
	}
	return 0
}
