package roots

// operator is who runs a root server letter, and where its headquarters
// are (approximate coordinates of the city), from root-servers.org.
type operator struct {
	name string
	hq   Place
}

// operators are the operators of the 13 letters.
var operators = map[string]operator{
	"a": {"Verisign, Inc.", Place{"Reston", "US", 38.9586, -77.3570}},
	"b": {"University of Southern California, Information Sciences Institute", Place{"Marina del Rey", "US", 33.9803, -118.4517}},
	"c": {"Cogent Communications", Place{"Washington", "US", 38.9072, -77.0369}},
	"d": {"University of Maryland", Place{"College Park", "US", 38.9869, -76.9426}},
	"e": {"NASA (Ames Research Center)", Place{"Mountain View", "US", 37.4153, -122.0637}},
	"f": {"Internet Systems Consortium, Inc.", Place{"Newmarket", "US", 43.0829, -70.9353}},
	"g": {"US Department of Defense (NIC)", Place{"Fort Meade", "US", 39.1086, -76.7433}},
	"h": {"US Army (Research Lab)", Place{"Aberdeen Proving Ground", "US", 39.4667, -76.1300}},
	"i": {"Netnod", Place{"Stockholm", "SE", 59.3293, 18.0686}},
	"j": {"Verisign, Inc.", Place{"Reston", "US", 38.9586, -77.3570}},
	"k": {"RIPE NCC", Place{"Amsterdam", "NL", 52.3676, 4.9041}},
	"l": {"ICANN", Place{"Los Angeles", "US", 34.0522, -118.2437}},
	"m": {"WIDE Project", Place{"Tokyo", "JP", 35.6762, 139.6503}},
}
