package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
	"github.com/scribe-notes/scribe/auth/authtest"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

// TestSessionCookieOnTwoNodes: two servers on one Redis prefix with one
// --session-key-file. A member signs in on node A through a real OpenID
// Provider (authtest: zitadel's pkg/op) and /auth/callback; the session
// cookie A made is a member on node B too, where they create a note that A
// then lists. A node with another key takes the same cookie for a stranger.
func TestSessionCookieOnTwoNodes(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "sessionnodes")
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "session.key")
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("5c", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(dir, "client-secret")
	if err := os.WriteFile(secretFile, []byte("client-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Node A's address is the public URL, so it must exist before the
	// provider registers the redirect URI: its handler is set below.
	var handlerA atomic.Value
	httpA := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlerA.Load().(http.Handler).ServeHTTP(w, r)
	}))
	t.Cleanup(httpA.Close)
	public := httpA.URL

	provider, err := authtest.Start("", authtest.Client{ID: "scribe", Secret: "client-secret", RedirectURIs: []string{public + auth.CallbackPath}},
		[]authtest.User{{ID: "ada", Password: "pw-ada", Email: "ada@example.com", EmailVerified: true, FirstName: "Ada", LastName: "Lovelace"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { provider.Close() })

	node := func(keyFile string) (*server.Server, scribe.Store) {
		store := redistest.Open(t, prefix)
		a, err := auth.New(context.Background(), auth.Config{
			Mode: auth.ModeOIDC, PublicURL: public, OIDCIssuer: provider.URL, OIDCClientID: "scribe",
			OIDCClientSecretFile: secretFile, OIDCAllowedDomains: []string{"example.com"},
			SessionKeyFile: keyFile, DataDir: dir, Tokens: store, Logger: testLogger,
		})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := server.New(server.Config{Store: store, Auth: a, Logger: testLogger})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close(); store.Close() })
		return srv, store
	}
	srvA, _ := node(keyFile)
	handlerA.Store(srvA.Handler())
	srvB, _ := node(keyFile)
	httpB := httptest.NewServer(srvB.Handler())
	t.Cleanup(httpB.Close)
	otherKey := filepath.Join(dir, "other.key")
	if err := os.WriteFile(otherKey, []byte(strings.Repeat("a7", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srvC, _ := node(otherKey)
	httpC := httptest.NewServer(srvC.Handler())
	t.Cleanup(httpC.Close)

	// Sign in on A: the login form, then A's /auth/callback makes the cookie.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 15 * time.Second}
	resp, body, err := authtest.SignIn(browser, public+auth.LoginPath+"?next=/", "ada", "pw-ada")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != public+"/" || !strings.Contains(string(body), "Ada Lovelace") {
		t.Fatalf("sign-in ended at %s with %d:\n%s", resp.Request.URL, resp.StatusCode, body)
	}
	var cookie *http.Cookie
	u, _ := url.Parse(public)
	for _, c := range jar.Cookies(u) {
		if c.Name == auth.SessionCookie {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie after sign-in")
	}

	call := func(base, method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: cookie.Value})
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	var me struct{ Role, Email, Name string }
	code, raw := call(httpB.URL, "GET", "/api/me", "")
	_ = json.Unmarshal(raw, &me)
	if code != http.StatusOK || me.Role != "member" || me.Email != "ada@example.com" || me.Name != "Ada Lovelace" {
		t.Fatalf("node B: /api/me = %d %s, want Ada as a member", code, raw)
	}
	code, raw = call(httpB.URL, "POST", "/api/notes", `{"title":"Made on B"}`)
	if code != http.StatusCreated {
		t.Fatalf("node B: create = %d %s", code, raw)
	}
	if code, raw = call(public, "GET", "/api/notes", ""); code != http.StatusOK || !strings.Contains(string(raw), "Made on B") {
		t.Errorf("node A: list = %d %s, want the note made on B", code, raw)
	}
	// Another key: the same cookie is nobody.
	code, raw = call(httpC.URL, "GET", "/api/me", "")
	_ = json.Unmarshal(raw, &me)
	if code != http.StatusOK || me.Role != "stranger" {
		t.Errorf("node with another key: /api/me = %d %s, want a stranger", code, raw)
	}
}
