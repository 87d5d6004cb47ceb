package dnstest

import (
	"encoding/base64"
	"io"
	"net"
	"net/http"

	"github.com/miekg/dns"
)

// DoHHandler adapts a DNS handler to RFC 8484 requests on /dns-query.
func DoHHandler(h dns.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/dns-query", func(w http.ResponseWriter, r *http.Request) {
		var wire []byte
		var err error
		switch r.Method {
		case http.MethodGet:
			wire, err = base64.RawURLEncoding.DecodeString(r.URL.Query().Get("dns"))
		case http.MethodPost:
			if r.Header.Get("Content-Type") != "application/dns-message" {
				http.Error(w, "want application/dns-message", http.StatusUnsupportedMediaType)
				return
			}
			wire, err = io.ReadAll(io.LimitReader(r.Body, 65536))
		default:
			http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
			return
		}
		req := new(dns.Msg)
		if err != nil || req.Unpack(wire) != nil {
			http.Error(w, "bad DNS message", http.StatusBadRequest)
			return
		}
		rw := &dohWriter{remote: r.RemoteAddr}
		h.ServeDNS(rw, req)
		if rw.msg == nil {
			http.Error(w, "no reply", http.StatusInternalServerError)
			return
		}
		out, err := rw.msg.Pack()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/dns-message")
		_, _ = w.Write(out)
	})
	return mux
}

// dohWriter captures the handler's reply.
type dohWriter struct {
	remote string
	msg    *dns.Msg
}

func (w *dohWriter) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (w *dohWriter) RemoteAddr() net.Addr {
	a, err := net.ResolveTCPAddr("tcp", w.remote)
	if err != nil {
		return &net.TCPAddr{}
	}
	return a
}
func (w *dohWriter) WriteMsg(m *dns.Msg) error { w.msg = m; return nil }
func (w *dohWriter) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, err
	}
	w.msg = m
	return len(b), nil
}
func (w *dohWriter) Close() error        { return nil }
func (w *dohWriter) TsigStatus() error   { return nil }
func (w *dohWriter) TsigTimersOnly(bool) {}
func (w *dohWriter) Hijack()             {}
