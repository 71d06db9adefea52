package client

import (
	"errors"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// Table tests of the state machine alone: no server, no websocket.

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func welcomed(t *testing.T, text string) *Machine {
	t.Helper()
	m := NewMachine("bot")
	m.Now = func() time.Time { return t0 }
	m.Want = EvRemote | EvAck | EvError
	if _, err := m.Welcome(&protocol.Msg{Type: "welcome", Client: "me1", HasText: true, Text: text, Rev: 5}, nil); err != nil {
		t.Fatal(err)
	}
	m.Outbox()
	return m
}

func insert(t *testing.T, n, at int, s string) ot.Operation {
	t.Helper()
	op, err := ot.NewBuilder().Retain(at).Insert(s).Retain(n - at).Build()
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func remote(rev int64, client, op string) protocol.Msg {
	return protocol.Msg{Type: "op", Rev: rev, Client: client, Op: []byte(op)}
}

func TestMachineOneInFlightThenBuffer(t *testing.T) {
	m := welcomed(t, "abc")
	if err := m.Edit(insert(t, 3, 3, "d"), nil, false); err != nil {
		t.Fatal(err)
	}
	out := m.Outbox()
	if len(out) != 1 || out[0].Kind != OutOp || out[0].Op.Seq != 1 || out[0].Op.Rev != 5 {
		t.Fatalf("first edit: %+v", out)
	}
	_ = m.Edit(insert(t, 4, 4, "e"), nil, false)
	_ = m.Edit(insert(t, 5, 5, "f"), nil, false)
	if out := m.Outbox(); len(out) != 0 {
		t.Fatalf("edits behind an op in flight were sent: %+v", out)
	}
	evs, act := m.Receive([]protocol.Msg{{Type: "ack", Seq: 1, Rev: 6}}, nil)
	if act != (Action{}) || len(evs) != 1 || evs[0].Kind != EvAck || evs[0].Ack.Rev != 6 || !evs[0].Ack.Received.Equal(t0) {
		t.Fatalf("ack: %+v %+v", evs, act)
	}
	out = m.Outbox()
	if len(out) != 1 || out[0].Op.Seq != 2 || out[0].Op.Rev != 6 || out[0].Op.Op.String() != `[4,"ef"]` {
		t.Fatalf("buffer after the ack: %+v", out)
	}
	if m.Text() != "abcdef" || m.Revision() != 6 {
		t.Fatalf("text %q at %d", m.Text(), m.Revision())
	}
}

func TestMachineRemoteOpTransforms(t *testing.T) {
	m := welcomed(t, "abc")
	_ = m.Edit(insert(t, 3, 0, "X"), ot.Selection{{Anchor: 1, Head: 1}}, true) // in flight
	_ = m.Edit(insert(t, 4, 4, "Y"), nil, false)                               // buffer
	m.Outbox()
	evs, act := m.Receive([]protocol.Msg{remote(6, "other", `[1,"-",2]`)}, nil)
	if act != (Action{}) || len(evs) != 1 || evs[0].Remote.Rev != 6 {
		t.Fatalf("remote: %+v %+v", evs, act)
	}
	if got := m.Text(); got != "Xa-bcY" {
		t.Fatalf("text %q, want Xa-bcY", got)
	}
	if sel := m.Selection(); sel[0].Head != 1 {
		t.Fatalf("selection %v", sel)
	}
}

func TestMachineProtocolViolations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		msg    protocol.Msg
		reload bool
	}{
		{"gap", remote(8, "other", `[3]`), false},
		{"op does not fit", remote(6, "other", `[9,"x"]`), true},
		{"ack of nothing", protocol.Msg{Type: "ack", Seq: 7, Rev: 6}, true},
		{"second welcome", protocol.Msg{Type: "welcome"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := welcomed(t, "abc")
			evs, act := m.Receive([]protocol.Msg{tc.msg}, nil)
			if act.Close != closeProtocolError || len(evs) != 1 || evs[0].Kind != EvError {
				t.Fatalf("got %+v %+v", evs, act)
			}
			if h := m.Hello("s"); h.HasRev == tc.reload {
				t.Fatalf("hello after it: %+v, want reload %v", h, tc.reload)
			}
		})
	}
}

