package export

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/bolt"
)

// openBolt opens a real embedded store in a temporary directory.
func openBolt(t *testing.T) *bolt.Store {
	t.Helper()
	st := bolt.New(t.TempDir(), bolt.Options{})
	if err := st.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// typeAs appends text to the end of the note as one committed change by
// author, the way the server commits a keystroke.
// typeAs appends text as a member: author is their name, and their email
// (known from sign-in) is theirs in lowercase at example.com; a name
// starting with "guest " is a guest, with no email.
func typeAs(t *testing.T, st scribe.Store, id scribe.NoteID, author, text string) {
	t.Helper()
	ctx := context.Background()
	doc, err := st.LoadNote(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var op []any
	if n := len(utf16.Encode([]rune(doc.Text))); n > 0 {
		op = append(op, n)
	}
	op = append(op, text)
	raw, err := json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	email := strings.ToLower(author) + "@example.com"
	if strings.HasPrefix(author, "guest ") {
		email = ""
	}
	_, err = st.Append(ctx, id, doc.Revision, []scribe.Change{{
		Op: raw, Session: "session-" + author, Seq: uint64(doc.Revision) + 1, Author: author, Email: email,
	}})
	if err != nil {
		t.Fatalf("append as %s: %v", author, err)
	}
}

// readOnlyToken stands for the export share's token the server passes.
const readOnlyToken = "ROtokenROtokenROtokenR"

func TestExportFromStore(t *testing.T) {
	ctx := context.Background()
	st := openBolt(t)
	note, err := st.CreateNote(ctx, scribe.NewNote{
		Title:     "Design review",
		Text:      "# Design review\n\n## Attendees\n- Ada\n",
		CreatedAt: time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	typeAs(t, st, note.ID, "Carol", "- Carol\n\n## Decisions\n- Use go-git\n")
	typeAs(t, st, note.ID, "Bob", "\n## Action items\n- [ ] Write docs/export.md @bob due 2026-11-25\n")
	typeAs(t, st, note.ID, "Carol", "- [ ] Review it @carol\n")
	typeAs(t, st, note.ID, "Dan", "\n😀 emoji typed by Dan\n")

	// Read the log in pages smaller than it, so paging is exercised.
	defer func(n scribe.Revision) { changesPage = n }(changesPage)
	changesPage = 3
	e, err := New(Config{RepoPath: t.TempDir() + "/repo", PublicURL: "https://scribe.example.com"}, st)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Export(ctx, note.ID, scribe.ExportRequest{Author: "Bob", Email: "bob@example.com", URL: "https://scribe.example.com/s/" + readOnlyToken})
	if err != nil {
		t.Fatal(err)
	}
	repo := e.cfg.RepoPath
	if res.Path != "docs/meetings/2026-11-24-design-review.md" {
		t.Errorf("path = %s", res.Path)
	}
	if got := runGit(t, repo, "log", "-1", "--format=%an <%ae>"); got != "Bob <bob@example.com>" {
		t.Errorf("author = %q", got)
	}
	trailers := runGit(t, repo, "log", "-1", "--format=%(trailers:key=Co-authored-by,valueonly)")
	if trailers != "Carol <carol@example.com>\nDan <dan@example.com>" {
		t.Errorf("trailers = %q", trailers)
	}
	file := runGit(t, repo, "show", "HEAD:"+res.Path)
	doc, err := st.LoadNote(ctx, note.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"revision: 4\n",
		`url: "https://scribe.example.com/s/` + readOnlyToken + `"`,
		"attendees:\n  - \"Ada\"\n  - \"Carol\"\n  - \"Bob\"\n  - \"Dan\"\n",
		"decisions:\n  - \"Use go-git\"\n",
		"  - text: \"Write docs/export.md\"\n    owner: \"bob\"\n    due: \"2026-11-25\"\n",
		"---\n\n" + strings.TrimRight(doc.Text, "\n"),
	} {
		if !strings.Contains(file, want) {
			t.Errorf("exported file lacks %q:\n%s", want, file)
		}
	}
	if strings.Contains(file, string(note.ID)) || strings.Contains(runGit(t, repo, "log", "-1", "--format=%B"), string(note.ID)) {
		t.Errorf("the export reveals the edit id:\n%s", file)
	}
	// Exporting again without edits: no commit.
	again, err := e.Export(ctx, note.ID, scribe.ExportRequest{Author: "Carol", URL: "https://scribe.example.com/s/" + readOnlyToken})
	if err != nil || !again.Unchanged || again.Commit != res.Commit {
		t.Errorf("second export = %+v, %v", again, err)
	}
	fsck(t, repo)

	// Unknown and malformed ids are ENOTFOUND and commit nothing.
	for _, id := range []scribe.NoteID{scribe.NewNoteID(), "../../etc/passwd", ""} {
		if _, err := e.Export(ctx, id, scribe.ExportRequest{Author: "Bob"}); scribe.ErrorCode(err) != scribe.ENOTFOUND {
			t.Errorf("Export(%q) error = %v, want ENOTFOUND", id, err)
		}
	}
	if _, err := e.Export(ctx, note.ID, scribe.ExportRequest{}); scribe.ErrorCode(err) != scribe.EINVALID {
		t.Errorf("Export without author: %v, want EINVALID", err)
	}
	if got := runGit(t, repo, "rev-list", "--count", "HEAD"); got != "1" {
		t.Errorf("%s commits, want 1", got)
	}
}
