package graphql

import (
	"context"
	"errors"

	gql "github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// presentError turns a resolver's error into a GraphQL error whose
// extensions carry the REST problem's fields: code (the problem type's
// last segment), status, detail, field (the first bad field), fields and
// retryAfter. Errors of GraphQL itself (parse, validation, limits) keep
// gqlgen's codes.
func (f *Face) presentError(ctx context.Context, err error) *gqlerror.Error {
	var ge *gqlerror.Error
	if errors.As(err, &ge) && ge.Err == nil {
		return ge // GraphQL's own (parse, validation, complexity)
	}
	var p Problem
	var nf *NotFound
	if errors.As(err, &nf) {
		p = Problem{Code: "not-found", Status: 404, Title: "Not found", Detail: nf.What}
	} else {
		p = f.cfg.Callers.Problem(f.cfg.Callers.ServiceError(err))
	}
	if p.Status >= 500 {
		f.cfg.Log.ErrorContext(ctx, "graphql request failed", "err", err, "path", gql.GetPath(ctx))
	}
	out := problemError(ctx, p)
	if ge != nil {
		out.Path, out.Locations = ge.Path, ge.Locations
	}
	return out
}

// problemError is a problem as a GraphQL error.
func problemError(ctx context.Context, p Problem) *gqlerror.Error {
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	ext := map[string]any{"code": p.Code, "status": p.Status, "title": p.Title, "detail": p.Detail}
	if len(p.Fields) > 0 {
		ext["field"] = p.Fields[0].Field
		fields := make([]map[string]string, len(p.Fields))
		for i, fe := range p.Fields {
			fields[i] = map[string]string{"field": fe.Field, "detail": fe.Detail}
		}
		ext["fields"] = fields
	}
	if p.RetryAfter > 0 {
		ext["retryAfter"] = p.RetryAfter
	}
	e := &gqlerror.Error{Message: msg, Extensions: ext}
	if ctx != nil && gql.HasOperationContext(ctx) {
		e.Path = gql.GetPath(ctx)
	}
	return e
}