func TestMachineServerErrors(t *testing.T) {
	for _, tc := range []struct {
		code   string
		close  int
		retry  bool
		gone   bool
		reload bool
	}{
		{scribe.ERATELIMIT, 0, true, false, false},
		{scribe.EINTERNAL, closeNormal, false, false, false},
		{scribe.EUNAVAILABLE, closeNormal, false, false, false},
		{scribe.ENOTFOUND, closeNormal, false, true, false},
		{scribe.EINVALID, closeNormal, false, false, true},
	} {
		t.Run(tc.code, func(t *testing.T) {
			m := welcomed(t, "abc")
			_ = m.Edit(insert(t, 3, 0, "X"), nil, false)
			m.Outbox()
			evs, act := m.Receive([]protocol.Msg{{Type: "error", Code: tc.code, Seq: 1, HasSeq: true}}, nil)
			var se *ServerError
			if len(evs) != 1 || !errors.As(evs[0].Err, &se) || se.Code != tc.code {
				t.Fatalf("events %+v", evs)
			}
			if act.Close != tc.close || (act.Retry > 0) != tc.retry || (act.Gone != nil) != tc.gone {
				t.Fatalf("action %+v", act)
			}
			if tc.retry {
				m.RetryInflight(act.RetrySeq)
				if out := m.Outbox(); len(out) != 1 || out[0].Op.Seq != 1 {
					t.Fatalf("retry sent %+v", out)
				}
			}
			if h := m.Hello("s"); h.HasRev == tc.reload {
				t.Fatalf("hello %+v, want reload %v", h, tc.reload)
			}
		})
	}
}

func TestMachineCatchUpWelcome(t *testing.T) {
	for _, tc := range []struct {
		name    string
		lastSeq uint64
		resend  bool
	}{
		{"committed before the drop", 1, false},
		{"not committed", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := welcomed(t, "abc")
			_ = m.Edit(insert(t, 3, 0, "X"), nil, false)
			m.Outbox()
			m.Disconnected()
			if h := m.Hello("s"); !h.HasRev || h.Rev != 5 {
				t.Fatalf("hello %+v", h)
			}
			if _, err := m.Welcome(&protocol.Msg{Type: "welcome", Client: "me2", Catchup: true, LastSeq: tc.lastSeq}, nil); err != nil {
				t.Fatal(err)
			}
			out := m.Outbox()
			if (len(out) == 1 && out[0].Op.Seq == 1) != tc.resend {
				t.Fatalf("outbox %+v, want resend %v", out, tc.resend)
			}
			// Our op committed after the new welcome arrives as someone
			// else's op from our old connection: it is our ack.
			evs, act := m.Receive([]protocol.Msg{remote(6, "me1", `["X",3]`)}, nil)
			if act != (Action{}) || len(evs) != 1 || evs[0].Kind != EvAck || m.Text() != "Xabc" {
				t.Fatalf("own op: %+v %+v %q", evs, act, m.Text())
			}
		})
	}
}

