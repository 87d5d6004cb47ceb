package diagnose

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
)

// TestSystemResolversAreNotTargets is issue 12's case 7: a server's own
// resolver on loopback (systemd's 127.0.0.53, Docker's 127.0.0.11) is
// infrastructure: with SystemDialer it is asked although the target policy
// refuses loopback, and the policy still refuses the target itself.
func TestSystemResolversAreNotTargets(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	policy := netpolicy.Default()
	res := e.run(t, "https://api.example.test:"+e.port+"/", func(r *Request) {
		r.Dialer, r.SystemDialer = policy.Dialer(), &net.Dialer{}
	})
	if len(res.DNS.Answers) != 1 || res.DNS.Answers[0].Error != "" || len(res.DNS.Answers[0].Addresses) == 0 {
		t.Fatalf("system resolver on loopback: %+v, want the host's addresses", res.DNS.Answers)
	}
	if res.Verdict == nil || res.Verdict.Layer != "tcp" || !strings.Contains(res.Verdict.Problem, "policy") {
		t.Errorf("verdict %+v, want the loopback target refused by policy at tcp", res.Verdict)
	}
	// Without it, the resolver is dialled as a target and refused.
	res = e.run(t, "https://api.example.test:"+e.port+"/", func(r *Request) { r.Dialer = policy.Dialer() })
	if len(res.DNS.Answers) != 1 || res.DNS.Answers[0].Error == "" {
		t.Errorf("system resolver through the target policy: %+v, want it refused", res.DNS.Answers)
	}
}
