package server

import (
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/dnsscience/dnsscience/internal/certtest"
)

// TestRedirectDoesNotTrustHost is issue 12's --redirect-http case: the
// redirect goes to the certificate's names only, never to a Host the
// client chose.
func TestRedirectDoesNotTrustHost(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	leaf := certtest.NewCA(t, "redirect CA").Leaf(t, "www.example.test", "*.api.example.test", "127.0.0.1")
	key, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: leaf.Certificate[0]}, keyFile: {Type: "PRIVATE KEY", Bytes: key}} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h, err := RedirectToHTTPS(certFile, keyFile, "127.0.0.1:8443")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		host, want string
		status     int
	}{
		{"www.example.test", "https://www.example.test:8443/x?y=1", 308},
		{"WWW.example.test:80", "https://www.example.test:8443/x?y=1", 308},
		{"eu.api.example.test", "https://eu.api.example.test:8443/x?y=1", 308},
		{"127.0.0.1", "https://127.0.0.1:8443/x?y=1", 308},
		{"evil.example", "", 400},
		{"a.b.api.example.test", "", 400},
	} {
		req := httptest.NewRequest("GET", "http://x/x?y=1", nil)
		req.Host = c.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.status || rec.Header().Get("Location") != c.want {
			t.Errorf("Host %s: %d to %q, want %d to %q", c.host, rec.Code, rec.Header().Get("Location"), c.status, c.want)
		}
	}
	if _, err := RedirectToHTTPS(filepath.Join(dir, "none.pem"), keyFile, "127.0.0.1:8443"); err == nil {
		t.Error("a missing certificate was accepted")
	}
}
