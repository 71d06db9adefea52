package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
)

// HistoryBudget checks a store opened with a history budget of budget
// bytes per note (issue 12: 110 insert/delete pairs of 200 KB grew the
// file by 33 MB while the note stayed 10 characters): pastes of 2,000
// characters, each deleted again, are accepted until the next would pass
// the budget; that one is refused whole with ETOOLARGE naming the limit,
// the note is unchanged, and another note still takes edits.
func HistoryBudget(t *testing.T, s scribe.Store, budget int64) {
	t.Helper()
	ctx := context.Background()
	n := mustCreate(t, s, "ten chars.")
	text, rev := "ten chars.", scribe.Revision(0)
	big := strings.Repeat("x", 2000)
	var refused error
	for seq := uint64(1); seq < 200 && refused == nil; seq++ {
		var op []byte
		if seq%2 == 1 {
			op = EditOp(text, Len(text), 0, big)
		} else {
			op = EditOp(text, 10, Len(big), "")
		}
		_, err := s.Append(ctx, n.ID, rev, []scribe.Change{ChangeOf("budget-1", seq, op)})
		if err != nil {
			refused = err
			break
		}
		rev++
		if text, err = Apply(text, op); err != nil {
			t.Fatal(err)
		}
	}
	if refused == nil {
		t.Fatalf("200 edits of 2,000 characters fit a history budget of %d bytes", budget)
	}
	wantCode(t, refused, scribe.ETOOLARGE, "the edit past the history budget")
	if msg := scribe.ErrorMessage(refused); !strings.Contains(msg, fmt.Sprint(budget)) {
		t.Errorf("the refusal %q does not name the limit %d", msg, budget)
	}
	if rev < 2 {
		t.Errorf("only %d edits were accepted under a budget of %d bytes", rev, budget)
	}
	if d := mustLoad(t, s, n.ID); d.Revision != rev || d.Text != text {
		t.Errorf("after the refusal the note is at %d %q, want %d %q", d.Revision, d.Text, rev, text)
	}
	other := mustCreate(t, s, "")
	mustAppend(t, s, other.ID, 0, ChangeOf("budget-2", 1, EditOp("", 0, 0, "fine")))
}
