package check

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseCheckJSON(t *testing.T) {
	t.Parallel()
	body := `{"name": "API Health", "kind": "http", "target": "http://127.0.0.1:8080/health",
		"conditions": ["status == 200"], "interval": "10s", "group": "edge", "labels": {"team": "platform"}, "public": true}`
	c, raw, err := ParseCheck("api", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID() != "api-health" || c.Kind != "http" || c.Watch.Interval.String() != "10s" || c.Watch.Group != "edge" ||
		c.Watch.Labels["team"] != "platform" || !c.Watch.Public || len(c.Conditions) != 1 || c.Watch.FailureThreshold != 3 {
		t.Errorf("check = %+v", c)
	}
	var back map[string]any
	if err := json.Unmarshal(raw, &back); err != nil || back["interval"] != "10s" || back["name"] != "API Health" {
		t.Errorf("normalised JSON = %s (%v)", raw, err)
	}
}

func TestParseCheckErrorsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, field, detail string }{
		{`{"name": "a", "kind": "dns", "target": "example.com", "options": {"timeout": "nope"}}`, "options.timeout", "timeout"},
		{`{"name": "a", "kind": "dns", "target": "example.com", "options": {"colour": 1}}`, "options.colour", "unknown key"},
		{`{"name": "a", "kind": "dnz", "target": "example.com"}`, "kind", "unknown kind"},
		{`{"name": "a", "kind": "dns"}`, "target", "required"},
		{`{"name": "a", "kind": "dns", "target": "example.com", "interval": "500ms"}`, "interval", "least is 1s"},
		{`{"name": "a", "kind": "dns", "target": "example.com", "conditions": ["duration < 1s", "duration ==="]}`, "conditions[1]", ""},
		{`{"name": "a", "kind": "dns", "target": "example.com", "warning": ["nosuch > 1"]}`, "warning[0]", ""},
		{`{"name": "a", "kind": "dns", "target": "example.com", "labels": {"check": "x"}}`, "labels.check", "reserved"},
		{`{"name": "a", "kind": "dns", "target": "${SECRET}.example.com"}`, "target", "${NAME}"},
		{`{"name": "a", "kind": "http", "target": "https://127.0.0.1/", "options": {"ca": "/etc/shadow"}}`, "options.ca", "file on the server"},
		{`{"name": "a", "kind": "dns", "target": "example.com", "failure_threshold": 0}`, "failure_threshold", "1 to 100"},
		{`[1, 2]`, "", "object"},
		{`{"name": "a", `, "", "not JSON"},
	} {
		_, _, err := ParseCheck("api", []byte(tc.body))
		var fe *FieldError
		if !errors.Is(err, ErrCheck) || !errors.As(err, &fe) {
			t.Errorf("%s: error %v; want a FieldError", tc.body, err)
			continue
		}
		if fe.Field != tc.field || !strings.Contains(fe.Detail, tc.detail) {
			t.Errorf("%s: field %q detail %q; want field %q with %q", tc.body, fe.Field, fe.Detail, tc.field, tc.detail)
		}
	}
}
