// Package client is a Go client for Scribe's websocket protocol, version 1
// (docs/protocol.md): the classic operational-transform client state machine
// (synchronized, awaiting an ack, awaiting an ack with a buffer of later
// edits), UTF-16 offsets through package ot, presence, and reconnection with
// the same session and a catch-up that neither loses nor doubles an edit.
//
// It is what bots, the load tool (`scribe bench`) and the end-to-end tests
// use to talk to a server:
//
//	c, err := client.Dial(ctx, "ws://127.0.0.1:8080/api/notes/ID/ws", client.Options{Name: "bot"})
//	...
//	op, _ := ot.NewBuilder().Retain(c.Len()).Insert("hello").Build()
//	err = c.Edit(op) // applied locally at once, sent or buffered
//	err = c.WaitSynced(ctx) // every local edit acknowledged
//
// A Client is safe for concurrent use. Callbacks (Options.On*) run on the
// client's reader goroutine, one at a time and in the order the server sent
// the messages, without any lock held: they may call the Client's methods
// except Close and Reconnect, and should return quickly, since the client
// reads nothing while one runs.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// Timing and size constants.
const (
	writeWait      = 10 * time.Second // to write one frame
	readWait       = 90 * time.Second // silence (no frame, no ping) before the connection counts as dead; the server pings every 30 s
	handshakeWait  = 15 * time.Second // to dial and receive the welcome, unless the context is shorter
	minBackoff     = 500 * time.Millisecond
	maxBackoff     = 10 * time.Second
	historyLen     = 256     // committed operations kept to move presence that refers to an older revision
	maxServerFrame = 8 << 20 // the largest server frame accepted (a welcome carries the whole note)
	maxPastIDs     = 16      // earlier connections' ids remembered to recognise our own ops
)

// ErrClosed is returned by methods called after Close, or after the server
// closed the connection for good (close code 4404).
var ErrClosed = errors.New("client: closed")

// Status is the state of the client's connection.
type Status int

const (
	// Connected: the welcome was received; edits are sent as they are made.
	Connected Status = iota + 1
	// Disconnected: the connection dropped; edits are kept and buffered, and
	// go out after a reconnect (automatic with Options.AutoReconnect).
	Disconnected
	// Closed: Close was called, or the server said the note is gone (4404).
	Closed
)

