package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/store"
)

func TestAlertsAPI(t *testing.T) {
	t.Parallel()
	ts, st, _, _ := monitoredServer(t)
	v := openAPIValidator(t, ts)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	note := func(key string) store.Notification {
		return store.Notification{Key: key, CheckID: "web-health", Location: "local", Channel: "ops", Event: "trigger", TransitionAt: now,
			Payload: json.RawMessage(`{"secret":"not shown"}`), NextAttempt: now, CreatedAt: now}
	}
	if err := st.AddNotifications(ctx, []store.Notification{note("k1"), note("k2")}); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.ClaimNotifications(ctx, now, time.Minute, "w", 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim %v %v", claimed, err)
	}
	if err := st.FinishNotification(ctx, claimed[0].Seq, "w", store.NotificationUpdate{Status: store.NoteDead, Attempts: 12, LastError: "503"}); err != nil {
		t.Fatal(err)
	}

	code, body := exchange(t, v, ts, "GET", "/api/v1/checks/web-health/notifications", "")
	if code != 200 || !strings.Contains(string(body), `"status":"dead"`) || !strings.Contains(string(body), `"idempotency_key":"k2"`) ||
		strings.Contains(string(body), "not shown") {
		t.Fatalf("notifications: %d %s", code, body)
	}
	if code, _ := exchange(t, v, ts, "GET", "/api/v1/checks/nope/notifications", ""); code != 404 {
		t.Fatalf("unknown check: %d", code)
	}

	if resp, _ := ts.do(t, "GET", "/api/v1/alerts/dead", "", nil); resp.StatusCode != 401 {
		t.Fatalf("dead letters without a key: %d", resp.StatusCode)
	}
	admin := ts.withAdmin(t).header
	resp, body := ts.do(t, "GET", "/api/v1/alerts/dead", "", admin)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"idempotency_key":"k1"`) || strings.Contains(string(body), "k2") {
		t.Fatalf("dead: %d %s", resp.StatusCode, body)
	}
	retry := fmt.Sprintf("/api/v1/alerts/dead/%d/retry", claimed[0].Seq)
	if resp, body := ts.do(t, "POST", retry, "", admin); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("retry: %d %s", resp.StatusCode, body)
	}
	if resp, _ := ts.do(t, "POST", retry, "", admin); resp.StatusCode != 404 {
		t.Fatalf("retry of a pending one: %d", resp.StatusCode)
	}
	if resp, _ := ts.do(t, "POST", "/api/v1/alerts/dead/x/retry", "", admin); resp.StatusCode != 400 {
		t.Fatalf("bad seq: %d", resp.StatusCode)
	}

	for body, want := range map[string]string{
		`{"check":"web-health"}`:                                "a silence needs an expiry",
		`{"check":"nope","duration":"1h"}`:                      `no check \"nope\"`,
		`{"duration":"-1h"}`:                                    "not a positive duration",
		`{"duration":"2400h"}`:                                  "at most 90 days",
		`{"duration":"1h","expires_at":"2030-01-01T00:00:00Z"}`: "not both",
		`{"duraton":"1h"}`:                                      "unknown field",
	} {
		resp, got := ts.do(t, "POST", "/api/v1/alerts/silences", body, admin)
		if resp.StatusCode != 400 || !strings.Contains(string(got), want) {
			t.Errorf("%s: %d %s, want 400 with %q", body, resp.StatusCode, got, want)
		}
	}
	if resp, _ := ts.do(t, "POST", "/api/v1/alerts/silences", `{"duration":"1h"}`, nil); resp.StatusCode != 401 {
		t.Fatalf("silence without a key: %d", resp.StatusCode)
	}
	resp, body = ts.do(t, "POST", "/api/v1/alerts/silences", `{"check":"web-health","channel":"ops","reason":"deploy","duration":"2h"}`, admin)
	var created struct{ Silence store.Silence }
	if resp.StatusCode != 201 || json.Unmarshal(body, &created) != nil || created.Silence.ID == "" || created.Silence.CreatedBy == "" ||
		time.Until(created.Silence.ExpiresAt) < 119*time.Minute {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if resp, body := ts.do(t, "GET", "/api/v1/alerts/silences", "", admin); resp.StatusCode != 200 || !strings.Contains(string(body), created.Silence.ID) {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	if resp, _ := ts.do(t, "DELETE", "/api/v1/alerts/silences/"+created.Silence.ID, "", admin); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if resp, _ := ts.do(t, "DELETE", "/api/v1/alerts/silences/"+created.Silence.ID, "", admin); resp.StatusCode != 404 {
		t.Fatalf("delete again: %d", resp.StatusCode)
	}
}