// A full-text welcome merges the pending edits into the new text, as
// collab.js does (it used to discard them): the local text is the new text
// with the pending edits on top, and they go out again based on the new
// revision. Only a refused op's edits are dropped.
func TestMachineFullTextWelcomeMerges(t *testing.T) {
	for _, c := range []struct {
		name     string
		edits    []func(t *testing.T) ot.Operation // local edits on "abc" at rev 5; the first goes in flight as seq 1
		refused  bool                              // the server refused seq 1 before the drop
		text     string                            // the welcome's text, at rev 9
		lastSeq  uint64
		wantText string
		wantOp   string // the op sent after the welcome; "" for none
		wantSeq  uint64
		discard  bool // a ResyncError is reported
	}{
		{name: "nothing pending", text: "zzz", wantText: "zzz"},
		{name: "in flight, not committed", edits: []func(*testing.T) ot.Operation{
			func(t *testing.T) ot.Operation { return insert(t, 3, 0, "X") },
		}, text: "abcdef", wantText: "Xabcdef", wantOp: `["X",6]`, wantSeq: 1},
		{name: "in flight and buffer, others deleted around them", edits: []func(*testing.T) ot.Operation{
			func(t *testing.T) ot.Operation { return insert(t, 3, 1, "X") },
			func(t *testing.T) ot.Operation { return insert(t, 4, 4, "Y") },
		}, text: "c", wantText: "XcY", wantOp: `["X",1]`, wantSeq: 1},
		{name: "in flight committed, buffer resent", edits: []func(*testing.T) ot.Operation{
			func(t *testing.T) ot.Operation { return insert(t, 3, 0, "X") },
			func(t *testing.T) ot.Operation { return insert(t, 4, 2, "Y") },
		}, text: "Xabc!", lastSeq: 1, wantText: "XaYbc!", wantOp: `[2,"Y",3]`, wantSeq: 2},
		{name: "emoji", edits: []func(*testing.T) ot.Operation{
			func(t *testing.T) ot.Operation { return insert(t, 3, 3, "😀") },
		}, text: "ab😃c", wantText: "ab😃c😀", wantOp: `[5,"😀"]`, wantSeq: 1},
		{name: "refused", edits: []func(*testing.T) ot.Operation{
			func(t *testing.T) ot.Operation { return insert(t, 3, 0, "X") },
		}, refused: true, text: "abc", wantText: "abc", discard: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := welcomed(t, "abc")
			for _, e := range c.edits {
				if err := m.Edit(e(t), nil, false); err != nil {
					t.Fatal(err)
				}
			}
			m.Outbox()
			if c.refused {
				m.Receive([]protocol.Msg{{Type: "error", Code: "ETOOLARGE", Seq: 1, HasSeq: true}}, nil)
			}
			m.Disconnected()
			evs, err := m.Welcome(&protocol.Msg{Type: "welcome", HasText: true, Text: c.text, Rev: 9, LastSeq: c.lastSeq}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var re *ResyncError
			if discarded := len(evs) == 1 && errors.As(evs[0].Err, &re); discarded != c.discard || len(evs) > 1 {
				t.Fatalf("events %+v, want a ResyncError: %v", evs, c.discard)
			}
			if m.Text() != c.wantText || m.Revision() != 9 || m.Pending() != (c.wantOp != "") {
				t.Fatalf("state %q %d %v, want %q", m.Text(), m.Revision(), m.Pending(), c.wantText)
			}
			out := m.Outbox()
			switch {
			case c.wantOp == "" && len(out) != 0:
				t.Fatalf("sent %+v, want nothing", out)
			case c.wantOp != "" && (len(out) != 1 || out[0].Kind != OutOp || out[0].Op.Op.String() != c.wantOp || out[0].Op.Seq != c.wantSeq || out[0].Op.Rev != 9):
				t.Fatalf("sent %+v, want op seq %d %s at rev 9", out, c.wantSeq, c.wantOp)
			}
			// The merged edits keep working: the ack of what was sent (and of
			// the buffer behind it) brings the machine back in step.
			if c.wantOp != "" {
				if evs, _ := m.Receive([]protocol.Msg{{Type: "ack", Seq: c.wantSeq, Rev: 10}}, nil); len(evs) != 1 || evs[0].Kind != EvAck {
					t.Fatalf("ack: %+v", evs)
				}
				for _, o := range m.Outbox() {
					if evs, _ := m.Receive([]protocol.Msg{{Type: "ack", Seq: o.Op.Seq, Rev: m.Revision() + 1}}, nil); len(evs) != 1 {
						t.Fatalf("ack of the buffer: %+v", evs)
					}
				}
				if m.Pending() || m.server != nil || m.Text() != c.wantText {
					t.Fatalf("after the acks: pending %v, text %q", m.Pending(), m.Text())
				}
			}
		})
	}
}

