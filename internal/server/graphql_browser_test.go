package server

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// TestBrowserGraphQL runs the GraphQL explorer in Chromium against the
// real `dnsscience serve`: a mutation, then a subscription through the npm
// graphql-ws client, which no one here wrote (web/e2e/graphql.mjs).
func TestBrowserGraphQL(t *testing.T) {
	root, bin := browserSetup(t)
	up := dnstest.Start(t, dnstest.NewZone(t, "example.test.", "$TTL 300\n@ IN SOA ns.example.test. h.example.test. 1 3600 600 86400 60\n@ IN NS ns\nwww IN A 192.0.2.10\n"))
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	listen, srv := startServe(ctx, t, bin, &logs, "--data", filepath.Join(dir, "data"), "--upstream", up.Addr)
	defer func() { cancel(); _ = srv.Wait() }()
	runNode(t, exec.CommandContext(ctx, "node", filepath.Join(root, "web/e2e/graphql.mjs"), "http://"+listen), root, &logs)
}
