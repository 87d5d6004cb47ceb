package snapshot

import (
	"strings"

	"github.com/miekg/dns"
)

// DefaultNames are the names a snapshot asks when the zone cannot be
// transferred, relative to the domain ("@" is the apex): the hosts most
// zones have (web, mail, name servers), mail policy records (DMARC,
// MTA-STS, TLS-RPT, common DKIM selectors) and common service records.
var DefaultNames = []string{
	"@", "www", "mail", "smtp", "imap", "pop", "pop3", "webmail", "mx", "mx1", "mx2",
	"ns", "ns1", "ns2", "ns3", "ftp", "api", "app", "cdn", "static", "blog", "shop",
	"dev", "staging", "test", "vpn", "remote", "portal", "admin", "m",
	"autodiscover", "autoconfig", "mta-sts",
	"_dmarc", "_mta-sts", "_smtp._tls", "_domainkey",
	"default._domainkey", "google._domainkey", "selector1._domainkey", "selector2._domainkey", "k1._domainkey",
	"_acme-challenge",
	"_submission._tcp", "_submissions._tcp", "_imap._tcp", "_imaps._tcp", "_pop3s._tcp",
	"_autodiscover._tcp", "_caldavs._tcp", "_carddavs._tcp",
	"_sip._tcp", "_sip._udp", "_sips._tcp", "_xmpp-client._tcp", "_xmpp-server._tcp",
}

// The types asked of each kind of name (DefaultTypes).
var (
	apexTypes    = []uint16{dns.TypeSOA, dns.TypeNS, dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeTXT, dns.TypeCAA, dns.TypeHTTPS, dns.TypeDNSKEY}
	hostTypes    = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeMX, dns.TypeTXT, dns.TypeHTTPS}
	serviceTypes = []uint16{dns.TypeSRV, dns.TypeCNAME}
	policyTypes  = []uint16{dns.TypeTXT, dns.TypeCNAME}
)

// DefaultTypes are the types asked of a relative name: at the apex SOA,
// NS, A, AAAA, MX, TXT, CAA, HTTPS and DNSKEY; for _service._proto names
// SRV and CNAME; for other underscore names (policies, DKIM keys) TXT and
// CNAME; for hosts A, AAAA, CNAME, MX, TXT and HTTPS.
func DefaultTypes(rel string) []uint16 {
	switch {
	case rel == "@" || rel == "":
		return apexTypes
	case strings.Contains(rel, "._tcp") || strings.Contains(rel, "._udp"):
		return serviceTypes
	case strings.HasPrefix(rel, "_") || strings.Contains(rel, "._domainkey"):
		return policyTypes
	}
	return hostTypes
}

// absolute turns a name relative to domain ("@" is the apex) into a fully
// qualified one; a name ending in "." is already absolute.
func absolute(rel, domain string) string {
	switch {
	case rel == "@" || rel == "":
		return domain
	case strings.HasSuffix(rel, "."):
		return strings.ToLower(rel)
	case domain == ".":
		return strings.ToLower(rel) + "."
	}
	return strings.ToLower(rel) + "." + domain
}
