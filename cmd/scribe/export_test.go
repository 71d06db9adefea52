package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/redis"
)

// gitOut runs the real git binary in dir.
func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// noteInStore creates a note in a fresh embedded store and closes it, as a
// stopped scribe serve would leave it.
func noteInStore(t *testing.T, text string) (dataDir string, id scribe.NoteID) {
	t.Helper()
	dataDir = t.TempDir()
	st := bolt.New(dataDir, bolt.Options{})
	if err := st.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, err := st.CreateNote(context.Background(), scribe.NewNote{
		Title: "CLI note", CreatedAt: time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	writeIn(t, st, n.ID, text)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dataDir, n.ID
}

// writeIn types text into an empty note as one change by Ada: an export
// refuses a note nobody wrote in.
func writeIn(t *testing.T, st scribe.Store, id scribe.NoteID, text string) {
	t.Helper()
	if text == "" {
		return
	}
	op, err := json.Marshal([]any{text})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(context.Background(), id, 0, []scribe.Change{{Op: op, Session: "test-session", Seq: 1, Author: "Ada"}}); err != nil {
		t.Fatal(err)
	}
}

func TestRunExportDirect(t *testing.T) {
	dataDir, id := noteInStore(t, "# Planning\n\n## Decisions\n- Ship it\n")
	repo := filepath.Join(t.TempDir(), "notes-repo")
	ctx := context.Background()
	var out bytes.Buffer

	// Flags after the note id, and an edit link instead of the bare id.
	err := runExportTo(ctx, []string{"--data-dir", dataDir, "https://scribe.example.com/n/" + string(id) + "?x=1",
		"--export-repo", repo, "--author", "Ada Lovelace", "--email", "ada@example.com",
		"--timezone", "Europe/Berlin", "--public-url", "https://scribe.example.com"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	head := gitOut(t, repo, "rev-parse", "HEAD")
	if want := "Exported to docs/meetings/2026-11-25-planning.md in commit " + head[:12] + "\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if got := gitOut(t, repo, "ls-files"); got != "docs/meetings/2026-11-25-planning.md\ndocs/meetings/README.md" {
		t.Errorf("exported files = %q (the date is Nov 25 in Berlin)", got)
	}
	if got := gitOut(t, repo, "log", "-1", "--format=%an <%ae>|%s"); got != "Ada Lovelace <ada@example.com>|Meeting notes: Planning (2026-11-25)" {
		t.Errorf("commit = %q", got)
	}
	file := gitOut(t, repo, "show", "HEAD:docs/meetings/2026-11-25-planning.md")
	if strings.Contains(file, string(id)) || !regexp.MustCompile(`url: "https://scribe.example.com/s/[A-Za-z0-9_-]{22}"`).MatchString(file) ||
		!strings.Contains(file, `timezone: "Europe/Berlin"`) {
		t.Errorf("front matter:\n%s", file)
	}

	// Configuration through the environment, as in a container.
	t.Setenv("SCRIBE_EXPORT_REPO", repo)
	t.Setenv("SCRIBE_DATA_DIR", dataDir)
	t.Setenv("SCRIBE_AUTHOR", "Grace Hopper")
	t.Setenv("SCRIBE_TIMEZONE", "Europe/Berlin")
	t.Setenv("SCRIBE_PUBLIC_URL", "https://scribe.example.com")
	out.Reset()
	if err := runExportTo(ctx, []string{"--json", string(id)}, &out); err != nil {
		t.Fatal(err)
	}
	var res scribe.ExportResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || !res.Unchanged || res.Commit != head {
		t.Errorf("--json output %q: %+v %v", out.String(), res, err)
	}
	if got := gitOut(t, repo, "rev-list", "--count", "HEAD"); got != "1" {
		t.Errorf("unchanged re-export made a commit: %s commits", got)
	}
}

func TestRunExportErrors(t *testing.T) {
	dataDir, id := noteInStore(t, "# x\n")
	repo := filepath.Join(t.TempDir(), "repo")
	ctx := context.Background()
	var out bytes.Buffer
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data-dir", dataDir, "--author", "Ada", string(id)}, "--export-repo"},
		{[]string{"--data-dir", dataDir, "--export-repo", repo, "--author", "Ada"}, "exactly one note id"},
		{[]string{"--data-dir", dataDir, "--export-repo", repo, "--author", "Ada", "../../etc/passwd"}, "not a note id"},
		{[]string{"--data-dir", dataDir, "--export-repo", repo, "--author", "Ada", string(scribe.NewNoteID())}, "ENOTFOUND"},
		{[]string{"--data-dir", dataDir, "--export-repo", repo, "--author", "Ada", "--timezone", "Mars/Olympus", string(id)}, "time zone"},
		{[]string{"--data-dir", dataDir, "--export-repo", repo, "--author", "Ada", "--export-dir", "../outside", string(id)}, "not allowed"},
		{[]string{"--data-dir", dataDir, "--export-repo", repo, "--author", " ", string(id)}, "--author"},
		{[]string{"--data-dir", filepath.Join(dataDir, "missing"), "--export-repo", repo, "--author", "Ada", string(id)}, "no embedded store"},
		{[]string{"--server", "ftp://x", "--author", "Ada", string(id)}, "not an http(s) URL"},
	} {
		err := runExportTo(ctx, tc.args, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("runExport(%q) = %v, want an error mentioning %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(repo, "docs")); !os.IsNotExist(err) {
		t.Errorf("a failed export wrote files: %v", err)
	}
}

// TestRunExportThroughServer checks the --server client against the API
// contract of POST /api/notes/{id}/export (docs/export.md): the request it
// sends and how it reads answers and errors.
func TestRunExportThroughServer(t *testing.T) {
	id := scribe.NewNoteID()
	var got map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/notes/"+string(id)+"/export" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"code":"EINVALID","message":"Wrong request."}`))
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&got)
		if got["author"] == "Nobody" {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"code":"EUNAVAILABLE","message":"Export is not configured on this server."}`))
			return
		}
		_, _ = w.Write([]byte(`{"path":"docs/meetings/2026-11-24-x.md","commit":"0123456789abcdef0123456789abcdef01234567","unchanged":false,"pushed":false,"pushError":"The export is committed locally but was not pushed."}`))
	}))
	defer srv.Close()

	var out bytes.Buffer
	err := runExportTo(context.Background(), []string{"--server", srv.URL + "/", "--author", "Ada", "--email", "ada@example.com", string(id)}, &out)
	if got["author"] != "Ada" || got["email"] != "ada@example.com" {
		t.Errorf("request body = %v", got)
	}
	if err == nil || !strings.Contains(err.Error(), "not pushed") {
		t.Errorf("a push failure must fail the command: %v", err)
	}
	if !strings.Contains(out.String(), "Exported to docs/meetings/2026-11-24-x.md in commit 0123456789ab\nNOT pushed:") {
		t.Errorf("output = %q", out.String())
	}
	err = runExportTo(context.Background(), []string{"--server", srv.URL, "--author", "Nobody", string(id)}, &out)
	if err == nil || !strings.Contains(err.Error(), "not configured on this server (EUNAVAILABLE)") {
		t.Errorf("server error = %v", err)
	}
}

func TestTakeNoteIDs(t *testing.T) {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.String("author", "", "")
	fs.Bool("json", false, "")
	for _, tc := range []struct {
		args       []string
		positional []string
		rest       []string
	}{
		{[]string{"-kQuGKFxXSbQVYTYEjx0SQ", "--json"}, []string{"-kQuGKFxXSbQVYTYEjx0SQ"}, []string{"--json"}},
		{[]string{"--json", "--uGKFxXSbQVYTYEjx0SQQ"}, []string{"--uGKFxXSbQVYTYEjx0SQQ"}, []string{"--json"}},
		{[]string{"--author", "-kQuGKFxXSbQVYTYEjx0SQ"}, nil, []string{"--author", "-kQuGKFxXSbQVYTYEjx0SQ"}},
		{[]string{"--author=x", "-kQuGKFxXSbQVYTYEjx0SQ"}, []string{"-kQuGKFxXSbQVYTYEjx0SQ"}, []string{"--author=x"}},
		{[]string{"--json", "--", "-anything"}, []string{"-anything"}, []string{"--json"}},
		{[]string{"abcdefghijklmnopqrstuv", "--json"}, nil, []string{"abcdefghijklmnopqrstuv", "--json"}},
	} {
		var positional []string
		rest := takeNoteIDs(fs, tc.args, &positional)
		if strings.Join(positional, " ") != strings.Join(tc.positional, " ") || strings.Join(rest, " ") != strings.Join(tc.rest, " ") {
			t.Errorf("takeNoteIDs(%q) = %q, rest %q; want %q, rest %q", tc.args, positional, rest, tc.positional, tc.rest)
		}
	}
}

func TestAddExportFlags(t *testing.T) {
	t.Setenv("SCRIBE_EXPORT_BRANCH", "notes")
	t.Setenv("SCRIBE_EXPORT_OMIT_URL", "true")
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := addExportFlags(fs)
	if err := fs.Parse([]string{"--export-dir", "docs/minutes"}); err != nil {
		t.Fatal(err)
	}
	if err := flagsFromEnv(fs); err != nil {
		t.Fatal(err)
	}
	if c.branch != "notes" || !c.omitURL || c.dir != "docs/minutes" || c.timezone != "UTC" || c.repo != "" {
		t.Errorf("config = %+v", c)
	}
	if ex, err := c.newExporter(nil, ""); ex != nil || err != nil {
		t.Errorf("without --export-repo: %v, %v; want export disabled (nil, nil)", ex, err)
	}
	var nilCfg *exportConfig
	if ex, err := nilCfg.newExporter(nil, ""); ex != nil || err != nil {
		t.Errorf("nil config: %v, %v", ex, err)
	}
}

func TestRunExportFromRedis(t *testing.T) {
	ctx := context.Background()
	prefix := "scribe-export-test-" + string(scribe.NewNoteID()) + ":"
	st, err := redis.New("127.0.0.1:6379", redis.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Open(ctx); err != nil {
		t.Fatalf("redis on 127.0.0.1:6379 (make test starts it): %v", err)
	}
	n, err := st.CreateNote(ctx, scribe.NewNote{Title: "From Redis"})
	if err != nil {
		t.Fatal(err)
	}
	writeIn(t, st, n.ID, "# From Redis\nNotes.\n")
	_ = st.Close()
	t.Cleanup(func() {
		// Remove this run's keys, and only them.
		c, err := redis.NewClient("127.0.0.1:6379")
		if err != nil {
			return
		}
		defer c.Close()
		keys, _ := c.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})

	repo := filepath.Join(t.TempDir(), "repo")
	var out bytes.Buffer
	if err := runExportTo(ctx, []string{"--redis", "127.0.0.1:6379", "--redis-prefix", prefix, "--export-repo", repo, "--author", "Ada", string(n.ID)}, &out); err != nil {
		t.Fatal(err)
	}
	if got := gitOut(t, repo, "log", "-1", "--format=%s"); !strings.HasPrefix(got, "Meeting notes: From Redis (") {
		t.Errorf("commit subject = %q", got)
	}
}
