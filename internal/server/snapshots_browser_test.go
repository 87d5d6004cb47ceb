package server

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// TestBrowserSnapshotsPage takes a snapshot from the /snapshots page
// through the real server (loopback allowed by --allow) of a zone served by
// one knotd, lists it, and diffs it with now asked of a second knotd that
// serves the zone changed: www's address changed, api added.
func TestBrowserSnapshotsPage(t *testing.T) {
	root, bin := browserSetup(t)
	before := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"api.test": snapZone(1, "192.0.2.1")}})
	after := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"api.test": snapZone(2, "192.0.2.2") + "api A 192.0.2.3\n"}})
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	listen, srv := startServe(ctx, t, bin, &logs, "--data", filepath.Join(dir, "data"), "--geo-data", dir, "--allow", "127.0.0.0/8")
	defer func() { cancel(); _ = srv.Wait() }()
	runNode(t, exec.CommandContext(ctx, "node", filepath.Join(root, "web/e2e/snapshots.mjs"), "http://"+listen, before.Addr, after.Addr), root, &logs)
}
