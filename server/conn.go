package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/room"
)

// Timing of a websocket connection.
const (
	writeWait          = 10 * time.Second       // the longest one frame may take to write
	pongWait           = 60 * time.Second       // a client that answers no ping for this long is dropped
	pingPeriod         = 30 * time.Second       // how often the server pings; less than pongWait
	helloWait          = 10 * time.Second       // the longest a client may take to send hello
	closeWait          = 1 * time.Second        // how long to wait for the client's close reply
	joinWait           = 30 * time.Second       // the longest joining a room may take
	maxFrame           = 1 << 20                // a server frame holds at most about this many bytes of messages
	readBufferSize     = 1 << 10                // bytes of a connection's read buffer, held while it reads (not while parked)
	coalesceWindow     = 10 * time.Millisecond  // others' ops wait at least this long after the last frame to share the next
	windowPerEditor    = 500 * time.Microsecond // and this long per editor of the note on the node (memberWindow)
	maxMemberWindow    = 50 * time.Millisecond  // but never longer than this
	viewerWindow       = 40 * time.Millisecond  // the same for a read-only viewer, who types nothing and waits for no ack
	errorBurst         = 20                     // errors a connection may cause in a burst before it is closed
	errorRate          = 1.0                    // errors per second a connection may cause in the long run
	presenceRateFactor = 2                      // presence messages may come twice as fast as ops
	pingRate           = 2.0                    // pings per second answered in the long run; more are ignored
	pingBurst          = 5                      // pings answered in a burst
)

// client is one websocket connection: the room.Member a room delivers to.
// Its fields are set before it joins and then read-only; what the room
// knows of the member (name, colour, selection...) is the room's, in its
// room.Seat.
type client struct {
	srv      *Server
	conn     *websocket.Conn
	id       string // public id, new per connection ("c_" + random)
	readonly bool
	// fixedName: the member's name is from sign-in; renames are ignored.
	fixedName bool
	out       *outbox

	closeOnce sync.Once
	closing   chan struct{} // closed when the connection should end
	closeCode int
	closeText string
	flush     bool           // send what is queued before the close frame
	readDone  chan struct{}  // closed when the read pump has returned
	park      *parker        // where the read side waits while idle; nil: it waits in the read pump
	pumps     sync.WaitGroup // the write pump, while one runs (outbox.start)
	pinger    *time.Timer    // marks a ping due every pingPeriod (tick)
	// heard is when the client last sent anything, a pong included (unix
	// nanoseconds): it is dropped pongWait later (deadline).
	heard atomic.Int64
	rd    *reader // the read side's state, kept while it is parked
	// room is the joined room, set by run before the first write pump
	// starts; the pumps read its size (memberWindow).
	room *room.Room

	// A viewer's socket, written without waiting by its room's shared
	// writer while the viewer is caught up; nil when it cannot be
	// (viewercast.go). aud is the room's audience while it is in one.
	raw syscall.RawConn
	aud atomic.Pointer[audience]
}

var _ room.Member = (*client)(nil)

// Welcome queues the welcome and catch-up, whatever the budget (room.Member).
func (c *client) Welcome(msgs [][]byte) { c.out.pushAll(msgs) }

// Deliver queues what the room sends in one turn of its loop with one push
// (room.Member); a client whose outbox is over its budget is too slow and
// is closed.
func (c *client) Deliver(msgs [][]byte, urgent bool) {
	if !c.out.pushMany(msgs, urgent) {
		c.tooSlow()
	}
}

// Close is close, for the room (room.Member).
func (c *client) Close(code int, reason string, flush bool) { c.close(code, reason, flush) }

// close asks the write pump to end the connection with code and reason,
// after sending what is queued when flush is set. It never waits for the
// client, so the room may call it (a viewer closing with a flush waits
// for its note's viewer tick under way, which never waits either); later
// calls do nothing.
func (c *client) close(code int, reason string, flush bool) {
	if a := c.aud.Load(); a != nil && flush {
		// What its room sent it and its audience holds goes out before
		// the close. Not under closeOnce: the tick handOver waits for may
		// close the client itself (too slow).
		a.handOver(c)
	}
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText, c.flush = code, reason, flush
		c.out.close(!flush)
		close(c.closing)
		c.park.stop()
	})
}

