package client

import (
	"testing"

	"github.com/scribe-notes/scribe/protocol"
)

// The hello after a reconnect carries the fingerprint of the server's text
// at the machine's revision: acknowledged and remote ops in, pending edits
// out (issue 12, item 11).
func TestHelloFingerprint(t *testing.T) {
	m := welcomed(t, "abc")
	h := m.Hello("session-1")
	if !h.HasRev || !h.HasFP || h.FP != protocol.FingerprintOf("abc") {
		t.Fatalf("hello after the welcome: %+v", h)
	}
	_ = m.Edit(insert(t, 3, 3, "d"), nil, false) // in flight
	_ = m.Edit(insert(t, 4, 0, ">"), nil, false) // buffered
	m.Outbox()
	if _, act := m.Receive([]protocol.Msg{remote(6, "c_x", `[1,"X",2]`)}, nil); act.Close != 0 {
		t.Fatal("remote op refused")
	}
	if h := m.Hello("session-1"); h.Rev != 6 || h.FP != protocol.FingerprintOf("aXbc") {
		t.Fatalf("hello with pending edits: rev %d, %+v (text %q)", h.Rev, h.FP, m.Text())
	}
	if _, act := m.Receive([]protocol.Msg{{Type: "ack", Seq: 1, Rev: 7}}, nil); act.Close != 0 {
		t.Fatal("ack refused")
	}
	if h := m.Hello("session-1"); h.Rev != 7 || h.FP != protocol.FingerprintOf("aXbcd") {
		t.Fatalf("hello after the ack: rev %d, %+v (text %q)", h.Rev, h.FP, m.Text())
	}
}