func (s Status) String() string {
	switch s {
	case Connected:
		return "connected"
	case Disconnected:
		return "disconnected"
	case Closed:
		return "closed"
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// Options configure a Client.
type Options struct {
	// Session identifies this client's edits across reconnects: 8-64
	// characters of [A-Za-z0-9_-]. Empty means a new random session. Reuse a
	// session only for the same logical client (the server deduplicates
	// edits by (session, seq)).
	Session string
	// Name is the display name others see ("Anonymous" when empty).
	Name string
	// Header holds extra handshake headers (for example Origin or Cookie).
	Header http.Header
	// Dialer dials the websocket; nil means a default dialer.
	Dialer *websocket.Dialer

	// AutoReconnect makes the client reconnect by itself, with backoff
	// (0.5 s doubling to 10 s, with jitter), when the connection drops for
	// any reason but Close or close code 4404.
	AutoReconnect bool
	// ReconnectURLs are the websocket URLs automatic reconnects try in turn
	// (for example the same note on other server nodes). Empty means the URL
	// of the last successful connection.
	ReconnectURLs []string

	// OnRemoteOp is called for every operation committed by someone else,
	// after it has been applied to the local text.
	OnRemoteOp func(RemoteOp)
	// OnAck is called when the server acknowledges one of this client's
	// operations (it is durable).
	OnAck func(Ack)
	// OnPresence is called when a peer joins, moves its selection or
	// renames; the selection is already moved into the local text. A peer's
	// op that carries its selection (the server sends the selection with
	// the op instead of a presence message) calls it too, after OnRemoteOp.
	OnPresence func(protocol.Peer)
	// OnLeave is called when a peer leaves.
	OnLeave func(client string)
	// OnError is called for every error: errors the server reports (a
	// *ServerError), a dropped connection, a failed reconnect attempt, and
	// local edits discarded to resynchronise (a *ResyncError).
	OnError func(error)
	// OnExport is called when the note is exported (an exported message;
	// not for the export a welcome carries: see LastExport).
	OnExport func(protocol.Export)
	// OnStatus is called when the connection status changes.
	OnStatus func(Status)
}

// RemoteOp is an operation someone else committed.
type RemoteOp struct {
	Rev      int64        // the revision it produced
	Op       ot.Operation // as committed, based on Rev-1
	Client   string       // the submitter's public client id
	Received time.Time
}

// Ack acknowledges one of this client's operations.
type Ack struct {
	Seq      uint64
	Rev      int64        // the revision the operation produced
	Op       ot.Operation // as committed (transformed over concurrent edits)
	SentAt   time.Time    // when it was last sent
	EditedAt time.Time    // when the first edit composed into it was made
	Received time.Time
}

// ServerError is an error message from the server. Seq is set (HasSeq) when
// it refused one of this client's operations; the client then does what
// docs/protocol.md prescribes for the code: ERATELIMIT keeps the op and
// resends it (same seq) after a pause; EINTERNAL and EUNAVAILABLE keep it
// and reconnect; ENOTFOUND closes the client; any other code discards the
// unacknowledged edits and reloads the note (reported as a ResyncError).
type ServerError struct {
	Code    string
	Message string
	Seq     uint64
	HasSeq  bool
}

func (e *ServerError) Error() string {
	if e.HasSeq {
		return fmt.Sprintf("server refused op %d: %s: %s", e.Seq, e.Code, e.Message)
	}
	return fmt.Sprintf("server error: %s: %s", e.Code, e.Message)
}

// Unwrap returns the error as a *scribe.Error, so scribe.ErrorCode works.
func (e *ServerError) Unwrap() error { return &scribe.Error{Code: e.Code, Message: e.Message} }

// ResyncError reports local edits that were discarded because the client
// had to reload the note: the server refused an operation (or, on a lean
// machine, which has no text to merge into, answered a reconnect with a
// full text instead of a catch-up). A full text is otherwise merged into.
type ResyncError struct {
	Reason    string
	Discarded ot.Operation // the discarded edits, composed, based on the old text
}

func (e *ResyncError) Error() string {
	return "local edits discarded to resynchronise: " + e.Reason
}

// Client is the transport of the protocol around a Machine, kept across
// reconnects: the websocket with its read and write pumps, reconnection
// with backoff, callbacks, and waiting. The state (the local text, the op
// in flight, the buffer) is the Machine's. See the package comment.
type Client struct {
	opts    Options
	session string
	dialer  *websocket.Dialer

	dialMu sync.Mutex // serialises connect attempts

	mu         sync.Mutex
	m          *Machine // the protocol state; under mu
	conn       *conn
	url        string // of the current or last connection
	status     Status
	closed     bool
	closeErr   error         // why the client closed, when the server closed it for good
	gone       error         // the server said the note is gone (ENOTFOUND for our op): close when the connection ends
	changed    chan struct{} // closed on the next state change; nil when nobody waits
	reconnects bool          // an automatic reconnect loop is running
	delivering int           // batches of callbacks being run; waiters wait for them
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

func Dial(ctx context.Context, url string, opts Options) (*Client, error) {
	session := opts.Session
	if session == "" {
		session = NewSession()
	} else if !scribe.ValidSession(session) {
		return nil, scribe.Errorf(scribe.EINVALID, "The session must be 8 to 64 characters of A-Z, a-z, 0-9, '-' or '_'.")
	}
	dialer := opts.Dialer
	if dialer == nil {
		dialer = &websocket.Dialer{
			HandshakeTimeout: handshakeWait,
			ReadBufferSize:   4096,
			WriteBufferSize:  4096,
		}
	}
	cctx, cancel := context.WithCancel(context.Background())
	m := NewMachine(opts.Name)
	if opts.OnRemoteOp != nil {
		m.Want |= EvRemote
	}
	if opts.OnAck != nil {
		m.Want |= EvAck
	}
	if opts.OnPresence != nil {
		m.Want |= EvPresence
	}
	if opts.OnLeave != nil {
		m.Want |= EvLeave
	}
	if opts.OnError != nil {
		m.Want |= EvError
	}
	if opts.OnExport != nil {
		m.Want |= EvExport
	}
	c := &Client{
		opts:    opts,
		session: session,
		dialer:  dialer,
		m:       m,
		ctx:     cctx,
		cancel:  cancel,
	}
	c.dialMu.Lock()
	err := c.connect(ctx, url)
	c.dialMu.Unlock()
	if err != nil {
		cancel()
		return nil, err
	}
	return c, nil
}

// NewSession returns a new random session id (22 characters).
func NewSession() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// wsURL turns an http(s) URL into a ws(s) one.
func wsURL(u string) string {
	switch {
	case strings.HasPrefix(u, "http://"):
		return "ws://" + u[len("http://"):]
	case strings.HasPrefix(u, "https://"):
		return "wss://" + u[len("https://"):]
	}
	return u
}

// NoteURL returns the websocket URL of a note on the server at base (for
// example "http://127.0.0.1:8080").
func NoteURL(base string, id scribe.NoteID) string {
	return wsURL(strings.TrimRight(base, "/")) + "/api/notes/" + string(id) + "/ws"
}

// ShareURL returns the websocket URL of a read-only share on the server at base.
func ShareURL(base string, token scribe.Token) string {
	return wsURL(strings.TrimRight(base, "/")) + "/api/shares/" + string(token) + "/ws"
}

// ---- accessors ----

// Session returns the session id (kept across reconnects).
func (c *Client) Session() string { return c.session }

// ClientID returns the public id the server gave the current connection.
func (c *Client) ClientID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.ClientID()
}

// Text returns the local text: the server's text at Revision with this
// client's unacknowledged edits applied.
func (c *Client) Text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.Text()
}

// Len returns the length of the local text in UTF-16 code units.
func (c *Client) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.Len()
}

