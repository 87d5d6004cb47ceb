// Command stagingservers runs a miniature staging environment on loopback
// for examples/staging.yaml: three DNS resolvers (127.0.0.1-3), and an HTTPS
// + WebSocket service on 127.0.0.1 (the service itself) and 127.0.0.2 (the
// load balancer), with certificates from a throwaway CA. It writes the
// environment the suite reads (export NAME=value lines) to -env and runs
// until interrupted. Nothing listens beyond loopback.
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

const zone = `
$TTL 300
@            IN SOA ns1 hostmaster 1 3600 600 86400 60
@            IN NS  ns1
ns1          IN A   127.0.0.1
api-staging  IN A   127.0.0.1
app-staging  IN A   127.0.0.1
`

func main() {
	dir := flag.String("dir", "", "directory for the CA file (default: a new temporary directory)")
	envFile := flag.String("env", "", "write export lines for the suite here (default: stdout)")
	dnsPort := flag.String("dns-port", "0", "DNS port on 127.0.0.1, .2 and .3 (0: free ports)")
	httpsPort := flag.String("https-port", "0", "HTTPS port on 127.0.0.1 and 127.0.0.2 (0: a port free on both)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dir, *envFile, *dnsPort, *httpsPort); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, dir, envFile, dnsPort, httpsPort string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "staging-ca-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	z, err := dnstest.ParseZone("example.test.", zone)
	if err != nil {
		return err
	}
	var resolvers []string
	for _, ip := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		s, err := dnstest.Listen(ip, dnsPort, z)
		if err != nil {
			return err
		}
		defer s.Close()
		resolvers = append(resolvers, s.Addr)
	}
	caFile := filepath.Join(dir, "staging-ca.pem")
	tlsCfg, err := mintCerts(caFile)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: routes(), TLSConfig: tlsCfg, ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 5 * time.Second}
	ls, err := listenPair(httpsPort)
	if err != nil {
		return err
	}
	_, httpsPort, _ = net.SplitHostPort(ls[0].Addr().String())
	for _, l := range ls {
		go func() {
			if err := srv.ServeTLS(l, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Print(err)
			}
		}()
	}
	defer srv.Close()
	env := fmt.Sprintf("export RESOLVER_A=%s\nexport RESOLVER_B=%s\nexport RESOLVER_C=%s\nexport STAGING_CA=%s\nexport STAGING_PORT=%s\nexport LB_IP=127.0.0.2\n",
		resolvers[0], resolvers[1], resolvers[2], caFile, httpsPort)
	if envFile == "" {
		fmt.Print(env)
	} else if err := writeAtomic(envFile, env); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// writeAtomic writes the file whole, so a reader waiting for it never sees
// half of it.
func writeAtomic(path, text string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// listenPair listens on the same port on 127.0.0.1 and 127.0.0.2.
func listenPair(port string) ([]net.Listener, error) {
	var last error
	for range 20 {
		a, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			return nil, err
		}
		_, p, _ := net.SplitHostPort(a.Addr().String())
		b, err := net.Listen("tcp", net.JoinHostPort("127.0.0.2", p))
		if err == nil {
			return []net.Listener{a, b}, nil
		}
		a.Close()
		last = err
		if port != "0" {
			break
		}
	}
	return nil, last
}

// routes serves /health, /api/health and the /ws echo (ping → pong), and
// the broken endpoints suites and diagnose are tested against: /down (503),
// /ws-refuse (no upgrade), /ws-crash (accepts, closes 1011 at once),
// /ws-crash-later (closes 1011 two seconds after the upgrade) and /ws-bye
// (closes normally, 1000, at once).
func routes() http.Handler {
	mux := http.NewServeMux()
	health := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"ok","host":%q,"version":"2026.11.1"}`, r.Host)
	}
	mux.HandleFunc("/health", health)
	mux.HandleFunc("/api/health", health)
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no healthy upstream", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/ws-refuse", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "websockets disabled", http.StatusForbidden)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"events.v1"}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, []byte(strings.ReplaceAll(string(msg), "ping", "pong"))); err != nil {
				return
			}
		}
	})
	closing := func(after time.Duration, code websocket.StatusCode, reason string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			t := time.NewTimer(after)
			defer t.Stop()
			select {
			case <-t.C:
				_ = c.Close(code, reason)
			case <-r.Context().Done():
			}
		}
	}
	mux.HandleFunc("/ws-crash", closing(0, websocket.StatusInternalError, "lost the database"))
	mux.HandleFunc("/ws-crash-later", closing(2*time.Second, websocket.StatusInternalError, "lost the database"))
	mux.HandleFunc("/ws-bye", closing(0, websocket.StatusNormalClosure, "bye"))
	return mux
}

// mintCerts writes a CA to caFile and returns a server configuration: a
// 90-day certificate for api-staging, and one for app-staging that expires
// in 10 days (the finding the example suite catches).
func mintCerts(caFile string) (*tls.Config, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Staging Example CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		return nil, err
	}
	api, err := leaf(ca, caKey, 2, 90*24*time.Hour, "api-staging.example.test")
	if err != nil {
		return nil, err
	}
	app, err := leaf(ca, caKey, 3, 10*24*time.Hour, "app-staging.example.test")
	if err != nil {
		return nil, err
	}
	return &tls.Config{GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if hello.ServerName == "app-staging.example.test" {
			return app, nil
		}
		return api, nil
	}}, nil
}

func leaf(ca *x509.Certificate, caKey crypto.Signer, serial int64, life time.Duration, name string) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(life),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
