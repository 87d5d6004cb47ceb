package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The admin's check mutations run the REST routes' code: the same
// refusals without an admin key, the same field errors, 409 for checks
// from suite files.
func TestGraphQLCheckMutations(t *testing.T) {
	t.Parallel()
	ts, st, _, _ := monitoredServer(t)
	ctx := context.Background()
	admin, _, _ := st.CreateAPIKey(ctx, "ops", true)
	plain, _, _ := st.CreateAPIKey(ctx, "ci", false)
	url, _ := flipServer(t)
	as := func(key, query string, vars map[string]any) gqlResponse {
		t.Helper()
		h := http.Header{}
		if key != "" {
			h.Set("Authorization", "Bearer "+key)
		}
		r, _ := ts.gql(t, query, vars, h)
		return r
	}
	wantErr := func(what string, r gqlResponse, code string, status float64, field string) {
		t.Helper()
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != code || r.Errors[0].Extensions["status"] != status ||
			field != "" && r.Errors[0].Extensions["field"] != field {
			t.Errorf("%s: errors %+v; want code %s, status %v, field %q", what, r.Errors, code, status, field)
		}
	}
	def := map[string]any{"name": "GQL Check", "kind": "http", "target": url, "conditions": []string{"status == 200"},
		"interval": "1h", "group": "api", "labels": map[string]string{"team": "dns"}}
	create := `mutation($d: JSON!) { createCheck(definition: $d) { id status group labels } }`
	vars := map[string]any{"d": def}
	wantErr("no key", as("", create, vars), "unauthorized", 401, "")
	wantErr("not an admin key", as(plain, create, vars), "forbidden", 403, "")
	r := as(admin, create, vars)
	var got struct {
		CreateCheck struct {
			ID, Status, Group string
			Labels            map[string]string
		}
	}
	_ = json.Unmarshal(r.Data, &got)
	if c := got.CreateCheck; len(r.Errors) > 0 || c.ID != "gql-check" || c.Status != "pending" || c.Group != "api" || c.Labels["team"] != "dns" {
		t.Fatalf("createCheck: %s %+v", r.Data, r.Errors)
	}
	// REST sees it.
	var rest struct{ ID, Origin string }
	ts.get(t, "/api/v1/checks/gql-check", &rest)
	if rest.ID != "gql-check" || rest.Origin != "api" {
		t.Errorf("REST GET after createCheck: %+v", rest)
	}
	wantErr("again", as(admin, create, vars), "conflict", 409, "")
	for field, bad := range map[string]map[string]any{
		"interval":      {"name": "x", "kind": "http", "target": url, "interval": "10ms"},
		"options.nope":  {"name": "x", "kind": "http", "target": url, "options": map[string]any{"nope": 1}},
		"conditions[0]": {"name": "x", "kind": "http", "target": url, "conditions": []string{"status =="}},
		"colour":        {"name": "x", "kind": "http", "target": url, "colour": "red"},
		"target":        {"name": "x", "kind": "http"},
	} {
		wantErr("bad "+field, as(admin, create, map[string]any{"d": bad}), "validation", 400, field)
	}
	// Replace, run, delete; a suite file's check is read-only.
	replace := `mutation($id: ID!, $d: JSON!) { replaceCheck(id: $id, definition: $d) { id group } }`
	def["group"] = "edge"
	r = as(admin, replace, map[string]any{"id": "gql-check", "d": def})
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"group":"edge"`) {
		t.Errorf("replaceCheck: %s %+v", r.Data, r.Errors)
	}
	wantErr("replace without a key", as("", replace, map[string]any{"id": "gql-check", "d": def}), "unauthorized", 401, "")
	wantErr("replace a file's check", as(admin, replace, map[string]any{"id": "web-health", "d": def}), "read-only", 409, "")
	if r := as(admin, `mutation { runCheck(id: "gql-check") }`, nil); len(r.Errors) > 0 || string(r.Data) != `{"runCheck":true}` {
		t.Errorf("runCheck: %s %+v", r.Data, r.Errors)
	}
	wantErr("run without admin", as(plain, `mutation { runCheck(id: "gql-check") }`, nil), "forbidden", 403, "")
	wantErr("run a missing check", as(admin, `mutation { runCheck(id: "nope") }`, nil), "not-found", 404, "")
	wantErr("delete a file's check", as(admin, `mutation { deleteCheck(id: "web-health") }`, nil), "read-only", 409, "")
	if r := as(admin, `mutation { deleteCheck(id: "gql-check") }`, nil); len(r.Errors) > 0 || string(r.Data) != `{"deleteCheck":true}` {
		t.Errorf("deleteCheck: %s %+v", r.Data, r.Errors)
	}
	wantErr("delete again", as(admin, `mutation { deleteCheck(id: "gql-check") }`, nil), "not-found", 404, "")
	if resp := ts.get(t, "/api/v1/checks/gql-check", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("REST GET after deleteCheck: %d", resp.StatusCode)
	}
}

// checkStateChanges streams the monitor's transitions as runs make them.
func TestGraphQLCheckStateChanges(t *testing.T) {
	t.Parallel()
	ts, _, failing, run := monitoredServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws, send, msgs := dialGraphQLWS(ctx, t, ts.URL)
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription { checkStateChanges(id: "web-health") { check name from to reason at } }`}})
	type change struct{ Check, Name, From, To, Reason, At string }
	// The subscription is registered a moment after the subscribe message:
	// runs that fail three times then pass twice make a transition every
	// few runs until one is streamed.
	var got *change
	for i := 0; got == nil && i < 50; i++ {
		failing.Store(i%5 < 3)
		run()
	drain:
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatal("the connection closed")
				}
				if m.Type != "next" {
					t.Fatalf("unexpected message %s %s", m.Type, m.Payload)
				}
				var p struct {
					Data   struct{ CheckStateChanges change }
					Errors []any
				}
				if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
					t.Fatalf("next: %s", m.Payload)
				}
				got = &p.Data.CheckStateChanges
			default:
				break drain
			}
		}
	}
	if got == nil {
		t.Fatal("no state change streamed after 50 runs")
	}
	if got.Check != "web-health" || got.Name != "web health" || got.From == got.To || got.Reason == "" {
		t.Fatalf("streamed %+v", *got)
	}
	// It is one of the transitions the REST face lists.
	var restTr struct{ Transitions []map[string]any }
	ts.get(t, "/api/v1/checks/web-health/transitions", &restTr)
	found := false
	for _, tr := range restTr.Transitions {
		found = found || tr["from"] == got.From && tr["to"] == got.To
	}
	if !found {
		t.Errorf("streamed %+v; REST transitions %v", *got, restTr.Transitions)
	}
	ws.Close(websocket.StatusNormalClosure, "")
}

