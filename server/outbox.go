package server

import "sync"

// outbox is a client's bounded send queue. The session (and the client's own
// read pump, for errors and pongs) push encoded messages; a write pump takes
// everything queued at once and sends it as one frame. A push never blocks:
// when the queue would exceed its byte budget it refuses, and the caller
// disconnects the client (close 4000) instead of waiting for it.
//
// A message is urgent when the client waits for it (an ack, an error, a
// pong, the welcome): the write pump sends it at once. Other people's ops
// and presence may wait a few milliseconds for more to share their frame.
//
// The write pump runs only while there is something to write: the outbox
// starts one (start) when a message comes and none runs, and the pump ends
// when it finds nothing more to send (next reports pumpEnd). An idle
// connection, most of them in a meeting, has no pump goroutine, no timer
// and no queue; it costs only its read pump. There is at most one pump at a
// time (running), so a connection still has a single writer. A viewer's
// connection may also be lent to its note's shared writer while it is
// caught up (claim, release; viewercast.go): running is then set too.
//
// A running pump is woken only for an urgent message: while it rests after
// a frame (writePump's quiet period) other messages just queue. In a busy
// note a commit reaches hundreds of clients; waking every write pump for
// every commit filled the scheduler's run queue and delayed everything
// else, the session's own goroutine included.
type outbox struct {
	mu     sync.Mutex
	msgs   [][]byte
	bytes  int
	limit  int
	urgent bool // an urgent message is queued
	ping   bool // a ping is due
	// running: a write pump runs, the shared writer has the connection
	// (claim), or the outbox is held (it starts held:
	// nothing may be written before the connection has joined, and
	// closed keeps it set so that only the last pump finishes the
	// connection).
	running bool
	closed  bool
	// rest is the end of a frame the room's shared writer began and could
	// not finish without waiting (viewercast.go): the pump writes it
	// before anything else.
	rest  []byte
	wake  chan struct{} // capacity 1: a resting pump should look at the queue
	start func()        // starts a write pump; called with mu held, so it must not block
}

// newOutbox returns a held outbox: the caller starts the first pump.
func newOutbox(limit int, start func()) *outbox {
	return &outbox{limit: limit, wake: make(chan struct{}, 1), start: start, running: true}
}

// push queues msg. It reports false, queuing nothing, when the queue is over
// its budget (the client is too slow) or closed.
func (o *outbox) push(msg []byte, urgent bool) bool {
	return o.pushMany([][]byte{msg}, urgent)
}

// pushMany queues msgs, in order, or none of them when they would take the
// queue over its budget or it is closed (then it reports false).
func (o *outbox) pushMany(msgs [][]byte, urgent bool) bool {
	size := 0
	for _, m := range msgs {
		size += len(m)
	}
	o.mu.Lock()
	if o.closed || o.bytes+size > o.limit {
		o.mu.Unlock()
		return false
	}
	o.msgs = append(o.msgs, msgs...)
	o.bytes += size
	o.urgent = o.urgent || urgent
	o.wakeLocked(urgent)
	return true
}

// wakeLocked starts a pump when none runs, or wakes the running one when
// urgent, and unlocks mu. The pump is started under mu, so that whoever
// sees running set (close, then the wait for the pumps) also sees it
// counted.
func (o *outbox) wakeLocked(urgent bool) {
	if !o.running {
		o.running = true
		o.start()
		o.mu.Unlock()
		return
	}
	o.mu.Unlock()
	if urgent {
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
}

// pushAll queues msgs regardless of the budget: it is used once, for the
// welcome and the catch-up that must precede everything else.
func (o *outbox) pushAll(msgs [][]byte) {
	o.mu.Lock()
	for _, m := range msgs {
		o.msgs = append(o.msgs, m)
		o.bytes += len(m)
	}
	o.urgent = true
	o.wakeLocked(true)
}

// pingDue asks for a ping to be sent, starting a pump if none runs.
func (o *outbox) pingDue() {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.ping = true
	o.wakeLocked(false)
}

// What a write pump should do next (outbox.next).
const (
	pumpWrite = iota // messages are queued or a ping is due: write them
	pumpClose        // the connection is closing: finish it
	pumpEnd          // nothing to do: the pump ends, the next push starts another
)

// next tells the running pump what to do. When it reports pumpEnd the pump
// must return: the outbox has let go of it (and of the queue's memory).
func (o *outbox) next() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.closed:
		return pumpClose
	case len(o.msgs) > 0 || o.ping || o.rest != nil:
		return pumpWrite
	}
	o.running = false
	o.msgs = nil
	return pumpEnd
}

// claim lends the connection to the shared writer of a viewer's room
// (viewercast.go) when the viewer is caught up: no pump runs, nothing is
// queued, no ping is due. hold is called under the lock when it does,
// so that a close's wait for the writers counts the shared one. Until
// release, a push only queues, as with a running pump.
func (o *outbox) claim(hold func()) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.running || o.closed || len(o.msgs) > 0 || o.ping {
		return false
	}
	o.running = true
	hold()
	return true
}

// release ends a claim. rest, unless nil, is the unwritten end of the
// shared frame: a pump starts to write it, as it does when something was
// queued, a ping fell due or the connection closed meanwhile.
func (o *outbox) release(rest []byte) {
	o.mu.Lock()
	o.rest = rest
	if rest != nil || o.closed || len(o.msgs) > 0 || o.ping {
		o.start()
	} else {
		o.running = false
	}
	o.mu.Unlock()
}

// takeRest returns the end of a shared frame to be written first, if any,
// and clears it.
func (o *outbox) takeRest() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := o.rest
	o.rest = nil
	return r
}

// takePing reports whether a ping is due, and clears it.
func (o *outbox) takePing() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	p := o.ping
	o.ping = false
	return p
}

// isUrgent reports whether an urgent message is queued.
func (o *outbox) isUrgent() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.urgent
}

// take removes and returns everything queued. spare, a slice take returned
// before and the caller is done with, is reused for the next messages.
func (o *outbox) take(spare [][]byte) [][]byte {
	o.mu.Lock()
	msgs := o.msgs
	clear(spare)
	o.msgs = spare[:0]
	o.bytes = 0
	o.urgent = false
	o.mu.Unlock()
	return msgs
}

// close makes every later push fail and drops what is queued when drop is
// set. It starts a pump, to finish the connection, when none runs.
func (o *outbox) close(drop bool) {
	o.mu.Lock()
	o.closed = true
	if drop {
		o.msgs = nil
		o.bytes = 0
		o.urgent = false
	}
	o.wakeLocked(false)
}
