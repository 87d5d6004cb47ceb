// Command dnsscience is a DNS and network diagnostics platform and an
// infrastructure health monitor. Everything lives behind cli.Run so that it
// can be tested without a process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/dnsscience/dnsscience/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
