package server

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// RedirectToHTTPS is the --redirect-http handler: a 308 to the same path
// on the HTTPS listener at httpsAddr, for a Host that the certificate in
// certFile (with its key in keyFile) names. Any other Host is a 400: the
// redirect never points at a host the client chose.
func RedirectToHTTPS(certFile, keyFile, httpsAddr string) (http.Handler, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("reading the certificate for --redirect-http: %w", err)
	}
	names := map[string]bool{}
	for _, n := range cert.Leaf.DNSNames {
		names[strings.ToLower(n)] = true
	}
	for _, ip := range cert.Leaf.IPAddresses {
		names[ip.String()] = true
	}
	_, port, err := net.SplitHostPort(httpsAddr)
	if err != nil {
		return nil, fmt.Errorf("--redirect-http: the HTTPS address %q: %w", httpsAddr, err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.ToLower(strings.Trim(host, "[]"))
		if !certNames(names, host) {
			http.Error(w, fmt.Sprintf("Host %q is not a name of this server's certificate; use https:// with one of them", host), http.StatusBadRequest)
			return
		}
		hostport := net.JoinHostPort(host, port)
		if port == "443" {
			hostport = host
			if strings.Contains(host, ":") {
				hostport = "[" + host + "]"
			}
		}
		http.Redirect(w, r, "https://"+hostport+r.URL.RequestURI(), http.StatusPermanentRedirect)
	}), nil
}

// certNames reports whether host is among the names, or matches a
// wildcard name (*.example.com: one label).
func certNames(names map[string]bool, host string) bool {
	if names[host] {
		return true
	}
	if _, rest, ok := strings.Cut(host, "."); ok && strings.Contains(rest, ".") {
		return names["*."+rest]
	}
	return false
}
