package server

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"syscall"
)

// An idle connection, most of them in a meeting, waits for its client's
// next message in a parker, not in the read pump: at the bottom of a
// shallow stack that the runtime shrinks to 4 KiB, and without
// the connection's read buffer, which goes back to a pool while it waits.
// The read pump (gorilla's reader, the decoding, the room) runs again when
// the client sends something, in the same goroutine, and returns to the
// parker when everything read has been handled. Pongs, which an idle
// client sends every pingPeriod, are read and handled in the parker itself
// (ready), so answering pings does not take an idle connection out of it.
// See docs/architecture.md and docs/benchmarks.md (issue 16, target 5).

// readBuffers holds the read buffers of parked connections, as
// *bufio.Reader values that have a buffer and no reader.
var readBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// parker is a connection's wait for readability. Only the connection's
// read side uses it.
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
}

// newParker returns the parker of conn, which is read through br; or nil
// when conn has no file descriptor to wait on (then the read pump never
// parks).
func newParker(conn net.Conn, br *bufio.Reader, pong func() error) *parker {
	sc, ok := conn.(syscall.Conn)
	if !canPark || !ok || br == nil {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := &parker{raw: raw, br: br, conn: conn, pong: pong}
	p.check = p.ready
	return p
}

// idle reports whether everything read from the connection has been
// handled: nothing is left in the read buffer, so the next message is still
// in the socket and the read pump may return to the parker.
func (p *parker) idle() bool { return p != nil && p.br.Buffered() == 0 }

// wait parks until the client has sent something other than pongs (or the
// connection is closed), with the read buffer released meanwhile. It
// reports false when the connection is gone: closed, or silent past its
// read deadline (pongWait), as a read would.
func (p *parker) wait() bool {
	if p.br.Buffered() > 0 {
		return true
	}
	p.lend()
	err := p.raw.Read(p.check)
	p.borrow()
	return err == nil
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
