package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/scribe-notes/scribe"
)

// Cookie names.
const (
	SessionCookie = "scribe_session"
	loginCookie   = "scribe_login" // the state, nonce and PKCE verifier of one sign-in
	loginLifetime = 10 * time.Minute
	// minKeyBytes is the least key material a session key file may hold.
	minKeyBytes = 32
	// maxCookie bounds the cookie values read, before any decoding.
	maxCookie = 4096
)

// LoadSessionKey reads the session signing key from file, or from
// <dataDir>/session.key when file is empty. A file holding 64 hex digits
// (`openssl rand -hex 32`) gives their 32 bytes; any other content of at
// least 32 bytes is the key itself. When the file does not exist and file
// was empty (the default in the data directory), 32 random bytes are
// generated and written there as hex with mode 0600. A file named
// explicitly must exist: nodes that share a Redis must share the key, and
// generating one per node would make their cookies unreadable to each other.
func LoadSessionKey(file, dataDir string) ([]byte, error) {
	generate := false
	if file == "" {
		if dataDir == "" {
			return nil, errors.New("auth: sessions need --session-key-file (or a data directory to generate one in)")
		}
		file = filepath.Join(dataDir, SessionKeyFileName)
		generate = true
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) && generate {
		return generateKey(file)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: read --session-key-file: %w", err)
	}
	return parseKey(file, b)
}

func parseKey(file string, b []byte) ([]byte, error) {
	if s := strings.TrimSpace(string(b)); len(s) >= 2*minKeyBytes {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	if len(b) < minKeyBytes {
		return nil, fmt.Errorf("auth: session key file %s holds %d bytes, want at least %d (e.g. openssl rand -hex 32)", file, len(b), minKeyBytes)
	}
	return b, nil
}

func generateKey(file string) ([]byte, error) {
	key := make([]byte, minKeyBytes)
	_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, fmt.Errorf("auth: generate session key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process generated it first: use theirs.
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("auth: read session key: %w", err)
		}
		return parseKey(file, b)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: generate session key: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err2 := f.Close(); err == nil {
		err = err2
	}
	if err != nil {
		os.Remove(file)
		return nil, fmt.Errorf("auth: write session key: %w", err)
	}
	return key, nil
}

// sessions signs and reads session cookies. A cookie is
// base64url(JSON payload) "." base64url(HMAC-SHA256(key, purpose "." payload)):
// readable by anyone who holds it, valid only if made with the key, and
// only for its purpose (a sign-in cookie is never a session).
type sessions struct {
	key      []byte
	lifetime time.Duration
	secure   bool
	now      func() time.Time
}

// sessionPayload is what a session cookie carries.
type sessionPayload struct {
	Email   string     `json:"e"`
	Name    string     `json:"n"`
	Via     scribe.Via `json:"v"`
	Expires int64      `json:"x"` // unix seconds
}

func (s *sessions) sign(purpose string, payload []byte) string {
	p := base64.RawURLEncoding.EncodeToString(payload)
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose + "." + p))
	return p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// open checks v's signature for purpose and returns its payload.
func (s *sessions) open(purpose, v string) ([]byte, bool) {
	if len(v) > maxCookie {
		return nil, false
	}
	p, sig, ok := strings.Cut(v, ".")
	if !ok {
		return nil, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return nil, false
	}
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(purpose + "." + p))
	if !hmac.Equal(got, m.Sum(nil)) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	return b, err == nil
}

func (s *sessions) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

// set gives the browser a session cookie for p, valid for the lifetime.
func (s *sessions) set(w http.ResponseWriter, p scribe.Person) {
	exp := s.now().Add(s.lifetime)
	b, _ := json.Marshal(sessionPayload{Email: p.Email, Name: p.Name, Via: p.Via, Expires: exp.Unix()}) // cannot fail
	http.SetCookie(w, s.cookie(SessionCookie, s.sign("session", b), int(s.lifetime/time.Second)))
}

// clear removes the session cookie.
func (s *sessions) clear(w http.ResponseWriter) {
	http.SetCookie(w, s.cookie(SessionCookie, "", -1))
}

// read returns the person of the request's session cookie; false when there
// is none, or it is tampered with, malformed or expired.
func (s *sessions) read(r *http.Request) (scribe.Person, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return scribe.Person{}, false
	}
	b, ok := s.open("session", c.Value)
	if !ok {
		return scribe.Person{}, false
	}
	var sp sessionPayload
	if json.Unmarshal(b, &sp) != nil || sp.Email == "" || sp.Via != scribe.ViaSignIn {
		return scribe.Person{}, false
	}
	if !s.now().Before(time.Unix(sp.Expires, 0)) {
		return scribe.Person{}, false
	}
	return scribe.Person{Email: sp.Email, Name: sp.Name, Via: sp.Via}, true
}
