package export

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// previewNote makes a note with notes in it, exported by Ana through an
// exporter of a fresh repository, and returns both.
func previewNote(t *testing.T) (*Exporter, scribe.Store, scribe.NoteID, string) {
	t.Helper()
	st := openBolt(t)
	note, err := st.CreateNote(context.Background(), scribe.NewNote{
		Title: "Retro", Text: "# Retro\n", CreatedAt: time.Date(2026, 12, 4, 14, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	typeAs(t, st, note.ID, "Ana", "\n## Decisions\n- Ship on Friday\n")
	dir := filepath.Join(t.TempDir(), "repo")
	e, err := New(Config{RepoPath: dir}, st)
	if err != nil {
		t.Fatal(err)
	}
	return e, st, note.ID, dir
}

// objects counts the repository's objects, loose and packed, with the
// git binary: a preview must not write any.
func objects(t *testing.T, dir string) string {
	t.Helper()
	return runGit(t, dir, "count-objects", "-v")
}

// TestPreviewThenCancelWritesNothing: a preview shows the file and message
// and leaves the repository exactly as it was: no commit, no object.
func TestPreviewThenCancelWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, st, id, dir := previewNote(t)
	req := scribe.ExportRequest{Author: "Ana", URL: "https://scribe.example.com/s/" + readOnlyToken}
	first, err := e.Export(ctx, id, req)
	if err != nil {
		t.Fatal(err)
	}
	typeAs(t, st, id, "Bo", "- Keep the retro short\n")
	logBefore, objsBefore := runGit(t, dir, "log", "--format=%H", "main"), objects(t, dir)

	p, err := e.Preview(ctx, id, req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Path != first.Path || p.Unchanged || p.Revision != 2 || !strings.Contains(p.Content, "- Keep the retro short") ||
		!strings.HasPrefix(p.Message, "Meeting notes: Retro (2026-12-04)\n\nUpdated from Scribe by Ana: 1 edit by Bo since the last export") {
		t.Errorf("preview = %+v", p)
	}
	if got := runGit(t, dir, "log", "--format=%H", "main"); got != logBefore {
		t.Errorf("the preview changed the branch:\n%s\nwas\n%s", got, logBefore)
	}
	if got := objects(t, dir); got != objsBefore {
		t.Errorf("the preview wrote objects:\n%s\nwas\n%s", got, objsBefore)
	}
	fsck(t, dir)
}

// TestPreviewThenCommit: committing with the previewed revision commits
// exactly the previewed file and message; a note that changed since is
// refused with ECONFLICT and nothing is committed.
func TestPreviewThenCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, st, id, dir := previewNote(t)
	req := scribe.ExportRequest{Author: "Ana", URL: "https://scribe.example.com/s/" + readOnlyToken}
	p, err := e.Preview(ctx, id, req)
	if err != nil {
		t.Fatal(err)
	}
	req.Rev = p.Revision
	res, err := e.Export(ctx, id, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != p.Path || res.Revision != p.Revision {
		t.Errorf("export = %+v, preview = %+v", res, p)
	}
	if got := runGit(t, dir, "show", "main:"+p.Path) + "\n"; got != p.Content {
		t.Errorf("committed file:\n%s\npreviewed:\n%s", got, p.Content)
	}
	if got := runGit(t, dir, "log", "-1", "--format=%B", "main") + "\n"; got != p.Message {
		t.Errorf("committed message:\n%q\npreviewed:\n%q", got, p.Message)
	}

	// Someone types between the preview and the commit.
	p, err = e.Preview(ctx, id, req)
	if err != nil || !p.Unchanged || p.Commit != res.Commit {
		t.Fatalf("preview of an exported note = %+v, %v; want unchanged at %s", p, err, res.Commit)
	}
	typeAs(t, st, id, "Bo", "- One more thing\n")
	head := runGit(t, dir, "rev-parse", "main")
	req.Rev = p.Revision
	if _, err := e.Export(ctx, id, req); scribe.ErrorCode(err) != scribe.ECONFLICT || !strings.Contains(scribe.ErrorMessage(err), "changed since your preview") {
		t.Errorf("export of a stale preview: %v, want ECONFLICT", err)
	}
	if got := runGit(t, dir, "rev-parse", "main"); got != head {
		t.Errorf("a refused export moved the branch to %s", got)
	}
}

// TestPreviewRefusesJunk: a preview refuses what an export would.
func TestPreviewRefusesJunk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, st, _, _ := previewNote(t)
	n, err := st.CreateNote(ctx, scribe.NewNote{Title: "Blank", Text: "# Blank\n"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Preview(ctx, n.ID, scribe.ExportRequest{Author: "Ana"}); err != errUntouched {
		t.Errorf("preview of an untouched note: %v", err)
	}
	typeAs(t, st, n.ID, "Ana", "\n## \n")
	if _, err := e.Preview(ctx, n.ID, scribe.ExportRequest{Author: "Ana"}); err != errEmpty {
		t.Errorf("preview of an empty note: %v", err)
	}
}
