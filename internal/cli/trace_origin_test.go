package cli

import (
	"strings"
	"testing"
)

func TestParseOrigin(t *testing.T) {
	ll, err := parseOrigin(" 50.11, 8.68")
	if err != nil || ll == nil || ll.Lat != 50.11 || ll.Lon != 8.68 {
		t.Errorf("parseOrigin(50.11,8.68) = %+v, %v", ll, err)
	}
	if ll, err := parseOrigin(""); ll != nil || err != nil {
		t.Errorf("parseOrigin(\"\") = %+v, %v; want nil, nil", ll, err)
	}
	for _, bad := range []string{"50.11", "91,3", "10,181", "a,b", "NaN,0", "1,2,3"} {
		if _, err := parseOrigin(bad); err == nil || !strings.Contains(err.Error(), "want LAT,LON in degrees") {
			t.Errorf("parseOrigin(%q) error %v, want one saying what is accepted", bad, err)
		}
	}
}

func FuzzParseOrigin(f *testing.F) {
	for _, s := range []string{"50.11,8.68", "-90,-180", "91,3", "", "1e3,2", " 1 , 2 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ll, err := parseOrigin(s)
		if err == nil && ll != nil && !(ll.Lat >= -90 && ll.Lat <= 90 && ll.Lon >= -180 && ll.Lon <= 180) {
			t.Errorf("parseOrigin(%q) accepted %+v", s, ll)
		}
	})
}
