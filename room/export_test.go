package room

import (
	"context"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/protocol"
)

// TestExportedReachesEveryone: an export announced on one node reaches
// the editors and viewers of the note on every node, once; a late joiner
// finds it in its welcome, and so does a room opened afterwards, from the
// checkpoint.
func TestExportedReachesEveryone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openBolt(t)
	id := createNote(t, st, "# Notes\n")
	sh, err := st.CreateShare(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	h1 := startHub(t, st, Config{Timing: shortTiming})
	h2 := startHub(t, st, Config{Timing: shortTiming})
	editor := join(t, h1, id, Info{Name: "Ana"})
	viewer := join(t, h2, id, Info{Name: "Viewer", ReadOnly: true, Token: sh.Token})
	if w := editor.msg(0); w.Export != nil {
		t.Fatalf("welcome of a note never exported has export %s", w.Export)
	}
	editor.seat.Submit(1, 0, op(t, 8, "x"), nil, time.Now())
	editor.waitFor(t, "the ack", 1, func(m protocol.Msg) bool { return m.Type == "ack" })
	viewer.waitFor(t, "the op", 1, func(m protocol.Msg) bool { return m.Type == "op" })

	sha := "0123456789abcdef0123456789abcdef01234567"
	cp, err := st.AddCheckpoint(ctx, id, scribe.ExportCheckpoint(1, sha, scribe.Person{Name: "Ana", Email: "ana@example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	e := protocol.Export{By: "Ana", Commit: sha, Time: cp.Time, Rev: 1}
	if err := h2.Exported(ctx, id, e); err != nil { // announced from the other node
		t.Fatal(err)
	}
	if err := h2.Exported(ctx, id, e); err != nil { // heard twice: told once
		t.Fatal(err)
	}
	for _, m := range []*member{editor, viewer} {
		i := m.waitFor(t, "the exported message", 1, func(m protocol.Msg) bool { return m.Type == "exported" })
		if got, err := protocol.ParseExport(m.msg(i).Export); err != nil || !got.Time.Equal(e.Time) || got.Commit != sha || got.By != "Ana" || got.Rev != 1 {
			t.Errorf("%s got export %+v, %v", m.info.Name, got, err)
		}
	}

	// A late joiner on either node, and a room opened from the store.
	late := join(t, h2, id, Info{Name: "Late", ReadOnly: true, Token: sh.Token})
	fresh := startHub(t, st, Config{Timing: shortTiming})
	opened := join(t, fresh, id, Info{Name: "Bo"})
	for _, m := range []*member{late, opened} {
		got, err := protocol.ParseExport(m.msg(0).Export)
		if err != nil || got.Commit != sha || got.By != "Ana" || got.Rev != 1 || !got.Time.Equal(cp.Time) {
			t.Errorf("%s's welcome has export %+v, %v", m.info.Name, got, err)
		}
	}

	// An older export heard late changes nothing; a later one replaces it.
	if err := h1.Exported(ctx, id, protocol.Export{By: "Old", Commit: "abc1234", Time: cp.Time, Rev: 0}); err != nil {
		t.Fatal(err)
	}
	next := protocol.Export{By: "Bo", Commit: "fedcba9876543210fedcba9876543210fedcba98", Time: cp.Time, Rev: 1}
	if err := h1.Exported(ctx, id, next); err != nil {
		t.Fatal(err)
	}
	i := editor.waitFor(t, "the second export", 1, func(m protocol.Msg) bool {
		e, _ := protocol.ParseExport(m.Export)
		return m.Type == "exported" && e.Commit == next.Commit
	})
	n := 0
	for j := 1; j <= i; j++ {
		if m := editor.msg(j); m.Type == "exported" {
			n++
			if e, _ := protocol.ParseExport(m.Export); e.By == "Old" {
				t.Error("an older export was sent")
			}
		}
	}
	if n != 2 {
		t.Errorf("the editor got %d exported messages, want 2 (the first once, then the second)", n)
	}
}
