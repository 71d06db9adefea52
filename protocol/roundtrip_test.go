package protocol

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// fuzzOp builds a valid operation from fuzzed parts: retain, insert text,
// delete, retain.
func fuzzOp(retain, del uint16, text string) ot.Operation {
	op, err := ot.NewBuilder().Retain(int(retain)).Insert(text).Delete(int(del)).Retain(1).Build()
	if err != nil {
		return ot.Operation{}
	}
	return op
}

// Every server message the server encodes, ParseFrame reads back as the
// same message, alone and in a frame of several.
func FuzzServerRoundTrip(f *testing.F) {
	f.Add(int64(12), uint64(4), "c_Ab-_9", "Grâce 😀", "#1971c2", "x\"\n\u2028", 3, 5, true, "EINVALID", "Bad op.")
	f.Add(int64(0), uint64(1), "c_\"<>\\", "", "", "", 0, 0, false, "EINTERNAL", "")
	f.Fuzz(func(t *testing.T, rev int64, seq uint64, client, name, color, text string, anchor, head int, readonly bool, code, message string) {
		if !utf8.ValidString(client) || !utf8.ValidString(name) || !utf8.ValidString(color) || !utf8.ValidString(text) || !utf8.ValidString(code) || !utf8.ValidString(message) {
			return // encoding/json replaces invalid UTF-8: no round trip to expect
		}
		seq &= 1<<63 - 1 // ParseFrame reads integers as int64
		r := scribe.Revision(rev)
		op := fuzzOp(uint16(anchor), uint16(head), text)
		sel := []ot.Range{{Anchor: anchor, Head: head}}
		peer := Peer{Client: client, Name: name, Color: color, ReadOnly: readonly, Rev: r, Sel: sel}
		welcome := Welcome{Client: client, Rev: r, Text: &text, Title: message, ReadOnly: readonly, LastSeq: seq, Name: name, Color: color,
			Peers: []Peer{peer}, Limits: Limits{MaxMessageBytes: anchor, MaxNoteBytes: head, OpsPerSecond: 60.5}}
		var id *int64
		if readonly {
			id = &rev
		}
		errMsg := scribe.Errorf(code, "%s", message)

		frames := [][]byte{
			EncodeAck(seq, r),
			EncodeOp(r, json.RawMessage(op.String()), client, sel),
			EncodeOp(r, json.RawMessage(op.String()), "", nil),
			EncodePresence(peer),
			EncodeLeave(client),
			EncodePong(id),
			EncodeError(errMsg, &seq),
			EncodeError(errMsg, nil),
			EncodeWelcome(welcome),
		}
		var all []byte
		for i, fr := range frames {
			if i == 0 {
				all = append(all, '[')
			} else {
				all = append(all, ',')
			}
			all = append(all, fr...)
		}
		all = append(all, ']')
		batch, err := ParseFrame(all, nil, map[string]string{})
		if err != nil || len(batch) != len(frames) {
			t.Fatalf("ParseFrame(%s): %d messages, %v", all, len(batch), err)
		}
		for i, fr := range frames {
			ms, err := ParseFrame(fr, nil, nil)
			if err != nil || len(ms) != 1 {
				t.Fatalf("ParseFrame(%s): %v", fr, err)
			}
			m := ms[0]
			if b := batch[i]; !reflect.DeepEqual(m, b) {
				t.Fatalf("%s: alone %+v, in a frame %+v", fr, m, b)
			}
			checkSel := func(raw []byte, want []ot.Range) {
				got, err := ParseSel(raw)
				if err != nil || !reflect.DeepEqual([]ot.Range(got), want) {
					t.Fatalf("%s: sel %v %v, want %v", fr, got, err, want)
				}
			}
			switch i {
			case 0:
				if m.Type != "ack" || m.Seq != seq || !m.HasSeq || m.Rev != rev {
					t.Fatalf("%s: %+v", fr, m)
				}
			case 1, 2:
				if m.Type != "op" || m.Rev != rev || string(m.Op) != op.String() {
					t.Fatalf("%s: %+v", fr, m)
				}
				if i == 1 {
					if m.Client != client {
						t.Fatalf("%s: client %q", fr, m.Client)
					}
					checkSel(m.Sel, sel)
				} else if m.Client != "" || m.Sel != nil {
					t.Fatalf("%s: %+v", fr, m)
				}
			case 3:
				if m.Type != "presence" || m.Client != client || m.Name() != name || m.Color() != color || m.ReadOnly != readonly || m.Rev != rev ||
					!SameStr(m.NameRaw, name) || !SameStr(m.ColorRaw, color) {
					t.Fatalf("%s: %+v", fr, m)
				}
				checkSel(m.Sel, sel)
			case 4:
				if m.Type != "leave" || m.Client != client {
					t.Fatalf("%s: %+v", fr, m)
				}
			case 5:
				if m.Type != "pong" || m.HasID != (id != nil) || (id != nil && m.ID != *id) {
					t.Fatalf("%s: %+v", fr, m)
				}
			case 6, 7:
				if m.Type != "error" || m.Code != scribe.ErrorCode(errMsg) || m.Message != scribe.ErrorMessage(errMsg) || m.HasSeq != (i == 6) || (i == 6 && m.Seq != seq) {
					t.Fatalf("%s: %+v", fr, m)
				}
			case 8:
				if m.Type != "welcome" || m.Protocol != Version || m.Client != client || m.Rev != rev || m.Text != text || !m.HasText ||
					m.Title != message || m.ReadOnly != readonly || m.LastSeq != seq || m.Name() != name || m.Color() != color || m.Catchup {
					t.Fatalf("%s: %+v", fr, m)
				}
				var peers []Peer
				var limits Limits
				if err := json.Unmarshal(m.Peers, &peers); err != nil || !reflect.DeepEqual(peers, welcome.Peers) {
					t.Fatalf("%s: peers %+v %v", fr, peers, err)
				}
				if err := json.Unmarshal(m.Limits, &limits); err != nil || limits != welcome.Limits {
					t.Fatalf("%s: limits %+v %v", fr, limits, err)
				}
			}
		}
	})
}

