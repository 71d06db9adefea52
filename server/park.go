package server

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// An idle connection, most of them in a meeting, waits for its client's
// next message in a parker, not in the read pump, and without the
// connection's read buffer, which goes back to a pool while it waits. It
// waits first in its read side's goroutine (wait), for up to parkAfter; a
// connection still quiet then parks (park): its goroutine ends, and the
// node's poller (park_linux.go: one goroutine and one epoll instance for
// every parked connection of the process) watches its socket and starts a
// new read side (resume) when the client sends something, when the
// connection is closed (stop) or when its client has been silent for
// pongWait (wake, from the pinger). An idle connection so costs no
// goroutine and no stack, only its structs (docs/benchmarks.md, issue 16,
// target 5). Pongs, which an idle client sends every pingPeriod, are read
// and handled by the parker itself (ready), in the goroutine or in the
// poller, so answering pings does not take an idle connection out of it.
// See docs/architecture.md.

// parkAfter is how long an idle read side waits in its goroutine before it
// parks: a typist's next keystroke comes sooner, and its wake costs no
// system calls beyond the read. A variable so that the package's tests
// (park_hooks_test.go) park at once and exercise the poller everywhere.
var parkAfter = 5 * time.Second

// readBuffers holds the read buffers of parked connections, as
// *bufio.Reader values that have a buffer and no reader.
var readBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// parker is a connection's wait for readability. Only the connection's
// read side uses it, and the poller while it is parked.
type parker struct {
	raw syscall.RawConn
	// br is the reader gorilla's Conn reads through (hijacker made it).
	// While parked it is the zero bufio.Reader: its buffer is in
	// readBuffers, moved out through spare, an empty bufio.Reader
	// exchanged with the pool's full ones.
	br    *bufio.Reader
	conn  net.Conn
	spare *bufio.Reader
	pong  func() error       // handles a pong read while parked, as the pong handler would
	check func(uintptr) bool // p.ready, bound once: RawConn.Read's callback
	// resume continues the read side in a goroutine of its own, after the
	// poller or stop took the parker out of the poller.
	resume func()
	// Guarded by the poller's mu: the parker's key in the poller while
	// parked (0: not parked), and stopped: the connection is closing and
	// parks no more.
	token   uint64
	stopped bool
}

// newParker returns the parker of conn, which is read through br; or nil
// when conn has no file descriptor to wait on (then the read pump never
// parks). resume is called, in a new goroutine, when a parked connection
// has something to read or should end.
func newParker(conn net.Conn, br *bufio.Reader, pong func() error, resume func()) *parker {
	sc, ok := conn.(syscall.Conn)
	if !canPark || !ok || br == nil {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := &parker{raw: raw, br: br, conn: conn, pong: pong, resume: resume}
	p.check = p.ready
	return p
}

// idle reports whether everything read from the connection has been
// handled: nothing is left in the read buffer, so the next message is still
// in the socket and the read pump may return to the parker.
func (p *parker) idle() bool { return p != nil && p.br.Buffered() == 0 }

// wait waits in the calling goroutine until the client has sent something
// other than pongs, with the read buffer released meanwhile. It fails as
// a read would: when the connection is closed, or at its read deadline
// (the caller sets it).
func (p *parker) wait() error {
	if p.br.Buffered() > 0 {
		return nil
	}
	p.lend()
	err := p.raw.Read(p.check)
	p.borrow()
	return err
}

// park hands the connection to the node's poller and reports true: the
// caller's goroutine must then return at once, touching nothing of the
// connection, whose read side resume continues. It reports false, and
// nothing changes, when the client has already sent something, the
// connection is closed or stopped, or the system cannot park.
func (p *parker) park() bool {
	if p == nil || p.br.Buffered() > 0 {
		return false
	}
	pl := openPoller()
	if pl == nil {
		return false
	}
	p.lend()
	parked := false
	_ = p.raw.Control(func(fd uintptr) {
		if !p.ready(fd) {
			parked = pl.add(p, fd)
		}
	})
	if !parked {
		p.borrow()
	}
	return parked
}

// resumeSide is the first thing a resumed read side does: it takes back a
// read buffer (park lent it), then goes on (resume).
func (p *parker) resumeSide() {
	p.borrow()
	p.resume()
}

// wake takes a parked connection out of the poller and resumes its read
// side; it does nothing to one that is not parked.
func (p *parker) wake() {
	if p != nil {
		p.unpark(false)
	}
}

// stop wakes the connection if it is parked, and keeps it from parking
// again: it is closing, and its read side must be in a goroutine to see
// the end (the poller hears nothing of a socket closed on this side).
func (p *parker) stop() {
	if p != nil {
		p.unpark(true)
	}
}

// lend puts the read buffer in readBuffers. Not inlined, as borrow, so
// that wait's frame, which an idle connection parks in, stays small.
//
//go:noinline
func (p *parker) lend() {
	if p.spare == nil {
		p.spare = new(bufio.Reader)
	}
	*p.spare, *p.br = *p.br, bufio.Reader{}
	p.spare.Reset(nil) // the pool keeps the buffer, not the connection
	readBuffers.Put(p.spare)
	p.spare = nil
}

// borrow takes a read buffer from readBuffers, keeping the emptied
// bufio.Reader that held it for the next lend.
//
//go:noinline
func (p *parker) borrow() {
	r := readBuffers.Get().(*bufio.Reader)
	r.Reset(p.conn)
	*r, *p.br = bufio.Reader{}, *r
	p.spare = r
}

// hijacker lets serveWS give gorilla's Conn a read buffer of its own
// (readBufferSize), which the parker can release while the connection is
// idle: the upgrader reads through the hijacked connection's bufio.Reader
// when it is not told a ReadBufferSize.
type hijacker struct {
	http.ResponseWriter
	br *bufio.Reader // the reader handed to the upgrader
}

// Hijack hands over the connection with a new, small reader in place of
// net/http's.
func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || rw.Reader.Buffered() > 0 {
		return conn, rw, err // the upgrader refuses a client that sent data early
	}
	h.br = bufio.NewReaderSize(conn, readBufferSize)
	return conn, bufio.NewReadWriter(h.br, rw.Writer), nil
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (h *hijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }
