package room

import (
	"testing"
)

// A catch-up larger than CatchupBytes (the client's send limit) is not
// queued: a viewer or editor with an old revision gets the full text, and
// what is queued for it stays under the limit (issue 12, item 4: four
// viewers that never read added 137 MB of heap on 31 MB of history).
func TestCatchupWithinSendLimit(t *testing.T) {
	t.Parallel()
	st := openBolt(t)
	const limit = 64 << 10
	h := startHub(t, st, Config{Timing: shortTiming, CatchupBytes: limit})
	id := createNote(t, st, "")
	sh, err := st.CreateShare(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	head := bigHistory(t, h, id, 20, 16<<10) // about 160 KiB of history, all in memory
	for _, info := range []Info{
		{Name: "Viewer", ReadOnly: true, Token: sh.Token, HasRev: true, Rev: 0},
		{Name: "Editor", HasRev: true, Rev: 0},
	} {
		m := join(t, h, id, info)
		w := m.msg(0)
		if w.Catchup || !w.HasText || w.Rev != int64(head) {
			t.Fatalf("%s's welcome: catchup %v, text %v, rev %d", info.Name, w.Catchup, w.HasText, w.Rev)
		}
		if queued := m.bytes(); queued > limit {
			t.Fatalf("%s: %d bytes queued, over the send limit %d", info.Name, queued, limit)
		}
	}
	// A catch-up within the limit is still sent as one.
	m := join(t, h, id, Info{Name: "Recent", HasRev: true, Rev: head - 2})
	if w := m.msg(0); !w.Catchup || m.msg(1).Type != "op" || m.msg(2).Type != "op" {
		t.Fatalf("recent client: catchup %v, then %s, %s", w.Catchup, m.msg(1).Type, m.msg(2).Type)
	}
}

// bytes is what the member has been handed, in encoded bytes.
func (r *recorder) bytes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.raw {
		n += len(m)
	}
	return n
}
