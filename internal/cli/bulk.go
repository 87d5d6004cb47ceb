package cli

import (
	"context"
	"errors"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// bulkRequest is a bulk lookup (dig -f). Placeholder until the bulk engine lands.
type bulkRequest struct {
	File        string
	Type        uint16
	Servers     []dnsq.Server
	Client      *dnsq.Client
	Query       dnsq.Query
	Concurrency int
	Rate        float64
	Output      string
}

func runBulk(context.Context, *env, bulkRequest) error {
	return &exitError{code: ExitInternal, err: errors.New("bulk mode is not built yet")}
}