// Revision returns the last revision received from the server (through the
// welcome, an op or an ack).
func (c *Client) Revision() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.Revision()
}

// Pending reports whether some local edits are not acknowledged yet.
func (c *Client) Pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.InFlight()
}

// Status returns the connection status.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// ReadOnly reports whether the connection is read-only (a share link).
func (c *Client) ReadOnly() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.ReadOnly()
}

// Title returns the note's title as of the last welcome.
func (c *Client) Title() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.Title()
}

// LastExport returns the note's latest export, and false when it was
// never exported.
func (c *Client) LastExport() (protocol.Export, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.LastExport()
}

// ChangedSinceExport reports whether the note has edits its latest export
// does not hold (Machine.ChangedSinceExport).
func (c *Client) ChangedSinceExport() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.ChangedSinceExport()
}

// WaitExport waits until the note's latest export is commit.
func (c *Client) WaitExport(ctx context.Context, commit string) error {
	return c.wait(ctx, func() bool { e, ok := c.m.LastExport(); return ok && e.Commit == commit })
}

// Limits returns the server's limits as of the last welcome.
func (c *Client) Limits() protocol.Limits {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.Limits()
}

// Selection returns the local selection.
func (c *Client) Selection() ot.Selection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.Selection()
}

// Peers returns everyone else present, with their selections moved into
// the local text.
func (c *Client) Peers() []protocol.Peer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.Peers()
}

// ---- waiting ----

