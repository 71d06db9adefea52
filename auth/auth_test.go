package auth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
	"github.com/scribe-notes/scribe/store/bolt"
)

func request(peer, host string, headers ...string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = peer
	r.Host = host
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

func newAuth(t *testing.T, cfg auth.Config) *auth.Auth {
	t.Helper()
	a, err := auth.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestLocalTruthTable: local only when peer, Host and headers all say so.
func TestLocalTruthTable(t *testing.T) {
	a := newAuth(t, auth.Config{LocalName: "Ada", LocalEmail: "ada@example.com"})
	peers := map[string]bool{"127.0.0.1:5000": true, "[::1]:5000": true, "[::ffff:127.0.0.1]:5000": true,
		"192.168.1.20:5000": false, "10.0.0.1:443": false, "garbage": false}
	hosts := map[string]bool{"localhost:8080": true, "localhost": true, "127.0.0.1:8080": true, "[::1]:8080": true,
		"LOCALHOST.:8080": true, "notes.example.com": false, "attacker.example:8080": false, "127.0.0.2": false, "": false}
	fwd := map[string]bool{"": true, "X-Forwarded-For": false, "Forwarded": false, "X-Real-IP": false,
		"X-Forwarded-Host": false, "X-Forwarded-Email": false, "Via": false}
	for peer, peerOK := range peers {
		for host, hostOK := range hosts {
			for h, hOK := range fwd {
				var hdr []string
				if h != "" {
					hdr = []string{h, "127.0.0.1"}
				}
				r := request(peer, host, hdr...)
				want := peerOK && hostOK && hOK
				if got := auth.IsLocal(r); got != want {
					t.Errorf("IsLocal(peer %s, Host %q, header %q) = %v, want %v", peer, host, h, got, want)
				}
				p := a.Who(r)
				if (p.Via == scribe.ViaLocal) != want || (want && (p.Email != "ada@example.com" || p.Name != "Ada")) {
					t.Errorf("Who(peer %s, Host %q, header %q) = %+v", peer, host, h, p)
				}
				if !want && auth.RoleOf(p) != scribe.Stranger {
					t.Errorf("a non-local request in local mode has role %v", auth.RoleOf(p))
				}
			}
		}
	}
}

// TestLocalPersonFromGit: name and email missing from flags come from the
// repository's git config, read with the real git binary.
func TestLocalPersonFromGit(t *testing.T) {
	// The machine's own git identity must not leak into the last case.
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	dir := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"config", "user.name", "Grace Hopper"}, {"config", "user.email", "Grace@Navy.example"}} {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	ctx := context.Background()
	if p := auth.LocalPerson(ctx, "", "", dir); p != (scribe.Person{Name: "Grace Hopper", Email: "grace@navy.example", Via: scribe.ViaLocal}) {
		t.Errorf("from git: %+v", p)
	}
	if p := auth.LocalPerson(ctx, "Ada", "", dir); p.Name != "Ada" || p.Email != "grace@navy.example" {
		t.Errorf("flag name, git email: %+v", p)
	}
	if p := auth.LocalPerson(ctx, "", "", t.TempDir()); p.Name != "Local user" || p.Email != "" {
		t.Errorf("no flags, no repo: %+v", p)
	}
}

func TestProxy(t *testing.T) {
	a := newAuth(t, auth.Config{Mode: auth.ModeProxy, PublicURL: "https://notes.example.com",
		TrustedProxies: []string{"10.0.0.0/8", "127.0.0.1"}})
	hdr := []string{"X-Forwarded-Email", "Ada@Example.com", "X-Forwarded-User", "Ada L."}
	for _, tc := range []struct {
		peer    string
		headers []string
		want    scribe.Person
	}{
		{"10.1.2.3:4000", hdr, scribe.Person{Email: "ada@example.com", Name: "Ada L.", Via: scribe.ViaProxy}},
		{"127.0.0.1:4000", hdr, scribe.Person{Email: "ada@example.com", Name: "Ada L.", Via: scribe.ViaProxy}},
		{"10.1.2.3:4000", []string{"X-Forwarded-Email", "ada@example.com"}, scribe.Person{Email: "ada@example.com", Name: "ada", Via: scribe.ViaProxy}},
		{"192.168.0.9:4000", hdr, scribe.Person{}}, // untrusted peer: headers ignored
		{"127.0.0.2:4000", hdr, scribe.Person{}},   // loopback but not listed
		{"10.1.2.3:4000", nil, scribe.Person{}},    // trusted, but the proxy named nobody
		{"10.1.2.3:4000", []string{"X-Forwarded-Email", "not an email"}, scribe.Person{}},
	} {
		if got := a.Who(request(tc.peer, "notes.example.com", tc.headers...)); got != tc.want {
			t.Errorf("Who(peer %s, %q) = %+v, want %+v", tc.peer, tc.headers, got, tc.want)
		}
	}
	// Proxy mode is never local mode: a loopback request with a loopback
	// Host and no headers is a stranger.
	if p := a.Who(request("127.0.0.1:1", "localhost:8080")); p != (scribe.Person{}) {
		t.Errorf("proxy mode, bare local request = %+v, want a stranger", p)
	}
	// Custom header names.
	b := newAuth(t, auth.Config{Mode: auth.ModeProxy, TrustedProxies: []string{"10.0.0.0/8"},
		EmailHeader: "X-Auth-Request-Email", NameHeader: "X-Auth-Request-User"})
	if p := b.Who(request("10.0.0.1:1", "x", "X-Auth-Request-Email", "bob@example.com", "X-Forwarded-Email", "eve@example.com")); p.Email != "bob@example.com" {
		t.Errorf("custom header: %+v", p)
	}
	if _, err := auth.New(context.Background(), auth.Config{Mode: auth.ModeProxy}); err == nil {
		t.Errorf("proxy mode without --trusted-proxies started")
	}
}

func TestHosts(t *testing.T) {
	h, err := auth.NewHosts("https://Notes.Example.com", []string{"scribe.internal:8443", "10.0.0.5"})
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.OriginAllowed(r) {
			http.Error(w, "origin", http.StatusForbidden)
		}
	})
	srv := h.Middleware(ok)
	for _, tc := range []struct {
		host, origin string
		want         int
		site         string // Sec-Fetch-Site
	}{
		{"notes.example.com", "https://notes.example.com", 200, ""},
		{"notes.example.com:443", "", 200, ""},
		{"localhost:8080", "http://localhost:8080", 200, ""},
		{"[::1]:8080", "http://127.0.0.1:8080", 200, ""},
		{"scribe.internal", "https://scribe.internal:8443", 200, ""},
		{"10.0.0.5:80", "", 200, ""},
		// DNS rebinding: the attacker's name in Host and a matching Origin.
		{"attacker.example", "http://attacker.example", http.StatusMisdirectedRequest, ""},
		{"attacker.example:8080", "http://attacker.example:8080", http.StatusMisdirectedRequest, ""},
		{"", "", http.StatusMisdirectedRequest, ""},
		// A good Host with a foreign Origin: the Host passes, the Origin does not.
		{"notes.example.com", "https://attacker.example", http.StatusForbidden, ""},
		{"notes.example.com", "null", http.StatusForbidden, ""},
		{"notes.example.com", "file://notes.example.com", http.StatusForbidden, ""},
		// Origin: null is the browser's own same-origin form POST under
		// Referrer-Policy: no-referrer only when Sec-Fetch-Site says so.
		{"notes.example.com", "null", 200, "same-origin"},
		{"notes.example.com", "null", http.StatusForbidden, "cross-site"},
		{"notes.example.com", "null", http.StatusForbidden, "same-site"},
		{"notes.example.com", "https://attacker.example", http.StatusForbidden, "same-origin"},
	} {
		r := request("203.0.113.1:1", tc.host)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.site != "" {
			r.Header.Set("Sec-Fetch-Site", tc.site)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("Host %q Origin %q: %d, want %d", tc.host, tc.origin, w.Code, tc.want)
		}
	}
	if _, err := auth.NewHosts("", []string{"*.example.com"}); err == nil {
		t.Errorf("a wildcard host was accepted")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/notes/abc?x=1#h":          "/notes/abc?x=1#h",
		"/":                         "/",
		"":                          "/",
		"notes":                     "/",
		"//attacker.example/x":      "/",
		"/\\attacker.example":       "/",
		"https://attacker.example/": "/",
		"javascript:alert(1)":       "/",
		"/a\r\nSet-Cookie: x=y":     "/",
		"/%2F%2Fattacker.example":   "/%2F%2Fattacker.example", // a path on this site
	} {
		if got := auth.SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTokens runs personal API tokens against the embedded store and then
// reads the database file: the secret is nowhere in it, its hash is.
func TestTokens(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := bolt.New(dir, bolt.Options{})
	if err := st.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := newAuth(t, auth.Config{Mode: auth.ModeProxy, TrustedProxies: []string{"10.0.0.0/8"}, Tokens: st})
	ada := scribe.Person{Email: "ada@example.com", Name: "Ada", Via: scribe.ViaProxy}
	bob := scribe.Person{Email: "bob@example.com", Name: "Bob", Via: scribe.ViaProxy}

	secret, tok, err := a.CreateToken(ctx, ada, "ci bot")
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(v string) scribe.Person { return a.Who(request("203.0.113.9:1", "x", "Authorization", v)) }
	want := scribe.Person{Email: "ada@example.com", Name: "Ada", Via: scribe.ViaToken}
	if p := bearer("Bearer " + secret); p != want || auth.RoleOf(p) != scribe.Member {
		t.Fatalf("the token names %+v, want %+v", p, want)
	}
	if list, _ := a.ListTokens(ctx, ada); len(list) != 1 || list[0].LastUsed.IsZero() || list[0].Label != "ci bot" {
		t.Errorf("after use, ListTokens = %+v, want one with LastUsed", list)
	}
	for _, bad := range []string{"Bearer " + secret + "x", "Basic " + secret, "Bearer", "Bearer scribe_", secret} {
		if p := bearer(bad); p != (scribe.Person{}) {
			t.Errorf("Authorization %q names %+v", bad, p)
		}
	}
	// A bad token is a stranger even from a trusted proxy naming someone.
	if p := a.Who(request("10.0.0.1:1", "x", "Authorization", "Bearer scribe_wrong", "X-Forwarded-Email", "ada@example.com")); p != (scribe.Person{}) {
		t.Errorf("bad token + proxy headers = %+v, want a stranger", p)
	}
	// Tokens cannot make tokens; strangers cannot; someone else cannot revoke.
	if _, _, err := a.CreateToken(ctx, want, ""); scribe.ErrorCode(err) != scribe.EFORBIDDEN {
		t.Errorf("a token made a token: %v", err)
	}
	if _, _, err := a.CreateToken(ctx, scribe.Person{}, ""); scribe.ErrorCode(err) != scribe.EFORBIDDEN {
		t.Errorf("a stranger made a token: %v", err)
	}
	if err := a.RevokeToken(ctx, bob, tok.ID); scribe.ErrorCode(err) != scribe.ENOTFOUND {
		t.Errorf("bob revoked ada's token: %v", err)
	}

	// Only the hash is stored.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte(secret[len(auth.TokenPrefix):])) {
		t.Errorf("the database file holds the token's secret")
	}
	if !bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(scribe.HashAPIToken(secret)))) {
		t.Errorf("the database file does not hold the token's hash (the test looks in the wrong place)")
	}
	st = bolt.New(dir, bolt.Options{})
	if err := st.Open(ctx); err != nil {
		t.Fatal(err)
	}
	a = newAuth(t, auth.Config{Mode: auth.ModeProxy, TrustedProxies: []string{"10.0.0.0/8"}, Tokens: st})

	if err := a.RevokeToken(ctx, ada, tok.ID); err != nil {
		t.Fatal(err)
	}
	if p := bearer("Bearer " + secret); p != (scribe.Person{}) {
		t.Errorf("a revoked token names %+v", p)
	}

	// Local mode takes no tokens: its API needs none, and a token must not
	// open a local server to the network.
	l := newAuth(t, auth.Config{Tokens: st})
	if _, _, err := l.CreateToken(ctx, l.LocalPerson(), ""); scribe.ErrorCode(err) != scribe.EFORBIDDEN {
		t.Errorf("local mode made a token: %v", err)
	}
}

func TestSessionKeyFile(t *testing.T) {
	dir := t.TempDir()
	k1, err := auth.LoadSessionKey("", dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, auth.SessionKeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || len(k1) != 32 {
		t.Errorf("generated key: mode %v, %d bytes; want 0600, 32", fi.Mode().Perm(), len(k1))
	}
	if k2, _ := auth.LoadSessionKey("", dir); !bytes.Equal(k1, k2) {
		t.Errorf("a second start generated another key")
	}
	if _, err := auth.LoadSessionKey(filepath.Join(dir, "missing"), ""); err == nil {
		t.Errorf("a named key file that does not exist was generated")
	}
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("tooshort"), 0o600)
	if _, err := auth.LoadSessionKey(short, ""); err == nil {
		t.Errorf("an 8-byte key was accepted")
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]auth.Config{
		"unknown mode":      {Mode: "ldap"},
		"oidc, no url":      {Mode: auth.ModeOIDC, OIDCIssuer: "http://127.0.0.1:1", OIDCClientID: "x"},
		"bad public url":    {PublicURL: "notes.example.com"},
		"oidc, no allowed":  {Mode: auth.ModeOIDC, PublicURL: "https://n.example", OIDCIssuer: "http://127.0.0.1:1", OIDCClientID: "x", DataDir: t.TempDir()},
		"oidc, no issuer":   {Mode: auth.ModeOIDC, PublicURL: "https://n.example", OIDCClientID: "x", OIDCAllowedDomains: []string{"e.com"}, DataDir: t.TempDir()},
		"oidc, unreachable": {Mode: auth.ModeOIDC, PublicURL: "https://n.example", OIDCIssuer: "http://127.0.0.1:1", OIDCClientID: "x", OIDCAllowedDomains: []string{"e.com"}, DataDir: t.TempDir()},
	} {
		if _, err := auth.New(context.Background(), cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
