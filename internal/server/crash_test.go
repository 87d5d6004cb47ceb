package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/testbin"
)

// TestKill9MidMeasurementThenRestart kills the real `dnsscience serve` with
// SIGKILL while a measurement runs, starts it again on the same data and
// requires the measurement to read failed with the reason: no row stays
// "running" after a crash.
func TestKill9MidMeasurementThenRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := testbin.Path(t)
	// A target that accepts connections and never answers: the HTTP probe
	// runs until its timeout, long after the kill.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	args := []string{"--data", filepath.Join(dir, "data"), "--allow", "127.0.0.0/8", "--upstream", "127.0.0.1:1", "--log-level", "warn"}
	var logs strings.Builder
	listen, first := startServe(ctx, t, bin, &logs, args...)
	base := "http://" + listen
	body := fmt.Sprintf(`{"type":"http","target":"http://%s/","options":{"timeout":"25s"}}`, silent.Addr())
	resp, err := http.Post(base+"/api/v1/measurements", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ ID, Status, Error string }
	_ = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	// Kill it once the measurement is running (its stream says so).
	stream, err := http.Get(base + "/api/v1/measurements/" + m.ID + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stream.Body)
	for sc.Scan() && !strings.Contains(sc.Text(), `"running"`) {
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = first.Wait()
	stream.Body.Close()

	listen, second := startServe(ctx, t, bin, &logs, args...)
	defer func() { cancel(); _ = second.Wait() }()
	resp, err = http.Get("http://" + listen + "/api/v1/measurements/" + m.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m.Status != "failed" || m.Error != runner.ReasonCrashed {
		t.Errorf("after kill -9 and a restart the measurement is %s %q, want failed %q", m.Status, m.Error, runner.ReasonCrashed)
	}
}
