//go:build linux

package loadtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/scribe-notes/scribe"
)

// viewerPoll reads the viewers' sockets in viewers mode: a few goroutines
// (one per core), each waiting on its own epoll set for any of its viewers
// to have bytes, instead of one goroutine per viewer blocked in its read.
//
// At 5,000 viewers the server writes each of them a frame per tick, and a
// goroutine per viewer cost the tool, per frame: a wake-up through Go's
// network poller and the scheduler, the read, and a second read that
// found nothing (EAGAIN) before the goroutine parked again: the read
// system calls were 38 % of the tool's CPU and the scheduling another
// 15 % (docs/benchmarks.md, "Issue 16, target 4: the tool reads its
// viewers by epoll"). Here a frame costs one read(2) and a share of one
// epoll_wait(2), and the loop parses the websocket frames itself (a
// server's frames are unmasked: a header and the bytes).
//
// The sockets are level-triggered: a read takes what is there (up to the
// loop's buffer) and a frame longer than that is read over several
// events, kept in the viewer's pend meanwhile.
type viewerPoll struct {
	loops []*pollLoop
	next  atomic.Uint32
	wg    sync.WaitGroup
}

// pollLoop is one goroutine's epoll set and its viewers.
type pollLoop struct {
	epfd  int
	wake  int // an eventfd in the set: written to stop the loop
	mu    sync.Mutex
	conns map[int32]*rawConn // by socket
	buf   []byte             // read buffer, for the loop's goroutine
}

// rawConn is a viewer's socket, read by a pollLoop.
type rawConn struct {
	fd   int
	loop *pollLoop
	b    *botConn
	pend []byte // the start of a frame not yet all read
	msg  []byte // a fragmented message's payload so far
	done bool   // ended (the loop's goroutine only)
}

// pollReadSize is a loop's read buffer: a read takes at most this much.
const pollReadSize = 256 << 10

// newViewerPoll starts n loops.
func newViewerPoll(n int) (*viewerPoll, error) {
	p := &viewerPoll{}
	for range max(n, 1) {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("epoll: %w", err)
		}
		wake, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
		if errno != 0 {
			_ = syscall.Close(epfd)
			p.close()
			return nil, fmt.Errorf("eventfd: %w", errno)
		}
		l := &pollLoop{epfd: epfd, wake: int(wake), conns: make(map[int32]*rawConn), buf: make([]byte, pollReadSize)}
		if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, l.wake, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(l.wake)}); err != nil {
			_ = syscall.Close(epfd)
			_ = syscall.Close(l.wake)
			p.close()
			return nil, fmt.Errorf("epoll: %w", err)
		}
		p.loops = append(p.loops, l)
		p.wg.Add(1)
		go func() { defer p.wg.Done(); l.run() }()
	}
	return p, nil
}

// close stops the loops and closes the sockets still open.
func (p *viewerPoll) close() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	for _, l := range p.loops {
		_, _ = syscall.Write(l.wake, one[:])
	}
	p.wg.Wait()
	for _, l := range p.loops {
		for _, c := range l.conns {
			_ = syscall.Close(c.fd)
		}
		_ = syscall.Close(l.epfd)
		_ = syscall.Close(l.wake)
	}
	p.loops = nil
}

// add starts reading b's socket: first what arrived with its welcome,
// then whatever its loop's epoll reports.
func (p *viewerPoll) add(b *botConn) {
	c := b.raw
	l := p.loops[int(p.next.Add(1))%len(p.loops)]
	c.loop = l
	if len(c.pend) > 0 {
		used := c.frames(c.pend, time.Now())
		c.pend = append(c.pend[:0], c.pend[used:]...)
		if c.done {
			return
		}
	}
	l.mu.Lock()
	l.conns[int32(c.fd)] = c
	l.mu.Unlock()
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, c.fd, &syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.fd)}); err != nil {
		l.mu.Lock()
		delete(l.conns, int32(c.fd))
		l.mu.Unlock()
		c.end(fmt.Errorf("epoll: %w", err))
	}
}

func (l *pollLoop) run() {
	evs := make([]syscall.EpollEvent, 256)
	for {
		n, err := syscall.EpollWait(l.epfd, evs, -1)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return
		}
		for _, ev := range evs[:n] {
			if int(ev.Fd) == l.wake {
				return
			}
			l.mu.Lock()
			c := l.conns[ev.Fd]
			l.mu.Unlock()
			if c != nil {
				c.readable()
			}
		}
	}
}

