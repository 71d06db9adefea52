package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/history"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/storetest"
)

// compactedNote writes, into a bolt store whose clock the test sets, a
// note whose revisions 1..5 one person typed in one minute eight days ago
// and 6 today, and compacts it: 1..5 become one fold. It returns the note
// and the text at every revision.
func compactedNote(t *testing.T) (*testNode, scribe.NoteID, []string) {
	t.Helper()
	ctx := context.Background()
	clock := storetest.NewClock(time.Now().Add(-8 * 24 * time.Hour).Truncate(time.Minute))
	st := bolt.New(t.TempDir(), bolt.Options{Now: clock.Now})
	if err := st.Open(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := st.CreateNote(ctx, scribe.NewNote{Title: "Old", Text: "# Old\n"})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"# Old\n"}
	add := func(session string, seq uint64, line string) {
		t.Helper()
		doc := texts[len(texts)-1]
		op := storetest.EditOp(doc, storetest.Len(doc), 0, line)
		if _, err := st.Append(ctx, n.ID, scribe.Revision(len(texts)-1), []scribe.Change{storetest.ChangeOf(session, seq, op)}); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, doc+line)
	}
	for i := 1; i <= 5; i++ {
		add("typist", uint64(i), "line "+strconv.Itoa(i)+"\n")
	}
	clock.Advance(8 * 24 * time.Hour)
	add("typist", 6, "today\n")
	stats, err := st.CompactStep(ctx, clock.Now(), scribe.DefaultHistoryHotAge, 100)
	if err != nil || stats.Changes != 5 || stats.Folds != 1 {
		t.Fatalf("CompactStep = %+v, %v; want revisions 1..5 in one fold", stats, err)
	}
	return startNode(t, st, server.Limits{}), n.ID, texts
}

// TestTextOfFoldedRevision: the text at, a diff from, and a restore of a
// revision folded by compaction answer 410 with the nearest readable
// revisions; the fold's ends read as before; the revisions list shows
// the fold as one step.
func TestTextOfFoldedRevision(t *testing.T) {
	node, id, texts := compactedNote(t)
	base := "/api/notes/" + string(id)
	for r, want := range texts {
		code, body, _ := get(t, node.url+base+"/text?rev="+strconv.Itoa(r), "")
		if r >= 1 && r <= 4 {
			var e struct {
				Code   string `json:"code"`
				Folded struct {
					Rev, Below, Above scribe.Revision
				} `json:"folded"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || code != http.StatusGone || e.Code != scribe.EGONE ||
				e.Folded.Rev != scribe.Revision(r) || e.Folded.Below != 0 || e.Folded.Above != 5 {
				t.Errorf("text at folded %d: %d %s; want 410 EGONE naming 0 and 5", r, code, body)
			}
			continue
		}
		if code != 200 || body != want {
			t.Errorf("text at %d: %d %q, want %q", r, code, body, want)
		}
	}
	if code, _ := node.do("GET", base+"/diff?from=2&to=6", nil, nil); code != http.StatusGone {
		t.Errorf("diff from a folded revision: %d, want 410", code)
	}
	var d history.Diff
	if code, _ := node.do("GET", base+"/diff?from=0&to=5", nil, &d); code != 200 || d.Added != 5 {
		t.Errorf("diff across the fold: %d %+v", code, d)
	}
	if code, _ := node.do("POST", base+"/restore", map[string]any{"rev": 3}, nil); code != http.StatusGone {
		t.Errorf("restore of a folded revision: %d, want 410", code)
	}
	var page history.Page
	if code, _ := node.do("GET", base+"/revisions", nil, &page); code != 200 {
		t.Fatalf("revisions: %d", code)
	}
	var steps [][2]scribe.Revision
	for _, c := range page.Checkpoints {
		steps = append(steps, [2]scribe.Revision{c.Since, c.Rev})
	}
	if len(page.Checkpoints) != 3 || page.Checkpoints[1].Rev != 5 || page.Checkpoints[1].Since != 0 || page.Checkpoints[1].Added != 35 {
		t.Errorf("revisions (since, rev) = %v; want the head, the fold 0..5 as one step with its 35 characters, and 0", steps)
	}
	// A page asked for from inside the fold starts below it.
	if code, _ := node.do("GET", base+"/revisions?before=4", nil, &page); code != 200 || len(page.Checkpoints) != 1 || page.Checkpoints[0].Rev != 0 {
		t.Errorf("revisions before 4: %d %+v; want revision 0 only", code, page.Checkpoints)
	}
}
