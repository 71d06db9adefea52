//go:build unix

package server

import (
	"bufio"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// A tick's sweep gives each viewer what was sent up to its turn: a message
// sent while the sweep is under way reaches, in the same tick, the
// viewers it has not reached yet (one frame with both messages), and the
// others at the next tick. The viewers are swept in the order they
// joined, so the last to join is the one reached after the send.
func TestSweepTakesWhatCameMeanwhile(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a := newAudience(0, newMetrics(nil))
	const n = sweepLook + 1
	readers := make([]*bufio.Reader, n)
	for i := range n {
		cc, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		sc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close()
		c := &client{out: newOutbox(1<<20, func() { t.Error("a viewer's pump was started") }), raw: rawConnOf(sc)}
		c.out.running = false // joined, and caught up
		a.Add(c)
		_ = cc.SetReadDeadline(time.Now().Add(10 * time.Second)) // a failed test ends, not hangs
		readers[i] = bufio.NewReader(cc)
	}
	var once sync.Once
	sweepLooked = func(i int) {
		if i == sweepLook { // the last viewer is next, in the first tick
			once.Do(func() {
				a.Send([][]byte{[]byte(`"second"`)})
			})
		}
	}
	defer func() {
		a.writing.Lock() // the last tick has ended
		sweepLooked = nil
		a.writing.Unlock()
	}()
	a.Send([][]byte{[]byte(`"first"`)})
	for i, r := range readers {
		want := []string{`["first"]`, `["second"]`}
		if i == n-1 {
			want = []string{`["first","second"]`}
		}
		for _, w := range want {
			if got := readFrame(t, r); got != w {
				t.Fatalf("viewer %d of %d: frame %s, want %s", i, n, got, w)
			}
		}
	}
}

// readFrame reads one short unmasked text frame.
func readFrame(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatal(err)
	}
	if h[0] != 0x81 || h[1] >= 126 {
		t.Fatalf("frame header % x", h)
	}
	p := make([]byte, h[1])
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatal(err)
	}
	return string(p)
}