// notifyLocked wakes everyone waiting for a change. Called with mu held.
func (c *Client) notifyLocked() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// wait blocks until cond (called with mu held) holds, ctx is done, or the
// client is closed.
func (c *Client) wait(ctx context.Context, cond func() bool) error {
	for {
		c.mu.Lock()
		if c.delivering == 0 && cond() {
			c.mu.Unlock()
			return nil
		}
		if c.closed {
			err := c.closeErr
			c.mu.Unlock()
			if err != nil {
				return fmt.Errorf("%w: %w", ErrClosed, err)
			}
			return ErrClosed
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitSynced waits until every local edit is acknowledged and the client
// is connected. Like every Wait method it returns only after the callbacks
// of the messages that satisfied it have run, and must not be called from
// a callback.
func (c *Client) WaitSynced(ctx context.Context) error {
	return c.wait(ctx, func() bool { return !c.m.InFlight() && c.status == Connected })
}

// WaitRevision waits until the client has received revision rev.
func (c *Client) WaitRevision(ctx context.Context, rev int64) error {
	return c.wait(ctx, func() bool { return c.m.Revision() >= rev })
}

// WaitStatus waits until the connection status is s.
func (c *Client) WaitStatus(ctx context.Context, s Status) error {
	return c.wait(ctx, func() bool { return c.status == s })
}

// ---- local changes ----

// Edit applies op, a local edit based on the current local text (its base
// length is Len()), and sends it, or buffers it while another operation is
// in flight or the client is disconnected. The local selection is moved
// through op. An op that does not fit the text gives EINVALID and changes
// nothing; on a read-only connection it gives EFORBIDDEN.
func (c *Client) Edit(op ot.Operation) error {
	return c.edit(op, nil, false)
}

// EditSelect is Edit with the selection after the edit (in the new local
// text), sent along with the operation.
func (c *Client) EditSelect(op ot.Operation, sel ot.Selection) error {
	return c.edit(op, sel, true)
}

// Change applies a local edit computed from the current state, atomically:
// f gets the local text's length (in UTF-16 code units) and selection and
// returns an operation based on that length and the selection after it
// (nil keeps the selection moved through the op). f runs under the
// client's lock, so nothing changes in between; it must not call the
// client's methods. Errors are Edit's.
func (c *Client) Change(f func(length int, sel ot.Selection) (ot.Operation, ot.Selection)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	err := c.m.Change(f)
	c.flushLocked()
	c.notifyLocked()
	return err
}

func (c *Client) edit(op ot.Operation, sel ot.Selection, hasSel bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	err := c.m.Edit(op, sel, hasSel)
	c.flushLocked()
	if err == nil {
		c.notifyLocked()
	}
	return err
}

// Select sets the local selection (in the local text) and tells the peers:
// at once when nothing is in flight, else along with the next operation or
// after the ack. Out-of-range offsets give EINVALID. Callers should send at
// most ~20 selections per second.
func (c *Client) Select(sel ot.Selection) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	err := c.m.Select(sel)
	c.flushLocked()
	return err
}

// SetName changes the display name.
func (c *Client) SetName(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.m.SetName(name)
	c.flushLocked()
	return nil
}

// flushLocked sends what the machine queued on the current connection.
// Called with mu held, after every call to the machine.
func (c *Client) flushLocked() {
	out := c.m.Outbox()
	if c.conn == nil {
		return // the machine queues nothing while closed; be safe
	}
	for i := range out {
		c.conn.send(out[i].Append(make([]byte, 0, 64)))
	}
}

// ---- connection lifecycle ----

// conn is one websocket connection with its writer goroutine. The client's
// messages are queued (never blocking the caller) and written in order.
type conn struct {
	ws     *websocket.Conn
	url    string
	mu     sync.Mutex
	queue  [][]byte
	wake   chan struct{} // capacity 1
	closed chan struct{} // closed by shutdown
	once   sync.Once
	done   chan struct{} // closed when the reader has exited
}

func (cn *conn) send(b []byte) {
	cn.mu.Lock()
	cn.queue = append(cn.queue, b)
	cn.mu.Unlock()
	select {
	case cn.wake <- struct{}{}:
	default:
	}
}

// shutdown stops the writer and closes the socket, making the reader exit.
func (cn *conn) shutdown(code int, reason string) {
	cn.once.Do(func() {
		close(cn.closed)
		if code != 0 {
			_ = cn.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		}
		_ = cn.ws.Close()
	})
}

func (cn *conn) writePump() {
	for {
		select {
		case <-cn.wake:
		case <-cn.closed:
			return
		}
		cn.mu.Lock()
		q := cn.queue
		cn.queue = nil
		cn.mu.Unlock()
		for _, b := range q {
			_ = cn.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := cn.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				cn.shutdown(0, "")
				return
			}
		}
	}
}

// connect dials url, says hello (with the current revision after the first
// welcome), processes the welcome and starts the connection's goroutines.
// Called with dialMu held.

func (c *Client) connect(ctx context.Context, url string) error {
	url = wsURL(url)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	hello := c.m.Hello(c.session)
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, handshakeWait)
	defer cancel()
	ws, resp, err := c.dialer.DialContext(ctx, url, c.opts.Header)
	if err != nil {
		if resp != nil {
			switch resp.StatusCode {
			case http.StatusNotFound:
				return scribe.Errorf(scribe.ENOTFOUND, "The note does not exist (or the link was revoked).")
			case http.StatusForbidden:
				return scribe.Errorf(scribe.EFORBIDDEN, "The server refused the connection (403).")
			}
			return fmt.Errorf("dial %s: %w (HTTP %d)", url, err, resp.StatusCode)
		}
		return fmt.Errorf("dial %s: %w", url, err)
	}
	ws.SetReadLimit(maxServerFrame)
	fail := func(err error) error { _ = ws.Close(); return err }

	// Abort the handshake when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = ws.SetReadDeadline(time.Now()) })
	defer stop()
	deadline, _ := ctx.Deadline()
	_ = ws.SetWriteDeadline(deadline)
	if err := ws.WriteMessage(websocket.TextMessage, protocol.EncodeHello(hello)); err != nil {
		return fail(fmt.Errorf("send hello: %w", err))
	}
	_ = ws.SetReadDeadline(deadline)
	_, frame, err := ws.ReadMessage()
	if err != nil {
		if ce := closeError(err); ce != nil && ce.Code == protocol.CloseNotFound {
			return fail(scribe.Errorf(scribe.ENOTFOUND, "%s", ce.Text))
		} else if ce != nil && ce.Code == protocol.ClosePolicy && hello.HasRev {
			// The hello was refused (a revision ahead of the note): reload.
			c.mu.Lock()
			c.m.Reload()
			c.mu.Unlock()
		}
		if ctx.Err() != nil {
			return fail(fmt.Errorf("await welcome: %w", ctx.Err()))
		}
		return fail(fmt.Errorf("await welcome: %w", err))
	}
	msgs, err := protocol.ParseFrame(frame, nil, nil)
	if err != nil {
		return fail(fmt.Errorf("await welcome: %w", err))
	}
	if len(msgs) == 0 || msgs[0].Type != "welcome" {
		if len(msgs) > 0 && msgs[0].Type == "error" {
			if hello.HasRev && msgs[0].Code == scribe.EINVALID {
				// Our revision is ahead of the note (its store was reset or
				// rolled back): discard our state and reload next time.
				c.mu.Lock()
				c.m.Reload()
				c.mu.Unlock()
			}
			return fail(&ServerError{Code: msgs[0].Code, Message: msgs[0].Message})
		}
		return fail(errors.New("await welcome: the server's first message is not a welcome"))
	}
	stop()
	_ = ws.SetReadDeadline(time.Now().Add(readWait))
	_ = ws.SetWriteDeadline(time.Time{})

	cn := &conn{ws: ws, url: url, wake: make(chan struct{}, 1), closed: make(chan struct{}), done: make(chan struct{})}
	ws.SetPingHandler(func(data string) error {
		_ = ws.SetReadDeadline(time.Now().Add(readWait))
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			return err
		}
		return nil
	})

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fail(ErrClosed)
	}
	var evs []event
	mevs, err := c.m.Welcome(&msgs[0], nil)
	if err != nil {
		c.mu.Unlock()
		return fail(err)
	}
	c.conn, c.url = cn, url
	c.flushLocked() // the resend of the op in flight, our selection
	evs = c.events(evs, mevs)
	c.status = Connected
	if st := c.opts.OnStatus; st != nil {
		evs = append(evs, event{fn: func() { st(Connected) }})
	}
	evs, _ = c.handleLocked(cn, msgs[1:], evs, nil)
	c.wg.Add(2)
	go func() { defer c.wg.Done(); cn.writePump() }()
	c.deliverLocked(evs) // before the reader starts, so callbacks stay in order
	go func() { defer c.wg.Done(); c.readPump(cn) }()
	return nil
}

