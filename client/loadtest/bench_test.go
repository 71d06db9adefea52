package loadtest

import (
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe/client"
	"github.com/scribe-notes/scribe/internal/testframes"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// BenchmarkBotRemoteOps measures what a bot spends per op it receives in a
// busy note (the load tool's hot path, times 500 bots): frames of 20 ops,
// each with its author's cursor, as a typing crowd produces, already
// recorded in the run's refLog by another bot (so recognised by their
// bytes). "idle": nothing of the bot's own pending; "inflight": an op of
// its own in flight, moved over each frame's run of ops at once;
// "buffered": an op in flight and another typed behind it, the state a
// typing bot no longer gets into (it holds its keystrokes instead: see
// botConn), measured for the comparison.
func BenchmarkBotRemoteOps(b *testing.B) {
	const batch, text = 20, 20000
	frames := testframes.OpFrames(64, batch, text)
	log := &refLog{}
	if err := log.welcome(0, strings.Repeat("x", text)); err != nil {
		b.Fatal(err)
	}
	first := newBenchBot(log, text, 0)
	for _, f := range frames {
		if err := first.handleFrame(f, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	for pending, name := range []string{"idle", "inflight", "buffered"} {
		b.Run(name, func(b *testing.B) {
			var bot *botConn
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f := i % len(frames)
				if f == 0 {
					b.StopTimer()
					bot = newBenchBot(log, text, pending)
					b.StartTimer()
				}
				if err := bot.handleFrame(frames[f], now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/op-received")
		})
	}
}

// newBenchBot returns a bot without a connection at revision 0 of a text of
// n units, with its cursor at 10 and pending insertions there: the first in
// flight, the second in the buffer.
func newBenchBot(log *refLog, n int, pending int) *botConn {
	m := client.NewLeanMachine("bench")
	m.Want = client.EvAck // remote ops are reported by revision, from remote
	if _, err := m.Welcome(&protocol.Msg{Type: "welcome", HasText: true, Text: strings.Repeat("x", n)}, nil); err != nil {
		panic(err)
	}
	if err := m.Select(ot.Selection{{Anchor: 10, Head: 10}}); err != nil {
		panic(err)
	}
	for k := 0; k < pending; k++ {
		op, _ := ot.NewBuilder().Retain(10 + k).Insert("y").Retain(n - 10).Build()
		if err := m.Edit(op, ot.Selection{{Anchor: 11 + k, Head: 11 + k}}, true); err != nil {
			panic(err)
		}
	}
	m.Outbox()
	return &botConn{log: log, m: m, onRemote: func(int64, int64, time.Time) {}}
}