// send queues msg for the client, to be written at once: the client waits
// for it (an ack, an error, a pong). When the queue is full, the client is
// too slow: it is closed with 4000 and the message is dropped.
func (c *client) send(msg []byte) { c.queue(msg, true) }

func (c *client) queue(msg []byte, urgent bool) {
	if !c.out.push(msg, urgent) {
		c.tooSlow()
	}
}

// tooSlow closes a client whose queue is full (unless it is closing anyway).
func (c *client) tooSlow() {
	select {
	case <-c.closing:
	default:
		c.srv.metrics.dropped.WithLabelValues("slow").Inc()
		c.close(protocol.CloseTooSlow, protocol.CloseReasonSlow, false)
	}
}

// sendError queues an error message, and closes the connection when the
// client has caused too many errors.
func (c *client) sendError(err error, seq *uint64) {
	c.srv.metrics.errors.WithLabelValues(scribe.ErrorCode(err)).Inc()
	c.send(protocol.EncodeError(err, seq))
}

// serveWS upgrades the request, reads the hello and joins the room, then
// hands the connection to a goroutine of its own (run) and returns.
//
// The connection outlives the HTTP handler on purpose: while a handler
// runs, net/http keeps the request, its contexts, the response and its
// buffers (about 6 KB a connection), and the goroutine's stack is as deep
// as the middleware chain. An idle meeting is mostly idle connections, so
// each keeps only what run needs (docs/benchmarks.md, issue 16).
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request, id scribe.NoteID, readonly bool, token scribe.Token) {
	h := &hijacker{ResponseWriter: w}
	conn, err := s.upgrader.Upgrade(h, r, nil)
	if err != nil {
		return // the upgrader has answered with an HTTP error
	}
	if !s.trackConn() {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(protocol.CloseGoingAway, protocol.CloseReasonAway), time.Now().Add(closeWait))
		_ = conn.Close()
		return
	}
	kind := "edit"
	if readonly {
		kind = "readonly"
	}
	s.metrics.connections.WithLabelValues(kind).Inc()
	c := &client{
		srv:      s,
		conn:     conn,
		id:       "c_" + randomString(8),
		readonly: readonly,
		closing:  make(chan struct{}),
		readDone: make(chan struct{}),
	}
	c.out = newOutbox(s.limits.SendQueueBytes, c.startPump)
	c.park = newParker(conn.UnderlyingConn(), h.br, c.hear, c.readOn)
	if readonly {
		c.raw = rawConnOf(conn.NetConn())
	}
	errs := newTokenBucket(errorRate, errorBurst)
	seat, ok := c.join(r, id, token, errs)
	if !ok {
		c.ended()
		return
	}
	go c.run(seat, errs)
}

// ended finishes a connection that serveWS counted.
func (c *client) ended() {
	_ = c.conn.Close()
	kind := "edit"
	if c.readonly {
		kind = "readonly"
	}
	c.srv.metrics.connections.WithLabelValues(kind).Dec()
	c.srv.connWG.Done()
}

