package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/client"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// botConn is a lean client of the websocket protocol (docs/protocol.md),
// made for running hundreds in one process next to the server it measures.
// It keeps what a real client keeps to edit correctly (its revision, its
// in-flight and buffered ops transformed over every remote op, its cursor,
// the document's length) but not the text: every client of a note receives
// the same ops, so the run decodes each revision once, in a refLog shared
// by the bots, and each bot checks that the bytes it received for a
// revision are the same as everyone else's. At the end the log, replayed on
// the first welcome's text, must give the server's text: together that is
// "every client converged", at a fraction of the CPU of a full client per
// received op (client.Client parses, transforms and applies each op for itself).
//
// Its protocol state is package client's Machine, lean (it keeps the
// text's length, not the text), so the bot edits by the same rules as every
// Go client; only the frame parsing and the shared log are the bot's own.
//
// Its own committed op is checked too: when the ack comes, the bot's
// in-flight op, transformed over what arrived since it was sent, must be
// the op the server committed as that revision, byte for byte.
//
// A typing bot never has a buffer behind its op in flight: keystrokes typed
// while an op is in flight are held (counted, with the time of the first)
// and become one op, built at the bot's cursor, when the ack comes
// (keystroke). That is the op the composed buffer would have been, but it
// keeps the bot on the machine's cheap path: with a buffer, every remote op
// took two general ot.Transforms and their allocations, in each of the
// bots, so a tool that fell behind got slower the further behind it was.
//
// It does not reconnect: a dropped connection is counted and the bot stops.
type botConn struct {
	ws  *websocket.Conn
	raw *rawConn // instead of ws: a viewer read by a viewerPoll (viewers mode)
	log *refLog  // the note's shared revision log; nil in idle mode

	client string // our public id, from the welcome

	mu      sync.Mutex      // guards m and the fields below
	m       *client.Machine // the protocol state: a lean machine (no text)
	dead    bool            // the connection ended
	waiters []chan struct{}
	evs     []client.Event // scratch for the machine's events, under mu

	frames atomic.Int64 // frames received

	// Keystrokes held while an op is in flight (under mu): how many, when
	// the first was typed, and what builds them into one op.
	held     int
	heldAt   time.Time
	build    func(n, pos, k int) (ot.Operation, int)
	editedAt time.Time // the first keystroke of the op in flight
	keys     int       // the keystrokes the op in flight carries (0: not typed, e.g. the seed)
	// Keystrokes that cancelled out (a character and its backspace held
	// together: no op to send), committed as nothing.
	voidKeys atomic.Int64

	wmu sync.Mutex // serialises writes; taken while mu is held, so sends keep their order
	enc []byte     // the encoding buffer, under wmu

	onAck    func(a client.Ack, keys int)          // keys: the keystrokes the op carried
	onRemote func(first, last int64, at time.Time) // revisions first..last arrived at at
	onError  func(error)
	onClose  func(err error) // the read's error: a *websocket.CloseError when the server closed
}

// dialBot connects to a note's websocket, says hello and reads the
// welcome. The bot's handlers must be set before run.
func dialBot(ctx context.Context, d *websocket.Dialer, url, name string, log *refLog) (*botConn, error) {
	ws, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return nil, scribe.Errorf(scribe.ENOTFOUND, "The note does not exist.")
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	ws.SetReadLimit(64 << 20)
	hello := helloFrame(name)
	_ = ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, hello); err != nil {
		_ = ws.Close()
		return nil, fmt.Errorf("send hello: %w", err)
	}
	_ = ws.SetWriteDeadline(time.Time{})
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, frame, err := ws.ReadMessage()
	_ = ws.SetReadDeadline(time.Time{})
	if err != nil {
		_ = ws.Close()
		return nil, fmt.Errorf("await welcome: %w", err)
	}
	b, err := welcomeBot(frame, name, log)
	if err != nil {
		_ = ws.Close()
		return nil, err
	}
	b.ws = ws
	return b, nil
}

// helloFrame is a new bot's hello: a new session, as Machine.Hello gives
// before the first welcome.
func helloFrame(name string) []byte {
	var sid [16]byte
	_, _ = rand.Read(sid[:])
	return protocol.EncodeHello(protocol.Hello{Session: base64.RawURLEncoding.EncodeToString(sid[:]), Name: name})
}

