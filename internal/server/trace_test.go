//go:build linux

package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/testbin"
	"github.com/dnsscience/dnsscience/internal/testnet"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// TestTraceStreamedFromNamespace runs the real `dnsscience serve` inside the
// source namespace of a routed topology (the server probes from where it
// runs), starts a trace through the API and reads the hops from the SSE
// stream as they arrive, each with the place the geo overrides give it.
func TestTraceStreamedFromNamespace(t *testing.T) {
	testnet.Skip(t)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed (Debian package curl; `make deps` installs it)")
	}
	dir := t.TempDir()
	bin := testbin.Path(t)
	topo := testnet.Chain(41, 3)
	topo.Spec("r2").Silent = true
	n := testnet.Build(t, topo)
	src, dst := n.Node("src"), n.Node("dst").Addr4().String()
	overrides := filepath.Join(dir, "overrides.yaml")
	if err := os.WriteFile(overrides, []byte("overrides:\n  - {cidr: 10.41.0.0/24, label: edge, city: Paris, country_code: FR, latitude: 48.86, longitude: 2.35, asn: 64501, as_org: Edge}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listen := "127.0.0.1:18099"
	srv := src.Command(ctx, bin, "serve", "--listen", listen, "--data", filepath.Join(dir, "data"), "--allow", "10.41.0.0/16",
		"--upstream", "127.0.0.1:53", "--geo-data", dir, "--geo-overrides", overrides)
	var logs strings.Builder
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = srv.Wait() }()
	curl := func(args ...string) string {
		out, err := src.Command(ctx, "curl", append([]string{"-sS", "--max-time", "20"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v\nserver log:\n%s", args, err, logs.String())
		}
		return string(out)
	}
	for i := 0; ; i++ {
		if err := src.Command(ctx, "curl", "-sf", "http://"+listen+"/health").Run(); err == nil {
			break
		}
		if i > 100 {
			t.Fatalf("server did not start:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// mtr mode, five rounds half a second apart: the trace is still running
	// when the stream attaches (a plain trace of this path ends in ~25 ms),
	// so the hops come from the live stream, not the stored result.
	body := fmt.Sprintf(`{"type":"trace","target":"%s","options":{"no_dns":true,"timeout_ms":500,"rounds":5,"interval_ms":500}}`, dst)
	var m struct{ ID string }
	if err := json.Unmarshal([]byte(curl("-H", "Content-Type: application/json", "-d", body, "http://"+listen+"/api/v1/measurements")), &m); err != nil || m.ID == "" {
		t.Fatalf("POST: %v", err)
	}
	stream := curl("-N", "http://"+listen+"/api/v1/measurements/"+m.ID+"/stream")
	var hops []traceroute.Hop
	var final struct {
		Status string          `json:"status"`
		Result json.RawMessage `json:"result"`
	}
	sc := bufio.NewScanner(strings.NewReader(stream))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		switch event {
		case "hop":
			var h traceroute.Hop
			if err := json.Unmarshal([]byte(data), &h); err != nil {
				t.Fatal(err)
			}
			hops = append(hops, h)
		case "result":
			_ = json.Unmarshal([]byte(data), &final)
		}
	}
	if final.Status != "finished" {
		t.Fatalf("final event %+v; stream:\n%s", final, stream)
	}
	var res traceroute.Result
	if err := json.Unmarshal(final.Result, &res); err != nil || !res.Reached || len(res.Hops) != 4 || res.Rounds != 5 {
		t.Fatalf("result %+v (%v), want the destination reached at hop 4", res, err)
	}
	seen := map[int]bool{}
	for _, h := range hops {
		seen[h.TTL] = seen[h.TTL] || len(h.Addrs) > 0
	}
	if !seen[1] || !seen[3] || !seen[4] || seen[2] {
		t.Errorf("streamed hops %v: want answers at TTL 1, 3, 4 and silence at 2", seen)
	}
	first := res.Hops[0].Addrs[0]
	if first.City != "Paris" || first.ASN != 64501 || !first.Located {
		t.Errorf("hop 1 %+v: want the override's place and ASN", first)
	}
	if last := res.Hops[3].Addrs[0]; last.Addr.String() != dst || last.Special == "" {
		t.Errorf("hop 4 %+v: want %s labelled private-use (no override covers it)", last, dst)
	}
}
