package room

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/protocol"
)

// A session that used the last seq there is (2^53 − 1) is told so when it
// reuses one, not "the next is 2^53" (or 0, as an overflow once said).
func TestSeqAtCapRefusal(t *testing.T) {
	t.Parallel()
	st := openBolt(t)
	h := startHub(t, st, Config{Timing: shortTiming})
	id := createNote(t, st, "")
	a := join(t, h, id, Info{Name: "Last"})
	a.seat.Submit(protocol.MaxSeq, 0, op(t, "x"), nil, time.Now())
	a.waitFor(t, "ack", 0, isAck(protocol.MaxSeq, 1))
	a.seat.Submit(5, 1, op(t, 1, "y"), nil, time.Now())
	i := a.waitFor(t, "error", 0, isType("error"))
	if m := a.msg(i); m.Code != scribe.EINVALID || !strings.Contains(m.Message, "last sequence number") || strings.Contains(m.Message, "next is") {
		t.Fatalf("refusal: %s %q", m.Code, m.Message)
	}
	d, err := st.LoadNote(context.Background(), id)
	if err != nil || d.Text != "x" {
		t.Fatalf("note %q, %v", d.Text, err)
	}
}