// join reads the hello and joins the note's room. It reports false, having
// told the client why, when the connection should end.
func (c *client) join(r *http.Request, id scribe.NoteID, token scribe.Token, errs *tokenBucket) (*room.Seat, bool) {
	s := c.srv
	hello, ok := c.readHello(errs)
	if !ok {
		return nil, false
	}
	if c.readonly {
		hello.Session = "" // a viewer commits nothing; its session id is not kept
	}
	// A member's name comes from sign-in, not from what the page sends, and
	// cannot be changed (name messages are ignored); a guest names itself.
	email := signedIn(person(r))
	if p := person(r); email != "" {
		c.fixedName = true
		if name, err := protocol.CleanName(editorName(p)); err == nil {
			hello.Name = name
		}
	}
	joinCtx, cancel := context.WithTimeout(r.Context(), joinWait)
	seat, err := s.rooms.Join(joinCtx, id, c, room.Info{
		Client: c.id, Session: hello.Session, Name: hello.Name, ReadOnly: c.readonly, Token: token, ColorKey: email, Email: email,
		HasRev: hello.HasRev, Rev: hello.Rev, FP: hello.FP, HasFP: hello.HasFP,
	})
	cancel()
	if c.readonly && scribe.ErrorCode(err) == scribe.ENOTFOUND {
		err = hideID(err) // the store's message may name the note
	}
	if err != nil {
		if scribe.ErrorCode(err) == scribe.EINTERNAL && !errors.Is(err, context.Canceled) {
			s.log.Error("join room", "err", err)
		}
		s.metrics.errors.WithLabelValues(scribe.ErrorCode(err)).Inc()
		_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
		_ = writeFrame(c.conn, [][]byte{protocol.EncodeError(err, nil)})
		c.writeClose(protocol.CloseCode(err), protocol.CloseReason(err))
		return nil, false
	}
	return seat, true
}

// run is a joined connection's life: its read side (the read pump while
// there is something to read, the parker in between) until the connection
// ends, write pumps while there is something to write (see outbox), then
// the seat is left and the connection finished. The read side starts in
// this goroutine; while the connection is parked it has none, and the
// parker resumes it in a new one (readOn).
func (c *client) run(seat *room.Seat, errs *tokenBucket) {
	c.joined(seat)
	c.rd = c.newReader(seat, errs)
	c.readOn()
}

// readOn runs the read side until the connection parks (then it returns,
// and the parker calls it again in a new goroutine) or ends (then it
// finishes the connection).
func (c *client) readOn() {
	if c.readSide() {
		return
	}
	seat := c.rd.seat
	close(c.readDone)
	seat.Leave()
	c.close(protocol.CloseNormal, "", true)
	c.pumps.Wait()
	c.pinger.Stop()
	c.closed(seat)
	c.ended()
}

// joined starts the connection's write side: the pinger, and a write pump
// for the welcome that is queued.
func (c *client) joined(seat *room.Seat) {
	c.room = seat.Room()
	c.pinger = time.AfterFunc(pingPeriod, c.tick)
	c.startPump()
	c.srv.log.Debug("websocket joined", "note", seat.Room().Ref(), "client", c.id, "readonly", c.readonly)
}

func (c *client) closed(seat *room.Seat) {
	c.srv.log.Debug("websocket closed", "note", seat.Room().Ref(), "client", c.id, "code", c.closeCode)
}

