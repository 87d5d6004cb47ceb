package check

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/measure"
)

func testEnv() *measure.Values {
	body := `{"status":"ok","items":[{"id":7},{"id":8}],"healthy":true,"load":0.5}`
	return &measure.Values{
		M: map[string]any{
			"ok": true, "status": float64(200), "duration": 120 * time.Millisecond,
			"cert.expires_in": 30 * 24 * time.Hour, "dns.rcode": "NOERROR",
			"dns.answers": []string{"203.0.113.10", "203.0.113.11"}, "ws.close_code": float64(1000),
			"error": "", "tls.version": "TLS 1.3", "body": body,
		},
		Header: http.Header{"Content-Type": {"application/json"}, "X-Count": {"42"}},
		Body:   body,
	}
}

func TestConditions(t *testing.T) {
	tests := []struct {
		cond string
		want bool
	}{
		{"status == 200", true},
		{"status != 200", false},
		{"status >= 200 && status < 300", true},
		{"status == 500 || status == 200", true},
		{"duration < 300ms", true},
		{"duration < 100ms", false},
		{"duration <= 0.12s", true},
		{"cert.expires_in > 14d", true},
		{"cert.expires_in > 5w", false},
		{"dns.rcode == NOERROR", true},
		{"dns.rcode == NXDOMAIN", false},
		{`dns.answers contains "203.0.113.10"`, true},
		{`dns.answers contains "203.0.113.99"`, false},
		{`!(dns.answers contains "203.0.113.99")`, true},
		{`body.json.status == "ok"`, true},
		{`body.json.items[1].id == 8`, true},
		{`body.json.items.0.id == 7`, true},
		{`body.json.healthy`, true},
		{`body.json.healthy == true`, true},
		{`body.json.load < 0.75`, true},
		{`body.json.missing == "x"`, false},
		{`body.json.missing != "x"`, true},
		{`body contains "items"`, true},
		{`body matches "\"id\":[0-9]+"`, true},
		{`header.content-type == "application/json"`, true},
		{`header.X-Count > 40`, true},
		{`ws.close_code != 1011`, true},
		{`ok`, true},
		{`not ok`, false},
		{`ok and status == 200`, true},
		{`!ok or status == 200`, true},
		{`error == ""`, true},
		{`tls.version == 'TLS 1.3'`, true},
		{`status == 200 && (duration > 1s || ok)`, true},
	}
	env := testEnv()
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			c, err := ParseCondition(tt.cond, nil)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got, err := c.Eval(env)
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConditionEvalErrors(t *testing.T) {
	for _, tt := range []struct{ cond, want string }{
		{"duration < 300", "cannot compare duration 120ms with number 300: write the number with a unit, such as 300ms or 14d"},
		{"ok > true", "cannot compare boolean true > boolean true"},
	} {
		c, err := ParseCondition(tt.cond, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Eval(testEnv())
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: got %v, want %q", tt.cond, err, tt.want)
		}
	}
}

func TestConditionSyntaxErrors(t *testing.T) {
	known := knownFor("http")
	for _, tt := range []struct{ cond, want string }{
		{"", "column 1: empty condition"},
		{"status = 200", `column 8: unexpected "="; use == to compare`},
		{"status ==", "column 10: expected a value or variable but found the end"},
		{"stauts == 200", `column 1: unknown variable "stauts"`},
		{"200 200", `column 5: expected an operator (==, !=, <, <=, >, >=, contains, matches) but found "200"`},
		{"status == 200 200", `column 15: unexpected "200"; expected && or || or the end`},
		{`body == "open`, "column 9: unterminated string"},
		{"(status == 200", "column 15: expected ) but found the end"},
		{"duration < 3xs", `column 12: bad duration "3xs": want a number with a unit such as 300ms, 2s, 5m, 1h or 14d`},
		{`body matches "("`, "column 14: bad regular expression: error parsing regexp: missing closing ): `(`"},
		{`body matches status`, "column 14: matches needs a quoted regular expression"},
		{"status == 200 # x", `column 15: unexpected character '#'`},
	} {
		_, err := ParseCondition(tt.cond, known)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: got %v, want %q", tt.cond, err, tt.want)
		}
	}
}

func TestConditionPaths(t *testing.T) {
	c, err := ParseCondition(`status == 200 && body.json.status == "ok" || status == 204`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Paths(), ","); got != "body.json.status,status" {
		t.Fatalf("got %s", got)
	}
}

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{
		"status == 200", "duration < 300ms", `dns.answers contains "x"`, `body.json.a[0].b == 'q'`,
		"!(ok && status >= 200) || cert.expires_in > 14d", `body matches "^a.*$"`, "not ok", "((((", `"`, "-5 < -3",
	} {
		f.Add(s)
	}
	env := testEnv()
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition(s, nil)
		if err != nil {
			if _, ok := err.(*posError); !ok {
				t.Fatalf("%q: error %v is not positioned", s, err)
			}
			return
		}
		_, _ = c.Eval(env) // must not panic
		_ = c.Paths()
	})
}

// knownFor is the variable check of a kind's conditions.
func knownFor(kind string) func(string) bool {
	k, _ := measure.New().Lookup(kind)
	return func(p string) bool { return measure.Known(k, p) }
}
