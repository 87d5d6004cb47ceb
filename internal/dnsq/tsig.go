package dnsq

import (
	"crypto/hmac"
	"crypto/md5"  //nolint:gosec // HMAC-MD5 is still dig's default TSIG algorithm
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 TSIG keys are still deployed
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ErrTSIG is wrapped when a reply's TSIG is missing, refused by the server
// (BADKEY, BADSIG, BADTIME) or does not verify.
var ErrTSIG = errors.New("TSIG")

// TSIGKey is a shared secret for signing queries and transfers (RFC 8945).
type TSIGKey struct {
	Name      string // key name, fully qualified
	Algorithm string // wire name: hmac-sha256. ... (see tsigAlgorithms)
	Secret    []byte
}

// tsigAlgorithms maps the names users write (as dig and BIND key files do)
// to the wire names and hashes.
var tsigAlgorithms = map[string]struct {
	wire string
	hash func() hash.Hash
}{
	"hmac-md5":    {dns.HmacMD5, md5.New},
	"hmac-sha1":   {dns.HmacSHA1, sha1.New},
	"hmac-sha224": {dns.HmacSHA224, sha256.New224},
	"hmac-sha256": {dns.HmacSHA256, sha256.New},
	"hmac-sha384": {dns.HmacSHA384, sha512.New384},
	"hmac-sha512": {dns.HmacSHA512, sha512.New},
}

func tsigHash(wire string) (func() hash.Hash, bool) {
	for _, a := range tsigAlgorithms {
		if strings.EqualFold(a.wire, wire) {
			return a.hash, true
		}
	}
	return nil, false
}

// NewTSIGKey checks an algorithm name (hmac-sha256 ...), key name and base64
// secret.
func NewTSIGKey(alg, name, secret string) (TSIGKey, error) {
	a, ok := tsigAlgorithms[strings.ToLower(strings.TrimSuffix(alg, "."))]
	if !ok {
		return TSIGKey{}, fmt.Errorf("%w: unknown algorithm %q; want hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 or hmac-sha512", ErrTSIG, alg)
	}
	fq, err := NormalizeName(name)
	if err != nil {
		return TSIGKey{}, fmt.Errorf("%w: key name: %v", ErrTSIG, err)
	}
	raw, err := base64.StdEncoding.DecodeString(secret)
	if err != nil || len(raw) == 0 {
		return TSIGKey{}, fmt.Errorf("%w: key %s: the secret is not base64", ErrTSIG, name)
	}
	return TSIGKey{Name: fq, Algorithm: a.wire, Secret: raw}, nil
}

// ParseTSIGKey parses dig's -y form: [algorithm:]name:base64-secret; the
// algorithm defaults to hmac-md5, as in dig.
func ParseTSIGKey(s string) (TSIGKey, error) {
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 2:
		return NewTSIGKey("hmac-md5", parts[0], parts[1])
	case 3:
		return NewTSIGKey(parts[0], parts[1], parts[2])
	}
	return TSIGKey{}, fmt.Errorf("%w: %q: want [algorithm:]name:base64-secret", ErrTSIG, s)
}

var keyFileRE = regexp.MustCompile(`(?s)key\s+"?([^"\s{]+)"?\s*\{(.*?)\}\s*;`)
var keyFieldRE = regexp.MustCompile(`(?s)(algorithm|secret)\s+"?([^";\s]+)"?\s*;`)

// LoadTSIGKeyFile reads the first key of a BIND key file, as written by
// tsig-keygen and read by dig -k:
//
//	key "name" { algorithm hmac-sha256; secret "base64"; };
func LoadTSIGKeyFile(path string) (TSIGKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return TSIGKey{}, fmt.Errorf("reading key file: %w", err)
	}
	m := keyFileRE.FindSubmatch(b)
	if m == nil {
		return TSIGKey{}, fmt.Errorf("%w: %s holds no key \"name\" { algorithm ...; secret \"...\"; }; statement", ErrTSIG, path)
	}
	fields := map[string]string{}
	for _, f := range keyFieldRE.FindAllSubmatch(m[2], -1) {
		fields[string(f[1])] = string(f[2])
	}
	if fields["algorithm"] == "" || fields["secret"] == "" {
		return TSIGKey{}, fmt.Errorf("%w: key %s in %s needs both algorithm and secret", ErrTSIG, m[1], path)
	}
	return NewTSIGKey(fields["algorithm"], string(m[1]), fields["secret"])
}

// Generate and Verify make TSIGKey a dns.TsigProvider for its one key.
func (k TSIGKey) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	h, ok := tsigHash(t.Algorithm)
	if !ok {
		return nil, fmt.Errorf("%w: unknown algorithm %s", ErrTSIG, t.Algorithm)
	}
	mac := hmac.New(h, k.Secret)
	mac.Write(msg)
	return mac.Sum(nil), nil
}

// Verify checks the MAC of a signed message.
func (k TSIGKey) Verify(msg []byte, t *dns.TSIG) error {
	want, err := k.Generate(msg, t)
	if err != nil {
		return err
	}
	got, err := hex.DecodeString(t.MAC)
	if err != nil || !hmac.Equal(got, want) {
		return fmt.Errorf("%w: the reply's MAC does not verify with key %s", ErrTSIG, k.Name)
	}
	return nil
}

// sign adds a TSIG to m and returns the wire form and its MAC; prevMAC and
// timersOnly continue a signed transfer.
func (k TSIGKey) sign(m *dns.Msg) ([]byte, string, error) {
	m.SetTsig(k.Name, k.Algorithm, 300, time.Now().Unix())
	wire, mac, err := dns.TsigGenerateWithProvider(m, k, "", false)
	if err != nil {
		return nil, "", fmt.Errorf("signing the query: %w", err)
	}
	return wire, mac, nil
}

// verify checks the TSIG of a reply (raw, as received) to a request whose
// MAC was reqMAC; later messages of a transfer chain on the previous MAC
// with timersOnly. It returns the reply's MAC.
func (k TSIGKey) verify(raw []byte, r *dns.Msg, reqMAC string, timersOnly bool) (string, error) {
	t := r.IsTsig()
	if t == nil {
		return "", fmt.Errorf("%w: the reply is not signed (the server may not know key %s)", ErrTSIG, k.Name)
	}
	if t.Error != dns.RcodeSuccess {
		return "", fmt.Errorf("%w: the server refused key %s: %s", ErrTSIG, k.Name, RcodeString(int(t.Error)))
	}
	if err := dns.TsigVerifyWithProvider(raw, k, reqMAC, timersOnly); err != nil {
		return "", fmt.Errorf("%w: verifying the reply with key %s: %v", ErrTSIG, k.Name, err)
	}
	return t.MAC, nil
}

// TSIGString renders a TSIG record as dig's TSIG pseudosection does.
func TSIGString(t *dns.TSIG) string {
	mac := ""
	if t.MAC != "" {
		if b, err := hex.DecodeString(t.MAC); err == nil {
			mac = base64.StdEncoding.EncodeToString(b) + " "
		}
	}
	other := strconv.Itoa(int(t.OtherLen)) + " "
	return Columns(PresentName(t.Hdr.Name), "0", "ANY", "TSIG") + PresentName(t.Algorithm) + " " +
		strconv.FormatUint(t.TimeSigned, 10) + " " + u16(t.Fudge) + " " + u16(t.MACSize) + " " + mac +
		u16(t.OrigId) + " " + RcodeString(int(t.Error)) + " " + other
}
