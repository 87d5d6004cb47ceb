package runner

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/dnsscience/dnsscience/internal/store"
)

// Redacted replaces a secret in what is stored and shown.
const Redacted = "[redacted]"

// secretHeaders are header names whose values are credentials.
var secretHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
	"x-api-key": true, "x-auth-token": true, "x-client-token": true,
}

// secretHeader reports whether a header name holds a credential.
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	return secretHeaders[n] || strings.Contains(n, "token") || strings.Contains(n, "secret") ||
		strings.Contains(n, "password") || strings.Contains(n, "api-key")
}

// Public is the view of a measurement anyone with its id may see: without
// its submitter. (Secrets were redacted before it was stored.)
func Public(m *store.Measurement) *store.Measurement {
	cp := *m
	cp.ClientID = ""
	return &cp
}

// redactJSON removes credentials from options or a result before they are
// stored: the values of secret headers in any "headers" object, and the
// password of any URL with user information. Input that is not JSON is
// returned as is (the store refuses it).
func redactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	if !redactValue(&v, false) {
		return raw
	}
	out, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return out
}

// redactValue redacts in place and reports whether anything changed;
// inHeaders says v is the value of a "headers" key.
func redactValue(v *any, inHeaders bool) bool {
	changed := false
	switch t := (*v).(type) {
	case map[string]any:
		if tcp, ok := t["tcp"].(map[string]any); ok {
			if _, ok := tcp["local"]; ok {
				// A connection's local address is the server's own (an
				// internal address behind NAT): not the client's business.
				delete(tcp, "local")
				changed = true
			}
		}
		for k, e := range t {
			if inHeaders && secretHeader(k) {
				t[k] = Redacted
				changed = true
				continue
			}
			lk := strings.ToLower(k)
			if redactValue(&e, lk == "headers" || lk == "header") {
				t[k] = e
				changed = true
			}
		}
	case []any:
		for i := range t {
			if redactValue(&t[i], false) {
				changed = true
			}
		}
	case string:
		if r := redactURL(t); r != t {
			*v = r
			changed = true
		}
	}
	return changed
}

// redactURL hides the password of a URL with user information
// (https://user:secret@host/ → https://user:[redacted]@host/); anything
// else is returned as is.
func redactURL(s string) string {
	if !strings.Contains(s, "@") || !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), Redacted)
	} else {
		u.User = url.User(Redacted) // a lone user name is often a token
	}
	return strings.Replace(u.String(), "%5Bredacted%5D", Redacted, 1)
}
