// Package auth answers one question for the server: who is asking? It
// resolves every request to a scribe.Person, from (in this order) a personal
// API token, then the deployment's sign-in mode: local mode (the person at
// the machine), OpenID Connect (a signed session cookie made at sign-in) or
// a trusted reverse proxy's headers. It also guards hosts: requests naming a
// host that is not this server's are refused, and Origin is checked against
// the same list.
//
// The server uses it as:
//
//	a, err := auth.New(ctx, cfg)            // once, at start
//	h = a.Hosts().Middleware(a.Middleware(routes))
//	mux.Handle("/auth/", a.Handler())       // sign-in and sign-out (oidc mode)
//	p := auth.FromContext(r.Context())     // in a handler: the person, or a stranger
//	role := auth.RoleOf(p)                  // Stranger, Member or Local
//
// Viewer and Guest are roles on one note that the server grants from the
// link a request holds; this package knows nothing of notes.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/scribe-notes/scribe"
)

// Mode is how people sign in.
type Mode string

const (
	ModeNone  Mode = "none"  // local mode: no sign-in; the person at the machine is the only member
	ModeOIDC  Mode = "oidc"  // OpenID Connect authorization-code flow with PKCE, then a session cookie
	ModeProxy Mode = "proxy" // a trusted reverse proxy (oauth2-proxy) names the person in headers
)

// Defaults.
const (
	DefaultEmailHeader     = "X-Forwarded-Email"
	DefaultNameHeader      = "X-Forwarded-User"
	DefaultSessionLifetime = 7 * 24 * time.Hour
	// SessionKeyFileName is the key file generated in the data directory
	// when Config.SessionKeyFile is empty.
	SessionKeyFileName = "session.key"
	// touchEvery bounds how often a token's last-used time is written.
	touchEvery = time.Minute
	// gitTimeout bounds the git config lookups of local mode.
	gitTimeout = 5 * time.Second
)

// Config configures an Auth. Each field has the flag of docs/security.md.
type Config struct {
	Mode Mode // --auth; "" means ModeNone

	// PublicURL is the URL people reach Scribe at (--public-url). Required
	// for oidc (the callback URL is built from it); https makes cookies Secure.
	PublicURL string
	// AllowedHosts are further host names requests may name (--allowed-hosts).
	AllowedHosts []string

	// Local mode: name and email of the person at the machine
	// (--local-name, --local-email); what is empty is read with
	// `git config user.name|user.email` in LocalGitDir, when that is set.
	LocalName, LocalEmail string
	LocalGitDir           string

	// OIDC.
	OIDCIssuer           string   // --oidc-issuer
	OIDCClientID         string   // --oidc-client-id
	OIDCClientSecretFile string   // --oidc-client-secret-file
	OIDCAllowedDomains   []string // --oidc-allowed-domains: email domains that make a member
	OIDCAllowedEmails    []string // --oidc-allowed-emails

	// Proxy.
	EmailHeader    string   // --auth-email-header; DefaultEmailHeader when empty
	NameHeader     string   // --auth-name-header; DefaultNameHeader when empty
	TrustedProxies []string // --trusted-proxies: CIDRs (or single addresses) of the proxies

	// Sessions (oidc mode).
	SessionKeyFile  string        // --session-key-file; <DataDir>/session.key when empty
	DataDir         string        // where a missing key file is generated
	SessionLifetime time.Duration // --session-lifetime; DefaultSessionLifetime when zero

	// Tokens keeps personal API tokens; nil disables them.
	Tokens scribe.TokenStore

	// HTTPClient talks to the OpenID Provider; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives internal errors; nil means slog.Default().
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now (tests move it).
	Now func() time.Time
}

// Auth resolves who is asking. It is safe for concurrent use and holds no
// goroutines: New sets it up and there is nothing to close.
type Auth struct {
	mode     Mode
	hosts    *Hosts
	secure   bool
	log      *slog.Logger
	now      func() time.Time
	tokens   scribe.TokenStore
	local    scribe.Person
	proxy    *proxy
	sessions *sessions
	oidc     *oidcFlow
}

