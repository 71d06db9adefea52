package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/client"
	"github.com/scribe-notes/scribe/ot"
)

// TestExportPreviewSeenByEveryone runs the whole of issue 14's "export,
// seen by everyone" through the real server, a real repository (read with
// the git binary) and two Go clients, an editor and a read-only viewer:
// a preview then cancel writes nothing; a preview then commit commits
// exactly the preview; a stale preview is refused with 409; both clients
// hear the export, and whether the note changed since flips when someone
// types.
func TestExportPreviewSeenByEveryone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	repo := filepath.Join(t.TempDir(), "team-docs")
	base := startServe(t, repo, func(c *serveConfig) { c.commitURL = "https://git.example.com/team/notes/commit/{sha}" })
	var note struct {
		ID scribe.NoteID `json:"id"`
	}
	if code := api(t, "POST", base+"/api/notes", map[string]string{"title": "Retro"}, &note); code != http.StatusCreated {
		t.Fatalf("create note: %d", code)
	}
	notes := "/api/notes/" + string(note.ID)
	var share struct {
		Token scribe.Token `json:"token"`
	}
	if code := api(t, "POST", base+notes+"/shares", map[string]string{}, &share); code/100 != 2 {
		t.Fatalf("share: %d", code)
	}
	editor, err := client.Dial(ctx, client.NoteURL(base, note.ID), client.Options{Name: "Ana"})
	if err != nil {
		t.Fatal(err)
	}
	defer editor.Close()
	viewer, err := client.Dial(ctx, client.ShareURL(base, share.Token), client.Options{Name: "Viewer"})
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.Close()
	typeAtEnd := func(s string) {
		t.Helper()
		op, err := ot.NewBuilder().Retain(editor.Len()).Insert(s).Build()
		if err != nil {
			t.Fatal(err)
		}
		if err := editor.Edit(op); err != nil {
			t.Fatal(err)
		}
		if err := editor.WaitSynced(ctx); err != nil {
			t.Fatal(err)
		}
	}
	typeAtEnd("\n## Decisions\n- Ship on Friday\n")

	// Preview, then cancel: nothing in the repository.
	var p scribe.ExportPreview
	if code := api(t, "POST", base+notes+"/export/preview", struct{}{}, &p); code != http.StatusOK || int64(p.Revision) != editor.Revision() {
		t.Fatalf("preview: %d %+v", code, p)
	}
	if !strings.HasPrefix(p.Path, "docs/meetings/") || !strings.Contains(p.Content, "- Ship on Friday") || !strings.HasPrefix(p.Message, "Meeting notes: Retro") {
		t.Errorf("preview = %+v", p)
	}
	if out, err := gitErrOut(repo, "rev-parse", "--verify", "-q", "refs/heads/main"); err == nil {
		t.Errorf("the preview made a commit: %s", out)
	}

	// Someone types after the preview: committing it is refused.
	typeAtEnd("- Keep it short\n")
	var apiErr struct{ Code, Message string }
	if code := api(t, "POST", base+notes+"/export", map[string]any{"rev": p.Revision}, &apiErr); code != http.StatusConflict || apiErr.Code != scribe.ECONFLICT || !strings.Contains(apiErr.Message, "preview") {
		t.Errorf("stale commit: %d %+v", code, apiErr)
	}
	if _, err := gitErrOut(repo, "rev-parse", "--verify", "-q", "refs/heads/main"); err == nil {
		t.Error("a refused export made a commit")
	}
	if code := api(t, "POST", base+notes+"/export", map[string]any{"rev": -1}, &apiErr); code != http.StatusBadRequest {
		t.Errorf("rev -1: %d %+v", code, apiErr)
	}

	// A fresh preview, committed: exactly what was previewed.
	if code := api(t, "POST", base+notes+"/export/preview", struct{}{}, &p); code != http.StatusOK {
		t.Fatalf("preview: %d", code)
	}
	var res scribe.ExportResult
	if code := api(t, "POST", base+notes+"/export", map[string]any{"rev": p.Revision}, &res); code != http.StatusOK {
		t.Fatalf("export: %d %+v", code, res)
	}
	if got := gitOut(t, repo, "show", "main:"+p.Path) + "\n"; got != p.Content {
		t.Errorf("committed file:\n%s\npreviewed:\n%s", got, p.Content)
	}
	if got := gitOut(t, repo, "log", "-1", "--format=%B", "main") + "\n"; got != p.Message {
		t.Errorf("committed message:\n%q\npreviewed:\n%q", got, p.Message)
	}

	// Everyone in the note hears of it, and it is not changed since.
	for _, c := range []*client.Client{editor, viewer} {
		if err := c.WaitExport(ctx, res.Commit); err != nil {
			t.Fatal(err)
		}
		e, _ := c.LastExport()
		if e.By != "Ada Lovelace" || e.Rev != p.Revision || c.ChangedSinceExport() {
			t.Errorf("export seen as %+v, changed %v", e, c.ChangedSinceExport())
		}
	}
	typeAtEnd("- One more thing\n")
	if err := viewer.WaitRevision(ctx, editor.Revision()); err != nil {
		t.Fatal(err)
	}
	if !editor.ChangedSinceExport() || !viewer.ChangedSinceExport() {
		t.Error("typing did not make the note changed since its export")
	}

	// A late joiner sees the last export in its welcome; the pages get
	// the commit URL.
	late, err := client.Dial(ctx, client.ShareURL(base, share.Token), client.Options{Name: "Late"})
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	if e, ok := late.LastExport(); !ok || e.Commit != res.Commit || !late.ChangedSinceExport() {
		t.Errorf("late joiner's export: %+v, %v", e, ok)
	}
	resp, err := http.Get(base + "/s/" + string(share.Token))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `data-commit-template="https://git.example.com/team/notes/commit/{sha}"`) {
		t.Error("the read-only page lacks the commit URL")
	}
}

// gitErrOut runs the real git binary in dir, for a command that may fail.
func gitErrOut(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
