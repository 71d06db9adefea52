package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
	"github.com/scribe-notes/scribe/auth/authtest"
)

// users of the test OpenID Provider (authtest: zitadel's pkg/op with its
// example storage): username = ID, password "pw-" + ID.
func newUsers() []authtest.User {
	mk := func(id, email, first, last string, verified bool) authtest.User {
		return authtest.User{ID: id, Password: "pw-" + id, FirstName: first, LastName: last, Email: email, EmailVerified: verified}
	}
	return []authtest.User{
		mk("ada", "Ada@Example.com", "Ada", "Lovelace", true),
		mk("eve", "eve@evil.example", "Eve", "Outsider", true),
		mk("bob", "bob@example.com", "Bob", "Unverified", false),
		mk("grace", "grace@partner.example", "Grace", "Hopper", true),
	}
}

// pkceLog records what the provider received: the code challenge at the
// authorization endpoint, the code verifier at the token endpoint.
type pkceLog struct {
	mu                    sync.Mutex
	challenges, verifiers []string
	methods               []string
}

// world is a real OpenID Provider and a Scribe-like relying party, both on
// 127.0.0.1, with a browser-like client (cookie jar, follows redirects).
type world struct {
	t       *testing.T
	op      *httptest.Server
	app     *httptest.Server
	auth    *auth.Auth
	browser *http.Client
	pkce    *pkceLog
	offset  atomic.Int64 // added to the relying party's clock
	keyFile string
}

// TestMain quiets the example provider, which logs every request through
// slog's default logger.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

func listen(t *testing.T) net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newWorld(t *testing.T, lifetime time.Duration) *world {
	w := &world{t: t, pkce: &pkceLog{}}
	appL, opL := listen(t), listen(t)
	public := "http://" + appL.Addr().String()
	issuer := "http://" + opL.Addr().String()

	provider := authtest.Handler(issuer, authtest.Client{ID: "scribe", Secret: "client-secret", RedirectURIs: []string{public + auth.CallbackPath}}, newUsers(), nil)
	w.op = httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/auth": // the example's authorization endpoint
			w.pkce.mu.Lock()
			w.pkce.challenges = append(w.pkce.challenges, r.URL.Query().Get("code_challenge"))
			w.pkce.methods = append(w.pkce.methods, r.URL.Query().Get("code_challenge_method"))
			w.pkce.mu.Unlock()
		case "/oauth/token":
			if err := r.ParseForm(); err == nil {
				w.pkce.mu.Lock()
				w.pkce.verifiers = append(w.pkce.verifiers, r.PostForm.Get("code_verifier"))
				w.pkce.mu.Unlock()
			}
		}
		provider.ServeHTTP(rw, r)
	}))
	w.op.Listener.Close()
	w.op.Listener = opL
	w.op.Start()
	t.Cleanup(w.op.Close)

	dir := t.TempDir()
	secretFile := filepath.Join(dir, "client-secret")
	if err := os.WriteFile(secretFile, []byte("client-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.keyFile = filepath.Join(dir, "data", auth.SessionKeyFileName)
	a, err := auth.New(context.Background(), auth.Config{
		Mode: auth.ModeOIDC, PublicURL: public,
		OIDCIssuer: issuer, OIDCClientID: "scribe", OIDCClientSecretFile: secretFile,
		OIDCAllowedDomains: []string{"example.com"}, OIDCAllowedEmails: []string{"Grace@Partner.example"},
		DataDir: filepath.Join(dir, "data"), SessionLifetime: lifetime,
		Now: func() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) },
	})
	if err != nil {
		t.Fatal(err)
	}
	w.auth = a
	w.app = httptest.NewUnstartedServer(appHandler(a))
	w.app.Listener.Close()
	w.app.Listener = appL
	w.app.Start()
	t.Cleanup(w.app.Close)

	jar, _ := cookiejar.New(nil)
	w.browser = &http.Client{Jar: jar, Timeout: 10 * time.Second}
	return w
}

// appHandler is the shape the server will take: hosts, then identity, then
// routes; /me is a protected route that tells who is asking.
func appHandler(a *auth.Auth) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.Handler())
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if auth.RoleOf(p) == scribe.Stranger {
			http.Error(w, "sign in", http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(p)
	})
	return a.Hosts().Middleware(a.Middleware(mux))
}

