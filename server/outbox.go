package server

import "sync"

// outbox is a client's bounded send queue. The session (and the client's own
// read pump, for errors and pongs) push encoded messages; the write pump takes
// everything queued at once and sends it as one frame. push never blocks: when
// the queue would exceed its byte budget it refuses, and the caller
// disconnects the client (close 4000) instead of waiting for it.
type outbox struct {
	mu     sync.Mutex
	msgs   [][]byte
	bytes  int
	limit  int
	closed bool
	notify chan struct{} // capacity 1: "something is queued"
}

func newOutbox(limit int) *outbox {
	return &outbox{limit: limit, notify: make(chan struct{}, 1)}
}

// push queues msg. It reports false, queuing nothing, when the queue is over
// its budget (the client is too slow) or closed.
func (o *outbox) push(msg []byte) bool {
	o.mu.Lock()
	if o.closed || o.bytes+len(msg) > o.limit {
		o.mu.Unlock()
		return false
	}
	o.msgs = append(o.msgs, msg)
	o.bytes += len(msg)
	o.mu.Unlock()
	select {
	case o.notify <- struct{}{}:
	default:
	}
	return true
}

// pushAll queues msgs regardless of the budget: it is used once, for the
// welcome and the catch-up that must precede everything else.
func (o *outbox) pushAll(msgs [][]byte) {
	o.mu.Lock()
	for _, m := range msgs {
		o.msgs = append(o.msgs, m)
		o.bytes += len(m)
	}
	o.mu.Unlock()
	select {
	case o.notify <- struct{}{}:
	default:
	}
}

// take removes and returns everything queued.
func (o *outbox) take() [][]byte {
	o.mu.Lock()
	msgs := o.msgs
	o.msgs = nil
	o.bytes = 0
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
	}
	o.mu.Unlock()
}