// readable reads what the socket has and handles the frames it completes.
func (c *rawConn) readable() {
	buf := c.loop.buf
	n, err := syscall.Read(c.fd, buf)
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return
	case err != nil:
		c.end(err)
		return
	case n == 0:
		c.end(io.ErrUnexpectedEOF)
		return
	}
	now := time.Now()
	data := buf[:n]
	if len(c.pend) > 0 {
		c.pend = append(c.pend, data...)
		data = c.pend
	}
	used := c.frames(data, now)
	if c.done {
		return
	}
	if used == len(data) && cap(c.pend) > 64<<10 {
		c.pend = nil // a long frame's room, not kept for the small ones
		return
	}
	c.pend = append(c.pend[:0], data[used:]...) // copy handles the overlap when data is pend
}

// frames handles the whole frames at the start of data, received at now,
// and returns how many bytes they took.
func (c *rawConn) frames(data []byte, now time.Time) int {
	used := 0
	for !c.done {
		f := data[used:]
		if len(f) < 2 {
			break
		}
		fin, op := f[0]&0x80 != 0, int(f[0]&0x0f)
		size, h := int(f[1]&0x7f), 2
		switch size {
		case 126:
			if len(f) < 4 {
				return used
			}
			size, h = int(binary.BigEndian.Uint16(f[2:])), 4
		case 127:
			if len(f) < 10 {
				return used
			}
			n := binary.BigEndian.Uint64(f[2:])
			if n > 64<<20 {
				c.fail(fmt.Errorf("a frame of %d bytes", n))
				return used
			}
			size, h = int(n), 10
		}
		if f[1]&0x80 != 0 {
			c.fail(errors.New("a masked frame from the server"))
			return used
		}
		if len(f) < h+size {
			break
		}
		payload := f[h : h+size]
		used += h + size
		switch op {
		case websocket.TextMessage, websocket.BinaryMessage, 0: // 0: a continuation
			if !fin {
				c.msg = append(c.msg, payload...)
				continue
			}
			if len(c.msg) > 0 {
				c.msg = append(c.msg, payload...)
				payload = c.msg
			}
			c.b.frames.Add(1)
			err := c.b.handleFrame(payload, now)
			c.msg = c.msg[:0]
			if err != nil {
				c.b.onError(fmt.Errorf("client %s: %w", c.b.client, err))
				c.fail(err)
			}
		case websocket.PingMessage:
			c.b.wmu.Lock()
			_ = c.write(websocket.PongMessage, payload)
			c.b.wmu.Unlock()
		case websocket.CloseMessage:
			ce := &websocket.CloseError{Code: websocket.CloseNoStatusReceived}
			if len(payload) >= 2 {
				ce.Code, ce.Text = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
			}
			c.end(ce)
		}
	}
	return used
}

// fail ends the connection on the bot's side (a bad frame).
func (c *rawConn) fail(err error) {
	c.shutdown()
	c.end(err)
}

// end closes the socket, marks the bot dead and reports err (the loop's
// goroutine, or add before the socket is in a loop).
func (c *rawConn) end(err error) {
	if c.done {
		return
	}
	c.done = true
	if l := c.loop; l != nil {
		l.mu.Lock()
		_, in := l.conns[int32(c.fd)]
		delete(l.conns, int32(c.fd))
		l.mu.Unlock()
		if in {
			_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
		}
	}
	c.b.wmu.Lock() // no write is under way on the socket while it closes
	_ = syscall.Close(c.fd)
	c.fd = -1
	c.b.wmu.Unlock()
	c.b.died(err)
}

// shutdown ends the connection both ways: the loop then reads its end
// and closes the socket (end).
func (c *rawConn) shutdown() {
	if c.fd >= 0 {
		_ = syscall.Shutdown(c.fd, syscall.SHUT_RDWR)
	}
}

// write sends one message as a masked client frame (b.wmu held). The
// socket does not block: a write that finds it full tries again for up to
// a second (a viewer writes only its hello, pongs and its close).
func (c *rawConn) write(op int, payload []byte) error {
	if c.fd < 0 {
		return net.ErrClosed
	}
	f := appendClientFrame(nil, op, payload)
	deadline := time.Now().Add(time.Second)
	for len(f) > 0 {
		n, err := syscall.Write(c.fd, f)
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR:
			if time.Now().After(deadline) {
				return errors.New("write: the socket stayed full")
			}
			time.Sleep(time.Millisecond)
		case err != nil:
			return err
		default:
			f = f[n:]
		}
	}
	return nil
}