// Every message a Go client encodes, the server decodes as the same
// message, whenever it is one the server accepts.
func FuzzClientRoundTrip(f *testing.F) {
	f.Add(int64(12), uint64(4), "x\"\n😀", 3, 5, "abcdefgh", "Ada", true, int64(7))
	f.Add(int64(0), uint64(1), "", 0, 0, "short", "  a\u0007 ", false, int64(-1<<53+1))
	f.Fuzz(func(t *testing.T, rev int64, seq uint64, text string, anchor, head int, session, name string, withSel bool, id int64) {
		op := fuzzOp(uint16(anchor), uint16(head), text)
		var sel []ot.Range
		if withSel {
			sel = []ot.Range{{Anchor: anchor, Head: head}, {Anchor: head, Head: anchor}}
		}
		validSel := anchor >= 0 && head >= 0 && anchor <= ot.MaxLength && head <= ot.MaxLength
		r := scribe.Revision(rev)

		decode := func(frame []byte) *ClientMsg {
			m, err := DecodeClientMsg(frame)
			if err != nil {
				t.Fatalf("DecodeClientMsg(%s): %v", frame, err)
			}
			return m
		}

		frame := AppendClientOp(nil, OpMsg{Rev: r, Seq: seq, Op: op, Sel: sel})
		got, err := decode(frame).OpMsg()
		want := OpMsg{Rev: r, Seq: seq, Op: op, Sel: sel}
		if ok := rev >= 0 && seq > 0 && (!withSel || validSel); ok != (err == nil) {
			t.Fatalf("%s: %+v %v", frame, got, err)
		} else if ok && !sameOpMsg(got, want) {
			t.Fatalf("%s: decoded %+v, sent %+v", frame, got, want)
		}

		frame = AppendClientPresence(nil, Presence{Rev: r, Sel: sel})
		p, err := decode(frame).Presence()
		wantSel := sel
		if wantSel == nil {
			wantSel = []ot.Range{}
		}
		if ok := rev >= 0 && (!withSel || validSel); ok != (err == nil) {
			t.Fatalf("%s: %+v %v", frame, p, err)
		} else if ok && (p.Rev != r || !reflect.DeepEqual(p.Sel, wantSel)) {
			t.Fatalf("%s: decoded %+v", frame, p)
		}

		if !utf8.ValidString(session) || !utf8.ValidString(name) {
			return // encoding/json replaces invalid UTF-8
		}
		h := Hello{Session: session, Name: name, Rev: r, HasRev: withSel}
		frame = EncodeHello(h)
		gh, err := decode(frame).Hello()
		clean, cerr := cleanName(name)
		if ok := scribe.ValidSession(session) && cerr == nil && (!withSel || rev >= 0); ok != (err == nil) {
			t.Fatalf("%s: %+v %v", frame, gh, err)
		} else if ok {
			h.Name = clean
			if !withSel {
				h.Rev = 0
			}
			if gh != h {
				t.Fatalf("%s: decoded %+v, sent %+v", frame, gh, h)
			}
		}

		frame = EncodeName(name)
		gn, err := decode(frame).NewName()
		if (err == nil) != (cerr == nil) || gn != clean {
			t.Fatalf("%s: %q %v, want %q %v", frame, gn, err, clean, cerr)
		}

		frame = EncodePing(&id)
		gid, err := decode(frame).PingID()
		if ok := id <= maxPingID && id >= -maxPingID; ok != (err == nil) || (ok && *gid != id) {
			t.Fatalf("%s: %v %v", frame, gid, err)
		}
		if gid, err := decode(EncodePing(nil)).PingID(); gid != nil || err != nil {
			t.Fatalf("ping without id: %v %v", gid, err)
		}
	})
}
