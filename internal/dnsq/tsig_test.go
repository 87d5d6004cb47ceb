package dnsq

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseTSIGKey(t *testing.T) {
	t.Parallel()
	k, err := ParseTSIGKey("hmac-sha512:my-key:c2VjcmV0")
	if err != nil || k.Name != "my-key." || k.Algorithm != dns.HmacSHA512 || string(k.Secret) != "secret" {
		t.Fatalf("got %+v, %v", k, err)
	}
	if k, err := ParseTSIGKey("my-key:c2VjcmV0"); err != nil || k.Algorithm != dns.HmacMD5 {
		t.Errorf("without algorithm: got %+v, %v; want hmac-md5 as dig", k, err)
	}
	for in, want := range map[string]string{
		"hmac-foo:k:c2VjcmV0":       `unknown algorithm "hmac-foo"`,
		"hmac-sha256:k:not base64":  "the secret is not base64",
		"justaname":                 "want [algorithm:]name:base64-secret",
		"hmac-sha256:a..b:c2VjcmV0": "key name: bad domain name",
	} {
		if _, err := ParseTSIGKey(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in, err, want)
		}
	}
}

func TestLoadTSIGKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.key")
	// The layout tsig-keygen writes.
	if err := os.WriteFile(good, []byte("key \"xfr.example\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0\";\n};\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if k, err := LoadTSIGKeyFile(good); err != nil || k.Name != "xfr.example." || k.Algorithm != dns.HmacSHA256 {
		t.Errorf("got %+v, %v", k, err)
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("key \"k\" { algorithm hmac-sha256; };\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTSIGKeyFile(bad); err == nil || !strings.Contains(err.Error(), "needs both algorithm and secret") {
		t.Errorf("key without secret: %v", err)
	}
	if _, err := LoadTSIGKeyFile(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "reading key file") {
		t.Errorf("missing file: %v", err)
	}
}
