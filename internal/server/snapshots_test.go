package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/snapshot"
	"github.com/dnsscience/dnsscience/internal/store"
)

func snapZone(serial int, www string) string {
	return fmt.Sprintf("$ORIGIN api.test.\n$TTL 300\n@ SOA ns1 hostmaster %d 7200 900 1209600 300\n@ NS ns1\nns1 A 127.0.0.1\nwww A %s\n", serial, www)
}

// TestSnapshotAPI takes a snapshot through the API, lists and reads it,
// changes the zone and diffs the stored snapshot with now.
func TestSnapshotAPI(t *testing.T) {
	t.Parallel()
	k := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"api.test": snapZone(1, "192.0.2.1")}})
	ts := startServer(t, Config{})
	var sn snapshot.Snapshot
	resp := ts.postTo(t, "/api/v1/snapshots", `{"target":"api.test","options":{"server":"`+k.Addr+`"}}`, nil, &sn)
	if resp.StatusCode != http.StatusCreated || sn.ID == "" || sn.Method != snapshot.MethodAXFR || sn.Records() != 4 ||
		resp.Header.Get("Location") != "/api/v1/snapshots/"+sn.ID {
		t.Fatalf("POST /api/v1/snapshots: %d %+v (Location %q); want 201, an axfr of 4 records", resp.StatusCode, sn, resp.Header.Get("Location"))
	}
	var list struct {
		Snapshots []store.Snapshot `json:"snapshots"`
	}
	if ts.get(t, "/api/v1/snapshots?domain=API.test", &list); len(list.Snapshots) != 1 || list.Snapshots[0].ID != sn.ID || list.Snapshots[0].Source != "api" {
		t.Errorf("list: %+v, want the one snapshot, source api", list)
	}
	var got snapshot.Snapshot
	if resp := ts.get(t, "/api/v1/snapshots/"+sn.ID, &got); resp.StatusCode != 200 || got.ID != sn.ID || got.Records() != 4 {
		t.Errorf("GET snapshot: %d %+v", resp.StatusCode, got)
	}

	k.Reload(t, "api.test", snapZone(2, "192.0.2.2"), 2)
	var d snapshot.Diff
	if resp := ts.get(t, "/api/v1/snapshots/diff?a="+sn.ID+"&b=now&server="+k.Addr, &d); resp.StatusCode != 200 ||
		d.Equal || len(d.Changes) != 1 || d.Changes[0].Name != "www.api.test." || d.Changes[0].Added[0] != "192.0.2.2" || d.B.Serial != 2 {
		t.Errorf("diff with now: %d %+v; want www changed to 192.0.2.2", resp.StatusCode, d)
	}
	if resp := ts.get(t, "/api/v1/snapshots/diff?a="+sn.ID+"&b="+sn.ID+"&serial=true&ttl=true", &d); resp.StatusCode != 200 || !d.Equal {
		t.Errorf("diff of a snapshot with itself: %d %+v; want equal", resp.StatusCode, d)
	}
	for path, code := range map[string]int{
		"/api/v1/snapshots/nope":                                 404,
		"/api/v1/snapshots?limit=0":                              400,
		"/api/v1/snapshots/diff?a=now&b=now":                     400,
		"/api/v1/snapshots/diff?a=" + sn.ID:                      400,
		"/api/v1/snapshots/diff?a=x&b=" + sn.ID:                  404,
		"/api/v1/snapshots/diff?a=" + sn.ID + "&b=now&ttl=maybe": 400,
	} {
		if resp := ts.get(t, path, nil); resp.StatusCode != code {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, code)
		}
	}

	// The server's default policy refuses loopback name servers.
	strict := startServer(t, Config{Policy: netpolicy.Default()})
	var p Problem
	if resp := strict.postTo(t, "/api/v1/snapshots", `{"target":"api.test","options":{"server":"`+k.Addr+`"}}`, nil, &p); resp.StatusCode != http.StatusForbidden {
		t.Errorf("snapshot of a loopback server under the default policy: %d %+v, want 403", resp.StatusCode, p)
	}
}

