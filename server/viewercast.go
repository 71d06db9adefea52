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
//
// A tick is a sweep over the viewers in the order they joined (the same
// order every tick), and each viewer gets everything sent up to the moment
// the sweep reaches it, not only what was pending when the tick began: the
// sweep looks again every sweepLook viewers. At 5,000 viewers a sweep is
// as long as the window or longer (docs/benchmarks.md, issue 16), and
// before, an op that came during a sweep waited for the next tick and then
// for its viewer's place in a sweep in a new (random) order, up to two
// sweeps and a window; now it waits for its viewer's next turn, at most a
// tick apart from its last. Viewers reached between two looks share a
// frame, built once.
type audience struct {
	window time.Duration
	whole  prometheus.Counter // frames written whole
	part   prometheus.Counter // frames begun, ended by the viewer's pump

	// writing is held while a tick writes (taken before mu): a viewer
	// closing with a flush waits for the tick under way (handOver), so
	// that what it took is written before the viewer's close frame.
	writing sync.Mutex

	mu      sync.Mutex
	viewers map[*client]int64 // each viewer and the index of the first message it has not had
	order   []*client         // the viewers in the order they joined (some may have left)
	base    int64             // the index of sent[0]
	sent    [][]byte          // the messages since the last tick began that some viewer has not had
	due     bool              // a tick is scheduled or running
	last    time.Time         // when the last tick began

	// Owned by the running tick.
	targets []castTarget
}

type castTarget struct {
	c    *client
	from int64 // the index of the first message it has not had
}

var _ room.Audience = (*audience)(nil)

func newAudience(window time.Duration, m *metrics) *audience {
	return &audience{
		window:  window,
		whole:   m.sharedFrames.WithLabelValues("whole"),
		part:    m.sharedFrames.WithLabelValues("part"),
		viewers: make(map[*client]int64),
	}
}

// Add makes m a viewer of the audience (room.Audience).
func (a *audience) Add(m room.Member) {
	c := m.(*client)
	a.mu.Lock()
	a.viewers[c] = a.base + int64(len(a.sent)) // the welcome covers what was sent
	a.order = append(a.order, c)
	a.mu.Unlock()
	c.aud.Store(a)
}

// Remove takes m out of the audience (room.Audience).
func (a *audience) Remove(m room.Member) {
	c := m.(*client)
	c.aud.Store(nil)
	a.mu.Lock()
	delete(a.viewers, c)
	if len(a.order) > 2*len(a.viewers)+64 { // a quiet note, whose ticks do not tidy order
		order := a.order[:0]
		for _, c := range a.order {
			if _, ok := a.viewers[c]; ok {
				order = append(order, c)
			}
		}
		clear(a.order[len(order):])
		a.order = order
	}
	a.mu.Unlock()
}

// Send queues one turn's messages for the viewers (room.Audience).
func (a *audience) Send(msgs [][]byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent = append(a.sent, msgs...)
	a.scheduleLocked()
}

// scheduleLocked starts a tick for what some viewer has not had, at once
// or when the window since the last one ends, unless one is due already.
func (a *audience) scheduleLocked() {
	if a.due || len(a.sent) == 0 {
		return
	}
	a.due = true
	time.AfterFunc(time.Until(a.last.Add(a.window)), a.tick)
}

// handOver takes c out of the audience before it closes with a flush (a
// node shutting down): it waits for the tick under way, which may be
// writing to c, and queues what c has not had in its outbox. Later calls
// do nothing.
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
	if k := from - a.base; k < int64(len(a.sent)) {
		c.out.pushAll(a.sent[max(k, 0):])
	}
}

