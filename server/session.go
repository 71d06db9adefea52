package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// Timing of a session. Variables only so that tests can shorten them.
var (
	sessionGrace      = 30 * time.Second // an empty session stays open this long for a reconnect
	resyncPeriod      = 5 * time.Second  // how often a session checks the store for missed commits (and idleness)
	presenceRefresh   = 10 * time.Second // how often a node republishes its local presence
	presenceExpiry    = 35 * time.Second // a remote peer not heard of for this long has left
	revokeCheckPeriod = 30 * time.Second // how often read-only tokens are re-checked
)

// Sizes of a session.
const (
	presenceFlush     = 50 * time.Millisecond // local presence is relayed at most this often
	historyKeep       = 8192                  // committed ops kept in memory for transforming stale ops (about 1.6 s of 500 people typing)
	historyMaxBytes   = 16 << 20              // and at most about this many bytes of them
	maxBatch          = 512                   // submissions committed in one Store.Append at most
	maxCommitAttempts = 50                    // Append attempts on ECONFLICT before giving up
	submitQueue       = 1024                  // submissions queued for a session before senders wait
	maxCatchup        = 5000                  // a client further behind gets the full text, and its ops are refused
)

var errSessionClosed = errors.New("session closed")

// noteRef names a note in logs without revealing its id (which grants
// editing): a short hash, the same on every node.
func noteRef(id scribe.NoteID) string {
	sum := sha256.Sum256([]byte("scribe-note:" + id))
	return hex.EncodeToString(sum[:6])
}

// seqRev is a session's highest committed sequence number and the revision
// it produced.
type seqRev struct {
	seq uint64
	rev scribe.Revision
}

// histEntry is one committed change kept in memory.
type histEntry struct {
	op      ot.Operation
	opJSON  json.RawMessage
	session string
	seq     uint64
}

// submission is an edit waiting to be committed: an op from a websocket
// client, or text appended through the HTTP API.
type submission struct {
	c       *client // nil for the API
	session string
	seq     uint64
	rev     scribe.Revision
	op      ot.Operation
	sel     []ot.Range

	// For the API: append text at the end, built against the head when the
	// batch is prepared; the result goes to reply.
	appendText string
	author     string
	idempotent bool // the API caller chose the session (Idempotency-Key): it may be committed already
	reply      chan submitResult

	answered bool      // ack or fail was called (run's goroutine)
	received time.Time // when the server read it, for the latency metric
}

type submitResult struct {
	rev scribe.Revision
	err error
}

// joinRequest asks the session to add a client.
type joinRequest struct {
	c     *client
	hello protocol.Hello
	known seqRev
	reply chan error
}

// clientUpdate is a client's new selection or display name.
type clientUpdate struct {
	c      *client
	hasSel bool
	rev    scribe.Revision
	sel    []ot.Range
	name   string // "" when unchanged
}

// session is one open note on this node: one goroutine (run) owns the live
// document, the recent history, the clients and the presence of peers on
// other nodes. Everything else talks to it over channels. It closes itself
// when its last client has been gone for sessionGrace.
type session struct {
	srv *Server
	id  scribe.NoteID
	ref string // what logs call the note: not its id, which is a secret

	ready   chan struct{} // closed when open has finished; openErr is then set
	openErr error

	joinc    chan *joinRequest
	leavec   chan *client
	submitc  chan *submission
	updatec  chan clientUpdate
	revokedc chan []scribe.Token
	stopc    chan struct{} // closed by the hub on shutdown
	stopOnce sync.Once
	done     chan struct{} // closed when run has returned

	ctx    context.Context
	cancel context.CancelFunc
	pub    *publisher

	// Owned by run.
	title    string
	doc      *ot.Document
	docBytes int // UTF-8 length of doc
	rev      scribe.Revision
	histBase scribe.Revision // hist[i] produced revision histBase+1+i
	hist     []histEntry
	histSize int // bytes the history holds, roughly
	lastSeq  map[string]seqRev
	clients  map[*client]struct{}
	bySess   map[string]*client // local edit clients by session id (the latest one)
	remote   map[string]*remotePeer
	dirty    map[*client]struct{} // clients whose presence is to be broadcast, here and to other nodes
	outq     []*client            // clients with messages in later, handed to their outboxes by flushOut
	over     []ot.Operation       // scratch for transform
	moved    map[*client]struct{} // clients whose selection moved with an op: local clients had it in the op; other nodes are told
	sub      scribe.Subscription
	idleAt   time.Time // when the last client left; zero while there are clients
	checking bool      // a revocation check is running
}