// welcomeBot returns the bot whose first frame from the server was frame,
// without its connection.
func welcomeBot(frame []byte, name string, log *refLog) (*botConn, error) {
	msgs, err := protocol.ParseFrame(frame, nil, nil)
	switch {
	case err != nil:
		return nil, fmt.Errorf("await welcome: %w", err)
	case len(msgs) > 0 && msgs[0].Type == "error":
		return nil, fmt.Errorf("await welcome: %w", scribe.Errorf(msgs[0].Code, "%s", msgs[0].Message))
	case len(msgs) == 0 || msgs[0].Type != "welcome":
		return nil, fmt.Errorf("await welcome: the first frame is not a welcome: %.200s", frame)
	}
	w := &msgs[0]
	m := client.NewLeanMachine(name)
	m.Want = client.EvAck // remote ops are reported by revision, from remote
	if _, err := m.Welcome(w, nil); err != nil {
		return nil, err
	}
	m.Outbox() // nothing to say yet: no selection, no edit
	b := &botConn{log: log, client: w.Client, m: m}
	if log != nil {
		if err := log.welcome(w.Rev, w.Text); err != nil {
			return nil, err
		}
	}
	// Messages that shared the welcome's frame (peers' presence) need no
	// handling.
	return b, nil
}

// frameBufs holds the buffers frames are read into. A bot takes one only
// once a frame has begun to arrive (NextReader returned) and gives it back
// when the frame is handled, so the run needs about as many as there are
// cores, not one per bot: each bot keeping its own grew it to the largest
// frame it ever got (a lagging note's frames reach hundreds of KB), a
// thousand times over, and the growing (zeroing and copying) was a tenth
// of the tool's CPU at 1,000 typists.
var frameBufs = sync.Pool{New: func() any { return new([]byte) }}

// runBufs holds handleFrame's scratch for a frame's run of ops, shared by
// the bots for the same reason as frameBufs.
var runBufs = sync.Pool{New: func() any { return new([]ot.Operation) }}

// died marks the connection ended by err, wakes its waiters and tells
// onClose: the end of its reader, a goroutine (run) or an epoll loop's
// (rawConn.end).
func (b *botConn) died(err error) {
	b.mu.Lock()
	b.dead = true
	b.wake()
	b.mu.Unlock()
	if b.onClose != nil {
		b.onClose(err)
	}
}

// run reads the server's frames until the connection ends.
func (b *botConn) run() {
	for {
		_, r, err := b.ws.NextReader()
		var bp *[]byte
		if err == nil {
			bp = frameBufs.Get().(*[]byte)
			*bp, err = readAll(r, (*bp)[:0])
		}
		if err != nil {
			if bp != nil {
				frameBufs.Put(bp)
			}
			b.died(err)
			return
		}
		b.frames.Add(1)
		err = b.handleFrame(*bp, time.Now())
		frameBufs.Put(bp) // nothing keeps the frame's bytes (refLog clones what it records)
		if err != nil {
			// The bot's state can no longer be trusted: count the error
			// once and end the connection (the read then fails).
			b.onError(fmt.Errorf("client %s: %w", b.client, err))
			b.abort()
		}
	}
}

// minRead is the least room readAll makes when buf is full: at least the
// dialer's read buffer, so that bufio hands the rest of a large frame
// straight to buf instead of through its own buffer.
const minRead = 32 << 10

// readAll reads r to its end into buf, reusing its capacity. It grows buf
// only when full: a bot's small frames keep it at minRead (it grew to
// three times that when it made room for minRead more after each read,
// 500 MB for 5,000 viewers).
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(minRead, cap(buf)))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// handleFrame handles a frame (a JSON array of messages) in order. Runs of
// consecutive ops are taken together. An op whose message is byte for byte
// the one another bot already decoded for that revision (the server encodes
// each op once for all its recipients) is recognised by comparing the
// bytes, without parsing it again; anything else is parsed.
func (b *botConn) handleFrame(f []byte, now time.Time) error {
	i := skipSpace(f, 0)
	if i >= len(f) || f[i] != '[' {
		// A single object: parse it the general way.
		msgs, err := protocol.ParseFrameLean(f, nil)
		if err != nil {
			return err
		}
		for k := range msgs {
			if err := b.message(&msgs[k], f, now); err != nil {
				return err
			}
		}
		return nil
	}
	i = skipSpace(f, i+1)
	if i < len(f) && f[i] == ']' {
		return nil
	}
	rp := runBufs.Get().(*[]ot.Operation)
	run := (*rp)[:0]
	defer func() { clear(run); *rp = run[:0]; runBufs.Put(rp) }()
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		err := b.remote(run, now)
		clear(run)
		run = run[:0]
		return err
	}
	for {
		if i >= len(f) {
			return errors.New("truncated frame")
		}
		next := b.rev() + 1 + int64(len(run)) // the revision changes only on this goroutine
		if rec := b.log.msg(next); rec != nil && bytes.HasPrefix(f[i:], rec.msg) {
			run = append(run, rec.op)
			i += len(rec.msg)
		} else {
			m, j, err := protocol.ParseObjectLean(f, i)
			if err != nil {
				return err
			}
			if m.Type == "op" {
				if m.Rev != next {
					return fmt.Errorf("op for revision %d where %d was due", m.Rev, next)
				}
				op, err := b.log.remote(m.Rev, m.Op, f[i:j])
				if err != nil {
					return err
				}
				run = append(run, op)
			} else {
				if err := flush(); err != nil {
					return err
				}
				if err := b.message(&m, f[i:j], now); err != nil {
					return err
				}
			}
			i = j
		}
		i = skipSpace(f, i)
		switch {
		case i < len(f) && f[i] == ',':
			i = skipSpace(f, i+1)
		case i < len(f) && f[i] == ']':
			return flush()
		default:
			return errors.New("bad frame: expected , or ]")
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// message handles one message other than a run of ops; raw is its JSON.
func (b *botConn) message(m *protocol.Msg, raw []byte, now time.Time) error {
	switch m.Type {
	case "op":
		if next := b.rev() + 1; m.Rev != next {
			return fmt.Errorf("op for revision %d where %d was due", m.Rev, next)
		}
		op, err := b.log.remote(m.Rev, m.Op, raw)
		if err != nil {
			return err
		}
		return b.remote([]ot.Operation{op}, now)
	case "ack":
		return b.ack(m, now)
	case "error":
		return fmt.Errorf("server error %s: %s", m.Code, m.Message)
	}
	return nil // presence, leave, pong: nothing to keep
}

// rev returns the bot's revision, without the lock: only for the reading
// goroutine, the only one that changes the revision (remote ops and acks;
// an edit does not).
func (b *botConn) rev() int64 { return b.m.Revision() }

// remote takes other clients' committed ops, the revisions after ours.
func (b *botConn) remote(ops []ot.Operation, now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	first := b.m.Revision() + 1
	var err error
	b.evs, err = b.m.RemoteOps(ops, b.evs[:0])
	if err != nil {
		return err
	}
	b.wake()
	if b.onRemote != nil {
		b.onRemote(first, b.m.Revision(), now)
	}
	return nil
}

// ack takes the acknowledgement of our in-flight op and sends the buffer.
func (b *botConn) ack(m *protocol.Msg, now time.Time) error {
	b.mu.Lock()
	if !b.m.InFlight() || m.Rev != b.m.Revision()+1 {
		rev := b.m.Revision()
		b.mu.Unlock()
		return fmt.Errorf("unexpected ack of seq %d as revision %d (at revision %d)", m.Seq, m.Rev, rev)
	}
	evs, err := b.m.Ack(m.Seq, m.Rev, now, b.evs[:0])
	b.evs = evs
	var ack client.Ack
	for _, e := range evs {
		if e.Kind == client.EvAck {
			ack = e.Ack
		}
	}
	if err != nil || ack.Rev != m.Rev {
		b.mu.Unlock()
		return fmt.Errorf("unexpected ack of seq %d as revision %d: %v", m.Seq, m.Rev, err)
	}
	ack.EditedAt = b.editedAt
	keys := b.keys
	b.keys = 0
	err = b.log.own(m.Rev, ack.Op)
	if b.held > 0 && err == nil {
		k, at := b.held, b.heldAt
		b.held = 0
		if err = b.changeLocked(func(n, pos int) (ot.Operation, int) { return b.build(n, pos, k) }, at, k); err != nil {
			err = fmt.Errorf("held keystrokes: %w", err)
		}
	}
	b.wake()
	b.sendLocked() // unlocks
	if b.onAck != nil {
		b.onAck(ack, keys)
	}
	return err
}

// edit makes a local edit: build gets the document's length and our cursor
// and returns the op and the new cursor. The op goes out at once, or waits
// in the buffer while another is in flight.
func (b *botConn) edit(build func(n, pos int) (ot.Operation, int)) error {
	b.mu.Lock()
	if b.dead {
		b.mu.Unlock()
		return errBotClosed
	}
	if err := b.changeLocked(build, time.Now(), 0); err != nil {
		b.m.Outbox()
		b.mu.Unlock()
		return err
	}
	b.sendLocked() // unlocks
	return nil
}

// keystroke types one keystroke: at once, as an op of its own, when
// nothing is in flight, else held until the ack, when all the held ones
// become one op (b.build, given how many).
func (b *botConn) keystroke() error {
	now := time.Now()
	b.mu.Lock()
	if b.dead {
		b.mu.Unlock()
		return errBotClosed
	}
	if b.m.InFlight() {
		if b.held == 0 {
			b.heldAt = now
		}
		b.held++
		b.mu.Unlock()
		return nil
	}
	if err := b.changeLocked(func(n, pos int) (ot.Operation, int) { return b.build(n, pos, 1) }, now, 1); err != nil {
		b.m.Outbox()
		b.mu.Unlock()
		return err
	}
	b.sendLocked() // unlocks
	return nil
}

// changeLocked makes the edit build returns (mu held); edited is when its
// first keystroke was typed, keys how many keystrokes it is made of.
func (b *botConn) changeLocked(build func(n, pos int) (ot.Operation, int), edited time.Time, keys int) error {
	inflight := b.m.InFlight()
	err := b.m.Change(func(n int, sel ot.Selection) (ot.Operation, ot.Selection) {
		op, pos := build(n, cursor(sel))
		return op, ot.Selection{{Anchor: pos, Head: pos}}
	})
	if err == nil && !inflight && b.m.InFlight() {
		b.editedAt, b.keys = edited, 0
	}
	switch {
	case err == nil && b.m.InFlight():
		b.keys += keys
	case err == nil:
		b.voidKeys.Add(int64(keys))
	}
	return err
}

// cursor is the head of sel's first range, 0 for none.
func cursor(sel ot.Selection) int {
	if len(sel) == 0 {
		return 0
	}
	return sel[0].Head
}

var errBotClosed = errors.New("connection closed")

// sendLocked writes what the machine queued. It is called with mu held and
// releases it, writing outside mu but inside wmu so that sends stay in
// order.
func (b *botConn) sendLocked() {
	out := b.m.Outbox()
	if len(out) == 0 {
		b.mu.Unlock()
		return
	}
	b.wmu.Lock()
	e := b.enc[:0]
	var starts [4]int
	k := 0
	for i := range out {
		if k < len(starts) {
			starts[k] = len(e)
			k++
		}
		e = out[i].Append(e)
	}
	b.enc = e
	b.mu.Unlock()
	for i := 0; i < k; i++ {
		end := len(e)
		if i+1 < k {
			end = starts[i+1]
		}
		if err := b.writeMessage(e[starts[i]:end]); err != nil {
			b.abort() // the reader notices and marks the bot dead
			break
		}
	}
	b.wmu.Unlock()
}

// moveTo sets the cursor and tells the others (a presence message, or with
// the op in flight if there is one).
func (b *botConn) moveTo(pos int) error {
	b.mu.Lock()
	if err := b.m.Select(ot.Selection{{Anchor: pos, Head: pos}}); err != nil {
		b.mu.Unlock()
		return err
	}
	b.sendLocked() // unlocks
	return nil
}

// state returns the revision and whether edits are pending.
func (b *botConn) state() (rev int64, pending, dead bool, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m.Revision(), b.m.Pending(), b.dead, b.m.Len()
}

// wait blocks until cond holds (checked under mu after every change), the
// bot dies or ctx ends.
func (b *botConn) wait(ctx context.Context, cond func(b *botConn) bool) error {
	for {
		b.mu.Lock()
		if cond(b) {
			b.mu.Unlock()
			return nil
		}
		if b.dead {
			b.mu.Unlock()
			return errBotClosed
		}
		ch := make(chan struct{})
		b.waiters = append(b.waiters, ch)
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// wake releases the waiters (mu held).
func (b *botConn) wake() {
	for _, ch := range b.waiters {
		close(ch)
	}
	b.waiters = b.waiters[:0]
}

func (b *botConn) close() error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if b.raw != nil {
		_ = b.raw.write(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		b.raw.shutdown()
		return nil
	}
	_ = b.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return b.ws.Close()
}

// writeMessage sends one text message (wmu held).
func (b *botConn) writeMessage(msg []byte) error {
	if b.raw != nil {
		return b.raw.write(websocket.TextMessage, msg)
	}
	return b.ws.WriteMessage(websocket.TextMessage, msg)
}

// abort ends the connection without a close frame: its reader then sees
// the end and marks the bot dead.
func (b *botConn) abort() {
	if b.raw != nil {
		b.raw.shutdown()
		return
	}
	_ = b.ws.Close()
}

// refLog is the run's record of the note's revisions: the text of the
// first welcome, then each committed op as the first bot to see it decoded
// it. Every later bot compares its bytes with the record.
type refLog struct {
	mu       sync.Mutex
	base     int64 // the revision of text
	text     string
	started  bool
	mismatch []string
	ops      table[atomic.Pointer[refOp]] // index rev-base-1
}

// refOp is one revision as recorded: its op's JSON and the decoded op, and
// (once a bot has parsed it) the whole message the server sent for it.
type refOp struct {
	json []byte
	op   ot.Operation
	msg  atomic.Pointer[refMsg]
}

// refMsg is a revision's op message as the server encoded it.
type refMsg struct {
	msg []byte
	op  ot.Operation
}

// msg returns the recorded message of rev, or nil.
func (l *refLog) msg(rev int64) *refMsg {
	if l == nil {
		return nil
	}
	i := rev - l.base - 1
	if i < 0 {
		return nil
	}
	if p := l.ops.at(i).Load(); p != nil {
		return p.msg.Load()
	}
	return nil
}

// welcome records the text a bot joined with; every bot must join at the
// same revision with the same text (nobody edits while the run connects).
func (l *refLog) welcome(rev int64, text string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		l.base, l.text, l.started = rev, text, true
		return nil
	}
	if rev != l.base || text != l.text {
		return fmt.Errorf("joined at revision %d, another client at %d with other text: the note was edited while the run connected", rev, l.base)
	}
	return nil
}

// entry returns the slot of rev; base is fixed once the bots have joined.
func (l *refLog) entry(rev int64) (*atomic.Pointer[refOp], error) {
	i := rev - l.base - 1
	if i < 0 {
		return nil, fmt.Errorf("revision %d is not after the welcome's %d", rev, l.base)
	}
	return l.ops.at(i), nil
}

// remote returns the op of rev as received in raw, decoding it only when
// it is the first copy seen, and reports a copy that differs. msg is the
// whole message it came in, recorded for the next bots to compare with.
func (l *refLog) remote(rev int64, raw, msg []byte) (ot.Operation, error) {
	if l == nil { // idle mode keeps no record
		return ot.ParseJSON(raw)
	}
	e, err := l.entry(rev)
	if err != nil {
		return ot.Operation{}, err
	}
	p := e.Load()
	if p == nil {
		op, err := ot.ParseJSON(raw)
		if err != nil {
			return ot.Operation{}, fmt.Errorf("revision %d: %w", rev, err)
		}
		r := &refOp{json: bytes.Clone(raw), op: op}
		r.msg.Store(&refMsg{msg: bytes.Clone(msg), op: op})
		if e.CompareAndSwap(nil, r) {
			return op, nil
		}
		p = e.Load()
	}
	if !bytes.Equal(p.json, raw) {
		return ot.Operation{}, l.differs(rev, p.json, raw)
	}
	if p.msg.Load() == nil {
		p.msg.CompareAndSwap(nil, &refMsg{msg: bytes.Clone(msg), op: p.op})
	}
	return p.op, nil
}

// own records (or checks) the op a bot had in flight as rev, transformed
// as the server should have transformed it.
func (l *refLog) own(rev int64, op ot.Operation) error {
	if l == nil {
		return nil
	}
	e, err := l.entry(rev)
	if err != nil {
		return err
	}
	s := op.String()
	p := e.Load()
	if p == nil {
		if e.CompareAndSwap(nil, &refOp{json: []byte(s), op: op}) {
			return nil
		}
		p = e.Load()
	}
	if string(p.json) != s {
		return l.differs(rev, p.json, []byte(s))
	}
	return nil
}

func (l *refLog) differs(rev int64, want, got []byte) error {
	err := fmt.Errorf("revision %d differs between clients: %.100s against %.100s", rev, got, want)
	l.mu.Lock()
	l.mismatch = append(l.mismatch, err.Error())
	l.mu.Unlock()
	return err
}

// replay applies the record up to rev to the first welcome's text.
func (l *refLog) replay(rev int64) (string, error) {
	l.mu.Lock()
	base, text := l.base, l.text
	nm := len(l.mismatch)
	l.mu.Unlock()
	if nm > 0 {
		return "", fmt.Errorf("%d revisions differed between clients", nm)
	}
	doc, err := ot.NewDocument(text)
	if err != nil {
		return "", err
	}
	for r := base + 1; r <= rev; r++ {
		e, err := l.entry(r)
		if err != nil {
			return "", err
		}
		p := e.Load()
		if p == nil {
			return "", fmt.Errorf("no client saw revision %d", r)
		}
		if err := doc.Apply(p.op); err != nil {
			return "", fmt.Errorf("revision %d: %w", r, err)
		}
	}
	return doc.String(), nil
}
