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

func TestMachineFullTextWelcomeDiscards(t *testing.T) {
	m := welcomed(t, "abc")
	_ = m.Edit(insert(t, 3, 0, "X"), nil, false)
	m.Outbox()
	m.Disconnected()
	evs, err := m.Welcome(&protocol.Msg{Type: "welcome", HasText: true, Text: "zzz", Rev: 9}, nil)
	var re *ResyncError
	if err != nil || len(evs) != 1 || !errors.As(evs[0].Err, &re) || re.Discarded.String() != `["X",3]` {
		t.Fatalf("welcome: %v %+v", err, evs)
	}
	if m.Text() != "zzz" || m.Revision() != 9 || m.Pending() {
		t.Fatalf("state %q %d %v", m.Text(), m.Revision(), m.Pending())
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
