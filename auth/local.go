package auth

import (
	"context"
	"net/http"
	"os/exec"
	"strings"

	"github.com/scribe-notes/scribe"
)

// ForwardingHeaders are the headers that mark a request as relayed by a
// proxy (or claiming to be). A request carrying any of them is never the
// local person: a reverse proxy on the same machine must not turn the
// world into the local user.
var ForwardingHeaders = []string{
	"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
	"X-Forwarded-Port", "X-Forwarded-Server", "X-Forwarded-Prefix", "X-Real-IP",
	"X-Client-IP", "True-Client-IP", "CF-Connecting-IP", "Fastly-Client-IP",
	"X-Cluster-Client-IP", "X-Original-Forwarded-For", "Via",
	"X-Forwarded-Email", "X-Forwarded-User", "X-Forwarded-Preferred-Username",
	"X-Auth-Request-Email", "X-Auth-Request-User",
}

// loopbackNames are the Host names a local request may use.
var loopbackNames = map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}

// IsLocal reports whether r comes from the person at the machine: its peer
// is a loopback address AND its Host names a loopback host (localhost,
// 127.0.0.1, [::1], any port) AND it carries no forwarding header. All three
// are needed: the peer alone is fooled by a reverse proxy on the machine,
// the Host alone by DNS rebinding, and the headers mark relayed requests.
func IsLocal(r *http.Request) bool {
	peer, ok := peerAddr(r)
	if !ok || !peer.IsLoopback() {
		return false
	}
	if !loopbackNames[hostName(r.Host)] {
		return false
	}
	for _, h := range ForwardingHeaders {
		if _, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
			return false
		}
	}
	return true
}

// LocalPerson returns the local person: name and email as given, and what
// is empty read from `git config user.name` / `user.email` in gitDir (when
// gitDir is set and git answers). The name defaults to "Local user".
func LocalPerson(ctx context.Context, name, email, gitDir string) scribe.Person {
	if gitDir != "" {
		if name == "" {
			name = gitConfig(ctx, gitDir, "user.name")
		}
		if email == "" {
			email = gitConfig(ctx, gitDir, "user.email")
		}
	}
	if name == "" {
		name = "Local user"
	}
	return scribe.Person{Name: name, Email: scribe.NormalizeEmail(email), Via: scribe.ViaLocal}
}

// gitConfig runs `git -C dir config --get key`; "" when unset or on error.
func gitConfig(ctx context.Context, dir, key string) string {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "config", "--get", key).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
