package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/scribe-notes/scribe"
)

// Paths of the sign-in handlers, served by Handler.
const (
	LoginPath    = "/auth/login"
	CallbackPath = "/auth/callback"
	LogoutPath   = "/auth/logout"
)

// oidcFlow is the authorization-code flow with PKCE, state and nonce.
type oidcFlow struct {
	a        *Auth
	client   *http.Client
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	domains  []string // lowercased, without "@"
	emails   []string // normalised
}

func newOIDCFlow(ctx context.Context, cfg Config, public *url.URL, a *Auth) (*oidcFlow, error) {
	switch {
	case cfg.OIDCIssuer == "":
		return nil, errors.New("auth: --auth oidc needs --oidc-issuer")
	case cfg.OIDCClientID == "":
		return nil, errors.New("auth: --auth oidc needs --oidc-client-id")
	case len(cfg.OIDCAllowedDomains) == 0 && len(cfg.OIDCAllowedEmails) == 0:
		return nil, errors.New("auth: --auth oidc needs --oidc-allowed-domains and/or --oidc-allowed-emails (who may become a member)")
	}
	var secret string
	if cfg.OIDCClientSecretFile != "" {
		b, err := os.ReadFile(cfg.OIDCClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("auth: read --oidc-client-secret-file: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	f := &oidcFlow{a: a, client: cfg.HTTPClient}
	if f.client == nil {
		f.client = http.DefaultClient
	}
	for _, d := range cfg.OIDCAllowedDomains {
		if d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@")); d != "" {
			f.domains = append(f.domains, d)
		}
	}
	for _, e := range cfg.OIDCAllowedEmails {
		if e = scribe.NormalizeEmail(e); e != "" {
			f.emails = append(f.emails, e)
		}
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, f.client), cfg.OIDCIssuer)
	if err != nil {
		return nil, fmt.Errorf("auth: --oidc-issuer %s: discovery: %w", cfg.OIDCIssuer, err)
	}
	callback := *public
	callback.Path = strings.TrimSuffix(callback.Path, "/") + CallbackPath
	callback.RawQuery, callback.Fragment = "", ""
	f.oauth = oauth2.Config{
		ClientID:     cfg.OIDCClientID,
		ClientSecret: secret,
		Endpoint:     provider.Endpoint(),
		RedirectURL:  callback.String(),
		Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
	}
	f.verifier = provider.Verifier(&oidc.Config{ClientID: cfg.OIDCClientID, Now: a.now})
	return f, nil
}

// allowed reports whether a verified email may become a member.
func (f *oidcFlow) allowed(email string) bool {
	if slices.Contains(f.emails, email) {
		return true
	}
	at := strings.LastIndexByte(email, '@')
	return at >= 0 && slices.Contains(f.domains, email[at+1:])
}

// Handler serves LoginPath, CallbackPath and LogoutPath. In modes other
// than oidc it answers 404 to all three (proxy mode signs out at the proxy).
func (a *Auth) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+LoginPath, a.login)
	mux.HandleFunc("GET "+CallbackPath, a.callback)
	mux.HandleFunc("POST "+LogoutPath, a.logout)
	return mux
}

