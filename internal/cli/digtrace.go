package cli

import (
	"context"
	"errors"
)

func runDigTrace(context.Context, *env, *digOptions, *digPlan) error {
	return errors.New("trace not built yet")
}
