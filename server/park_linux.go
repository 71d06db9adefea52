package server

import "syscall"

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