// deliverLocked runs the callbacks evs produced by a state change, then
// wakes the waiters. It is called with mu held and returns with it
// released. Waiters see the new state only after its callbacks ran
// (delivering counts batches in progress), so WaitSynced returning means
// OnAck has been called.
func (c *Client) deliverLocked(evs []event) {
	if len(evs) == 0 {
		c.notifyLocked()
		c.mu.Unlock()
		return
	}
	c.delivering++
	c.mu.Unlock()
	c.run(evs)
	c.mu.Lock()
	c.delivering--
	c.notifyLocked()
	c.mu.Unlock()
}

// event is one callback to run: one of the machine's events, or anything
// else as a closure.
type event struct {
	Event        // when fn is nil
	fn    func() // a closure to run
}

// events appends the machine's events to evs.
func (c *Client) events(evs []event, mevs []Event) []event {
	for i := range mevs {
		evs = append(evs, event{Event: mevs[i]})
	}
	return evs
}

func (c *Client) run(evs []event) {
	for i := range evs {
		e := &evs[i]
		if e.fn != nil {
			e.fn()
			continue
		}
		switch e.Kind {
		case EvRemote:
			c.opts.OnRemoteOp(e.Remote)
		case EvAck:
			c.opts.OnAck(e.Ack)
		case EvPresence:
			c.opts.OnPresence(e.Peer)
		case EvLeave:
			c.opts.OnLeave(e.Client)
		case EvError:
			c.opts.OnError(e.Err)
		case EvExport:
			c.opts.OnExport(e.Export)
		}
	}
}

