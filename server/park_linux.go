package server

import (
	"sync"
	"syscall"
)

// canPark: idle connections park (ready below).
const canPark = true

// A client's pong, as the parker recognises it: one final, unfragmented,
// masked control frame with opcode 0xA and at most 125 bytes of payload
// (RFC 6455, 5.2 and 5.5). Anything else is left to gorilla's reader.
const (
	pongByte0     = 0x80 | 0xA // FIN, no RSV bits, opcode pong
	maskBit       = 0x80
	maxPongFrame  = 2 + 4 + 125 // header, masking key, payload
	pongHeaderLen = 2 + 4
)

// ready is the parker's RawConn.Read callback: it reports whether the
// read pump has something to read. It reads the client's pongs itself,
// and handles each as the pong handler would (the read deadline moves on),
// and reports false while the socket holds nothing else, so the parker
// keeps waiting. A frame that has only partly arrived and may be a pong is
// waited for too; its rest arriving wakes the parker again.
func (p *parker) ready(fd uintptr) bool {
	var buf [maxPongFrame]byte
	for {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false // nothing yet
		case err != nil || n == 0:
			return true // an error or the end: the read pump's read reports it
		}
		size, complete := pongFrame(buf[:n])
		if size == 0 {
			return true // a message, or a frame the read pump should judge
		}
		if !complete {
			return false
		}
		// Consume exactly the pong; it is all in the socket (peeked).
		if m, _, err := syscall.Recvfrom(int(fd), buf[:size], syscall.MSG_DONTWAIT); err != nil || m != size {
			return true // let the read pump find out what happened
		}
		if p.pong() != nil {
			return true
		}
	}
}

// pongFrame reports the size of the client's pong frame that b begins
// with, and whether b holds all of it; or 0 when b does not begin a pong.
func pongFrame(b []byte) (size int, complete bool) {
	if b[0] != pongByte0 {
		return 0, false
	}
	if len(b) < 2 {
		return maxPongFrame, false // too early to tell: wait for the length
	}
	if b[1]&maskBit == 0 || int(b[1]&^maskBit) > 125 {
		return 0, false // not a valid client pong: gorilla's reader refuses it
	}
	size = pongHeaderLen + int(b[1]&^maskBit)
	return size, len(b) >= size
}

// poller is the node's wait on the sockets of parked connections: one
// epoll instance and one goroutine for the whole process, started by the
// first park. A parked connection is registered one-shot under a token
// (its key in parked), so an event for a connection that has since left
// finds nothing; every epoll_ctl on a socket is made inside its
// RawConn.Control, which keeps the descriptor from being closed, and its
// number from being reused, meanwhile.
type poller struct {
	epfd int

	mu     sync.Mutex
	parked map[uint64]*parker
	next   uint64 // the last token given
	broken bool   // epoll_wait failed: nothing parks any more
}

var (
	pollerOnce sync.Once
	thePoller  *poller
)

// openPoller returns the node's poller, starting it on first use; nil when
// the system has none to give (then connections wait in their goroutines).
func openPoller() *poller {
	pollerOnce.Do(func() {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		thePoller = &poller{epfd: epfd, parked: make(map[uint64]*parker)}
		go thePoller.run()
	})
	return thePoller
}

// pollEvents: readable, the peer's end or an error (always reported), once
// until rearmed.
const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

func pollEvent(token uint64) *syscall.EpollEvent {
	return &syscall.EpollEvent{Events: pollEvents, Fd: int32(uint32(token)), Pad: int32(uint32(token >> 32))}
}

// add registers p, whose socket is fd, and reports true; false when p is
// stopped or the poller cannot take it. Called inside p.raw.Control.
func (pl *poller) add(p *parker, fd uintptr) bool {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if p.stopped || pl.broken {
		return false
	}
	pl.next++
	token := pl.next
	pl.parked[token] = p
	if err := syscall.EpollCtl(pl.epfd, syscall.EPOLL_CTL_ADD, int(fd), pollEvent(token)); err != nil {
		delete(pl.parked, token)
		return false
	}
	p.token = token
	return true
}

// run waits for parked sockets to become readable. A socket that only
// received pongs is read (ready) and watched again; any other takes its
// connection out of the poller and resumes its read side.
func (pl *poller) run() {
	var events [128]syscall.EpollEvent
	for {
		n, err := syscall.EpollWait(pl.epfd, events[:], -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			pl.fail()
			return
		}
		for i := range events[:n] {
			ev := &events[i]
			pl.event(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32)
		}
	}
}

func (pl *poller) event(token uint64) {
	pl.mu.Lock()
	p := pl.parked[token]
	if p == nil {
		pl.mu.Unlock()
		return // it left the poller since (wake, stop)
	}
	wake := true
	_ = p.raw.Control(func(fd uintptr) {
		if p.ready(fd) {
			_ = syscall.EpollCtl(pl.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
			return
		}
		wake = syscall.EpollCtl(pl.epfd, syscall.EPOLL_CTL_MOD, int(fd), pollEvent(token)) != nil
	})
	// A failed Control: the socket is closed, which the read reports.
	if wake {
		delete(pl.parked, token)
		p.token = 0
	}
	pl.mu.Unlock()
	if wake {
		go p.resumeSide()
	}
}

// fail resumes every parked connection and parks no more; for an epoll
// instance that stopped working, which should not happen.
func (pl *poller) fail() {
	pl.mu.Lock()
	pl.broken = true
	parked := pl.parked
	pl.parked = make(map[uint64]*parker)
	for _, p := range parked {
		p.token = 0
	}
	pl.mu.Unlock()
	for _, p := range parked {
		go p.resumeSide()
	}
}

// unpark takes p out of the poller, if it is in it, and resumes its read
// side; with stop set, p parks no more.
func (p *parker) unpark(stop bool) {
	pl := openPoller()
	if pl == nil {
		return
	}
	pl.mu.Lock()
	if stop {
		p.stopped = true
	}
	token := p.token
	if token != 0 {
		delete(pl.parked, token)
		p.token = 0
		_ = p.raw.Control(func(fd uintptr) {
			_ = syscall.EpollCtl(pl.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
		})
	}
	pl.mu.Unlock()
	if token != 0 {
		go p.resumeSide()
	}
}