// SafeNext returns next if it is a path on this site ("/notes/x?y"), else
// "/": never a scheme, a host, "//host" or "/\host", or control characters,
// so the sign-in cannot be used as an open redirect.
func SafeNext(next string) string {
	if next == "" || next[0] != '/' || len(next) > 2048 {
		return "/"
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return "/"
	}
	if strings.ContainsFunc(next, func(c rune) bool { return c < ' ' || c == 0x7f || c == '\\' }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

// loginState is what the sign-in cookie carries between /auth/login and
// /auth/callback. It is signed, so only this server (any node sharing the
// key) made it; it lives ten minutes.
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"r"`
	Expires  int64  `json:"x"`
}

func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	if a.oidc == nil {
		http.NotFound(w, r)
		return
	}
	ls := loginState{State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(),
		Next: SafeNext(r.URL.Query().Get("next")), Expires: a.now().Add(loginLifetime).Unix()}
	b, _ := json.Marshal(ls) // cannot fail
	http.SetCookie(w, a.sessions.cookie(loginCookie, a.sessions.sign("login", b), int(loginLifetime/time.Second)))
	u := a.oidc.oauth.AuthCodeURL(ls.State, oidc.Nonce(ls.Nonce), oauth2.S256ChallengeOption(ls.Verifier))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
}

func (a *Auth) callback(w http.ResponseWriter, r *http.Request) {
	if a.oidc == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	var ls loginState
	c, err := r.Cookie(loginCookie)
	if err != nil {
		a.refuse(w, http.StatusBadRequest, "This sign-in has no start on this browser (or took longer than ten minutes).", "")
		return
	}
	http.SetCookie(w, a.sessions.cookie(loginCookie, "", -1)) // one use only
	b, ok := a.sessions.open("login", c.Value)
	if !ok || json.Unmarshal(b, &ls) != nil || !a.now().Before(time.Unix(ls.Expires, 0)) {
		a.refuse(w, http.StatusBadRequest, "This sign-in has expired or was tampered with.", "")
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(ls.State)) != 1 {
		a.refuse(w, http.StatusBadRequest, "This sign-in does not match the one this browser started.", "")
		return
	}
	if e := q.Get("error"); e != "" {
		a.refuse(w, http.StatusForbidden, "The identity provider did not sign you in ("+e+").", "")
		return
	}
	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, a.oidc.client)
	tok, err := a.oidc.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(ls.Verifier))
	if err != nil {
		a.log.Warn("auth: oidc code exchange", "err", err)
		a.refuse(w, http.StatusBadGateway, "The identity provider did not confirm this sign-in.", "")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		a.refuse(w, http.StatusBadGateway, "The identity provider sent no ID token.", "")
		return
	}
	idt, err := a.oidc.verifier.Verify(oidc.ClientContext(ctx, a.oidc.client), raw)
	if err != nil {
		a.log.Warn("auth: oidc id token", "err", err)
		a.refuse(w, http.StatusBadGateway, "The identity provider's ID token did not verify.", "")
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(ls.Nonce)) != 1 {
		a.refuse(w, http.StatusBadRequest, "The ID token was not made for this sign-in.", "")
		return
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"` // bool, or "true" from some providers
		Name          string `json:"name"`
		PreferredName string `json:"preferred_username"`
	}
	if err := idt.Claims(&claims); err != nil {
		a.refuse(w, http.StatusBadGateway, "The ID token's claims could not be read.", "")
		return
	}
	email := scribe.NormalizeEmail(claims.Email)
	if !validEmail(email) {
		a.refuse(w, http.StatusForbidden, "The identity provider gave no email address; Scribe needs one (scope \"email\").", "")
		return
	}
	if v := claims.EmailVerified; v != true && v != "true" {
		a.refuse(w, http.StatusForbidden, "Your email address is not verified at the identity provider.", email)
		return
	}
	if !a.oidc.allowed(email) {
		a.refuse(w, http.StatusForbidden, "This Scribe is for its team's members only, and this address is not one of them.", email)
		return
	}
	name := strings.TrimSpace(claims.Name)
	if name == "" {
		name = strings.TrimSpace(claims.PreferredName)
	}
	if name == "" || len(name) > scribe.MaxTokenLabel {
		name = email[:strings.LastIndexByte(email, '@')]
	}
	a.sessions.set(w, scribe.Person{Email: email, Name: name, Via: scribe.ViaSignIn})
	http.Redirect(w, r, ls.Next, http.StatusSeeOther)
}

// logout clears the session cookie and goes home. It is POST only, so that
// no other site can sign a member out with a link or an image.
func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	if a.sessions == nil {
		http.NotFound(w, r)
		return
	}
	if !a.hosts.OriginAllowed(r) {
		http.Error(w, "Cross-site sign-out refused.", http.StatusForbidden)
		return
	}
	a.sessions.clear(w)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

var refusedPage = template.Must(template.New("refused").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not signed in · Scribe</title></head>
<body><main><h1>Not signed in</h1><p>{{.Why}}</p>
{{if .Email}}<p>The identity provider named you <strong>{{.Email}}</strong>. Ask whoever runs this Scribe to add your address or domain, or sign in with another account.</p>{{end}}
<p><a href="/auth/login">Try again</a> · <a href="/">Home</a></p></main></body></html>
`))

// refuse answers a sign-in that makes no session, with a page saying why.
func (a *Auth) refuse(w http.ResponseWriter, status int, why, email string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = refusedPage.Execute(w, struct{ Why, Email string }{why, email})
}