// signIn drives the code flow as a browser would: /auth/login?next=... ->
// the provider's login page -> the login form -> back to /auth/callback.
// It returns the final response (body read) and its URL.
func (w *world) signIn(user, next string) (*http.Response, string) {
	w.t.Helper()
	resp, err := w.browser.Get(w.app.URL + auth.LoginPath + "?next=" + url.QueryEscape(next))
	if err != nil {
		w.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.String(), w.op.URL+"/login/username") {
		w.t.Fatalf("login did not reach the provider's login page: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	id := resp.Request.URL.Query().Get("authRequestID")
	resp, err = w.browser.PostForm(w.op.URL+"/login/username", url.Values{"username": {user}, "password": {"pw-" + user}, "id": {id}})
	if err != nil {
		w.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func (w *world) me() (int, scribe.Person) {
	w.t.Helper()
	resp, err := w.browser.Get(w.app.URL + "/me")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var p scribe.Person
	if resp.StatusCode == 200 {
		json.NewDecoder(resp.Body).Decode(&p)
	}
	return resp.StatusCode, p
}

func (w *world) sessionCookie() *http.Cookie {
	u, _ := url.Parse(w.app.URL)
	for _, c := range w.browser.Jar.Cookies(u) {
		if c.Name == auth.SessionCookie {
			return c
		}
	}
	return nil
}

func TestOIDCSignIn(t *testing.T) {
	w := newWorld(t, time.Hour)
	if code, _ := w.me(); code != http.StatusUnauthorized {
		t.Fatalf("before sign-in /me = %d, want 401", code)
	}
	resp, _ := w.signIn("ada", "/notes/x?y=1")
	// /notes/x is a 404 in this app; what matters is where the browser landed.
	if resp.Request.URL.String() != w.app.URL+"/notes/x?y=1" {
		t.Fatalf("after sign-in landed at %s (%d), want next", resp.Request.URL, resp.StatusCode)
	}
	code, p := w.me()
	want := scribe.Person{Email: "ada@example.com", Name: "Ada Lovelace", Via: scribe.ViaSignIn}
	if code != 200 || p != want {
		t.Fatalf("after sign-in /me = %d %+v, want %+v", code, p, want)
	}
	if auth.RoleOf(p) != scribe.Member {
		t.Errorf("role = %v, want member", auth.RoleOf(p))
	}

	// The session cookie: HttpOnly, SameSite=Lax, not Secure on http, and
	// no sign-in cookie left behind. (The jar hides attributes; read the
	// Set-Cookie header of a fresh callback instead.)
	c := w.sessionCookie()
	if c == nil {
		t.Fatal("no session cookie")
	}

	// PKCE: the provider got an S256 challenge, and at the token endpoint
	// the verifier whose SHA-256 it is.
	w.pkce.mu.Lock()
	defer w.pkce.mu.Unlock()
	if len(w.pkce.challenges) != 1 || len(w.pkce.verifiers) != 1 {
		t.Fatalf("provider saw %d challenges, %d verifiers; want 1 each", len(w.pkce.challenges), len(w.pkce.verifiers))
	}
	sum := sha256.Sum256([]byte(w.pkce.verifiers[0]))
	if w.pkce.methods[0] != "S256" || w.pkce.verifiers[0] == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != w.pkce.challenges[0] {
		t.Errorf("PKCE: method %q, challenge %q, verifier %q do not match", w.pkce.methods[0], w.pkce.challenges[0], w.pkce.verifiers[0])
	}
}

func TestOIDCCookieAttributes(t *testing.T) {
	w := newWorld(t, time.Hour)
	// Stop at the callback's answer to see its Set-Cookie header.
	var setCookie []string
	w.browser.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.Response != nil && req.Response.Request.URL.Path == auth.CallbackPath {
			setCookie = req.Response.Header.Values("Set-Cookie")
		}
		return nil
	}
	w.signIn("ada", "/")
	var session string
	for _, h := range setCookie {
		if strings.HasPrefix(h, auth.SessionCookie+"=") {
			session = h
		}
	}
	if session == "" {
		t.Fatalf("callback set no session cookie: %q", setCookie)
	}
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=3600"} {
		if !strings.Contains(session, want) {
			t.Errorf("session cookie %q lacks %s", session, want)
		}
	}
	if strings.Contains(session, "Secure") {
		t.Errorf("session cookie %q is Secure on an http public URL", session)
	}
}

func TestOIDCRefused(t *testing.T) {
	for _, tc := range []struct{ user, why string }{
		{"eve", "not one of them"},
		{"bob", "not verified"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			w := newWorld(t, time.Hour)
			resp, body := w.signIn(tc.user, "/")
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, tc.why) {
				t.Errorf("sign-in of %s: %d %q, want 403 saying %q", tc.user, resp.StatusCode, body, tc.why)
			}
			if w.sessionCookie() != nil {
				t.Errorf("a refused sign-in left a session cookie")
			}
			if code, _ := w.me(); code != http.StatusUnauthorized {
				t.Errorf("after a refused sign-in /me = %d, want 401", code)
			}
		})
	}
	t.Run("allowed email outside the domains", func(t *testing.T) {
		w := newWorld(t, time.Hour)
		w.signIn("grace", "/")
		if code, p := w.me(); code != 200 || p.Email != "grace@partner.example" {
			t.Errorf("grace (in --oidc-allowed-emails) = %d %+v", code, p)
		}
	})
}