// TestGraphQLSubscriptionsPerConnectionAreCapped: one WebSocket connection
// holds at most 32 subscriptions; the next is refused with a code saying
// so, and completing one makes room again.
func TestGraphQLSubscriptionsPerConnectionAreCapped(t *testing.T) {
	t.Parallel()
	ts, _, failing, run := monitoredServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, send, msgs := dialGraphQLWS(ctx, t, ts.URL)
	subscribe := func(id int) {
		send(map[string]any{"id": fmt.Sprint(id), "type": "subscribe", "payload": map[string]any{
			"query": `subscription { checkStateChanges { check } }`}})
	}
	refused := func(m gqlMessage) bool { return strings.Contains(string(m.Payload), "TOO_MANY_SUBSCRIPTIONS") }
	for i := 1; i <= 33; i++ {
		subscribe(i)
	}
	// Exactly one of the 33 is refused (they start concurrently), saying why.
	var first gqlMessage
	for first = range msgs {
		if first.Type != "complete" {
			break
		}
	}
	if !refused(first) || !strings.Contains(string(first.Payload), "at most 32") {
		t.Fatalf("33 subscriptions on one connection: first answer %s %s %s; want one refused with TOO_MANY_SUBSCRIPTIONS", first.Type, first.ID, first.Payload)
	}
	active := "1"
	if first.ID == "1" {
		active = "2"
	}
	send(map[string]any{"id": active, "type": "complete"})
	// Completing one frees its place (a moment later): a new subscription
	// is refused until then, and afterwards streams the next state change.
	n, run0 := 34, 0
	subscribe(n)
	for {
		select {
		case m, ok := <-msgs:
			switch {
			case !ok:
				t.Fatal("the connection closed")
			case m.ID != fmt.Sprint(n) || m.Type == "complete":
			case refused(m):
				if n++; n > 200 {
					t.Fatal("still refused after completing a subscription")
				}
				subscribe(n)
			case m.Type == "next" && strings.Contains(string(m.Payload), "web-health"):
				return // accepted: it streams
			default:
				t.Fatalf("subscription %d: %s %s", n, m.Type, m.Payload)
			}
		default:
			// Runs that fail three times then pass twice change the state.
			if run0++; run0 > 500 {
				t.Fatal("no state change streamed to the new subscription")
			}
			failing.Store(run0%5 < 3)
			run()
		}
	}
}

// gqlMessage is a graphql-transport-ws message.
type gqlMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// dialGraphQLWS opens a graphql-transport-ws connection to the server at
// base and initialises it; msgs carries what the server sends except
// pings and pongs, and is closed with the connection.
func dialGraphQLWS(ctx context.Context, t *testing.T, base string) (*websocket.Conn, func(any), <-chan gqlMessage) {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dialing: %v", err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Error(err)
		}
	}
	msgs := make(chan gqlMessage, 1000)
	send(map[string]any{"type": "connection_init"})
	go func() {
		defer close(msgs)
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			var m gqlMessage
			_ = json.Unmarshal(b, &m)
			if m.Type != "ping" && m.Type != "pong" {
				msgs <- m
			}
		}
	}()
	if m := <-msgs; m.Type != "connection_ack" {
		t.Fatalf("after connection_init: %+v", m)
	}
	return ws, send, msgs
}