// readFrame reads the next message into buf, which is reused from frame to

// frame: nothing may keep a reference into the result.
func readFrame(ws *websocket.Conn, buf *bytes.Buffer) ([]byte, error) {
	_, r, err := ws.NextReader()
	if err != nil {
		return nil, err
	}
	if buf.Cap() > 1<<20 {
		*buf = bytes.Buffer{} // do not keep the buffer of one huge frame (a welcome)
	}
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func closeError(err error) *websocket.CloseError {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

// readPump reads frames until the connection fails, handling each frame
// under the lock and running the callbacks it produced after unlocking.

// readPump reads frames until the connection fails, handling each frame
// under the lock and running the callbacks it produced after unlocking.
func (c *Client) readPump(cn *conn) {
	defer close(cn.done)
	var msgs []protocol.Msg
	var evs []event  // reused from frame to frame
	var mevs []Event // likewise
	var buf bytes.Buffer
	intern := make(map[string]string)
	for {
		frame, err := readFrame(cn.ws, &buf)
		if err != nil {
			c.lost(cn, err)
			return
		}
		_ = cn.ws.SetReadDeadline(time.Now().Add(readWait))
		msgs, err = protocol.ParseFrame(frame, msgs[:0], intern)
		if err != nil {
			cn.shutdown(websocket.CloseProtocolError, "bad frame")
			c.lost(cn, err)
			return
		}
		clear(evs) // drop references held by the last frame's events
		evs = evs[:0]
		c.mu.Lock()
		if c.conn != cn {
			c.mu.Unlock()
			return
		}
		evs, mevs = c.handleLocked(cn, msgs, evs, mevs)
		c.deliverLocked(evs)
	}
}

// handleLocked gives msgs to the machine, sends what it queued, does what
// it asks of the connection and appends the callbacks to evs. mevs is
// scratch space for the machine's events, returned for reuse.
func (c *Client) handleLocked(cn *conn, msgs []protocol.Msg, evs []event, mevs []Event) ([]event, []Event) {
	clear(mevs)
	mevs, act := c.m.Receive(msgs, mevs[:0])
	c.flushLocked()
	evs = c.events(evs, mevs)
	if act.Gone != nil {
		c.gone = act.Gone
	}
	if act.Retry > 0 {
		seq := act.RetrySeq
		time.AfterFunc(act.Retry, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if !c.closed && c.conn == cn {
				c.m.RetryInflight(seq)
				c.flushLocked()
			}
		})
	}
	if act.Close != 0 {
		go cn.shutdown(act.Close, act.Reason)
	}
	return evs, mevs
}

// lost handles the end of a connection: status Disconnected (or Closed for
// 4404) and, with AutoReconnect, a reconnect loop.
func (c *Client) lost(cn *conn, err error) {
	cn.shutdown(0, "")
	c.mu.Lock()
	if c.conn != cn || c.closed {
		c.mu.Unlock()
		return
	}
	c.conn = nil
	c.m.Disconnected()
	var evs []event
	ce := closeError(err)
	if ce != nil && ce.Code == protocol.CloseNotFound || c.gone != nil {
		c.closed = true
		c.status = Closed
		if c.closeErr = c.gone; c.closeErr == nil {
			c.closeErr = scribe.Errorf(scribe.ENOTFOUND, "%s", ce.Text)
		}
		c.cancel()
	} else {
		c.status = Disconnected
		if ce != nil && ce.Code == protocol.ClosePolicy {
			// A refused hello rev (ahead of the server): reload.
			c.m.Refused()
		}
	}
	if f := c.opts.OnError; f != nil {
		e := fmt.Errorf("connection lost: %w", err)
		evs = append(evs, event{fn: func() { f(e) }})
	}
	if f := c.opts.OnStatus; f != nil {
		st := c.status
		evs = append(evs, event{fn: func() { f(st) }})
	}
	if c.status == Disconnected && c.opts.AutoReconnect && !c.reconnects {
		c.reconnects = true
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.reconnectLoop() }()
	}
	c.deliverLocked(evs)
}

