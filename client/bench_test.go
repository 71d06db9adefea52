package client

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// BenchmarkRemoteOps measures what a client spends per op it receives in a
// busy note: parsing a server frame of 20 ops, each carrying its author's
// cursor (as a typing crowd produces), applying them to its document and
// moving the authors' cursors. (The load tool uses lighter bots, but a Go
// bot or test client pays this.)
func BenchmarkRemoteOps(b *testing.B) {
	const batch = 20
	text := strings.Repeat("the quick brown fox jumps over the lazy dog\n", 500) // 22 KB
	doc, _ := ot.NewDocument(text)
	c := &Client{doc: doc, peers: make(map[string]*peerState)}
	n := doc.Len()
	frames := make([][]byte, 64)
	rev := int64(0)
	for f := range frames {
		var sb strings.Builder
		sb.WriteByte('[')
		for i := 0; i < batch; i++ {
			rev++
			pos := (int(rev) * 7919) % n
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"type":"op","rev":%d,"op":[%d,"x",%d],"client":"c_%02d","sel":[{"anchor":%d,"head":%d}]}`, rev, pos, n-pos, i, pos+1, pos+1)
			n++
		}
		sb.WriteByte(']')
		frames[f] = []byte(sb.String())
	}
	cn := &conn{}
	var msgs []protocol.Msg
	var evs []event
	intern := make(map[string]string)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := i % len(frames)
		if f == 0 {
			b.StopTimer()
			doc, _ = ot.NewDocument(text)
			c.doc, c.rev, c.conn = doc, 0, cn
			b.StartTimer()
		}
		var err error
		msgs, err = protocol.ParseFrame(frames[f], msgs[:0], intern)
		if err != nil {
			b.Fatal(err)
		}
		evs = evs[:0]
		c.handleLocked(cn, msgs, &evs)
		if c.rev != int64(f+1)*batch {
			b.Fatalf("at revision %d after frame %d", c.rev, f)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/op-received")
}
