//go:build linux

package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dnsscience/dnsscience/internal/testbin"
	"github.com/dnsscience/dnsscience/internal/testnet"
)

// TestGraphQLSubscriptionStreamsTraceHops runs the real `dnsscience serve`
// in the source namespace of a routed topology, creates a trace through a
// GraphQL mutation and subscribes to it over graphql-transport-ws while an
// SSE client reads the REST stream of the same measurement: the
// subscription gets every event the REST stream gets, in the same order
// (hops with their typed place and network), then the final state.
func TestGraphQLSubscriptionStreamsTraceHops(t *testing.T) {
	testnet.Skip(t)
	dir := t.TempDir()
	bin := testbin.Path(t)
	topo := testnet.Chain(47, 3)
	topo.Spec("r2").Silent = true
	n := testnet.Build(t, topo)
	src, dst := n.Node("src"), n.Node("dst").Addr4().String()
	overrides := filepath.Join(dir, "overrides.yaml")
	if err := os.WriteFile(overrides, []byte("overrides:\n  - {cidr: 10.47.0.0/16, label: lab, city: Paris, country_code: FR, latitude: 48.86, longitude: 2.35, asn: 64501, as_org: Lab}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	listen := "127.0.0.1:18097"
	srv := src.Command(ctx, bin, "serve", "--listen", listen, "--data", filepath.Join(dir, "data"), "--allow", "10.47.0.0/16",
		"--upstream", "127.0.0.1:53", "--geo-data", dir, "--geo-overrides", overrides)
	var logs bytes.Buffer
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = srv.Wait() }()
	// A client whose connections are opened inside the namespace.
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := src.Do(func() (err error) {
			var d net.Dialer
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}}
	base := "http://" + listen
	for i := 0; ; i++ {
		resp, err := client.Get(base + "/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			t.Fatalf("server did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// mtr mode, five rounds half a second apart: the trace runs while the
	// streams attach.
	mutation := fmt.Sprintf(`{"query":"mutation { createMeasurement(kind: \"trace\", target: \"%s\", options: {trace: {no_dns: true, timeout_ms: 500, rounds: 5, interval_ms: 500}}) { id } }"}`, dst)
	resp, err := client.Post(base+"/graphql", "application/json", strings.NewReader(mutation))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var created struct {
		Data struct{ CreateMeasurement struct{ ID string } }
	}
	if err := json.Unmarshal(body, &created); err != nil || created.Data.CreateMeasurement.ID == "" {
		t.Fatalf("mutation: %s\n%s", body, logs.String())
	}
	id := created.Data.CreateMeasurement.ID

	type event struct {
		Seq  int
		Type string
		Data string
	}
	sse := make(chan []event, 1)
	go func() {
		var evs []event
		defer func() { sse <- evs }()
		resp, err := client.Get(base + "/api/v1/measurements/" + id + "/stream")
		if err != nil {
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				ev.Seq, _ = strconv.Atoi(v)
			} else if v, ok := strings.CutPrefix(line, "event: "); ok {
				ev.Type = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				ev.Data = v
				evs = append(evs, ev)
			}
		}
	}()

	ws, _, err := websocket.Dial(ctx, "ws://"+listen+"/graphql", &websocket.DialOptions{HTTPClient: client, Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dialing: %v", err)
	}
	defer ws.CloseNow()
	if ws.Subprotocol() != "graphql-transport-ws" {
		t.Fatalf("subprotocol %q", ws.Subprotocol())
	}
	ws.SetReadLimit(1 << 22)
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	type message struct {
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	read := func() message {
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("reading: %v\n%s", err, logs.String())
		}
		var m message
		_ = json.Unmarshal(b, &m)
		return m
	}
	send(map[string]any{"type": "connection_init"})
	if m := read(); m.Type != "connection_ack" {
		t.Fatalf("after connection_init: %+v", m)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($id: ID!) { measurementEvents(id: $id) { seq type data hop { ttl state addrs { addr city asn } } measurement { status hops { ttl } } } }`,
		"variables": map[string]any{"id": id}}})
	type gqlEvent struct {
		Seq  int
		Type string
		Data json.RawMessage
		Hop  *struct {
			TTL   int
			State string
			Addrs []struct {
				Addr, City string
				Asn        int
			}
		}
		Measurement *struct {
			Status string
			Hops   []struct{ TTL int }
		}
	}
	var got []gqlEvent
	for done := false; !done; {
		m := read()
		switch m.Type {
		case "next":
			var p struct {
				Data struct {
					MeasurementEvents gqlEvent `json:"measurementEvents"`
				}
				Errors []any
			}
			if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
				t.Fatalf("next: %s", m.Payload)
			}
			got = append(got, p.Data.MeasurementEvents)
		case "complete":
			done = true
		case "ping":
			send(map[string]any{"type": "pong"})
		default:
			t.Fatalf("unexpected message %+v", m)
		}
	}
	ws.Close(websocket.StatusNormalClosure, "")
	rest := <-sse

	if len(got) < 5 || got[len(got)-1].Type != "result" || got[len(got)-1].Measurement == nil {
		t.Fatalf("subscription got %d events, want hops then the result: %+v", len(got), got)
	}
	final := got[len(got)-1].Measurement
	if final.Status != "finished" || len(final.Hops) != 4 {
		t.Errorf("final state %+v, want finished with 4 hops", final)
	}
	seen := map[int]bool{}
	hops := 0
	for i, ev := range got {
		if ev.Seq != i+1 {
			t.Errorf("event %d has seq %d: events out of order or missing", i, ev.Seq)
		}
		if ev.Type != "hop" {
			continue
		}
		hops++
		if ev.Hop == nil {
			t.Fatalf("hop event %d without its typed hop: %s", ev.Seq, ev.Data)
		}
		for _, a := range ev.Hop.Addrs {
			seen[ev.Hop.TTL] = true
			if a.City != "Paris" || a.Asn != 64501 {
				t.Errorf("hop %d address %+v, want the override's city and ASN", ev.Hop.TTL, a)
			}
		}
	}
	if hops < 4 || !seen[1] || !seen[3] || !seen[4] || seen[2] {
		t.Errorf("%d hop events answering at %v: want answers at TTL 1, 3, 4 and silence at 2", hops, seen)
	}
	// The same events, in the same order, as the REST stream.
	if len(rest) != len(got) {
		t.Fatalf("REST stream %d events, subscription %d", len(rest), len(got))
	}
	for i, r := range rest {
		g := got[i]
		if r.Seq != g.Seq || r.Type != g.Type {
			t.Errorf("event %d: REST %d %s, GraphQL %d %s", i, r.Seq, r.Type, g.Seq, g.Type)
			continue
		}
		var a, b any
		_ = json.Unmarshal([]byte(r.Data), &a)
		_ = json.Unmarshal(g.Data, &b)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("event %d (%s): REST %s, GraphQL %s", i, r.Type, r.Data, g.Data)
		}
	}
}