// readSide reads the client's messages: the read pump while there is
// something to read, the parker in between. It reports true when the
// connection has parked (the caller must return at once), false when it
// has ended.
func (c *client) readSide() (parked bool) {
	defer func() {
		if v := recover(); v != nil {
			c.srv.log.Error("panic in read pump", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			c.close(protocol.CloseInternal, protocol.CloseReasonFailed, false)
			parked = false
		}
	}()
	for {
		if c.park.idle() {
			ok, parked := c.rest()
			if parked || !ok {
				return parked
			}
		}
		if !c.readPump(c.rd) {
			return false
		}
	}
}

// rest waits for the client's next message: in this goroutine for up to
// parkAfter, then parked, without a goroutine. It reports parked when it
// parked, and !ok when the connection is gone: closed, or its client
// silent for pongWait. Once the connection is stopped (closing) it never
// parks, and waits here until the end.
func (c *client) rest() (ok, parked bool) {
	for {
		until := time.Now().Add(parkAfter)
		if d := c.deadline(); d.Before(until) {
			until = d
		}
		_ = c.conn.SetReadDeadline(until)
		err := c.park.wait()
		_ = c.conn.SetReadDeadline(c.deadline()) // for the read pump
		if err == nil {
			return true, false
		}
		if !isTimeout(err) || !time.Now().Before(c.deadline()) {
			return false, false
		}
		if c.park.park() {
			return true, true
		}
	}
}

// hear notes that the client sent something: a pong read by the parker,
// which does not move the read deadline (rest does).
func (c *client) hear() error {
	c.heard.Store(time.Now().UnixNano())
	return nil
}

// deadline is when the client will have been silent for pongWait.
func (c *client) deadline() time.Time {
	return time.Unix(0, c.heard.Load()).Add(pongWait)
}

// tick is the pinger's: a ping is due. A parked connection whose client
// has been silent for pongWait is woken too, so that its read side finds
// the deadline passed, as the read pump would have, and ends it.
func (c *client) tick() {
	if !time.Now().Before(c.deadline()) {
		c.park.wake()
	}
	c.out.pingDue()
}

// nextTick is when the pinger fires next, after a ping: pingPeriod later,
// or at the client's deadline if that comes first.
func (c *client) nextTick() time.Duration {
	if d := time.Until(c.deadline()); d > 0 && d < pingPeriod {
		return d
	}
	return pingPeriod
}

// drop closes the socket at once, and resumes a parked read side to see it.
func (c *client) drop() {
	_ = c.conn.Close()
	c.park.stop()
}

// startPump starts a write pump. The outbox calls it when something is to
// be written and no pump runs, so there is never more than one.
func (c *client) startPump() {
	c.pumps.Add(1)
	go func() {
		defer c.pumps.Done()
		defer func() {
			if v := recover(); v != nil {
				c.srv.log.Error("panic in write pump", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				c.drop()
			}
		}()
		c.writePump()
	}()
}

// readHello reads frames until a valid hello, answering anything else with
// an error. It reports false when the connection should end.
func (c *client) readHello(errs *tokenBucket) (protocol.Hello, bool) {
	// This replaces the read deadline the HTTP server set for the upgrade
	// request (ReadTimeout), which a hijacked connection keeps: a live
	// websocket is never cut by it.
	deadline := time.Now().Add(helloWait)
	for {
		_ = c.conn.SetReadDeadline(deadline)
		data, err := c.readFrame()
		var fe *frameError
		if errors.As(err, &fe) {
			c.srv.metrics.errors.WithLabelValues(scribe.ErrorCode(fe.err)).Inc()
			c.writeNow(protocol.EncodeError(fe.err, nil))
			if fe.fatal || !errs.allow() {
				c.writeClose(protocol.ClosePolicy, protocol.CloseReason(fe.err))
				return protocol.Hello{}, false
			}
			continue
		}
		if err != nil {
			return protocol.Hello{}, false // the connection is gone (or hello took too long)
		}
		m, err := protocol.DecodeClientMsg(data)
		if err == nil && m.Type != "hello" {
			err = invalid("The first message must be hello.")
		}
		if err == nil {
			h, err := m.Hello()
			if err != nil {
				c.srv.metrics.errors.WithLabelValues(scribe.ErrorCode(err)).Inc()
				c.writeNow(protocol.EncodeError(err, nil))
				c.writeClose(protocol.ClosePolicy, protocol.CloseReason(err))
				return h, false
			}
			return h, true
		}
		c.srv.metrics.errors.WithLabelValues(scribe.ErrorCode(err)).Inc()
		c.writeNow(protocol.EncodeError(err, nil))
		if !errs.allow() {
			c.writeClose(protocol.ClosePolicy, protocol.CloseReasonError)
			return protocol.Hello{}, false
		}
	}
}

// frameError is a frame the server refuses and tells the client about. When
// fatal, the connection ends after the error.
type frameError struct {
	err   error
	fatal bool
}

func (e *frameError) Error() string { return e.err.Error() }

// readFrame reads the next message. A refused frame gives a *frameError; any
// other error means the connection is gone.
func (c *client) readFrame() ([]byte, error) {
	typ, r, err := c.conn.NextReader()
	if err != nil {
		return nil, err
	}
	limit := c.srv.limits.MaxMessageBytes
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		return nil, &frameError{scribe.Errorf(scribe.ETOOLARGE, "A message may be at most %d bytes.", limit), true}
	}
	if typ != websocket.TextMessage {
		return nil, &frameError{invalid("Binary frames are not supported; send JSON in text frames."), false}
	}
	return data, nil
}

// writeNow writes one frame directly. Only for use before the write pump
// starts.
func (c *client) writeNow(msg []byte) {
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	_ = writeFrame(c.conn, [][]byte{msg})
}

// writeClose sends a close frame and waits briefly for the client's reply,
// so the close frame is not lost to a TCP reset. Only for use before the
// write pump starts.
func (c *client) writeClose(code int, reason string) {
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(writeWait))
	_ = c.conn.SetReadDeadline(time.Now().Add(closeWait))
	for {
		if _, _, err := c.conn.NextReader(); err != nil {
			return
		}
	}
}