// New checks cfg and sets up the mode it names: for oidc it reads the client
// secret and the session key (generating the key file when absent) and
// fetches the provider's discovery document, so a misconfiguration stops the
// server at start with a message saying which flag to fix.
func New(ctx context.Context, cfg Config) (*Auth, error) {
	a := &Auth{mode: cfg.Mode, log: cfg.Logger, now: cfg.Now, tokens: cfg.Tokens}
	if a.mode == "" {
		a.mode = ModeNone
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	var public *url.URL
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("auth: --public-url %q is not an http(s) URL", cfg.PublicURL)
		}
		public = u
		a.secure = u.Scheme == "https"
	}
	hosts, err := NewHosts(cfg.PublicURL, cfg.AllowedHosts)
	if err != nil {
		return nil, err
	}
	a.hosts = hosts

	switch a.mode {
	case ModeNone:
		a.local = LocalPerson(ctx, cfg.LocalName, cfg.LocalEmail, cfg.LocalGitDir)
	case ModeProxy:
		p, err := newProxy(cfg.TrustedProxies, cfg.EmailHeader, cfg.NameHeader)
		if err != nil {
			return nil, err
		}
		a.proxy = p
	case ModeOIDC:
		if public == nil {
			return nil, errors.New("auth: --auth oidc needs --public-url (the callback URL is built from it)")
		}
		key, err := LoadSessionKey(cfg.SessionKeyFile, cfg.DataDir)
		if err != nil {
			return nil, err
		}
		lifetime := cfg.SessionLifetime
		if lifetime == 0 {
			lifetime = DefaultSessionLifetime
		}
		if lifetime < 0 {
			return nil, errors.New("auth: --session-lifetime must be positive")
		}
		a.sessions = &sessions{key: key, lifetime: lifetime, secure: a.secure, now: a.now}
		f, err := newOIDCFlow(ctx, cfg, public, a)
		if err != nil {
			return nil, err
		}
		a.oidc = f
	default:
		return nil, fmt.Errorf("auth: --auth %q: want none, oidc or proxy", cfg.Mode)
	}
	return a, nil
}

// Mode returns the sign-in mode.
func (a *Auth) Mode() Mode { return a.mode }

// Hosts returns the host guard built from --public-url and --allowed-hosts.
func (a *Auth) Hosts() *Hosts { return a.hosts }

// LocalPerson returns the person at the machine in local mode (zero in
// other modes).
func (a *Auth) LocalPerson() scribe.Person { return a.local }

// Who returns who is asking; the zero Person is a stranger. A request with
// an Authorization header is judged by its token alone: a bad or revoked
// token makes a stranger, never falls back to a cookie or local mode.
func (a *Auth) Who(r *http.Request) scribe.Person {
	if h := r.Header.Get("Authorization"); h != "" {
		return a.tokenPerson(r.Context(), h)
	}
	switch a.mode {
	case ModeNone:
		if IsLocal(r) {
			return a.local
		}
	case ModeProxy:
		return a.proxy.person(r)
	case ModeOIDC:
		if p, ok := a.sessions.read(r); ok {
			return p
		}
	}
	return scribe.Person{}
}

// RoleOf is the server-wide role of a person: Local for the local person,
// Member for anyone known from sign-in, a proxy or a token, else Stranger.
// (Viewer and Guest are granted per note by the server, from a link.)
func RoleOf(p scribe.Person) scribe.Role {
	switch {
	case p.Via == scribe.ViaLocal:
		return scribe.Local
	case p.Known():
		return scribe.Member
	}
	return scribe.Stranger
}

type ctxKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p scribe.Person) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the person Middleware put in ctx, or a stranger.
func FromContext(ctx context.Context) scribe.Person {
	p, _ := ctx.Value(ctxKey{}).(scribe.Person)
	return p
}

// Middleware resolves who is asking (Who) once per request and puts the
// person in the request's context for FromContext.
func (a *Auth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), a.Who(r))))
	})
}

// peerAddr returns the address of the connection's peer, unmapped.
func peerAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// validEmail is a light check of what a proxy or provider calls an email:
// something@domain, no spaces or control characters, at most scribe.MaxEmail.
func validEmail(e string) bool {
	at := strings.LastIndexByte(e, '@')
	if at < 1 || at == len(e)-1 || len(e) > scribe.MaxEmail {
		return false
	}
	for _, c := range e {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}
