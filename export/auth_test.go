package export

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
)

// gitHTTPServer serves the bare repositories under root over smart HTTP
// with the real git http-backend, accepting only basic auth with
// user/token.
func gitHTTPServer(t *testing.T, root, user, token string) *httptest.Server {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	h := &cgi.Handler{
		Path: backend,
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPushOverHTTPWithToken(t *testing.T) {
	root := t.TempDir()
	remote := filepath.Join(root, "team-docs.git")
	runGit(t, root, "init", "-q", "--bare", "--initial-branch=main", remote)
	runGit(t, remote, "config", "http.receivepack", "true")
	const token = "s3cret-token-value"
	srv := gitHTTPServer(t, root, "scribe", token)
	url := srv.URL + "/team-docs.git"

	// The right token: pushed, and the token is nowhere in the repository.
	e := newExporter(t, Config{Remote: url, Token: token})
	res := mustWrite(t, e, weeklySnapshot(t), "Ada Lovelace")
	if !res.Pushed || res.PushError != "" {
		t.Fatalf("push with token = %+v", res)
	}
	if got := runGit(t, remote, "rev-parse", "main"); got != res.Commit {
		t.Errorf("remote main = %s, want %s", got, res.Commit)
	}
	cfg, err := os.ReadFile(filepath.Join(e.cfg.RepoPath, ".git", "config"))
	if err != nil || strings.Contains(string(cfg), token) {
		t.Errorf("the token was stored in .git/config: %v\n%s", err, cfg)
	}

	// A wrong token: committed locally, not pushed, the token not shown.
	wrong := newExporter(t, Config{Remote: url, Token: "wrong-token"})
	res = mustWrite(t, wrong, weeklySnapshot(t), "Ada Lovelace")
	if res.Pushed || !strings.Contains(res.PushError, "committed locally") || strings.Contains(res.PushError, "wrong-token") {
		t.Errorf("push with a wrong token = %+v", res)
	}
	t.Logf("push error: %s", res.PushError)
}

func TestSSHKeyConfig(t *testing.T) {
	remote := "ssh://git@git.example.com/team/docs.git"
	_, err := New(Config{RepoPath: filepath.Join(t.TempDir(), "repo"), Remote: remote, SSHKeyPath: "/nonexistent/id_ed25519"}, nil)
	if scribe.ErrorCode(err) != scribe.EINVALID || !strings.Contains(scribe.ErrorMessage(err), "SSH key") {
		t.Errorf("missing key: %v", err)
	}
	key := filepath.Join(t.TempDir(), "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	e, err := New(Config{RepoPath: filepath.Join(t.TempDir(), "repo"), Remote: remote, SSHKeyPath: key}, nil)
	if err != nil {
		t.Fatalf("valid key: %v", err)
	}
	if e.repo.auth == nil || e.repo.auth.Name() != "ssh-public-keys" {
		t.Errorf("auth = %v, want the key", e.repo.auth)
	}
}