func TestLeanMachineRemoteOps(t *testing.T) {
	// The lean machine over a run must end where the full one does.
	full, lean := welcomed(t, "abcdef"), NewLeanMachine("bot")
	if _, err := lean.Welcome(&protocol.Msg{Type: "welcome", HasText: true, Text: "abcdef", Rev: 5}, nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Machine{full, lean} {
		if err := m.Edit(insert(t, 6, 3, "X"), ot.Selection{{Anchor: 4, Head: 4}}, true); err != nil {
			t.Fatal(err)
		}
	}
	run := []ot.Operation{insert(t, 6, 0, "1"), insert(t, 7, 7, "2"), insert(t, 8, 4, "3")}
	for _, m := range []*Machine{full, lean} {
		if _, err := m.RemoteOps(run, nil); err != nil {
			t.Fatal(err)
		}
	}
	if full.Len() != lean.Len() || full.Revision() != lean.Revision() || full.Selection()[0] != lean.Selection()[0] ||
		full.inflight.op.String() != lean.inflight.op.String() {
		t.Fatalf("full %d %d %v %v, lean %d %d %v %v", full.Len(), full.Revision(), full.Selection(), full.inflight.op,
			lean.Len(), lean.Revision(), lean.Selection(), lean.inflight.op)
	}
}

// TestMachineExport: the welcome's export and later exported messages are
// the note's latest export; whether the note changed since follows the
// revision (remote ops) and our own pending edits; a malformed export
// breaks the protocol.
func TestMachineExport(t *testing.T) {
	m := NewMachine("bot")
	m.Want = EvExport
	w := protocol.Msg{Type: "welcome", Client: "me1", HasText: true, Text: "abc", Rev: 5,
		Export: []byte(`{"by":"Ana","commit":"0123456789ab","time":"2026-12-04T14:05:00Z","rev":5}`)}
	if _, err := m.Welcome(&w, nil); err != nil {
		t.Fatal(err)
	}
	if e, ok := m.LastExport(); !ok || e.By != "Ana" || e.Rev != 5 || m.ChangedSinceExport() {
		t.Fatalf("after the welcome: %+v, %v, changed %v", e, ok, m.ChangedSinceExport())
	}
	if err := m.Edit(insert(t, 3, 3, "d"), nil, false); err != nil {
		t.Fatal(err)
	}
	if !m.ChangedSinceExport() {
		t.Error("an edit in flight is not a change since the export")
	}
	m.Receive([]protocol.Msg{{Type: "ack", Seq: 1, Rev: 6}}, nil)
	if !m.ChangedSinceExport() {
		t.Error("revision 6 is not a change since the export of 5")
	}
	evs, act := m.Receive([]protocol.Msg{{Type: "exported", Export: []byte(`{"by":"Bo","commit":"fedcba987654","time":"2026-12-04T14:10:00Z","rev":6}`)}}, nil)
	if act != (Action{}) || len(evs) != 1 || evs[0].Kind != EvExport || evs[0].Export.By != "Bo" || m.ChangedSinceExport() {
		t.Fatalf("exported: %+v %+v, changed %v", evs, act, m.ChangedSinceExport())
	}
	m.Receive([]protocol.Msg{remote(7, "c_2", `[4,"x"]`)}, nil)
	if !m.ChangedSinceExport() {
		t.Error("someone else's edit is not a change since the export")
	}
	if _, act := m.Receive([]protocol.Msg{{Type: "exported", Export: []byte(`{"by":"Bo"}`)}}, nil); act.Close == 0 {
		t.Error("an export without a commit was taken")
	}
	never := welcomed(t, "x")
	if _, ok := never.LastExport(); ok || never.ChangedSinceExport() {
		t.Error("a note never exported has an export")
	}
}