// pong handles a pong from the client read by gorilla's reader: the
// client is alive, its read deadline moves on.
func (c *client) pong() error {
	_ = c.hear()
	return c.conn.SetReadDeadline(c.deadline())
}

// reader is the read side's state across turns of the read pump.
type reader struct {
	seat            *room.Seat
	errs, ops, pres *tokenBucket
	pings           *tokenBucket
}

// newReader sets the read deadline and the pong handler, and returns the
// read side's state.
func (c *client) newReader(seat *room.Seat, errs *tokenBucket) *reader {
	_ = c.hear()
	_ = c.conn.SetReadDeadline(c.deadline())
	c.conn.SetPongHandler(func(string) error { return c.pong() })
	return &reader{
		seat:  seat,
		errs:  errs,
		ops:   newTokenBucket(c.srv.limits.OpsPerSecond, max(c.srv.limits.OpsPerSecond, 1)),
		pres:  newTokenBucket(c.srv.limits.OpsPerSecond*presenceRateFactor, max(c.srv.limits.OpsPerSecond*presenceRateFactor, 1)),
		pings: newTokenBucket(pingRate, pingBurst),
	}
}

// readPump reads the client's messages and hands them to the room through
// its seat. It is the connection's only reader. It returns true when all it
// has read is handled and the connection may park (c.park) until the
// client sends more, false when the connection ends. A connection that
// cannot park stays in it until the end.
func (c *client) readPump(rd *reader) bool {
	seat, errs, ops, pres, pings := rd.seat, rd.errs, rd.ops, rd.pres, rd.pings
	fail := func(err error, seq *uint64) bool {
		c.sendError(err, seq)
		if !errs.allow() {
			c.close(protocol.ClosePolicy, protocol.CloseReasonError, true)
			return false
		}
		return true
	}
	// The first turn reads at least one message: the parker woke for it,
	// or it was already buffered.
	for first := true; ; first = false {
		if !first && c.park.idle() {
			return true
		}
		data, err := c.readFrame()
		var fe *frameError
		if errors.As(err, &fe) {
			if fe.fatal {
				c.sendError(fe.err, nil)
				c.close(protocol.ClosePolicy, protocol.CloseReason(fe.err), true)
				return false
			}
			if !fail(fe.err, nil) {
				return false
			}
			continue
		}
		if err != nil {
			return false
		}
		received := time.Now()
		c.heard.Store(received.UnixNano())
		_ = c.conn.SetReadDeadline(received.Add(pongWait))
		m, err := protocol.DecodeClientMsg(data)
		if err != nil {
			if !fail(err, nil) {
				return false
			}
			continue
		}
		switch m.Type {
		case "op":
			seq := m.Seq
			if seq != nil && *seq == 0 {
				seq = nil
			}
			if c.readonly {
				if !fail(scribe.Errorf(scribe.EFORBIDDEN, "This is a read-only link: edits are refused."), seq) {
					return false
				}
				continue
			}
			if !ops.allow() {
				if !fail(scribe.Errorf(scribe.ERATELIMIT, "More than %g operations per second; slow down.", c.srv.limits.OpsPerSecond), seq) {
					return false
				}
				continue
			}
			o, err := m.OpMsg()
			if err != nil {
				if !fail(err, seq) {
					return false
				}
				continue
			}
			if !seat.Submit(o.Seq, o.Rev, o.Op, o.Sel, received) {
				return false
			}
		case "presence":
			if c.readonly || !pres.allow() {
				continue // a viewer has no selection; excess presence is dropped (it is best-effort)
			}
			p, err := m.Presence()
			if err != nil {
				if !fail(err, nil) {
					return false
				}
				continue
			}
			if !seat.Select(p.Rev, p.Sel) {
				return false
			}
		case "ping":
			// Answered here, not by the room, but through the same send
			// queue as everything else: a pong proves the write path works.
			// Excess pings are dropped like excess presence; they are never
			// an error, so a chatty client is not disconnected for them.
			if !pings.allow() {
				continue
			}
			id, err := m.PingID()
			if err != nil {
				if !fail(err, nil) {
					return false
				}
				continue
			}
			c.send(protocol.EncodePong(id))
		case "name":
			if c.fixedName {
				continue
			}
			name, err := m.NewName()
			if err != nil {
				if !fail(err, nil) {
					return false
				}
				continue
			}
			if !seat.Rename(name) {
				return false
			}
		case "hello":
			if !fail(invalid("hello was already received."), nil) {
				return false
			}
		default:
			if !fail(invalid("Unknown message type %q.", truncate(m.Type, 32)), nil) {
				return false
			}
		}
	}
}

