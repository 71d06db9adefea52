package server

import (
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scribe-notes/scribe/room"
)

// audience is a room's read-only viewers on this node (room.Audience): what
// the room sends them all alike is built into websocket frames once per
// tick and written to every caught-up viewer by one goroutine, each write a
// single system call that never waits.
//
// In an all-hands (thousands of viewers, docs/benchmarks.md, issue 16) the
// per-viewer path cost about 34 µs of server CPU per viewer per frame: a
// write pump goroutine woken, its timer, the frame copied into its buffer,
// a write deadline, the write. Here a viewer's frame costs the write.
//
// A viewer is caught up when its own outbox is empty and no write pump
// runs: then the shared writer borrows its connection (outbox.claim),
// writes the frame without blocking and gives it back (outbox.release).
// Whatever the socket did not take, the viewer's own write pump writes
// first, and owns the connection until it has written everything (the rest
// of the frame, then the later frames, queued in its outbox while it is
// not caught up). So a stalled viewer costs the others nothing, and it
// meets the bounds of every client: its outbox budget and writeWait. A
// viewer that has just joined has its welcome and catch-up in its outbox:
// it gets the ticks' messages queued behind them until it has caught up.
//
// Ticks are viewerWindow apart: the first message after a quiet spell goes
// out at once, later ones wait for the window to end, so a viewer gets at
// most one frame a window, the same for every viewer of the room.
type audience struct {
	window time.Duration
	whole  prometheus.Counter // frames written whole
	part   prometheus.Counter // frames begun, ended by the viewer's pump

	// writing is held while a tick writes (taken before mu): a viewer
	// closing with a flush waits for the tick under way (handOver), so
	// that what it took is written before the viewer's close frame.
	writing sync.Mutex

	mu      sync.Mutex
	viewers map[*client]int // each viewer, and how many of pending came before it joined
	pending [][]byte        // messages for the next tick
	due     bool            // a tick is scheduled or running
	last    time.Time       // when the last tick began

	// Owned by the running tick.
	targets []castTarget
}

type castTarget struct {
	c    *client
	from int
}

var _ room.Audience = (*audience)(nil)

func newAudience(window time.Duration, m *metrics) *audience {
	return &audience{
		window:  window,
		whole:   m.sharedFrames.WithLabelValues("whole"),
		part:    m.sharedFrames.WithLabelValues("part"),
		viewers: make(map[*client]int),
	}
}

// Add makes m a viewer of the audience (room.Audience).
func (a *audience) Add(m room.Member) {
	c := m.(*client)
	a.mu.Lock()
	a.viewers[c] = len(a.pending) // the welcome covers what is pending
	a.mu.Unlock()
	c.aud.Store(a)
}

// Remove takes m out of the audience (room.Audience).
func (a *audience) Remove(m room.Member) {
	c := m.(*client)
	c.aud.Store(nil)
	a.mu.Lock()
	delete(a.viewers, c)
	a.mu.Unlock()
}

// Send queues one turn's messages for the next tick (room.Audience).
func (a *audience) Send(msgs [][]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pending = append(a.pending, msgs...)
	a.scheduleLocked()
}

// scheduleLocked starts a tick for what is pending, at once or when the
// window since the last one ends, unless one is due already.
func (a *audience) scheduleLocked() {
	if a.due || len(a.pending) == 0 {
		return
	}
	a.due = true
	time.AfterFunc(time.Until(a.last.Add(a.window)), a.tick)
}

// handOver takes c out of the audience before it closes with a flush (a
// node shutting down): it waits for the tick under way, which may be
// writing to c, and queues what is pending for c in its outbox. Later
// calls do nothing.
func (a *audience) handOver(c *client) {
	a.writing.Lock()
	defer a.writing.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	from, ok := a.viewers[c]
	if !ok {
		return
	}
	delete(a.viewers, c)
	if from < len(a.pending) {
		c.out.pushAll(a.pending[from:])
	}
}

