package server

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// TestBrowserHealthPage scans the signed loopback hierarchy from the
// /domainhealth page through the real server (the scan kind, loopback allowed by
// --allow): the DNSSEC chain is drawn with the broken link marked, and the
// planted delegation faults are listed.
func TestBrowserHealthPage(t *testing.T) {
	root, bin := browserSetup(t)
	st := dnstest.StartSignedTree(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	listen, srv := startServe(ctx, t, bin, &logs, "--data", filepath.Join(dir, "data"), "--geo-data", dir, "--allow", "127.0.1.0/24")
	defer func() { cancel(); _ = srv.Wait() }()
	runNode(t, exec.CommandContext(ctx, "node", filepath.Join(root, "web/e2e/health.mjs"), "http://"+listen, fmt.Sprintf("127.0.1.1:%d", st.Port), st.Anchor), root, &logs)
}