// writePump sends what is queued for the client, batched into frames, and
// the pings, until nothing is left to send; it is the connection's only
// writer while it runs (outbox.running), and the last one finishes the
// connection when it closes.
//
// Frames are what cost (a write system call here, a wake-up and a read in
// the client), so under load they are spaced: after each frame the pump
// rests for coalesceWindow, and only an urgent message (the client's ack,
// an error, a pong) ends the rest early; other people's ops and presence
// queue up meanwhile and go out together when it ends. A pump starts for
// the first message on a quiet connection and writes it at once, so a
// quiet note adds no delay; a busy client gets about one frame per window
// instead of one per commit, and a flooding client gets its ack at once
// with every op since its last frame in the same frame. When a rest ends
// with nothing queued, the pump ends.
//
// An editor's rest grows with the note's editors on this node
// (memberWindow): each commit reaches all of them, so with a fixed window
// the node's frames a second would grow with the square of a busy note's
// size; this way they stay at about 2,000 a second up to 100 editors.
//
// A viewer in its note's audience (viewercast.go) gets others' messages
// once per tick anyway: its pump rests only after finishing a shared frame
// its socket was slow to take, and otherwise writes what is queued and
// ends, to give the connection back to the ticks' shared frames.
func (c *client) writePump() {
	window := func() time.Duration { return memberWindow(c.room.Editors()) }
	if c.readonly {
		// A viewer's frames are what an all-hands costs: thousands of
		// viewers, a write system call each per frame. Its text may
		// follow the typing a little later (docs/benchmarks.md, issue 16).
		window = func() time.Duration { return viewerWindow }
	}
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	defer quiet.Stop()
	var spare [][]byte
	resting := false // in the quiet period after a frame
	for {
		if resting {
			select {
			case <-c.out.wake:
				if !c.out.isUrgent() {
					continue // woken before the pump began to rest: keep resting
				}
			case <-quiet.C:
			case <-c.closing:
			}
			quiet.Stop()
			resting = false
		}
		switch c.out.next() {
		case pumpEnd:
			return
		case pumpClose:
			c.finish()
			return
		}
		behind := false // the socket did not take a shared frame at once
		if rest := c.out.takeRest(); rest != nil {
			if err := c.writeRaw(rest, time.Now().Add(writeWait)); err != nil {
				if isTimeout(err) {
					c.tooSlow()
				}
				c.drop()
				return
			}
			behind = true
		}
		if c.out.takePing() {
			_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				if isTimeout(err) {
					c.tooSlow()
				}
				c.drop()
				return
			}
			c.pinger.Reset(c.nextTick())
		}
		var err error
		var n int
		if spare, n, err = c.writeQueued(spare, time.Time{}); err != nil {
			if isTimeout(err) {
				c.tooSlow()
			} else {
				c.close(protocol.CloseInternal, "", false)
			}
			c.drop()
			return
		}
		// A viewer in its note's audience rests only when its socket was
		// behind: the ticks' messages then queue and go out together.
		// Otherwise the ticks space its frames, and a rest after every
		// frame kept it out of the shared frames for as long as ticks
		// came a window apart (a viewer joining a busy note, whose
		// welcome is its pump's: viewercast.go).
		if (n > 0 && c.aud.Load() == nil) || behind {
			quiet.Reset(window())
			resting = true
		}
	}
}