// TestSnapshotsArePrivate: a client lists, reads and diffs only its own
// stored snapshots; another client's id is as unknown as a made-up one.
func TestSnapshotsArePrivate(t *testing.T) {
	t.Parallel()
	k := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"api.test": snapZone(1, "192.0.2.1")}})
	ts := startServer(t, Config{})
	key, _, err := ts.srv.store.CreateAPIKey(context.Background(), "ci", false)
	if err != nil {
		t.Fatal(err)
	}
	keyed := *ts
	keyed.header = http.Header{"Authorization": {"Bearer " + key}}
	other := *ts
	other.token = strings.Repeat("o", 32) + newID()
	body := `{"target":"api.test","options":{"server":"` + k.Addr + `"}}`
	var mine, theirs snapshot.Snapshot
	if resp := ts.postTo(t, "/api/v1/snapshots", body, nil, &mine); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST as the token client: %d", resp.StatusCode)
	}
	if resp := keyed.postTo(t, "/api/v1/snapshots", body, keyed.header, &theirs); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST as the key client: %d", resp.StatusCode)
	}
	var list snapshotList
	for _, c := range []struct {
		name string
		ts   testServer
		own  string
	}{{"token client", *ts, mine.ID}, {"key client", keyed, theirs.ID}} {
		if c.ts.get(t, "/api/v1/snapshots?domain=api.test", &list); len(list.Snapshots) != 1 || list.Snapshots[0].ID != c.own {
			t.Errorf("%s's list: %+v, want only its own %s", c.name, list.Snapshots, c.own)
		}
		if c.ts.get(t, "/api/v1/snapshots", &list); len(list.Snapshots) != 1 {
			t.Errorf("%s's list of every domain: %+v, want only its own", c.name, list.Snapshots)
		}
	}
	if other.get(t, "/api/v1/snapshots?domain=api.test", &list); len(list.Snapshots) != 0 {
		t.Errorf("a third client's list: %+v, want none", list.Snapshots)
	}
	for path, code := range map[string]int{
		"/api/v1/snapshots/" + theirs.ID:                          404,
		"/api/v1/snapshots/" + mine.ID:                            200,
		"/api/v1/snapshots/diff?a=" + mine.ID + "&b=" + theirs.ID: 404,
		"/api/v1/snapshots/diff?a=" + theirs.ID + "&b=now":        404,
		"/api/v1/snapshots/diff?a=" + mine.ID + "&b=" + mine.ID:   200,
	} {
		if resp := ts.get(t, path, nil); resp.StatusCode != code {
			t.Errorf("token client GET %s: %d, want %d", path, resp.StatusCode, code)
		}
	}
	if resp := keyed.get(t, "/api/v1/snapshots/"+mine.ID, nil); resp.StatusCode != 404 {
		t.Errorf("key client reads the token client's snapshot: %d, want 404", resp.StatusCode)
	}
	// No key and no token: nothing is this caller's.
	resp, err := http.Get(ts.URL + "/api/v1/snapshots/" + mine.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("anonymous caller reads a snapshot: %d, want 404", resp.StatusCode)
	}
}

func TestRootServersData(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	for _, path := range []string{"/api/v1/root-servers", "/root_servers.json"} {
		var got rootServerList
		resp := ts.get(t, path, &got)
		if resp.StatusCode != 200 || len(got.RootServers) != 13 || got.RootServers[10].Letter != "k" ||
			got.RootServers[10].Operator != "RIPE NCC" || got.RootServers[10].IPv4 != "193.0.14.129" || got.RootServers[10].HQ == nil {
			t.Errorf("GET %s: %d %+v; want 13 root servers with k run by RIPE NCC at 193.0.14.129", path, resp.StatusCode, got)
		}
	}
}