func newSession(srv *Server, id scribe.NoteID) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{
		srv:      srv,
		id:       id,
		ref:      noteRef(id),
		ready:    make(chan struct{}),
		joinc:    make(chan *joinRequest),
		leavec:   make(chan *client, 64),
		submitc:  make(chan *submission, submitQueue),
		updatec:  make(chan clientUpdate, 256),
		revokedc: make(chan []scribe.Token, 1),
		stopc:    make(chan struct{}),
		done:     make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
		lastSeq:  make(map[string]seqRev),
		clients:  make(map[*client]struct{}),
		bySess:   make(map[string]*client),
		remote:   make(map[string]*remotePeer),
		dirty:    make(map[*client]struct{}),
		moved:    make(map[*client]struct{}),
	}
}

// open subscribes to the note and loads it. Subscribing first means no
// commit is missed between the two: events at or below the loaded revision
// are ignored, and a gap is read from the log.
func (s *session) open() error {
	sub, err := s.srv.store.Subscribe(s.ctx, s.id)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	d, err := s.srv.store.LoadNote(s.ctx, s.id)
	if err != nil {
		_ = sub.Close()
		return err
	}
	doc, err := ot.NewDocument(d.Text)
	if err != nil {
		_ = sub.Close()
		return fmt.Errorf("load note: stored text: %w", err)
	}
	s.sub, s.doc, s.docBytes = sub, doc, len(d.Text)
	s.title, s.rev, s.histBase = d.Title, d.Revision, d.Revision
	s.pub = newPublisher(s)
	return nil
}