// memberWindow is how long an editor's write pump rests after a frame in a
// note with editors members on this node: windowPerEditor per editor, at
// least coalesceWindow (up to 20 editors) and at most maxMemberWindow (from
// 100 editors on). Others' ops reach an editor up to
// that much later; its own acks, errors and pongs end the rest at once.
func memberWindow(editors int) time.Duration {
	return min(max(time.Duration(editors)*windowPerEditor, coalesceWindow), maxMemberWindow)
}

// isTimeout reports whether a write failed by its deadline (writeWait): the
// client stopped reading. It is dropped as too slow, as when its queue
// overflows first; which of the two bounds a stalled client reaches first
// depends only on how fast the note moves.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// finish ends the connection as close asked: the queued messages when
// flush is set, then the close frame.
func (c *client) finish() {
	if rest := c.out.takeRest(); rest != nil {
		// A shared frame begun must end before any other frame.
		if err := c.writeRaw(rest, time.Now().Add(writeWait)); err != nil {
			c.drop()
			return
		}
	}
	if c.flush {
		// One deadline for the whole flush, so a stalled client cannot
		// hold a shutdown up frame after frame.
		_, _, _ = c.writeQueued(nil, time.Now().Add(writeWait))
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	_ = c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, c.closeText))
	// Give the client a moment to answer the close, so the close frame is
	// not lost to a TCP reset; the read pump ends on the answer.
	t := time.NewTimer(closeWait)
	select {
	case <-t.C:
	case <-c.readDone:
	}
	t.Stop()
	c.drop()
}

// writeQueued sends everything queued, as few frames as possible, and
// returns the emptied queue for reuse and how many messages it sent. Each
// frame may take writeWait, or all must be done by deadline when it is set.
func (c *client) writeQueued(spare [][]byte, deadline time.Time) ([][]byte, int, error) {
	msgs := c.out.take(spare)
	rest := msgs
	for len(rest) > 0 {
		n, size := 0, 0
		for n < len(rest) && (n == 0 || size+len(rest[n]) < maxFrame) {
			size += len(rest[n]) + 1
			n++
		}
		d := deadline
		if d.IsZero() {
			d = time.Now().Add(writeWait)
		}
		_ = c.conn.SetWriteDeadline(d)
		if err := writeFrame(c.conn, rest[:n]); err != nil {
			return msgs, 0, err
		}
		rest = rest[n:]
	}
	return msgs, len(msgs), nil
}

// writeFrame writes messages as one server frame, a JSON array, straight
// into the connection's write buffer: no joined copy is made.
func writeFrame(conn *websocket.Conn, msgs [][]byte) error {
	w, err := conn.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	sep := []byte{'['}
	for _, m := range msgs {
		if _, err := w.Write(sep); err != nil {
			return err
		}
		if _, err := w.Write(m); err != nil {
			return err
		}
		sep[0] = ','
	}
	if _, err := w.Write([]byte{']'}); err != nil {
		return err
	}
	return w.Close()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
