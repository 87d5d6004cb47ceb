package runner

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedactJSON(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`{"headers":{"Authorization":"Bearer x","Accept":"*/*","X-Api-Key":"k","Cookie":"a=b"}}`,
			`{"headers":{"Accept":"*/*","Authorization":"[redacted]","Cookie":"[redacted]","X-Api-Key":"[redacted]"}}`},
		{`{"response":{"headers":{"Set-Cookie":["s=1"],"Content-Type":["text/plain"]}}}`,
			`{"response":{"headers":{"Content-Type":["text/plain"],"Set-Cookie":"[redacted]"}}}`},
		{`{"url":"https://user:pw@example.com/x?y=1","n":1.50}`, `{"n":1.50,"url":"https://user:[redacted]@example.com/x?y=1"}`},
		{`{"url":"https://tok@example.com/"}`, `{"url":"https://[redacted]@example.com/"}`},
		{`{"tcp":{"local":"10.0.0.5:41234","family":"ipv4"},"addr":"192.0.2.1:443"}`, `{"addr":"192.0.2.1:443","tcp":{"family":"ipv4"}}`},
		{`{"type":"A","authorization":"not in headers"}`, `{"type":"A","authorization":"not in headers"}`},
	} {
		got := string(redactJSON(json.RawMessage(c.in)))
		if got != c.want {
			t.Errorf("redactJSON(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := redactURL("https://a:b@example.com/p"); got != "https://a:[redacted]@example.com/p" {
		t.Errorf("redactURL = %s", got)
	}
	if got := redactURL("example.com"); got != "example.com" {
		t.Errorf("redactURL(example.com) = %s", got)
	}
	if unchanged := `{"a":1}`; string(redactJSON(json.RawMessage(unchanged))) != unchanged || strings.Contains(string(redactJSON(nil)), "x") {
		t.Error("JSON without secrets changed")
	}
}