// run is the session goroutine.
func (s *session) run() {
	defer close(s.done)
	defer s.cancel()
	defer s.pub.stop()
	defer func() {
		// A bug must cost this note's clients a reconnect, not the node.
		if v := recover(); v != nil {
			s.srv.log.Error("panic in session", "note", s.ref, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			s.fail(fmt.Errorf("panic: %v", v))
		}
	}()
	defer func() {
		if s.sub != nil {
			_ = s.sub.Close()
		}
	}()
	s.srv.metrics.notesOpen.Inc()
	defer s.srv.metrics.notesOpen.Dec()
	s.srv.log.Debug("note opened", "note", s.ref, "rev", s.rev)
	defer func() { s.srv.log.Debug("note closed", "note", s.ref, "rev", s.rev) }()

	s.pub.send(nodeMsg{Kind: kindSync})
	s.idleAt = time.Now()
	var presenceT <-chan time.Time
	resync := time.NewTicker(resyncPeriod)
	defer resync.Stop()
	refresh := time.NewTicker(presenceRefresh)
	defer refresh.Stop()
	revoke := time.NewTicker(revokeCheckPeriod)
	defer revoke.Stop()
	events := s.sub.Events()

	for {
		s.flushOut()
		if (len(s.dirty) > 0 || len(s.moved) > 0) && presenceT == nil {
			presenceT = time.After(presenceFlush)
		}
		select {
		case <-s.stopc:
			s.shutdown()
			return
		case r := <-s.joinc:
			r.reply <- s.handleJoin(r)
		case c := <-s.leavec:
			s.handleLeave(c)
		case sub := <-s.submitc:
			batch := []*submission{sub}
			for len(batch) < maxBatch {
				select {
				case more := <-s.submitc:
					batch = append(batch, more)
					continue
				default:
				}
				break
			}
			if err := s.commit(batch); err != nil {
				s.fail(err)
				return
			}
		case u := <-s.updatec:
			s.handleUpdate(u)
		case ev, ok := <-events:
			if !ok {
				if err := s.resubscribe(); err != nil {
					s.fail(err)
					return
				}
				events = s.sub.Events()
				continue
			}
			if err := s.event(ev); err != nil {
				s.fail(err)
				return
			}
		case tokens := <-s.revokedc:
			s.checking = false
			for _, t := range tokens {
				s.revoke(t)
			}
		case <-presenceT:
			presenceT = nil
			s.flushPresence()
		case <-resync.C:
			if err := s.syncTo(math.MaxInt64); err != nil {
				s.fail(err)
				return
			}
			if len(s.clients) == 0 && len(s.submitc) == 0 && time.Since(s.idleAt) >= sessionGrace {
				if s.srv.hub.remove(s) {
					return
				}
			}
		case <-refresh.C:
			s.expireRemote()
			s.publishAll()
		case <-revoke.C:
			s.checkTokens()
		}
	}
}

// fail ends the session after an error it cannot recover from (the store is
// unreachable, or holds something it cannot read): its clients are closed
// with 1011 and reconnect to a fresh session, which reloads from the store.
func (s *session) fail(err error) {
	if !errors.Is(err, context.Canceled) {
		s.srv.log.Error("session failed", "note", s.ref, "err", err)
	}
	s.srv.hub.remove(s)
	s.flushOut() // what was acknowledged goes out before the close
	for c := range s.clients {
		c.close(protocol.CloseInternal, protocol.CloseReasonFailed, true)
	}
	s.failPending(scribe.Errorf(scribe.EUNAVAILABLE, "The note's session closed; retry."))
}

// shutdown commits what is queued, then closes every client with 1001 after
// sending it what is queued for it, so it reconnects (possibly elsewhere).
func (s *session) shutdown() {
	for len(s.submitc) > 0 {
		var batch []*submission
		for len(batch) < maxBatch && len(s.submitc) > 0 {
			batch = append(batch, <-s.submitc)
		}
		if err := s.commit(batch); err != nil {
			s.srv.log.Error("commit on shutdown", "note", s.ref, "err", err)
			break
		}
	}
	s.failPending(scribe.Errorf(scribe.EUNAVAILABLE, "The server is shutting down; retry."))
	s.flushOut()
	var gone []string
	for c := range s.clients {
		gone = append(gone, c.id)
		c.close(protocol.CloseGoingAway, protocol.CloseReasonAway, true)
	}
	if len(gone) > 0 {
		s.pub.send(nodeMsg{Kind: kindLeave, Clients: gone})
	}
}

// failPending answers the API submissions still queued.
func (s *session) failPending(err error) {
	for {
		select {
		case sub := <-s.submitc:
			if sub.reply != nil {
				sub.reply <- submitResult{err: err}
			}
		default:
			return
		}
	}
}

func (s *session) stop() { s.stopOnce.Do(func() { close(s.stopc) }) }

// The methods below are called by other goroutines. Each reports false (or
// errSessionClosed) when the session has ended.

func (s *session) join(ctx context.Context, c *client, hello protocol.Hello, known seqRev) error {
	r := &joinRequest{c: c, hello: hello, known: known, reply: make(chan error, 1)}
	select {
	case s.joinc <- r:
	case <-s.done:
		return errSessionClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.reply:
		return err
	case <-s.done:
		return errSessionClosed
	}
}

func (s *session) leave(c *client) {
	select {
	case s.leavec <- c:
	case <-s.done:
	}
}

func (s *session) submit(sub *submission) bool {
	select {
	case s.submitc <- sub:
		return true
	case <-s.done:
		return false
	}
}

func (s *session) update(u clientUpdate) bool {
	select {
	case s.updatec <- u:
		return true
	case <-s.done:
		return false
	}
}

// handleJoin adds a client (run's goroutine).
func (s *session) handleJoin(r *joinRequest) error {
	c, h := r.c, r.hello
	if !c.readonly {
		s.noteSeq(c.session, r.known)
	}
	// A client may know of commits this node has not heard of yet (it was
	// connected to another node): catch up first.
	if (h.HasRev && h.Rev > s.rev) || r.known.rev > s.rev {
		if err := s.syncTo(math.MaxInt64); err != nil {
			return err
		}
	}
	if h.HasRev && h.Rev > s.rev {
		return invalid("Revision %d is ahead of the note (at revision %d); reload.", h.Rev, s.rev)
	}
	if !c.readonly {
		// The same person's connection on another node is gone: it came here.
		s.dropGhosts(sessionHash(c.session), "")
	}
	var catchup [][]byte
	if h.HasRev && h.Rev < s.histBase && s.rev-h.Rev > maxCatchup {
		h.HasRev = false // too far behind: a full text is cheaper than the catch-up
	}
	if h.HasRev {
		entries, err := s.since(h.Rev)
		if err != nil {
			return err
		}
		for i, e := range entries {
			rev := h.Rev + 1 + scribe.Revision(i)
			if !c.readonly && e.session == c.session {
				catchup = append(catchup, protocol.EncodeAck(e.seq, rev))
				c.ackedSeq = max(c.ackedSeq, e.seq)
			} else {
				catchup = append(catchup, protocol.EncodeOp(rev, e.opJSON, s.clientFor(e.session), nil))
			}
		}
	}
	c.color = s.pickColor()
	w := protocol.Welcome{
		Client: c.id, Rev: s.rev,
		Title: s.title, ReadOnly: c.readonly, Name: c.name, Color: c.color,
		Peers:  s.peers(c),
		Limits: s.srv.limits.wire(),
	}
	if !c.readonly {
		w.LastSeq = s.lastSeq[c.session].seq
		c.ackedSeq = max(c.ackedSeq, w.LastSeq) // the welcome acknowledges what lastSeq covers
	}
	if h.HasRev {
		w.Catchup = true
	} else {
		text := s.doc.String()
		w.Text = &text
	}
	c.out.pushAll(append([][]byte{protocol.EncodeWelcome(w)}, catchup...))

	s.clients[c] = struct{}{}
	if !c.readonly {
		s.bySess[c.session] = c
	}
	s.idleAt = time.Time{}
	s.dirty[c] = struct{}{} // announce the newcomer
	return nil
}

// handleLeave removes a client (run's goroutine).
func (s *session) handleLeave(c *client) {
	if _, ok := s.clients[c]; !ok {
		return
	}
	delete(s.clients, c)
	delete(s.dirty, c)
	delete(s.moved, c)
	if s.bySess[c.session] == c {
		delete(s.bySess, c.session)
	}
	s.broadcast(protocol.EncodeLeave(c.id), nil)
	s.pub.send(nodeMsg{Kind: kindLeave, Clients: []string{c.id}})
	if len(s.clients) == 0 {
		s.idleAt = time.Now()
	}
}

// handleUpdate applies a client's new selection or name (run's goroutine).
func (s *session) handleUpdate(u clientUpdate) {
	c := u.c
	if _, ok := s.clients[c]; !ok {
		return
	}
	if u.name != "" {
		c.name = u.name
	}
	if u.hasSel {
		if u.rev > s.rev {
			s.sendError(c, invalid("Revision %d is ahead of the note (at revision %d).", u.rev, s.rev), nil)
			return
		}
		if u.rev == s.rev {
			n := s.doc.Len()
			for i, r := range u.sel {
				if r.Anchor > n || r.Head > n {
					s.sendError(c, invalid("Selection range %d lies outside the document of length %d.", i, n), nil)
					return
				}
			}
		}
		c.sel, c.selRev, c.hasSel = s.selAt(u.sel, u.rev), s.rev, true
	}
	s.dirty[c] = struct{}{}
}

// selAt moves sel, which refers to revision rev (at most the head), to the
// head, and clamps it to the document. A selection older than the history
// kept in memory is only clamped.
func (s *session) selAt(sel []ot.Range, rev scribe.Revision) []ot.Range {
	out := make([]ot.Range, len(sel))
	copy(out, sel)
	if rev >= s.histBase && rev <= s.rev {
		for _, e := range s.hist[rev-s.histBase:] {
			for i, r := range out {
				out[i] = r.Transform(e.op)
			}
		}
	}
	n := s.doc.Len()
	for i, r := range out {
		out[i] = ot.Range{Anchor: min(r.Anchor, n), Head: min(r.Head, n)}
	}
	return out
}

// broadcast queues msg for every local client except skip.
func (s *session) broadcast(msg []byte, skip *client) {
	for c := range s.clients {
		if c != skip {
			s.deliver(c, msg, false)
		}
	}
}

// since returns the committed changes after rev, up to the head, from memory
// when it holds them and from the store otherwise.
func (s *session) since(rev scribe.Revision) ([]histEntry, error) {
	if rev >= s.histBase {
		return s.hist[rev-s.histBase:], nil
	}
	changes, err := s.srv.store.Changes(s.ctx, s.id, rev, s.histBase)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	if len(changes) != int(s.histBase-rev) {
		return nil, fmt.Errorf("read history: got %d changes for revisions %d..%d", len(changes), rev+1, s.histBase)
	}
	out := make([]histEntry, 0, len(changes)+len(s.hist))
	for _, ch := range changes {
		op, err := ot.ParseJSON(ch.Op)
		if err != nil {
			return nil, fmt.Errorf("read history: revision %d: %w", ch.Revision, err)
		}
		// The canonical form, as in memory: protocol.EncodeOp relays it unchecked.
		out = append(out, histEntry{op: op, opJSON: json.RawMessage(op.String()), session: ch.Session, seq: ch.Seq})
	}
	return append(out, s.hist...), nil
}

// noteSeq records that session committed seq at rev, if that is news.
func (s *session) noteSeq(session string, sr seqRev) {
	if session == "" {
		return
	}
	if cur, ok := s.lastSeq[session]; !ok || sr.seq > cur.seq {
		s.lastSeq[session] = sr
	}
}

// push records a committed change as the next revision.
// The history in memory is bounded by count and by size, so a client
// pasting large texts over and over cannot make a session hold gigabytes;
// older bases are read from the store.
func (s *session) push(e histEntry) {
	s.rev++
	s.hist = append(s.hist, e)
	s.histSize += entrySize(e)
	s.noteSeq(e.session, seqRev{e.seq, s.rev})
	if len(s.hist) > 2*historyKeep || s.histSize > historyMaxBytes {
		drop := max(len(s.hist)-historyKeep, 0)
		size := s.histSize
		for i := range drop {
			size -= entrySize(s.hist[i])
		}
		for drop < len(s.hist)-1 && size > historyMaxBytes/2 {
			size -= entrySize(s.hist[drop])
			drop++
		}
		s.hist = append([]histEntry(nil), s.hist[drop:]...)
		s.histBase += scribe.Revision(drop)
		s.histSize = size
	}
}

// entrySize is about what a history entry holds in memory: the op's JSON,
// and its inserts once more in the parsed op.
func entrySize(e histEntry) int { return 2*len(e.opJSON) + 64 }

// applyRemote applies a change committed elsewhere (another node) as the
// next revision and forwards it to the local clients.
func (s *session) applyRemote(ch scribe.Change) error {
	op, err := ot.ParseJSON(ch.Op)
	if err != nil {
		return fmt.Errorf("revision %d: stored operation: %w", ch.Revision, err)
	}
	delta, err := s.apply(op)
	if err != nil {
		return fmt.Errorf("revision %d: %w", ch.Revision, err)
	}
	s.docBytes += delta
	opJSON := json.RawMessage(op.String())
	s.push(histEntry{op: op, opJSON: opJSON, session: ch.Session, seq: ch.Seq})
	s.srv.metrics.remoteOps.Inc()
	s.broadcastOp(protocol.EncodeOp(s.rev, opJSON, s.clientFor(ch.Session), nil), ch.Session, ch.Seq, s.rev, nil)
	return nil
}

// broadcastOp queues a committed op, which session submitted as seq and
// which produced rev, for every local client but skip (its sender, which
// gets its ack). A connection of the same session (a client that reconnected
// while its op was being committed through its old connection, here or on
// another node) gets an ack instead: the op is its own in-flight op, and
// applying it a second time would double it.
func (s *session) broadcastOp(msg []byte, session string, seq uint64, rev scribe.Revision, skip *client) {
	for c := range s.clients {
		switch {
		case c == skip:
		case session != "" && c.session == session:
			s.ackTo(c, seq, rev)
		default:
			s.deliver(c, msg, false)
		}
	}
}

// ackTo acknowledges seq as rev to c, once: a connection that has had the
// ack (its op committed through another connection of its session, then
// resent) does not get it twice, which would break its revision sequence.
func (s *session) ackTo(c *client, seq uint64, rev scribe.Revision) {
	if seq <= c.ackedSeq {
		return
	}
	c.ackedSeq = seq
	s.deliver(c, protocol.EncodeAck(seq, rev), true)
}

// deliver queues msg for c in this turn of the session's loop; flushOut
// hands each client its messages at the end of the turn with one push, so
// that a batch of ops costs each client one lock and one wake-up, not one
// per op. Everything the session sends a client goes this way (or, for the
// welcome, straight before anything else), which keeps it in order.
func (s *session) deliver(c *client, msg []byte, urgent bool) {
	if len(c.later) == 0 {
		s.outq = append(s.outq, c)
	}
	c.later = append(c.later, msg)
	c.urgent = c.urgent || urgent
}

// sendError queues an error for c, in order with the rest.
func (s *session) sendError(c *client, err error, seq *uint64) {
	s.srv.metrics.errors.WithLabelValues(scribe.ErrorCode(err)).Inc()
	s.deliver(c, protocol.EncodeError(err, seq), true)
}

// flushOut pushes what deliver queued to the clients' outboxes. A client
// whose outbox is over its budget is too slow and is closed.
func (s *session) flushOut() {
	for _, c := range s.outq {
		if !c.out.pushMany(c.later, c.urgent) {
			c.tooSlow()
		}
		clear(c.later)
		c.later, c.urgent = c.later[:0], false
	}
	clear(s.outq)
	s.outq = s.outq[:0]
}

// apply applies op to the live document and returns the change of its
// UTF-8 length. A failed apply changes nothing.
func (s *session) apply(op ot.Operation) (int, error) {
	delta, err := s.byteDelta(op)
	if err != nil {
		return 0, err
	}
	if err := s.doc.Apply(op); err != nil {
		return 0, err
	}
	return delta, nil
}

// byteDelta returns how much op changes the document's UTF-8 length.
func (s *session) byteDelta(op ot.Operation) (int, error) {
	if err := op.Validate(s.doc.Len()); err != nil {
		return 0, err
	}
	delta, pos := 0, 0
	for _, c := range op.Components() {
		switch {
		case c.Retain > 0:
			pos += c.Retain
		case c.Insert != "":
			delta += len(c.Insert)
		case c.Delete > 0:
			t, err := s.doc.Slice(pos, pos+c.Delete)
			if err != nil {
				return 0, err
			}
			delta -= len(t)
			pos += c.Delete
		}
	}
	return delta, nil
}

// syncTo reads and applies every change after the live revision up to to
// (clamped to the store's head).
func (s *session) syncTo(to scribe.Revision) error {
	if to <= s.rev {
		return nil
	}
	changes, err := s.srv.store.Changes(s.ctx, s.id, s.rev, to)
	if err != nil {
		return fmt.Errorf("catch up: %w", err)
	}
	for _, ch := range changes {
		if ch.Revision != s.rev+1 {
			return fmt.Errorf("catch up: expected revision %d, store gave %d", s.rev+1, ch.Revision)
		}
		if err := s.applyRemote(ch); err != nil {
			return fmt.Errorf("catch up: %w", err)
		}
	}
	return nil
}

// event handles one thing heard through the subscription.
func (s *session) event(ev scribe.Event) error {
	switch {
	case ev.Change != nil:
		ch := *ev.Change
		switch {
		case ch.Revision <= s.rev:
			return nil // ours, or already read
		case ch.Revision == s.rev+1:
			return s.applyRemote(ch)
		default:
			return s.syncTo(ch.Revision)
		}
	case ev.Message != nil:
		return s.message(ev.Message)
	}
	return nil
}

// resubscribe replaces a subscription that ended while the session runs
// (for example, the store lost its connection), then catches up on what was
// committed meanwhile.
func (s *session) resubscribe() error {
	_ = s.sub.Close()
	s.sub = nil
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if s.ctx.Err() != nil {
			return s.ctx.Err()
		}
		sub, serr := s.srv.store.Subscribe(s.ctx, s.id)
		if err = serr; err == nil {
			s.sub = sub
			return s.syncTo(math.MaxInt64)
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	return fmt.Errorf("resubscribe: %w", err)
}

// pending is a submission accepted into a batch: its op transformed to the
// head and over the ones ahead of it.
type pending struct {
	sub   *submission
	op    ot.Operation
	sel   []ot.Range   // the sender's selection after op, at the revision op produces; nil when it sent none
	inv   ot.Operation // undoes op, to roll back a failed append
	delta int          // UTF-8 length change
}

// commit commits a batch of submissions with one Store.Append (group
// commit): resends already committed are acknowledged, each new op is
// transformed over what was committed since its base revision and over the
// ones ahead of it, and the batch is appended at the head. On ECONFLICT the
// session catches up and tries again. An error it returns ends the session;
// every submission of the batch has been answered (websocket clients are
// answered by the close that follows: they resend after reconnecting).
func (s *session) commit(batch []*submission) (err error) {
	defer func() {
		if err != nil {
			for _, sub := range batch {
				if sub.reply != nil && !sub.answered {
					s.failSub(sub, scribe.Errorf(scribe.EUNAVAILABLE, "The edit could not be saved; retry."))
				}
			}
		}
	}()
	for attempt := 1; ; attempt++ {
		accepted, done, err := s.prepare(batch)
		if err != nil {
			return err
		}
		if len(accepted) == 0 {
			s.finish(done)
			return nil
		}
		base := s.rev - scribe.Revision(len(accepted))
		changes := make([]scribe.Change, len(accepted))
		for i, p := range accepted {
			author := p.sub.author
			if p.sub.c != nil {
				author = p.sub.c.name
			}
			changes[i] = scribe.Change{Op: json.RawMessage(p.op.String()), Session: p.sub.session, Seq: p.sub.seq, Author: author}
		}
		start := time.Now()
		revs, err := s.srv.store.Append(s.ctx, s.id, base, changes)
		s.srv.metrics.commitSeconds.Observe(time.Since(start).Seconds())
		if err != nil {
			if rerr := s.rollback(accepted); rerr != nil {
				return rerr
			}
			if scribe.ErrorCode(err) == scribe.ECONFLICT && attempt < maxCommitAttempts {
				s.srv.metrics.conflicts.Inc()
				if err := s.syncTo(math.MaxInt64); err != nil {
					return err
				}
				continue
			}
			// The store failed: the ops may or may not be committed. The
			// session ends; its clients reconnect and resend, and
			// (session, seq) dedup makes that safe.
			s.finish(done)
			return fmt.Errorf("append: %w", err)
		}
		if len(revs) != len(accepted) {
			return fmt.Errorf("append: got %d revisions for %d changes", len(revs), len(accepted))
		}
		for i, r := range revs {
			if want := base + 1 + scribe.Revision(i); r != want {
				return fmt.Errorf("append: change %d got revision %d, want %d (a resend was committed that the session did not know of)", i, r, want)
			}
		}
		// The ops are already applied to the live document (prepare did
		// that): record them, ack their senders, and fan them out.
		s.rev = base
		for i, p := range accepted {
			s.push(histEntry{op: p.op, opJSON: changes[i].Op, session: p.sub.session, seq: p.sub.seq})
		}
		for i, p := range accepted {
			rev := base + 1 + scribe.Revision(i)
			s.ack(p.sub, rev)
			from := ""
			if p.sub.c != nil {
				from = p.sub.c.id
			}
			// The author's selection rides in the op message (at rev), so
			// local clients need no presence message for this move; other
			// nodes hear of it through the next presence flush.
			s.broadcastOp(protocol.EncodeOp(rev, changes[i].Op, from, p.sel), p.sub.session, p.sub.seq, rev, p.sub.c)
			if c := p.sub.c; c != nil && p.sel != nil {
				c.sel, c.selRev, c.hasSel = s.selAt(p.sel, rev), s.rev, true
				s.moved[c] = struct{}{}
			}
		}
		s.srv.metrics.opsCommitted.Add(float64(len(accepted)))
		s.srv.metrics.batchSize.Observe(float64(len(accepted)))
		s.finish(done)
		return nil
	}
}

// doneSub is a submission answered without a new commit: a resend (ack with
// its old revision) or a refusal.
type doneSub struct {
	sub  *submission
	rev  scribe.Revision
	err  error
	twin bool // a duplicate of an op accepted in the same batch
}

func (s *session) finish(done []doneSub) {
	for _, d := range done {
		if d.err != nil {
			s.failSub(d.sub, d.err)
		} else {
			s.ack(d.sub, d.rev)
		}
	}
}

// ack answers a submission that is committed as rev (now or before).
func (s *session) ack(sub *submission, rev scribe.Revision) {
	if !sub.received.IsZero() {
		s.srv.metrics.opSeconds.Observe(time.Since(sub.received).Seconds())
	}
	sub.answered = true
	if sub.reply != nil {
		sub.reply <- submitResult{rev: rev}
	} else if sub.c != nil {
		s.ackTo(sub.c, sub.seq, rev)
	}
}

// failSub answers a submission with an error.
func (s *session) failSub(sub *submission, err error) {
	sub.answered = true
	if sub.reply != nil {
		sub.reply <- submitResult{err: err}
		return
	}
	if sub.c != nil {
		seq := sub.seq
		s.sendError(sub.c, err, &seq)
	}
}

// prepare transforms the batch and applies it to the live document,
// advancing s.rev tentatively (rollback undoes that). It returns the
// accepted submissions and those answered without a commit.
func (s *session) prepare(batch []*submission) ([]pending, []doneSub, error) {
	// An API append with an Idempotency-Key may have been committed by
	// another node after this session opened; the store knows. (A websocket
	// client's session is looked up when it joins; a random API session is
	// new.) Ask before anything is applied tentatively.
	for _, sub := range batch {
		if _, ok := s.lastSeq[sub.session]; ok || !sub.idempotent {
			continue
		}
		seq, rev, err := s.srv.store.LastSeq(s.ctx, s.id, sub.session)
		if err != nil {
			return nil, nil, fmt.Errorf("last seq: %w", err)
		}
		if seq == 0 {
			continue
		}
		if err := s.syncTo(rev); err != nil { // committed beyond what this node has heard of
			return nil, nil, err
		}
		s.noteSeq(sub.session, seqRev{seq, rev})
	}
	var accepted []pending
	var done []doneSub
	head := s.rev                      // the committed head
	inBatch := make(map[string]uint64) // session -> highest seq accepted in this batch
	for _, sub := range batch {
		if sub.appendText != "" {
			op, err := s.appendOp(sub.appendText)
			if err != nil {
				done = append(done, doneSub{sub: sub, err: err})
				continue
			}
			sub.op, sub.rev = op, s.rev
			if len(accepted) > 0 {
				sub.rev = head // built on the tentative text: transform over nothing committed
			}
		}
		if sub.rev > head {
			done = append(done, doneSub{sub: sub, err: invalid("Revision %d is ahead of the note (at revision %d); reload.", sub.rev, head)})
			continue
		}
		if head-sub.rev > maxCatchup && sub.rev < s.histBase {
			// Transforming over that much history would stall the session.
			done = append(done, doneSub{sub: sub, err: invalid("The edit is based on revision %d, more than %d revisions behind the note; reload.", sub.rev, maxCatchup)})
			continue
		}
		if seq, ok := inBatch[sub.session]; ok && sub.seq <= seq {
			done = append(done, doneSub{sub: sub, twin: true})
			continue
		}
		if last, ok := s.lastSeq[sub.session]; ok && sub.seq <= last.seq {
			rev, err := s.committedRev(sub, last)
			done = append(done, doneSub{sub: sub, rev: rev, err: err})
			continue
		}
		op, sel := sub.op, sub.sel
		if sub.appendText == "" {
			var err error
			op, sel, err = s.transform(sub.op, sub.sel, sub.rev, head, accepted)
			if err != nil {
				done = append(done, doneSub{sub: sub, err: protocol.FromOT(err)})
				continue
			}
		}
		delta, err := s.byteDelta(op)
		if err != nil {
			done = append(done, doneSub{sub: sub, err: protocol.FromOT(err)})
			continue
		}
		if delta > 0 && s.docBytes+delta > s.srv.limits.MaxNoteBytes {
			done = append(done, doneSub{sub: sub, err: scribe.Errorf(scribe.ETOOLARGE, "The note would exceed the limit of %d bytes.", s.srv.limits.MaxNoteBytes)})
			continue
		}
		inv, err := s.doc.Invert(op)
		if err == nil {
			err = s.doc.Apply(op)
		}
		if err != nil {
			done = append(done, doneSub{sub: sub, err: protocol.FromOT(err)})
			continue
		}
		s.docBytes += delta
		s.rev++
		accepted = append(accepted, pending{sub: sub, op: op, sel: sel, inv: inv, delta: delta})
		inBatch[sub.session] = sub.seq
	}
	// A duplicate inside the batch gets the revision of its twin.
	for i := range done {
		if !done[i].twin {
			continue
		}
		d := &done[i]
		d.err = invalid("Sequence number %d was already used in this session for another edit.", d.sub.seq)
		for j, p := range accepted {
			if p.sub.session == d.sub.session && p.sub.seq == d.sub.seq {
				d.rev, d.err = head+1+scribe.Revision(j), nil
			}
		}
	}
	return accepted, done, nil
}

// rollback undoes prepare's tentative application of a batch.
func (s *session) rollback(accepted []pending) error {
	for i := len(accepted) - 1; i >= 0; i-- {
		if err := s.doc.Apply(accepted[i].inv); err != nil {
			return fmt.Errorf("roll back a failed append: %w", err) // cannot happen: inv was made for this state
		}
		s.docBytes -= accepted[i].delta
		s.rev--
	}
	return nil
}

// transform moves op, based on revision base, to the tentative head: over
// every change committed after base up to head, then over the batch's
// accepted ops. sel, the sender's selection after op (nil for none), moves
// along: it refers to base's text with op applied, and comes back referring
// to the tentative head's text with the transformed op applied, clamped to
// it, which is where the sender's own client puts it once it has applied
// the same changes.
func (s *session) transform(op ot.Operation, sel []ot.Range, base, head scribe.Revision, accepted []pending) (ot.Operation, []ot.Range, error) {
	ops := s.over[:0] // scratch, reused: this runs for every op
	defer func() { clear(ops); s.over = ops[:0] }()
	if base < head {
		entries, err := s.since(base)
		if err != nil {
			return ot.Operation{}, nil, err
		}
		for _, e := range entries[:head-base] {
			ops = append(ops, e.op)
		}
	}
	for _, p := range accepted {
		ops = append(ops, p.op)
	}
	if len(ops) > 0 && op.BaseLen() != ops[0].BaseLen() {
		return ot.Operation{}, nil, invalid("Operation base length %d does not match the document length %d at revision %d.", op.BaseLen(), ops[0].BaseLen(), base)
	}
	return transformOver(op, sel, ops)
}

// transformOver transforms op over each of over in turn, and sel (nil for
// none, else a selection in the text after op) along with it, clamped: the
// result refers to the text after over and the transformed op. The
// submission's sel is not changed (a retry after a conflict starts again
// from it). ot.TransformOver does the work: keystrokes over keystrokes,
// the common case, without an allocation per step.
func transformOver(op ot.Operation, sel []ot.Range, over []ot.Operation) (ot.Operation, []ot.Range, error) {
	op, moved, err := ot.TransformOver(op, over, ot.Selection(sel)) // moves a copy
	if err != nil {
		return ot.Operation{}, nil, err
	}
	return op, []ot.Range(moved), nil
}

// committedRev returns the revision a resend got when it was first
// committed, or an error when its seq was used for something else.
func (s *session) committedRev(sub *submission, last seqRev) (scribe.Revision, error) {
	if sub.seq == last.seq {
		return last.rev, nil
	}
	if sub.rev < s.rev {
		entries, err := s.since(sub.rev)
		if err != nil {
			return 0, err
		}
		for i, e := range entries {
			if e.session == sub.session && e.seq == sub.seq {
				return sub.rev + 1 + scribe.Revision(i), nil
			}
		}
	}
	return 0, invalid("Sequence number %d was already used in this session; the next is %d.", sub.seq, last.seq+1)
}

// appendOp builds the op that appends text at the end of the note, on a
// line of its own.
func (s *session) appendOp(text string) (ot.Operation, error) {
	if !utf8.ValidString(text) {
		return ot.Operation{}, invalid("The text must be valid UTF-8.")
	}
	n := s.doc.Len()
	if n > 0 {
		last, err := s.doc.Slice(n-lastUnitLen(s.doc), n)
		if err == nil && last != "\n" {
			text = "\n" + text
		}
	}
	if text[len(text)-1] != '\n' {
		text += "\n"
	}
	b := ot.NewBuilder()
	if n > 0 {
		b.Retain(n)
	}
	return b.Insert(text).Build()
}

// lastUnitLen is 2 when the document ends with a surrogate pair, else 1.
func lastUnitLen(d *ot.Document) int {
	n := d.Len()
	if n >= 2 {
		if _, err := d.Slice(n-1, n); err != nil {
			return 2
		}
	}
	return 1
}

// clientFor returns the public id of whoever submitted changes as session:
// a local client, or a peer on another node that announced it.
func (s *session) clientFor(session string) string {
	if session == "" {
		return ""
	}
	if c := s.bySess[session]; c != nil {
		return c.id
	}
	h := sessionHash(session)
	for id, p := range s.remote {
		if p.SessionHash == h {
			return id
		}
	}
	return ""
}
