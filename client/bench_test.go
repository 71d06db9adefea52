package client

import (
	"strings"
	"testing"

	"github.com/scribe-notes/scribe/internal/testframes"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// BenchmarkRemoteOps measures what a client spends per op it receives in a
// busy note: parsing a server frame of 20 ops, each carrying its author's
// cursor (as a typing crowd produces), applying them to its document and
// moving the authors' cursors, in the state machine (Machine.Receive). (The load tool uses lighter bots, but a Go
// bot or test client pays this.)
func BenchmarkRemoteOps(b *testing.B) {
	const batch = 20
	text := strings.Repeat("the quick brown fox jumps over the lazy dog\n", 500) // 22 KB
	frames := testframes.OpFrames(64, batch, ot.Len16(text))
	var m *Machine
	var msgs []protocol.Msg
	var evs []Event
	intern := make(map[string]string)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := i % len(frames)
		if f == 0 {
			b.StopTimer()
			m = NewMachine("")
			if _, err := m.Welcome(&protocol.Msg{Type: "welcome", HasText: true, Text: text}, nil); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		var err error
		msgs, err = protocol.ParseFrame(frames[f], msgs[:0], intern)
		if err != nil {
			b.Fatal(err)
		}
		var act Action
		evs, act = m.Receive(msgs, evs[:0])
		if m.Revision() != int64(f+1)*batch || act != (Action{}) {
			b.Fatalf("at revision %d after frame %d (%+v)", m.Revision(), f, act)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/op-received")
}
