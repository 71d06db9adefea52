package server

import "sync"

// outbox is a client's bounded send queue. The session (and the client's own
// read pump, for errors and pongs) push encoded messages; the write pump takes
// everything queued at once and sends it as one frame. A push never blocks:
// when the queue would exceed its byte budget it refuses, and the caller
// disconnects the client (close 4000) instead of waiting for it.
//
// A message is urgent when the client waits for it (an ack, an error, a
// pong, the welcome): the write pump sends it at once. Other people's ops
// and presence may wait a few milliseconds for more to share their frame.
//
// A push wakes the write pump only when it has to: when the pump is idle
// (it sleeps until something is queued), or for an urgent message. While
// the pump rests after a frame (writePump's quiet period) other messages
// just queue. In a busy note a commit reaches hundreds of clients; waking
// every write pump for every commit filled the scheduler's run queue and
// delayed everything else, the session's own goroutine included.
type outbox struct {
	mu     sync.Mutex
	msgs   [][]byte
	bytes  int
	limit  int
	urgent bool // an urgent message is queued
	idle   bool // the write pump waits for wake
	closed bool
	wake   chan struct{} // capacity 1: the pump should look at the queue
}

func newOutbox(limit int) *outbox {
	return &outbox{limit: limit, wake: make(chan struct{}, 1)}
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
	wake := o.idle || urgent
	o.idle = false
	o.mu.Unlock()
	if wake {
		o.signal()
	}
	return true
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
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
	o.idle = false
	o.mu.Unlock()
	o.signal()
}

// rest tells the outbox that the pump sleeps until woken (idle) or until
// its quiet period ends (not idle: only urgent messages wake it). It
// reports whether anything is queued, in which case the pump should not
// sleep idle.
func (o *outbox) rest(idle bool) (queued bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	queued = len(o.msgs) > 0
	o.idle = idle && !queued
	return queued
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

// close makes every later push fail and drops what is queued when drop is set.
func (o *outbox) close(drop bool) {
	o.mu.Lock()
	o.closed = true
	if drop {
		o.msgs = nil
		o.bytes = 0
		o.urgent = false
	}
	o.mu.Unlock()
}
