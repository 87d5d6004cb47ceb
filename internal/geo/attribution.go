package geo

import "strings"

// Data providers, as detected from an mmdb's database type or a file name.
const (
	providerDBIP     = "dbip"
	providerGeoLite2 = "geolite2"
	providerGeoIP2   = "geoip2"
	providerIPinfo   = "ipinfo"
	providerLocDBASN = "ip-location-db-asn" // RouteViews + NRO + DB-IP, merged by ip-location-db
	providerUnknown  = "unknown"
)

// Attribution is a credit a data licence asks for. The UI shows Text linked
// to URL (or HTML as is); `dnsscience geo --about` prints them.
type Attribution struct {
	Provider string `json:"provider"`
	Text     string `json:"text"`
	URL      string `json:"url"`
	License  string `json:"license"`
	HTML     string `json:"html,omitempty"`
}

func attributionsOf(provider string) []Attribution {
	dbip := Attribution{Provider: "DB-IP", Text: "IP Geolocation by DB-IP", URL: "https://db-ip.com",
		License: "CC BY 4.0", HTML: `<a href="https://db-ip.com">IP Geolocation by DB-IP</a>`}
	switch provider {
	case providerDBIP:
		return []Attribution{dbip}
	case providerLocDBASN:
		return []Attribution{
			{Provider: "RouteViews", Text: "IP to AS data by the University of Oregon Route Views Project",
				URL: "https://www.routeviews.org", License: "CC BY 4.0"},
			{Provider: "NRO", Text: "Delegation statistics by the Number Resource Organization",
				URL: "https://www.nro.net", License: "CC BY 4.0"},
			dbip,
		}
	case providerGeoLite2:
		return []Attribution{{Provider: "MaxMind",
			Text:    "This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com",
			URL:     "https://www.maxmind.com",
			License: "GeoLite2 End User License Agreement",
			HTML:    `This product includes GeoLite2 data created by MaxMind, available from <a href="https://www.maxmind.com">https://www.maxmind.com</a>.`}}
	case providerGeoIP2:
		return []Attribution{{Provider: "MaxMind", Text: "GeoIP2 data by MaxMind", URL: "https://www.maxmind.com",
			License: "MaxMind commercial licence"}}
	case providerIPinfo:
		return []Attribution{{Provider: "IPinfo", Text: "IP address data powered by IPinfo", URL: "https://ipinfo.io",
			License: "CC BY-SA 4.0", HTML: `<a href="https://ipinfo.io">IP address data powered by IPinfo</a>`}}
	}
	return nil
}

func providerName(p string) string {
	switch p {
	case providerDBIP:
		return "DB-IP Lite (via ip-location-db)"
	case providerLocDBASN:
		return "RouteViews, NRO and DB-IP ASN data (via ip-location-db)"
	case providerGeoLite2:
		return "MaxMind GeoLite2"
	case providerGeoIP2:
		return "MaxMind GeoIP2"
	case providerIPinfo:
		return "IPinfo Lite"
	}
	return "unknown provider"
}

// mmdbProvider guesses who made an mmdb from its database type and name.
func mmdbProvider(dbType, name string) string {
	t, n := strings.ToLower(dbType), strings.ToLower(name)
	switch {
	case strings.Contains(t, "geolite2") || strings.Contains(n, "geolite2"):
		return providerGeoLite2
	case strings.Contains(t, "geoip2") || strings.Contains(n, "geoip2"):
		return providerGeoIP2
	case strings.Contains(t, "ipinfo") || strings.Contains(n, "ipinfo"):
		return providerIPinfo
	case strings.Contains(t, "dbip") || strings.Contains(t, "db-ip") || strings.Contains(n, "dbip"):
		return providerDBIP
	}
	return providerUnknown
}

// csvProvider guesses who made an ASN CSV from its name.
func csvProvider(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "geolite2"):
		return providerGeoLite2
	case strings.Contains(n, "dbip"):
		return providerDBIP
	case strings.HasPrefix(n, "asn"):
		return providerLocDBASN
	}
	return providerUnknown
}
