package room

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/store/bolt"
)

// recorder is an in-memory Member: it records every message the room hands
// it, and how it was closed, and lets a test wait for a message.
type recorder struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	raw     [][]byte
	msgs    []protocol.Msg
	closed  bool
	code    int
	reason  string
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) Welcome(msgs [][]byte)         { r.add(msgs) }
func (r *recorder) Deliver(msgs [][]byte, _ bool) { r.add(msgs) }

func (r *recorder) Close(code int, reason string, _ bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed, r.code, r.reason = true, code, reason
	r.signal()
}

func (r *recorder) signal() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// add decodes msgs as one server frame with the protocol's own parser.
func (r *recorder) add(msgs [][]byte) {
	frame := append([]byte{'['}, bytes.Join(msgs, []byte{','})...)
	frame = append(frame, ']')
	parsed, err := protocol.ParseFrame(frame, nil, nil)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		panic(fmt.Sprintf("room delivered an unreadable frame %q: %v", frame, err))
	}
	if r.closed {
		return // a closed connection sends nothing more
	}
	for _, m := range msgs {
		r.raw = append(r.raw, append([]byte(nil), m...))
	}
	r.msgs = append(r.msgs, parsed...)
	r.signal()
}

// waitFor waits until the member has received a message matching ok after
// the first from messages (or has been closed, when closed is set), and
// returns its index. It fails the test after 10 s.
func (r *recorder) waitFor(t testing.TB, what string, from int, ok func(protocol.Msg) bool) int {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		for i := from; i < len(r.msgs); i++ {
			if ok(r.msgs[i]) {
				r.mu.Unlock()
				return i
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("no %s within 10 s", what)
		}
	}
}

// waitClosed waits until the member is closed and returns the close code.
func (r *recorder) waitClosed(t testing.TB) int {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		closed, code, ch := r.closed, r.code, r.changed
		r.mu.Unlock()
		if closed {
			return code
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatal("not closed within 10 s")
		}
	}
}

func (r *recorder) msg(i int) protocol.Msg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msgs[i]
}

// openBolt opens an embedded store in a temporary directory.
func openBolt(t testing.TB) scribe.Store {
	t.Helper()
	st := bolt.New(t.TempDir(), bolt.Options{})
	if err := st.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// shortTiming makes rooms close, poll, republish, expire and re-check
// within a fraction of a second.
var shortTiming = Timing{
	Grace: 150 * time.Millisecond, Resync: 50 * time.Millisecond, PresenceRefresh: 100 * time.Millisecond,
	PresenceExpiry: 400 * time.Millisecond, RevokeCheck: 100 * time.Millisecond, ResubscribeWait: 20 * time.Millisecond,
}

// startHub opens a hub on st, closed when the test ends.
func startHub(t testing.TB, st scribe.Store, cfg Config) *Hub {
	t.Helper()
	cfg.Store = st
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func createNote(t testing.TB, st scribe.Store, text string) scribe.NoteID {
	t.Helper()
	n, err := st.CreateNote(context.Background(), scribe.NewNote{Title: "Test", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return n.ID
}

func newSessionID() string { return fmt.Sprintf("s%015x", rand.Uint64()>>4) }

// member is a recorder seated in a room.
type member struct {
	*recorder
	seat *Seat
	info Info
}

// join seats a new in-memory member and waits for its welcome.
func join(t testing.TB, h *Hub, id scribe.NoteID, info Info) *member {
	t.Helper()
	if info.Client == "" {
		info.Client = "c_" + newSessionID()[1:9]
	}
	if info.Session == "" && !info.ReadOnly {
		info.Session = newSessionID()
	}
	r := newRecorder()
	seat, err := h.Join(context.Background(), id, r, info)
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	m := &member{recorder: r, seat: seat, info: info}
	if r.msg(0).Type != "welcome" {
		t.Fatalf("first message %+v, want the welcome", r.msg(0))
	}
	return m
}