// tick writes what is pending to every viewer: one frame (or a few, past
// maxFrame) built once, written to each caught-up viewer; a viewer that is
// not gets the messages queued in its outbox, like any client.
func (a *audience) tick() {
	a.writing.Lock()
	defer a.writing.Unlock()
	a.mu.Lock()
	msgs := a.pending
	a.pending = nil
	a.last = time.Now()
	targets := a.targets[:0]
	for c, from := range a.viewers {
		targets = append(targets, castTarget{c, from})
		a.viewers[c] = 0
	}
	a.mu.Unlock()

	// A new array each tick: a viewer's pump may hold the end of this one.
	frame := appendFrames(nil, msgs)
	// The writes are split over the cores: each is a system call that
	// cannot be made cheaper, and a sweep over thousands on one
	// goroutine took longer than the window.
	parts := min(runtime.GOMAXPROCS(0), (len(targets)+sweepMin-1)/sweepMin)
	var wg sync.WaitGroup
	for k := 1; k < parts; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.sweep(targets[k*len(targets)/parts:(k+1)*len(targets)/parts], frame, msgs)
		}()
	}
	a.sweep(targets[:len(targets)/max(parts, 1)], frame, msgs)
	wg.Wait()
	clear(targets)
	a.targets = targets

	a.mu.Lock()
	a.due = false
	a.scheduleLocked()
	a.mu.Unlock()
}

// What deliverShared did.
const (
	sharedQueued = iota // the viewer was not caught up: msgs are in its outbox
	sharedWhole         // the frame was written
	sharedPart          // the frame was begun; the viewer's pump writes the rest
)

// sweepMin is the fewest viewers a tick gives a goroutine of its own.
const sweepMin = 512

// sweep writes frame, which holds msgs, to the viewers of targets.
func (a *audience) sweep(targets []castTarget, frame []byte, msgs [][]byte) {
	whole, part := 0, 0
	for _, t := range targets {
		switch {
		case t.from >= len(msgs):
		case t.from > 0:
			t.c.Deliver(msgs[t.from:], false) // it joined since the last tick: its welcome may not be written yet
		default:
			switch t.c.deliverShared(frame, msgs) {
			case sharedWhole:
				whole++
			case sharedPart:
				part++
			}
		}
	}
	a.whole.Add(float64(whole))
	a.part.Add(float64(part))
}

// deliverShared writes frame, which holds msgs, to a caught-up viewer
// without waiting, and queues msgs in its outbox otherwise.
func (c *client) deliverShared(frame []byte, msgs [][]byte) int {
	if c.raw == nil || !c.out.claim(func() { c.pumps.Add(1) }) {
		c.Deliver(msgs, false)
		return sharedQueued
	}
	defer c.pumps.Done()
	if n := writeNoWait(c.raw, frame); n < len(frame) {
		c.out.release(frame[n:])
		return sharedPart
	}
	c.out.release(nil)
	return sharedWhole
}

// writeRaw writes the end of a shared frame, begun by the room's writer,
// straight to the connection: gorilla's Conn is between frames.
func (c *client) writeRaw(b []byte, deadline time.Time) error {
	nc := c.conn.NetConn()
	_ = nc.SetWriteDeadline(deadline)
	_, err := nc.Write(b)
	return err
}

// appendFrames appends to buf msgs as server text frames (unmasked,
// uncompressed), each a JSON array of at most about maxFrame bytes.
func appendFrames(buf []byte, msgs [][]byte) []byte {
	for len(msgs) > 0 {
		n, size := 0, 1
		for n < len(msgs) && (n == 0 || size+len(msgs[n]) < maxFrame) {
			size += len(msgs[n]) + 1
			n++
		}
		buf = append(buf, 0x80|websocket.TextMessage)
		switch {
		case size < 126:
			buf = append(buf, byte(size))
		case size <= 0xffff:
			buf = append(buf, 126, byte(size>>8), byte(size))
		default:
			buf = append(buf, 127, 0, 0, 0, 0, byte(size>>24), byte(size>>16), byte(size>>8), byte(size))
		}
		sep := byte('[')
		for _, m := range msgs[:n] {
			buf = append(buf, sep)
			buf = append(buf, m...)
			sep = ','
		}
		buf = append(buf, ']')
		msgs = msgs[n:]
	}
	return buf
}

// writeNoWait writes b to the socket with one system call and never
// waits: it returns how much the socket took, 0 when it took nothing or
// failed (the viewer's pump then writes the rest, and meets the error or
// the deadline).
func writeNoWait(rc syscall.RawConn, b []byte) int {
	n := 0
	_ = rc.Write(func(fd uintptr) bool {
		n = writeFD(fd, b)
		return true
	})
	return n
}
