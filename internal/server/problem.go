package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dnsscience/dnsscience/internal/store"
)

// Problem is an RFC 9457 problem document, the body of every error answer.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	// RetryAfter is set on rate-limit refusals (seconds).
	RetryAfter int `json:"retry_after,omitempty"`
}

// FieldError names one bad input field.
type FieldError struct {
	Field  string `json:"field"`  // JSON pointer-ish name: "target", "options.max_hops"
	Detail string `json:"detail"` // what was wrong and what is accepted
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Title)
}

// problem types, documented in the OpenAPI description.
const problemBase = "https://dnsscience.dev/problems/"

func badRequest(detail string, fields ...FieldError) *Problem {
	return &Problem{Type: problemBase + "validation", Title: "Invalid request", Status: http.StatusBadRequest, Detail: detail, Errors: fields}
}

func fieldError(field, format string, args ...any) *Problem {
	fe := FieldError{Field: field, Detail: fmt.Sprintf(format, args...)}
	return badRequest(field+": "+fe.Detail, fe)
}

func notFound(detail string) *Problem {
	return &Problem{Type: problemBase + "not-found", Title: "Not found", Status: http.StatusNotFound, Detail: detail}
}

// writeProblem writes p (or a 500 problem for any other error).
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	cp := *asProblem(err)
	cp.Instance = r.URL.Path
	if cp.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(cp.RetryAfter))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(cp.Status)
	_ = json.NewEncoder(w).Encode(cp)
}

// asProblem is err as a problem: itself, 503 when the store is
// unavailable, else a 500 that reveals nothing.
func asProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	if errors.Is(err, store.ErrUnavailable) {
		return &Problem{Type: problemBase + "unavailable", Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: "the store cannot take requests now; nothing was stored; retry later", RetryAfter: 5}
	}
	return &Problem{Type: problemBase + "internal", Title: "Internal error", Status: http.StatusInternalServerError,
		Detail: "the server could not complete the request; the request id identifies it in the logs"}
}

// encodeJSON encodes v as writeJSON does.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeJSONBytes writes an already encoded JSON body.
func writeJSONBytes(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// handlerFunc is an HTTP handler that returns an error; handle maps errors
// to problem documents in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			var p *Problem
			if !errors.As(err, &p) || p.Status >= 500 {
				s.log.ErrorContext(r.Context(), "request failed", "err", err, "path", r.URL.Path, "request_id", requestID(r.Context()))
			}
			writeProblem(w, r, err)
		}
	}
}
