package room

import (
	"context"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// staleShares is a real store whose ResolveShare still accepts every token
// of note: a join whose check ran just before the revocation landed.
type staleShares struct {
	scribe.Store
	note scribe.NoteID
}

func (s staleShares) ResolveShare(_ context.Context, t scribe.Token) (scribe.Share, error) {
	return scribe.Share{Token: t, NoteID: s.note}, nil
}

// A revocation heard by a room, from this node or another, refuses later
// joins with the token at once, even when the store's answer the join got
// predates the revocation (issue 12, item 6).
func TestRevokedTokenRefusesJoin(t *testing.T) {
	t.Parallel()
	st := openBolt(t)
	id := createNote(t, st, "")
	sh, err := st.CreateShare(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	stale := staleShares{st, id}
	h1 := startHub(t, stale, Config{Timing: shortTiming})
	h2 := startHub(t, stale, Config{Timing: shortTiming})
	join(t, h1, id, Info{Name: "Editor"}) // opens the room on node 1
	before := join(t, h1, id, Info{Name: "Viewer", ReadOnly: true, Token: sh.Token})

	if err := h2.Revoke(context.Background(), id, sh.Token); err != nil { // node 2 revokes
		t.Fatal(err)
	}
	before.waitClosed(t)
	_, err = h1.Join(context.Background(), id, newRecorder(), Info{Client: "c_late", Name: "Late", ReadOnly: true, Token: sh.Token})
	if scribe.ErrorCode(err) != scribe.ENOTFOUND {
		t.Fatalf("join with a revoked token: %v, want ENOTFOUND", err)
	}
}

// The token is checked again when the member joins (the hello), not only
// when the connection was upgraded.
func TestJoinRechecksToken(t *testing.T) {
	t.Parallel()
	st := openBolt(t)
	id := createNote(t, st, "")
	sh, err := st.CreateShare(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	h := startHub(t, st, Config{Timing: Timing{RevokeCheck: time.Hour}})
	join(t, h, id, Info{Name: "Editor"})
	if err := st.RevokeShare(context.Background(), sh.Token); err != nil { // no message: only the store knows
		t.Fatal(err)
	}
	_, err = h.Join(context.Background(), id, newRecorder(), Info{Client: "c_late", Name: "Late", ReadOnly: true, Token: sh.Token})
	if scribe.ErrorCode(err) != scribe.ENOTFOUND {
		t.Fatalf("join with a revoked token: %v, want ENOTFOUND", err)
	}
	other := createNote(t, st, "")
	sh2, err := st.CreateShare(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = h.Join(context.Background(), id, newRecorder(), Info{Client: "c_x", Name: "X", ReadOnly: true, Token: sh2.Token}); scribe.ErrorCode(err) != scribe.ENOTFOUND {
		t.Fatalf("join with another note's token: %v, want ENOTFOUND", err)
	}
}
