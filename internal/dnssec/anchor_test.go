package dnssec_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnssec"
)

func TestParseAnchors(t *testing.T) {
	t.Parallel()
	if got := dnssec.RootAnchors(); len(got) != 2 || got[0].Header().Name != "." {
		t.Errorf("shipped root anchors: %v", got)
	}
	keys, err := dnssec.ParseAnchors("; a comment\n$TTL 60\nexample. DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n")
	if err != nil || len(keys) != 1 {
		t.Fatalf("a DNSKEY anchor: %v, %v", keys, err)
	}
	for text, want := range map[string]string{
		"":                                   "no DS or DNSKEY record",
		"example. A 192.0.2.1":               "A record for example.; give DS or DNSKEY",
		"a. DS 1 13 2 00\nb. DS 1 13 2 00\n": "records for a. and b.",
		"example. DS 1 13 2":                 "has no digest",
	} {
		_, err := dnssec.ParseAnchors(text)
		if !errors.Is(err, dnssec.ErrBadAnchor) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseAnchors(%q) = %v; want an ErrBadAnchor saying %q", text, err, want)
		}
	}
}
