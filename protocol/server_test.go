package protocol

import (
	"encoding/json"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// EncodeOp writes what encoding/json would for the same message.
func TestEncodeOp(t *testing.T) {
	type opJSON struct {
		Type   string          `json:"type"`
		Rev    scribe.Revision `json:"rev"`
		Op     json.RawMessage `json:"op"`
		Client string          `json:"client,omitempty"`
		Sel    *[]ot.Range     `json:"sel,omitempty"`
	}
	for _, tc := range []struct {
		rev    scribe.Revision
		op     string
		client string
		sel    []ot.Range
	}{
		{1, `[3,"a😀\"\n",-2]`, "c_Ab-_9", []ot.Range{{Anchor: 1, Head: 2}, {Anchor: 0, Head: 0}}},
		{0, `["x"]`, "", nil},
		{1<<53 - 1, `[-1]`, "c_x", []ot.Range{}},
		{42, `[1]`, "", []ot.Range{{Anchor: 123456789, Head: 0}}},
		{7, `[1]`, "c_\"<\u2028>\\", nil}, // no id the server makes, but one published by another node could be anything
	} {
		want := opJSON{Type: "op", Rev: tc.rev, Op: json.RawMessage(tc.op), Client: tc.client}
		if tc.sel != nil {
			want.Sel = &tc.sel
		}
		w, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if got := EncodeOp(tc.rev, json.RawMessage(tc.op), tc.client, tc.sel); string(got) != string(w) {
			t.Errorf("EncodeOp:\n got %s\nwant %s", got, w)
		}
	}
}

// The viewer count's encoding reads back through the client's parser.
func TestEncodeViewers(t *testing.T) {
	b := EncodeViewers(4950)
	if string(b) != `{"type":"viewers","viewers":4950}` {
		t.Fatalf("EncodeViewers = %s", b)
	}
	msgs, err := ParseFrame(b, nil, nil)
	if err != nil || len(msgs) != 1 || msgs[0].Type != "viewers" || msgs[0].Viewers != 4950 {
		t.Fatalf("parsed %+v, %v", msgs, err)
	}
}
