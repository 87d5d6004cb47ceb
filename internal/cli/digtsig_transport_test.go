package cli

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// TestDigTSIGOverDoHAndDoQ signs queries sent over DNS over HTTPS (Debian's
// dnsdist in front of knotd) and DNS over QUIC (a relay that passes the
// bytes to knotd unchanged; Debian has no DoQ server with TSIG): knotd
// checks the signature — a wrong secret or an unknown key is refused by
// knotd with BADSIG or BADKEY — and signs its reply, which must verify.
func TestDigTSIGOverDoHAndDoQ(t *testing.T) {
	t.Parallel()
	k := dnstest.StartKnot(t, dnstest.Knot{
		Zones:       map[string]string{"signed.test": bigZone("signed.test", 7, 3)},
		Keys:        map[string]string{"xfr-key": "hmac-sha256:" + xfrSecret},
		TransferKey: "xfr-key", // knotd checks a query's TSIG with the keys its ACLs name
	})
	ca := certtest.NewCA(t, "tsig transports CA")
	leaf := ca.Leaf(t, "127.0.0.1")
	caFile := ca.WriteCAFile(t)
	doh := dnstest.StartDNSDist(t, k.Addr, "signed.test", leaf)
	doq := dnstest.StartDoQRelay(t, k.Addr, leaf)
	y := "hmac-sha256:xfr-key:" + xfrSecret
	for _, srv := range [][]string{{"@" + doh}, {"@" + doh, "--doh-get"}, {"@quic://" + doq}} {
		base := append([]string{"dig", "signed.test", "SOA", "--ca", caFile, "+tries=1"}, srv...)
		out, stderr, code := runCLI(t, append(base, "-y", y)...)
		if code != 0 || !strings.Contains(out, ";; TSIG PSEUDOSECTION:\nxfr-key.\t\t0\tANY\tTSIG\thmac-sha256. ") ||
			!strings.Contains(out, "hostmaster.signed.test. 7 7200") {
			t.Errorf("%v signed: exit %d, want the answer and knotd's verified TSIG:\n%s%s", srv, code, out, stderr)
		}
		for _, bad := range []struct{ key, want string }{
			{"hmac-sha256:xfr-key:YmFkYmFkYmFkYmFkYmFkYmFkYmFkYmFk", "refused key xfr-key.: BADSIG"},
			{"hmac-sha256:other-key:" + xfrSecret, "refused key other-key.: BADKEY"},
		} {
			out, stderr, code := runCLI(t, append(base, "-y", bad.key)...)
			if code != ExitFailure || !strings.Contains(out+stderr, bad.want) {
				t.Errorf("%v -y %s: exit %d, want 1 and knotd's %q:\n%s%s", srv, bad.key, code, bad.want, out, stderr)
			}
		}
	}
}

// TestDigTSIGReplyForgedOverDoHAndDoQ: a reply over DoH or DoQ whose TSIG
// does not verify with the key (a server that signs with another secret)
// fails the query, exit 1.
func TestDigTSIGReplyForgedOverDoHAndDoQ(t *testing.T) {
	t.Parallel()
	other, err := dnsq.ParseTSIGKey("hmac-sha256:xfr-key:YmFkYmFkYmFkYmFkYmFkYmFkYmFkYmFk")
	if err != nil {
		t.Fatal(err)
	}
	forger := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(req)
		r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: []byte{192, 0, 2, 1}})
		if t := req.IsTsig(); t != nil {
			r.SetTsig(t.Hdr.Name, t.Algorithm, 300, int64(t.TimeSigned))
			wire, _, err := dns.TsigGenerateWithProvider(r, other, t.MAC, false)
			if err == nil {
				_ = r.Unpack(wire)
			}
		}
		_ = w.WriteMsg(r)
	})
	ca := certtest.NewCA(t, "forged TSIG CA")
	leaf := ca.Leaf(t, "127.0.0.1")
	caFile := ca.WriteCAFile(t)
	for _, srv := range []string{dnstest.StartDoH(t, forger, leaf), "quic://" + dnstest.StartDoQ(t, forger, leaf)} {
		args := []string{"dig", "@" + srv, "www.example.test", "--ca", caFile, "+tries=1"}
		if out, stderr, code := runCLI(t, args...); code != 0 || !strings.Contains(out, "192.0.2.1") {
			t.Fatalf("%s unsigned: exit %d (the test's premise):\n%s%s", srv, code, out, stderr)
		}
		out, stderr, code := runCLI(t, append(args, "-y", "hmac-sha256:xfr-key:"+xfrSecret)...)
		if code != ExitFailure || !strings.Contains(out+stderr, "verifying the reply with key xfr-key.") {
			t.Errorf("%s forged reply: exit %d, want 1 and a verification failure:\n%s%s", srv, code, out, stderr)
		}
	}
}