// reconnectLoop reconnects with backoff until the client is connected or
// closed. The reconnects flag is cleared only under mu while observing a
// connection (or the end), so a drop that happens right after a successful
// reconnect, while the loop is still finishing, either is seen by the loop
// or starts a new one.
func (c *Client) reconnectLoop() {
	done := func() bool { // called with mu held
		if c.closed || c.conn != nil {
			c.reconnects = false
			return true
		}
		return false
	}
	backoff := minBackoff
	for attempt := 0; ; attempt++ {
		// Jitter: between backoff/2 and backoff.
		d := backoff/2 + time.Duration(mrand.Int64N(int64(backoff/2)+1))
		select {
		case <-time.After(d):
		case <-c.ctx.Done():
			c.mu.Lock()
			c.reconnects = false
			c.mu.Unlock()
			return
		}
		backoff = min(2*backoff, maxBackoff)
		c.dialMu.Lock()
		c.mu.Lock()
		if done() {
			c.mu.Unlock()
			c.dialMu.Unlock()
			return
		}
		url := c.url
		if n := len(c.opts.ReconnectURLs); n > 0 {
			url = c.opts.ReconnectURLs[attempt%n]
		}
		c.mu.Unlock()
		err := c.connect(c.ctx, url)
		c.dialMu.Unlock()
		if err == nil {
			c.mu.Lock()
			if done() {
				c.mu.Unlock()
				return
			}
			c.mu.Unlock()
			backoff = minBackoff // dropped again already: go on
			continue
		}
		if scribe.ErrorCode(err) == scribe.ENOTFOUND {
			c.mu.Lock()
			c.closed, c.status, c.closeErr = true, Closed, err
			c.reconnects = false
			c.cancel()
			c.notifyLocked()
			c.mu.Unlock()
			if f := c.opts.OnStatus; f != nil {
				f(Closed)
			}
			return
		}
		if f := c.opts.OnError; f != nil {
			f(fmt.Errorf("reconnect: %w", err))
		}
	}
}

// Reconnect drops the current connection (if any) and connects to url (the
// last URL when empty) with the same session, continuing where the client
// left off: the server sends what was committed since, and an edit in
// flight is resent unless the server already has it, so no edit is lost or
// doubled. Edits made while disconnected are kept and sent after. It must
// not be called from a callback.
func (c *Client) Reconnect(ctx context.Context, url string) error {
	c.dialMu.Lock()
	defer c.dialMu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if url == "" {
		url = c.url
	}
	old := c.conn
	c.conn = nil
	c.m.Disconnected()
	if old != nil {
		c.status = Disconnected
		c.notifyLocked()
	}
	c.mu.Unlock()
	if old != nil {
		old.shutdown(websocket.CloseNormalClosure, "reconnecting")
		<-old.done
	}
	return c.connect(ctx, url)
}

// Drop closes the current connection abruptly without a close handshake, as
// a network failure would; the client keeps its state, and reconnects by
// itself with AutoReconnect. Meant for tests and tools.
func (c *Client) Drop() {
	c.mu.Lock()
	cn := c.conn
	c.mu.Unlock()
	if cn != nil {
		_ = cn.ws.NetConn().Close()
	}
}

// Close closes the connection (with close code 1000) and stops the client
// for good; later calls return ErrClosed. Unacknowledged edits are not
// waited for: call WaitSynced first to keep them. It must not be called
// from a callback.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.wg.Wait()
		return nil
	}
	c.closed = true
	c.status = Closed
	cn := c.conn
	c.conn = nil
	c.cancel()
	c.notifyLocked()
	c.mu.Unlock()
	if cn != nil {
		cn.shutdown(websocket.CloseNormalClosure, "bye")
	}
	c.wg.Wait()
	return nil
}
