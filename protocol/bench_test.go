package protocol

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// Each hand-written fast path of the wire format against encoding/json
// doing the same job: the figures that justify keeping it (docs/benchmarks.md).

// keystroke is an op frame as a browser sends one per keystroke.
const keystroke = `{"type":"op","rev":18342,"seq":57,"op":[8123,"x",31877],"sel":[{"anchor":8124,"head":8124}]}`

// BenchmarkDecodeOp decodes and validates one keystroke's op frame: the
// server's decodeOpFast against encoding/json into ClientMsg (the path every
// other frame takes).
func BenchmarkDecodeOp(b *testing.B) {
	frame := []byte(keystroke)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, err := DecodeClientMsg(frame)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := m.OpMsg(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m ClientMsg
			if err := json.Unmarshal(frame, &m); err != nil {
				b.Fatal(err)
			}
			if _, err := m.OpMsg(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// opJSON is an op message as encoding/json writes it.
type opJSON struct {
	Type   string          `json:"type"`
	Rev    scribe.Revision `json:"rev"`
	Op     json.RawMessage `json:"op"`
	Client string          `json:"client,omitempty"`
	Sel    []ot.Range      `json:"sel,omitempty"`
}

// BenchmarkEncodeOp encodes the op message broadcast for one keystroke:
// EncodeOp against json.Marshal of the same fields.
func BenchmarkEncodeOp(b *testing.B) {
	op := json.RawMessage(`[8123,"x",31877]`)
	sel := []ot.Range{{Anchor: 8124, Head: 8124}}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = EncodeOp(18342, op, "c_Ab3CdEfG", sel)
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(opJSON{Type: "op", Rev: 18342, Op: op, Client: "c_Ab3CdEfG", Sel: sel}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncodeAck encodes one ack: EncodeAck against json.Marshal.
func BenchmarkEncodeAck(b *testing.B) {
	type ackJSON struct {
		Type string          `json:"type"`
		Seq  uint64          `json:"seq"`
		Rev  scribe.Revision `json:"rev"`
	}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = EncodeAck(57, 18342)
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(ackJSON{"ack", 57, 18342}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// msgJSON is what a Go client would decode a server message into with
// encoding/json: the fields ParseFrame fills (raw JSON where it keeps it raw).
type msgJSON struct {
	Type     string          `json:"type"`
	Protocol int             `json:"protocol"`
	Client   string          `json:"client"`
	Rev      int64           `json:"rev"`
	Seq      *uint64         `json:"seq"`
	Op       json.RawMessage `json:"op"`
	Sel      json.RawMessage `json:"sel"`
	Name     string          `json:"name"`
	Color    string          `json:"color"`
	ReadOnly bool            `json:"readonly"`
	Code     string          `json:"code"`
	Message  string          `json:"message"`
	Text     *string         `json:"text"`
	Title    string          `json:"title"`
	LastSeq  uint64          `json:"lastSeq"`
	Catchup  bool            `json:"catchup"`
	Peers    json.RawMessage `json:"peers"`
	Limits   json.RawMessage `json:"limits"`
}

// busyFrame is a server frame of 20 ops, each with its author's cursor, and
// an ack: what a client in a busy note reads.
func busyFrame() []byte {
	var sb strings.Builder
	sb.WriteByte('[')
	for i := range 20 {
		fmt.Fprintf(&sb, `{"type":"op","rev":%d,"op":[%d,"x",%d],"client":"c_Ab%dCdEf","sel":[{"anchor":%d,"head":%d}]},`, 18342+i, 1000+7*i, 90000-7*i, i%5, 1001+7*i, 1001+7*i)
	}
	sb.WriteString(`{"type":"ack","seq":57,"rev":18362}]`)
	return []byte(sb.String())
}

// BenchmarkParseFrame parses a busy note's server frame: ParseFrame (with
// the client-id interning package client uses), ParseFrameLean (the load tool's
// bots) and json.Unmarshal into a slice of structs.
func BenchmarkParseFrame(b *testing.B) {
	frame := busyFrame()
	b.Run("hand", func(b *testing.B) {
		var msgs []Msg
		intern := map[string]string{}
		b.SetBytes(int64(len(frame)))
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if msgs, err = ParseFrame(frame, msgs[:0], intern); err != nil || len(msgs) != 21 {
				b.Fatal(err)
			}
		}
	})
	b.Run("lean", func(b *testing.B) {
		var msgs []Msg
		b.SetBytes(int64(len(frame)))
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if msgs, err = ParseFrameLean(frame, msgs[:0]); err != nil || len(msgs) != 21 {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.SetBytes(int64(len(frame)))
		b.ReportAllocs()
		for b.Loop() {
			var msgs []msgJSON
			if err := json.Unmarshal(frame, &msgs); err != nil || len(msgs) != 21 {
				b.Fatal(err)
			}
		}
	})
}
