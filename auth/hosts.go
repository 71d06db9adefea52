package auth

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Hosts is the list of host names this server answers to: the public URL's
// host, the loopback names (localhost, 127.0.0.1, ::1) and --allowed-hosts.
// Names are compared without their port, case-insensitively: what DNS
// rebinding changes is the name, and the port is the listener's business.
type Hosts struct {
	names map[string]bool
}

// NewHosts returns the guard for publicURL's host (may be empty) and the
// extra names allowed (each a host name or IP, with or without port).
func NewHosts(publicURL string, allowed []string) (*Hosts, error) {
	h := &Hosts{names: map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}}
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("auth: --public-url %q has no host", publicURL)
		}
		h.names[hostName(u.Host)] = true
	}
	for _, a := range allowed {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if strings.ContainsAny(a, "/*") {
			return nil, fmt.Errorf("auth: --allowed-hosts %q: want a host name or address, without scheme, path or wildcard", a)
		}
		h.names[hostName(a)] = true
	}
	return h, nil
}

// hostName returns the lowercased name of host (a Host header or URL host),
// without port, brackets or a trailing dot.
func hostName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimPrefix(strings.TrimSuffix(host, "]"), "[")
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// Allowed reports whether host (a Host header value) names this server.
func (h *Hosts) Allowed(host string) bool {
	return host != "" && h.names[hostName(host)]
}

// Middleware answers 421 Misdirected Request to a request whose Host is not
// in the list, before anything else sees it.
func (h *Hosts) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.Allowed(r.Host) {
			http.Error(w, "This server does not answer to that host name.", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// OriginAllowed reports whether the request's Origin header, if any, names a
// host in the list (with an http or https scheme). It never compares Origin
// with Host: a DNS-rebinding page sends a matching pair of foreign names. A
// request without Origin (not sent by a browser's script) passes; the
// websocket upgrader and state-changing API routes use this as their check.
//
// "Origin: null" passes only with "Sec-Fetch-Site: same-origin": the pages'
// Referrer-Policy is no-referrer, and with it browsers send Origin: null
// on a same-origin form POST (the sign-out button). Sec-Fetch-Site is set
// by the browser and cannot be set by a page's script; a foreign page's
// form is "cross-site", a sandboxed frame's "null" origin is not
// "same-origin".
func (h *Hosts) OriginAllowed(r *http.Request) bool {
	o := r.Header.Values("Origin")
	if len(o) == 0 {
		return true
	}
	if len(o) > 1 {
		return false
	}
	if o[0] == "null" {
		return r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	u, err := url.Parse(o[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	return h.Allowed(u.Host)
}
