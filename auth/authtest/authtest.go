// Package authtest runs a real OpenID Provider for tests: zitadel's
// example provider (github.com/zitadel/oidc/v3 pkg/op with its example
// storage and login form), on 127.0.0.1, with users of the test's choosing
// and one confidential web client for Scribe. Nothing here is a fake: the
// provider signs real ID tokens, checks PKCE and serves a login form a
// browser fills in.
//
// It is for tests and for the browser tests' provider process
// (auth/authtest/testop); the scribe command never imports it.
package authtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is a person the provider knows. Their username is ID and their
// password Password.
type User struct {
	ID, Password        string
	Email               string
	EmailVerified       bool
	FirstName, LastName string
}

// Client is the one client the provider has registered.
type Client struct {
	ID, Secret   string
	RedirectURIs []string
}

// users is the example storage's user store over a fixed set.
type users map[string]*storage.User

func (u users) GetUserByID(id string) *storage.User { return u[id] }
func (u users) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u users) ExampleClientID() string { return storage.ServiceUserID }

// opStorage makes the provider put the email and profile claims into the
// ID token (Scribe reads them from there, as from Google, Keycloak, Entra).
type opStorage struct{ *storage.Storage }

type assertClaims struct{ op.Client }

func (assertClaims) IDTokenUserinfoClaimsAssertion() bool { return true }

func (s opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return assertClaims{c}, nil
}

// Handler is the provider at issuer (its own URL, e.g.
// "http://127.0.0.1:41234"), with client c and the users. logger gets the
// provider's request log (nil: none).
func Handler(issuer string, c Client, us []User, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := users{}
	for _, u := range us {
		m[u.ID] = &storage.User{ID: u.ID, Username: u.ID, Password: u.Password, FirstName: u.FirstName, LastName: u.LastName,
			Email: u.Email, EmailVerified: u.EmailVerified, PreferredLanguage: language.English}
	}
	client := storage.WebClient(c.ID, c.Secret, c.RedirectURIs...)
	st := opStorage{storage.NewStorageWithClients(m, map[string]*storage.Client{c.ID: client})}
	return exampleop.SetupServer(issuer, st, logger, false)
}

// Provider is a provider serving on a loopback port.
type Provider struct {
	URL    string // the issuer URL, http://127.0.0.1:<port>
	Client Client
	srv    *http.Server
	done   chan struct{}
}

// Start serves a provider on 127.0.0.1:0 (or addr) until Close.
func Start(addr string, c Client, us []User, logger *slog.Logger) (*Provider, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("provider listen: %w", err)
	}
	p := &Provider{URL: "http://" + ln.Addr().String(), Client: c, done: make(chan struct{})}
	p.srv = &http.Server{Handler: Handler(p.URL, c, us, logger), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// Close stops the provider and waits for it.
func (p *Provider) Close() error {
	err := p.srv.Close()
	<-p.done
	return err
}

// SignIn drives a sign-in as a browser would: GET start (Scribe's
// /auth/login?next=...) with client (a cookie jar, following redirects),
// which lands on the provider's login form; POST the user's name and
// password to it; follow the redirects back to Scribe's /auth/callback and
// on. It returns the last response, its body read and closed.
func SignIn(client *http.Client, start, username, password string) (*http.Response, []byte, error) {
	resp, err := client.Get(start)
	if err != nil {
		return nil, nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	at := resp.Request.URL
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(at.Path, "/login/username") {
		return resp, nil, fmt.Errorf("sign-in did not reach the provider's login form: %d at %s", resp.StatusCode, at)
	}
	id := at.Query().Get("authRequestID")
	if id == "" {
		return resp, nil, errors.New("the login form has no authRequestID")
	}
	form := url.Values{"username": {username}, "password": {password}, "id": {id}}
	resp, err = client.PostForm(at.Scheme+"://"+at.Host+"/login/username", form)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body, err
}
