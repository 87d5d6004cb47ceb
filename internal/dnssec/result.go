package dnssec

import "time"

// Status is a validation verdict (RFC 4035 §4.3).
type Status string

// The four verdicts.
const (
	Secure        Status = "secure"        // a chain of signatures from the anchor
	Insecure      Status = "insecure"      // a delegation proven to have no DS: not signed
	Bogus         Status = "bogus"         // the chain should hold and does not
	Indeterminate Status = "indeterminate" // the records needed could not be had
)

// Codes say why a chain is bogus or indeterminate; they are stable.
const (
	CodeExpired        = "dnssec_signature_expired"
	CodeNotYetValid    = "dnssec_signature_not_yet_valid"
	CodeBadSignature   = "dnssec_signature_invalid"
	CodeNoSignature    = "dnssec_signature_missing"
	CodeDSNoKey        = "dnssec_ds_no_matching_key"
	CodeNoDNSKEY       = "dnssec_dnskey_missing"
	CodeAlgMismatch    = "dnssec_algorithm_mismatch"
	CodeAlgUnsupported = "dnssec_algorithm_unsupported"
	CodeDenialMissing  = "dnssec_denial_missing"
	CodeDenialWrong    = "dnssec_denial_wrong"
	CodeNoAnchor       = "dnssec_no_anchor"
	CodeUnreachable    = "dnssec_no_answer"
)

// Result is one validation: the verdict, why, and the chain link by link.
type Result struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Status Status `json:"status"`
	// Code and Reason say why the chain is bogus or indeterminate, or, for
	// insecure, how the absence of DS was proven.
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	// BrokenAt is the zone whose link failed (bogus, indeterminate).
	BrokenAt string `json:"broken_at,omitempty"`
	// InsecureAt is the delegation with a proven absence of DS.
	InsecureAt string `json:"insecure_at,omitempty"`
	// Anchor is the zone of the trust anchor the chain starts from.
	Anchor string `json:"anchor"`
	// Chain holds one link per zone from the anchor down.
	Chain []Link `json:"chain"`
	// Records is the check of the records asked for (and of the denial
	// probe) at the last zone.
	Records []RRsetCheck `json:"records,omitempty"`
	// Expires is the earliest expiry of the signatures the chain rests on.
	Expires time.Time `json:"expires,omitzero"`
	// Advice is algorithm, key-size, digest and NSEC3 advice.
	Advice []Advice `json:"advice,omitempty"`
	now    time.Time
}

// Link is one zone of the chain: the DS set the parent gives (or the
// anchor), the zone's keys and the signatures over its DNSKEY set.
type Link struct {
	Zone   string `json:"zone"`
	Server string `json:"server,omitempty"` // address#port asked
	// DS are the zone's DS records (from the parent or the anchor).
	DS []DSInfo `json:"ds"`
	// DSSigs are the signatures over the DS set, by the parent.
	DSSigs []SigInfo `json:"ds_signatures,omitempty"`
	// NoDS is how the parent proved that there is no DS (nsec, nsec3,
	// nsec3 opt-out) when the zone is the insecure delegation.
	NoDS   string    `json:"no_ds,omitempty"`
	Keys   []KeyInfo `json:"dnskey"`
	Sigs   []SigInfo `json:"dnskey_signatures"`
	Status Status    `json:"status"`
	Code   string    `json:"code,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// DSInfo is one DS record.
type DSInfo struct {
	KeyTag     uint16 `json:"key_tag"`
	Algorithm  uint8  `json:"algorithm"`
	DigestType uint8  `json:"digest_type"`
	Digest     string `json:"digest"`
	// Matched is true when a DNSKEY of the zone has this digest.
	Matched bool `json:"matched"`
}

// KeyInfo is one DNSKEY.
type KeyInfo struct {
	KeyTag    uint16 `json:"key_tag"`
	Flags     uint16 `json:"flags"`
	Algorithm uint8  `json:"algorithm"`
	Bits      int    `json:"bits"`
	SEP       bool   `json:"sep"`
	// Trusted is true when a DS (or the anchor) vouches for the key.
	Trusted bool `json:"trusted"`
}

// SigInfo is one RRSIG and what its check found.
type SigInfo struct {
	Covers     string    `json:"covers"`
	Owner      string    `json:"owner"`
	KeyTag     uint16    `json:"key_tag"`
	Algorithm  uint8     `json:"algorithm"`
	Signer     string    `json:"signer"`
	Inception  time.Time `json:"inception"`
	Expiration time.Time `json:"expiration"`
	Valid      bool      `json:"valid"`
	Problem    string    `json:"problem,omitempty"`
}

// RRsetCheck is the check of one answer (or denial) at the last zone.
type RRsetCheck struct {
	Name   string    `json:"name"`
	Type   string    `json:"type"`
	Rcode  string    `json:"rcode"`
	Sigs   []SigInfo `json:"signatures,omitempty"`
	Denial string    `json:"denial,omitempty"` // nsec, nsec3 when the answer is a proven absence
	Status Status    `json:"status"`
	Code   string    `json:"code,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// Advice is one piece of algorithm or key advice.
type Advice struct {
	Code     string `json:"code"`
	Severity string `json:"severity"` // warning or notice
	Zone     string `json:"zone"`
	Detail   string `json:"detail"`
}
