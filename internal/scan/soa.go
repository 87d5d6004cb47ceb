package scan

import (
	"fmt"

	"github.com/miekg/dns"
)

// The common ranges of SOA timers (RFC 1912 §2.2, RIPE-203).
const (
	minRefresh, maxRefresh = 1200, 86400
	minExpire, maxExpire   = 604800, 2419200
	minMinimum, maxMinimum = 300, 86400
)

// soaTimers judges the zone's SOA timers against the common ranges.
func (s *scanner) soaTimers(soa *dns.SOA) {
	if soa.Refresh < minRefresh || soa.Refresh > maxRefresh {
		s.rp.add("soa_refresh_range", SevNotice, fmt.Sprintf("SOA refresh is %d s; commonly %d–%d", soa.Refresh, minRefresh, maxRefresh))
	}
	if soa.Retry >= soa.Refresh {
		s.rp.add("soa_retry_range", SevWarning, fmt.Sprintf("SOA retry (%d s) is not shorter than refresh (%d s)", soa.Retry, soa.Refresh))
	}
	if soa.Expire < minExpire || soa.Expire > maxExpire {
		s.rp.add("soa_expire_range", SevWarning, fmt.Sprintf("SOA expire is %d s; commonly %d–%d (1–4 weeks)", soa.Expire, minExpire, maxExpire))
	} else if soa.Expire < soa.Refresh+soa.Retry {
		s.rp.add("soa_expire_range", SevWarning, fmt.Sprintf("SOA expire (%d s) is shorter than refresh + retry", soa.Expire))
	}
	if soa.Minttl < minMinimum || soa.Minttl > maxMinimum {
		s.rp.add("soa_minimum_range", SevNotice, fmt.Sprintf("SOA minimum (negative caching TTL) is %d s; commonly %d–%d", soa.Minttl, minMinimum, maxMinimum))
	}
	if soa.Hdr.Ttl < 300 {
		s.rp.add("soa_ttl_low", SevNotice, fmt.Sprintf("the SOA's TTL is %d s", soa.Hdr.Ttl))
	}
}