func TestOIDCSignOut(t *testing.T) {
	w := newWorld(t, time.Hour)
	w.signIn("ada", "/")
	if code, _ := w.me(); code != 200 {
		t.Fatalf("not signed in: %d", code)
	}
	// A cross-site form cannot sign anyone out.
	req, _ := http.NewRequest("POST", w.app.URL+auth.LogoutPath, nil)
	req.Header.Set("Origin", "https://attacker.example")
	resp, err := w.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, _ := w.me(); resp.StatusCode != http.StatusForbidden || code != 200 {
		t.Errorf("cross-site sign-out: %d, then /me %d; want 403 and still signed in", resp.StatusCode, code)
	}
	resp, err = w.browser.Post(w.app.URL+auth.LogoutPath, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/" {
		t.Errorf("sign-out landed at %s, want /", resp.Request.URL)
	}
	if code, _ := w.me(); code != http.StatusUnauthorized {
		t.Errorf("after sign-out /me = %d, want 401", code)
	}
	if w.sessionCookie() != nil {
		t.Errorf("sign-out left the session cookie")
	}
}

func TestOIDCExpiredSession(t *testing.T) {
	w := newWorld(t, time.Hour)
	w.signIn("ada", "/")
	cookie := w.sessionCookie()
	w.offset.Store(int64(59 * time.Minute))
	if code, _ := w.me(); code != 200 {
		t.Fatalf("within its lifetime the session gives %d", code)
	}
	w.offset.Store(int64(61 * time.Minute))
	// Present the cookie by hand: a browser would drop it at Max-Age, but a
	// copied cookie must not outlive the expiry it carries either.
	req, _ := http.NewRequest("GET", w.app.URL+"/me", nil)
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an expired session gives %d, want 401", resp.StatusCode)
	}
}

func TestOIDCTamperedCookie(t *testing.T) {
	w := newWorld(t, time.Hour)
	w.signIn("ada", "/")
	c := w.sessionCookie()
	payload, sig, _ := strings.Cut(c.Value, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	forged := strings.Replace(string(raw), "ada@example.com", "boss@example.com", 1)
	for name, v := range map[string]string{
		"payload changed":  base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + sig,
		"signature cut":    payload,
		"signature flip":   payload + "." + flipFirst(sig),
		"empty":            "",
		"garbage":          "%%%.%%%",
		"login cookie key": c.Value + "x",
	} {
		req, _ := http.NewRequest("GET", w.app.URL+"/me", nil)
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: v})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: /me = %d, want 401", name, resp.StatusCode)
		}
	}
	// The untouched cookie still works: the test above could fail.
	req, _ := http.NewRequest("GET", w.app.URL+"/me", nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: c.Value})
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the genuine cookie gives %d", resp.StatusCode)
	}
}

// TestOIDCSessionOnAnotherNode: a second node sharing the key file accepts
// the first node's session cookie; a node with another key does not.
func TestOIDCSessionOnAnotherNode(t *testing.T) {
	w := newWorld(t, time.Hour)
	w.signIn("ada", "/")
	c := w.sessionCookie()
	other := newWorld(t, time.Hour) // its own generated key
	shared := newWorldWithKey(t, w.keyFile)
	for _, tc := range []struct {
		name string
		app  string
		want int
	}{{"same key", shared, 200}, {"other key", other.app.URL, 401}} {
		req, _ := http.NewRequest("GET", tc.app+"/me", nil)
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: c.Value})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: /me = %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
}

// newWorldWithKey starts a second relying party against a fresh provider
// with an explicit --session-key-file, and returns its URL.
func newWorldWithKey(t *testing.T, keyFile string) string {
	w := newWorld(t, time.Hour)
	opURL := w.op.URL
	a, err := auth.New(context.Background(), auth.Config{
		Mode: auth.ModeOIDC, PublicURL: w.app.URL, OIDCIssuer: opURL, OIDCClientID: "scribe",
		OIDCAllowedDomains: []string{"example.com"}, SessionKeyFile: keyFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(appHandler(a))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestOIDCCallbackWithoutLogin(t *testing.T) {
	w := newWorld(t, time.Hour)
	resp, err := w.browser.Get(w.app.URL + auth.CallbackPath + "?code=x&state=y")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || w.sessionCookie() != nil {
		t.Errorf("a callback no login started: %d, cookie %v", resp.StatusCode, w.sessionCookie())
	}
}

// flipFirst changes the first character of s to another base64url one.
// (strings.ToUpper of a prefix changed nothing when it held no lowercase
// letter, and the test then failed at random.)
func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}
