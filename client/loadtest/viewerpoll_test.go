//go:build linux

package loadtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/scribe-notes/scribe/internal/testframes"
)

// A viewer read by the poll takes the websocket frames as a socket gives
// them: a frame split anywhere over reads (its header too), a message in
// fragments with a ping between them (answered with a masked pong), and
// the server's close, reported with its code.
func TestViewerPollFrames(t *testing.T) {
	const batch, text = 5, 1000
	msgs := testframes.OpFrames(3, batch, text)
	log := &refLog{}
	if err := log.welcome(0, strings.Repeat("x", text)); err != nil {
		t.Fatal(err)
	}
	b := newBenchBot(log, text, 0)
	b.onError = func(err error) { t.Errorf("bot: %v", err) }
	closed := make(chan error, 1)
	b.onClose = func(err error) { closed <- err }

	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	server := os.NewFile(uintptr(fds[1]), "server")
	defer server.Close()

	// The first frame arrives with the welcome (pend) and in pieces.
	first := serverFrame(websocket.TextMessage, true, msgs[0])
	b.raw = &rawConn{fd: fds[0], b: b, pend: append([]byte(nil), first[:1]...)} // a copy, as dialRawBot keeps
	p, err := newViewerPoll(2)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	p.add(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	write := func(parts ...[]byte) {
		t.Helper()
		for _, part := range parts {
			if _, err := server.Write(part); err != nil {
				t.Fatal(err)
			}
		}
	}
	atRev := func(rev int64) {
		t.Helper()
		if err := b.wait(ctx, func(c *botConn) bool { return c.m.Revision() >= rev }); err != nil {
			t.Fatalf("waiting for revision %d (at %d): %v", rev, b.rev(), err)
		}
	}
	write(first[1:2])
	write(first[2:7])
	write(first[7:])
	atRev(batch)

	// The second in two fragments, a ping between them.
	half := len(msgs[1]) / 2
	write(bytes.Join([][]byte{
		serverFrame(websocket.TextMessage, false, msgs[1][:half]),
		serverFrame(websocket.PingMessage, true, []byte("are you there")),
		serverFrame(0, true, msgs[1][half:]),
	}, nil))
	atRev(2 * batch)
	op, payload := readClientFrame(t, server)
	if op != websocket.PongMessage || string(payload) != "are you there" {
		t.Fatalf("answered the ping with %d %q", op, payload)
	}

	// The third and the close, in one read.
	write(serverFrame(websocket.TextMessage, true, msgs[2]),
		serverFrame(websocket.CloseMessage, true, websocket.FormatCloseMessage(4000, "too slow")))
	atRev(3 * batch)
	select {
	case err := <-closed:
		if ce, ok := errors.AsType[*websocket.CloseError](err); !ok || ce.Code != 4000 || ce.Text != "too slow" {
			t.Fatalf("closed with %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the close was not reported")
	}
	if n := b.frames.Load(); n != 3 {
		t.Fatalf("%d messages counted, want 3", n)
	}
}

// serverFrame is payload as one unmasked frame.
func serverFrame(op int, fin bool, payload []byte) []byte {
	f := []byte{byte(op)}
	if fin {
		f[0] |= 0x80
	}
	switch n := len(payload); {
	case n < 126:
		f = append(f, byte(n))
	case n <= 0xffff:
		f = append(f, 126, byte(n>>8), byte(n))
	default:
		f = append(f, 127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	return append(f, payload...)
}

// readClientFrame reads one masked frame of fewer than 126 bytes.
func readClientFrame(t *testing.T, r io.Reader) (int, []byte) {
	t.Helper()
	var h [6]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatal(err)
	}
	if h[1]&0x80 == 0 || h[1]&0x7f >= 126 {
		t.Fatalf("frame header % x: want masked and short", h[:2])
	}
	p := make([]byte, h[1]&0x7f)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatal(err)
	}
	for i := range p {
		p[i] ^= h[2+i&3]
	}
	return int(h[0] & 0x0f), p
}