// appendClientFrame appends payload as one masked frame (RFC 6455 5.3).
func appendClientFrame(buf []byte, op int, payload []byte) []byte {
	buf = append(buf, 0x80|byte(op))
	switch n := len(payload); {
	case n < 126:
		buf = append(buf, 0x80|byte(n))
	case n <= 0xffff:
		buf = append(buf, 0x80|126, byte(n>>8), byte(n))
	default:
		buf = append(buf, 0x80|127)
		buf = binary.BigEndian.AppendUint64(buf, uint64(n))
	}
	var key [4]byte
	_, _ = rand.Read(key[:])
	buf = append(buf, key[:]...)
	for i, x := range payload {
		buf = append(buf, x^key[i&3])
	}
	return buf
}

// dialRawBot connects a viewer for a viewerPoll: the websocket handshake
// and the welcome are read on a plain connection, then its socket is taken
// from Go's network poller (duplicated, the original closed) with what
// arrived after the welcome kept for the poll. nd dials (a source address
// of the run's, newDialers).
func dialRawBot(ctx context.Context, nd func(ctx context.Context, network, addr string) (net.Conn, error), rawURL, name string, log *refLog) (*botConn, error) {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("dial: %s: only ws:// is read by the viewers' poll", rawURL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	nc, err := nd(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = nc.Close()
		}
	}()
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	var key [16]byte
	_, _ = rand.Read(key[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
		base64.StdEncoding.EncodeToString(key[:]) + "\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	br := bufio.NewReaderSize(nc, 16<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, scribe.Errorf(scribe.ENOTFOUND, "The note does not exist.")
	case resp.StatusCode != http.StatusSwitchingProtocols:
		return nil, fmt.Errorf("dial: %s", resp.Status)
	}
	if _, err := nc.Write(appendClientFrame(nil, websocket.TextMessage, helloFrame(name))); err != nil {
		return nil, fmt.Errorf("send hello: %w", err)
	}
	welcome, err := readServerMessage(br)
	if err != nil {
		return nil, fmt.Errorf("await welcome: %w", err)
	}
	b, err := welcomeBot(welcome, name, log)
	if err != nil {
		return nil, err
	}
	rest, _ := br.Peek(br.Buffered())
	sc, isSC := nc.(syscall.Conn)
	if !isSC {
		return nil, errors.New("dial: not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	fd := -1
	if err := rc.Control(func(s uintptr) { fd, err = syscall.Dup(int(s)) }); err != nil || fd < 0 {
		return nil, fmt.Errorf("dial: dup: %v", err)
	}
	syscall.CloseOnExec(fd)
	// The duplicate shares the original's file status (non-blocking);
	// closing the original takes it out of Go's epoll set and leaves the
	// connection open.
	_ = nc.Close()
	ok = true
	b.raw = &rawConn{fd: fd, b: b, pend: append([]byte(nil), rest...)}
	return b, nil
}

// readServerMessage reads one data message (its frames' payloads) from r,
// skipping control frames.
func readServerMessage(r *bufio.Reader) ([]byte, error) {
	var msg []byte
	for {
		var h [10]byte
		if _, err := io.ReadFull(r, h[:2]); err != nil {
			return nil, err
		}
		size := uint64(h[1] & 0x7f)
		switch size {
		case 126:
			if _, err := io.ReadFull(r, h[2:4]); err != nil {
				return nil, err
			}
			size = uint64(binary.BigEndian.Uint16(h[2:]))
		case 127:
			if _, err := io.ReadFull(r, h[2:10]); err != nil {
				return nil, err
			}
			size = binary.BigEndian.Uint64(h[2:])
		}
		if h[1]&0x80 != 0 || size > 64<<20 {
			return nil, errors.New("a bad frame from the server")
		}
		p := make([]byte, size)
		if _, err := io.ReadFull(r, p); err != nil {
			return nil, err
		}
		switch op := int(h[0] & 0x0f); op {
		case websocket.TextMessage, websocket.BinaryMessage, 0:
			msg = append(msg, p...)
			if h[0]&0x80 != 0 {
				return msg, nil
			}
		case websocket.CloseMessage:
			return nil, &websocket.CloseError{Code: websocket.CloseNoStatusReceived, Text: string(p)}
		}
	}
}