// tick sweeps the viewers: to each, one frame (or a few, past maxFrame)
// of what it has not had, written at once when it is caught up, queued in
// its outbox, like any client's messages, when it is not.
func (a *audience) tick() {
	a.writing.Lock()
	defer a.writing.Unlock()
	a.mu.Lock()
	a.last = time.Now()
	start := a.base + int64(len(a.sent)) // every viewer has had this much when the sweep ends
	targets := a.targets[:0]
	order := a.order[:0]
	for _, c := range a.order {
		if from, ok := a.viewers[c]; ok {
			order = append(order, c)
			targets = append(targets, castTarget{c, from})
		}
	}
	clear(a.order[len(order):])
	a.order = order
	a.mu.Unlock()

	// The writes are split over the cores: each is a system call that
	// cannot be made cheaper, and a sweep over thousands on one
	// goroutine took longer than the window.
	parts := min(runtime.GOMAXPROCS(0), (len(targets)+sweepMin-1)/sweepMin)
	var wg sync.WaitGroup
	for k := 1; k < parts; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.sweep(targets[k*len(targets)/parts : (k+1)*len(targets)/parts])
		}()
	}
	a.sweep(targets[:len(targets)/max(parts, 1)])
	wg.Wait()

	a.mu.Lock()
	for _, t := range targets {
		if _, ok := a.viewers[t.c]; ok {
			a.viewers[t.c] = t.from
		}
	}
	// What every viewer has had is dropped; a new array, as the end of the
	// old one may still be read by handOver's pushes.
	if k := int(start - a.base); k > 0 {
		a.sent = append([][]byte(nil), a.sent[k:]...)
		a.base = start
	}
	a.due = false
	a.scheduleLocked()
	a.mu.Unlock()
	clear(targets)
	a.targets = targets
}

// What deliverShared did.
const (
	sharedQueued = iota // the viewer was not caught up: msgs are in its outbox
	sharedWhole         // the frame was written
	sharedPart          // the frame was begun; the viewer's pump writes the rest
)

// sweepMin is the fewest viewers a tick gives a goroutine of its own.
const sweepMin = 512

// sweepLook is how many viewers a sweep reaches between two looks at what
// was sent meanwhile.
const sweepLook = 64

// sweepLooked, when set (tests), is called before each look with the
// index of the next viewer in the sweep's part.
var sweepLooked func(i int)

// sweep writes to the viewers of targets what each has not had, and
// advances their from.
func (a *audience) sweep(targets []castTarget) {
	whole, part := 0, 0
	var (
		base  int64
		msgs  [][]byte // the messages from base, as the last look saw them
		from  int64    = -1
		frame []byte   // msgs[from-base:] as a frame, built for the first viewer that needed it
	)
	for i := range targets {
		t := &targets[i]
		if i%sweepLook == 0 {
			if sweepLooked != nil {
				sweepLooked(i)
			}
			a.mu.Lock()
			if a.base != base || len(a.sent) != len(msgs) {
				base, msgs, from = a.base, a.sent, -1
			}
			a.mu.Unlock()
		}
		end := base + int64(len(msgs))
		if t.from >= end {
			continue
		}
		todo := msgs[max(t.from-base, 0):]
		if t.from != from {
			from, frame = t.from, nil
		}
		switch t.c.deliverShared(&frame, todo) {
		case sharedWhole:
			whole++
		case sharedPart:
			part++
		}
		t.from = end
	}
	a.whole.Add(float64(whole))
	a.part.Add(float64(part))
}

// deliverShared writes msgs to a caught-up viewer without waiting, and
// queues them in its outbox otherwise. *frame is msgs as frames, built
// here when nil: the same array for every viewer given it, never changed
// once built (a viewer's pump may write the end of it).
func (c *client) deliverShared(frame *[]byte, msgs [][]byte) int {
	if c.raw == nil || !c.out.claim(func() { c.pumps.Add(1) }) {
		c.Deliver(msgs, false)
		return sharedQueued
	}
	defer c.pumps.Done()
	if *frame == nil {
		*frame = appendFrames(nil, msgs)
	}
	if n := writeNoWait(c.raw, *frame); n < len(*frame) {
		frame := *frame
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
