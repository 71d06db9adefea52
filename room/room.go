// Package room is one goroutine per open note: the Room that owns the note's
// live document (an ot.Document), its recent history, the members joined to
// it on this node and the presence of peers on other nodes, and the Hub that
// opens a room on first use and lets it close after a grace period.
//
// A room commits edits to the scribe.Store in batches (group commit),
// acknowledges them once durable, dedups resends by (session, seq), and fans
// the ops out to its members. Several nodes sharing one Store (Redis) serve
// the same notes: each room hears the others' commits and presence through
// Store.Subscribe and Store.Publish.
//
// A room knows no HTTP and no websocket: it talks to connections through the
// Member interface (deliver messages, close) and keeps every piece of
// per-member state itself, in the member's Seat. The word "session" means
// only a client's session id, the key of dedup.
package room

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/authorship"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// Sizes of a room.
const (
	historyKeep       = 8192     // committed ops kept in memory for transforming stale ops, whatever their age (and historySpan)
	historyMaxBytes   = 16 << 20 // and at most about this many bytes of them
	maxBatch          = 512      // submissions committed in one Store.Append at most
	maxCommitAttempts = 50       // Append attempts on ECONFLICT before giving up
	submitQueue       = 1024     // submissions queued for a room before senders wait
	maxCatchup        = 5000     // a client further behind gets the full text
	readBackChunk     = 64       // revisions read from the store at a time when the history is extended back
	catchupOverhead   = 64       // bytes an op message of a catch-up adds to its op, at most about
	maxResubscribe    = 5        // attempts to subscribe again after a subscription ended
	maxRevoked        = 1024     // revoked share tokens a room remembers to refuse joins with (beyond, the store is asked)
	keepLater         = 8        // messages a seat's per-turn queue keeps room for between turns; a larger array is let go
)

// historySpan: the history also keeps every op committed this recently
// (within historyMaxBytes): 30,000 ops at 3,000 a second (push).
const historySpan = 10 * time.Second

// Group commit in a busy note (gather).
const (
	gatherPerEditor = 50 * time.Microsecond // a batch waits this long per local editor beyond the first for more ops
	maxGather       = 5 * time.Millisecond  // but at most this long after its first op was read
)

// errNoteDeleted refuses every join once the note is being deleted.
var errNoteDeleted = scribe.Errorf(scribe.ENOTFOUND, protocol.CloseReasonDeleted)

// errShareGone refuses a viewer whose share token was revoked.
var errShareGone = scribe.Errorf(scribe.ENOTFOUND, "This share link was revoked.")

// ErrClosed is returned by a Seat's methods and Join when the room has
// closed (it went idle, failed, or the node shuts down); joining again opens
// a new one.
var ErrClosed = errors.New("room closed")

// NoteRef names a note in logs without revealing its id (which grants
// editing): a short hash, the same on every node.
func NoteRef(id scribe.NoteID) string {
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
	inv     ot.Operation // undoes op; absent (hasInv false) for history read back from the store
	hasInv  bool
	opJSON  json.RawMessage
	session string
	seq     uint64
	at      time.Time // when it was recorded (push); zero for history read back from the store
}

// submission is an edit waiting to be committed: an op from a member, or
// text appended through the HTTP API.
type submission struct {
	c       *Seat // nil for the API
	session string
	seq     uint64
	rev     scribe.Revision
	op      ot.Operation
	sel     []ot.Range
	selSeq  uint64 // the seat's selSeq when it sent sel (Seat.Submit); 0 for none

	// For the API: append text at the end, built against the head when the
	// batch is prepared; the result goes to reply.
	appendText string
	// For the API: make the text what rewrite makes of the head's (a
	// restore, an action item ticked), built against the head when the
	// batch is prepared, like appendText.
	rewrite func(string) (string, error)
	// authors is who wrote the text rewrite returns, when known (a
	// restore); credit is then who wrote what the built op inserts
	// (scribe.Change.Credit).
	authors    *scribe.Authorship
	credit     []scribe.CreditRun
	author     string
	email      string // the author's email, known from sign-in; "" for guests
	idempotent bool   // the API caller chose the session (Idempotency-Key): it may be committed already
	reply      chan submitResult

	answered bool      // ack or fail was called (run's goroutine)
	received time.Time // when the server read it, for the latency metric
}

type submitResult struct {
	rev scribe.Revision
	err error
}

// joinRequest asks the room to seat a member.
type joinRequest struct {
	c     *Seat
	info  Info
	known seqRev
	reply chan error
}

// seatUpdate is a member's new selection or display name.
type seatUpdate struct {
	c      *Seat
	hasSel bool
	rev    scribe.Revision
	sel    []ot.Range
	seq    uint64 // the seat's selSeq when it sent sel
	name   string // "" when unchanged
}

// Seat is a member's place in a room: the connection's handle to the room
// (Submit, Select, Rename, Leave, safe to call from one other goroutine, the
// connection's read pump) and the room's state of the member, which only
// the room's goroutine touches.
type Seat struct {
	room     *Room
	m        Member
	id       string // public id
	session  string // secret session id (empty for read-only viewers)
	readonly bool
	token    scribe.Token

	email  string // known from sign-in, recorded with changes; never sent
	person string // the member's person key (personKey of Info.ColorKey); "" for guests

	// selSeq numbers the selections the member sent, alone (Select) or
	// with an op (Submit): owned by the read pump. The room applies a
	// selection only if it is newer than the one it has (selApplied).
	selSeq uint64
	// The latest selection given to Select that the room has not taken
	// yet (takeSelections), and whether there is one: guarded by
	// room.selMu. A newer one replaces it.
	slot    seatUpdate
	slotted bool

	// Owned by the room's goroutine.
	name     string
	color    string
	sel      []ot.Range
	selRev   scribe.Revision
	hasSel   bool
	ackedSeq uint64   // the highest seq acknowledged to this member
	shared   bool     // a viewer in the room's audience: gets broadcasts through it (Config.NewAudience)
	later    [][]byte // messages queued in this turn of the room's loop (deliver)
	urgent   bool     // one of them is urgent
	// selApplied is the selSeq that sel came from (room's goroutine).
	selApplied uint64
}

// Room is one open note on this node: one goroutine (run) owns the live
// document, the recent history, the seats and the presence of peers on
// other nodes. Everything else talks to it over channels. It closes itself
// when its last member has been gone for the grace period.
type Room struct {
	hub *Hub
	cfg *Config
	id  scribe.NoteID
	ref string // what logs call the note: not its id, which is a secret

	ready   chan struct{} // closed when open has finished; openErr is then set
	openErr error

	joinc    chan *joinRequest
	leavec   chan *Seat
	submitc  chan *submission
	updatec  chan seatUpdate
	selc     chan struct{} // signalled, never blocking, when a seat's selection slot is filled (Select)
	revokedc chan []scribe.Token
	deletedc chan struct{} // the note is being deleted (Hub.Delete on this node)
	stopc    chan struct{} // closed by the hub on shutdown
	stopOnce sync.Once
	done     chan struct{} // closed when run has returned

	ctx    context.Context
	cancel context.CancelFunc
	pub    *publisher

	// selq lists the seats with a selection in their slot, each once
	// (Select, takeSelections); guarded by selMu, as the slots are.
	selMu    sync.Mutex
	selq     []*Seat
	selTaken []seatUpdate // scratch for takeSelections, owned by run

	// editorCount is len(editors), for other goroutines (Editors).
	editorCount atomic.Int32

	// Owned by run.
	title   string
	heading string // the note's last non-empty first level-1 heading (title.go)
	// titleDue: title followed the heading and is not stored yet
	// (saveTitle); titleHeard: when another node's room last sent a
	// title that followed its heading.
	titleDue   bool
	titleHeard time.Time
	export     *protocol.Export // the note's latest export; nil if none (export.go)
	doc        *ot.Document
	rev        scribe.Revision
	histBase   scribe.Revision // hist[i] produced revision histBase+1+i
	hist       []histEntry
	histOps    []ot.Operation // hist's ops, in step with it: what transform moves an op over, without copying them out per op
	histSize   int            // bytes the history holds, roughly
	histTrimAt int            // push trims the history when it holds more entries than this (or 2*histKeep)
	// histFloor is how far back the history may be extended (extendBack):
	// older revisions did not fit in memory, and are never read again.
	histFloor   scribe.Revision
	tickRev     scribe.Revision // the head at the last resync tick: unchanged means the note was quiet
	verifiedRev scribe.Revision // the last head whose text was compared with the store's (verify)
	lastSeq     map[string]seqRev
	clients     map[*Seat]struct{}
	direct      map[*Seat]struct{} // the clients that get broadcasts one by one: all but the audience
	audience    Audience           // the viewers, reached at once; nil when each viewer is a direct client
	toAudience  [][]byte           // messages for the audience in this turn, handed over by flushOut
	toldDown    map[*Seat]struct{} // told errCantSave with their op's seq, as the room fails
	bySess      map[string]*Seat   // local edit seats by session id (the latest one)
	editors     map[*Seat]struct{} // the local members that may edit: the ones listed as peers
	viewers     int                // local read-only members: counted, never listed (presence.go, flushViewers)
	remoteViews int                // read-only peers in remote: viewers on other nodes
	viewersDue  bool               // the viewer count may have changed since it was last sent
	remote      map[string]*remotePeer
	dirty       map[*Seat]struct{} // seats whose presence is to be broadcast, here and to other nodes
	outq        []*Seat            // seats with messages in later, handed to their members by flushOut
	over        []ot.Operation     // scratch for prepare: the batch's accepted ops so far
	moved       map[*Seat]struct{} // seats whose selection moved with an op: local members had it in the op; other nodes are told
	sub         scribe.Subscription
	idleAt      time.Time                 // when the last member left; zero while there are members
	checking    bool                      // a revocation check is running
	revoked     map[scribe.Token]struct{} // share tokens revoked while the room is open: joins with them are refused
	deleted     bool                      // the note was deleted: every join is refused
}

func newRoom(h *Hub, id scribe.NoteID) *Room {
	ctx, cancel := context.WithCancel(h.ctx)
	rm := &Room{
		hub:      h,
		cfg:      &h.cfg,
		id:       id,
		ref:      NoteRef(id),
		ready:    make(chan struct{}),
		joinc:    make(chan *joinRequest),
		leavec:   make(chan *Seat, 64),
		submitc:  make(chan *submission, submitQueue),
		updatec:  make(chan seatUpdate, 256),
		selc:     make(chan struct{}, 1),
		revokedc: make(chan []scribe.Token, 1),
		deletedc: make(chan struct{}, 1),
		stopc:    make(chan struct{}),
		done:     make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
		lastSeq:  make(map[string]seqRev),
		clients:  make(map[*Seat]struct{}),
		direct:   make(map[*Seat]struct{}),
		toldDown: make(map[*Seat]struct{}),
		bySess:   make(map[string]*Seat),
		editors:  make(map[*Seat]struct{}),
		remote:   make(map[string]*remotePeer),
		dirty:    make(map[*Seat]struct{}),
		moved:    make(map[*Seat]struct{}),
		revoked:  make(map[scribe.Token]struct{}),
	}
	if h.cfg.NewAudience != nil {
		rm.audience = h.cfg.NewAudience()
	}
	return rm
}

// open subscribes to the note and loads it. Subscribing first means no
// commit is missed between the two: events at or below the loaded revision
// are ignored, and a gap is read from the log.
func (rm *Room) open() error {
	sub, err := rm.cfg.Store.Subscribe(rm.ctx, rm.id)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	d, err := rm.cfg.Store.LoadNote(rm.ctx, rm.id)
	if err != nil {
		_ = sub.Close()
		return err
	}
	doc, err := ot.NewDocument(d.Text)
	if err != nil {
		_ = sub.Close()
		return fmt.Errorf("load note: stored text: %w", err)
	}
	rm.sub, rm.doc = sub, doc
	rm.title, rm.rev, rm.histBase = d.Title, d.Revision, d.Revision
	rm.heading = headingOf(doc)
	rm.loadExport()
	return nil
}

// run is the room's goroutine. The hub starts it after open, and the
// publisher beside it.
func (rm *Room) run() {
	defer close(rm.done)
	defer rm.cancel()
	defer rm.pub.stop()
	defer func() {
		// A bug must cost this note's members a reconnect, not the node.
		if v := recover(); v != nil {
			rm.cfg.Logger.Error("panic in room", "note", rm.ref, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			rm.fail(fmt.Errorf("panic: %v", v))
		}
	}()
	defer func() {
		if rm.sub != nil {
			_ = rm.sub.Close()
		}
	}()
	rm.cfg.Metrics.RoomsOpen(1)
	defer rm.cfg.Metrics.RoomsOpen(-1)
	rm.cfg.Logger.Debug("note opened", "note", rm.ref, "rev", rm.rev)
	defer func() { rm.cfg.Logger.Debug("note closed", "note", rm.ref, "rev", rm.rev) }()

	timing := rm.cfg.Timing
	rm.pub.send(nodeMsg{Kind: kindSync})
	rm.idleAt = time.Now()
	var presenceT, titleT, viewersT <-chan time.Time
	resync := time.NewTicker(timing.Resync)
	defer resync.Stop()
	refresh := time.NewTicker(timing.PresenceRefresh)
	defer refresh.Stop()
	revoke := time.NewTicker(timing.RevokeCheck)
	defer revoke.Stop()
	events := rm.sub.Events()
	// A subscription that ends is replaced from the loop, never by sleeping
	// in it: retry fires for each attempt, later ones further apart.
	retry := time.NewTimer(0)
	retry.Stop()
	defer retry.Stop()
	var retryC <-chan time.Time
	attempts := 0
	gatherT := time.NewTimer(time.Hour)
	gatherT.Stop()
	defer gatherT.Stop()

	for {
		rm.flushOut()
		if (len(rm.dirty) > 0 || len(rm.moved) > 0) && presenceT == nil {
			presenceT = time.After(timing.PresenceFlush)
		}
		if rm.titleDue && titleT == nil {
			titleT = time.After(timing.TitleSave)
		}
		if rm.viewersDue && viewersT == nil {
			viewersT = time.After(timing.ViewerCount)
		}
		select {
		case <-rm.stopc:
			rm.shutdown()
			return
		case req := <-rm.joinc:
			req.reply <- rm.handleJoin(req)
		case c := <-rm.leavec:
			rm.handleLeave(c)
		case sub := <-rm.submitc:
			batch := rm.gather(sub, gatherT)
			if err := rm.commit(batch); err != nil {
				rm.fail(err)
				return
			}
		case u := <-rm.updatec:
			rm.handleUpdate(u)
		case <-rm.selc:
			rm.takeSelections()
		case ev, ok := <-events:
			if !ok {
				// The subscription ended (for example, the store lost
				// its connection): subscribe again, at once.
				_ = rm.sub.Close()
				rm.sub, events, attempts = nil, nil, 0
				retry.Reset(0)
				retryC = retry.C
				continue
			}
			if err := rm.event(ev); err != nil {
				rm.fail(err)
				return
			}
		case <-retryC:
			attempts++
			err := rm.resubscribe()
			if err == nil {
				events, retryC = rm.sub.Events(), nil
				continue
			}
			if attempts >= maxResubscribe || rm.sub != nil || rm.ctx.Err() != nil {
				rm.fail(fmt.Errorf("resubscribe: %w", err))
				return
			}
			retry.Reset(time.Duration(attempts) * timing.ResubscribeWait)
		case tokens := <-rm.revokedc:
			rm.checking = false
			for _, t := range tokens {
				rm.revoke(t)
			}
		case <-rm.deletedc:
			rm.noteDeleted()
		case <-presenceT:
			presenceT = nil
			rm.flushPresence()
		case <-titleT:
			titleT = nil
			rm.saveTitle()
		case <-viewersT:
			viewersT = nil
			rm.flushViewers()
		case <-resync.C:
			if err := rm.verify(); err != nil {
				rm.fail(err)
				return
			}
			if err := rm.syncTo(math.MaxInt64); err != nil {
				rm.fail(err)
				return
			}
			if len(rm.clients) == 0 && len(rm.submitc) == 0 && time.Since(rm.idleAt) >= timing.Grace {
				rm.saveTitle() // before a room opened next reads the title
				if rm.hub.remove(rm) {
					return
				}
			}
		case <-refresh.C:
			rm.expireRemote()
			rm.publishAll()
		case <-revoke.C:
			rm.checkTokens()
		}
	}
}

// gather returns the batch that starts with sub: every submission queued
// behind it and, in a note with several editors on this node, those that
// come in a short while more. Each Append costs the store and this node
// about the same whatever its size (a round trip, a script run or an
// fsync), so at 100 typists, 1,000 ops a second, committing them a few
// milliseconds' worth at a time instead of one by one is most of what an
// op costs (docs/benchmarks.md, issue 16). The wait is gatherPerEditor per
// editor beyond the first, at most maxGather, counted from when sub was
// read: an op that already waited behind a commit waits no longer, and one
// editor alone never waits. Nothing else is served meanwhile; joins and
// presence wait at most maxGather.
func (rm *Room) gather(sub *submission, t *time.Timer) []*submission {
	batch := []*submission{sub}
	for len(batch) < maxBatch {
		select {
		case more := <-rm.submitc:
			batch = append(batch, more)
			continue
		default:
		}
		break
	}
	wait := time.Duration(len(rm.editors)-1) * gatherPerEditor
	if wait <= 0 || len(batch) >= maxBatch {
		return batch
	}
	start := sub.received
	if start.IsZero() {
		start = time.Now()
	}
	wait = time.Until(start.Add(min(wait, maxGather)))
	if wait <= 0 {
		return batch
	}
	t.Reset(wait)
	defer t.Stop()
	for len(batch) < maxBatch {
		select {
		case more := <-rm.submitc:
			batch = append(batch, more)
		case <-t.C:
			return batch
		case <-rm.stopc:
			return batch // committed now; shutdown follows
		}
	}
	return batch
}

// errCantSave tells a client the store failed (EUNAVAILABLE): it keeps its
// unconfirmed edits and resends them after reconnecting.
var errCantSave = scribe.Errorf(scribe.EUNAVAILABLE, "Can't save right now; your edits are kept and will be saved when the server can reach its store again.")

// fail ends the room after an error it cannot recover from (the store is
// unreachable, or holds something it cannot read): its members are closed
// with 1011 and reconnect to a fresh room, which reloads from the store.
func (rm *Room) fail(err error) {
	if !errors.Is(err, context.Canceled) {
		rm.cfg.Logger.Error("room failed", "note", rm.ref, "err", err)
	}
	rm.hub.remove(rm)
	if scribe.ErrorCode(err) == scribe.EUNAVAILABLE {
		// Every client hears why before the close: its edits are kept
		// and sent again when it reconnects, as they are after any drop.
		for c := range rm.clients {
			if _, told := rm.toldDown[c]; !told && !c.readonly {
				rm.sendError(c, errCantSave, nil)
			}
		}
	}
	rm.flushOut()  // what was acknowledged goes out before the close
	rm.saveTitle() // best effort: the store may be what failed
	for c := range rm.clients {
		c.m.Close(protocol.CloseInternal, protocol.CloseReasonFailed, true)
	}
	rm.failPending(scribe.Errorf(scribe.EUNAVAILABLE, "The note's session closed; retry."))
}

// shutdown commits what is queued, then closes every member with 1001 after
// sending it what is queued for it, so it reconnects (possibly elsewhere).
func (rm *Room) shutdown() {
	for len(rm.submitc) > 0 {
		var batch []*submission
		for len(batch) < maxBatch && len(rm.submitc) > 0 {
			batch = append(batch, <-rm.submitc)
		}
		if err := rm.commit(batch); err != nil {
			rm.cfg.Logger.Error("commit on shutdown", "note", rm.ref, "err", err)
			break
		}
	}
	rm.failPending(scribe.Errorf(scribe.EUNAVAILABLE, "The server is shutting down; retry."))
	rm.saveTitle()
	rm.flushOut()
	var gone []string
	for c := range rm.clients {
		gone = append(gone, c.id)
		c.m.Close(protocol.CloseGoingAway, protocol.CloseReasonAway, true)
	}
	if len(gone) > 0 {
		rm.pub.send(nodeMsg{Kind: kindLeave, Clients: gone})
	}
}

// failPending answers the API submissions still queued.
func (rm *Room) failPending(err error) {
	for {
		select {
		case sub := <-rm.submitc:
			if sub.reply != nil {
				sub.reply <- submitResult{err: err}
			}
		default:
			return
		}
	}
}

func (rm *Room) stop() { rm.stopOnce.Do(func() { close(rm.stopc) }) }

// Ref is what logs call the room's note: a hash, not its id.
func (rm *Room) Ref() string { return rm.ref }

// Editors returns how many members that may edit the room has on this
// node, as of its last join or leave: what a connection's write pump
// spaces its frames by (one commit reaches every one of them). Safe for
// concurrent use.
func (rm *Room) Editors() int { return int(rm.editorCount.Load()) }

// The methods below are called by other goroutines. Each reports false (or
// ErrClosed) when the room has ended.

func (rm *Room) join(ctx context.Context, c *Seat, info Info, known seqRev) error {
	req := &joinRequest{c: c, info: info, known: known, reply: make(chan error, 1)}
	select {
	case rm.joinc <- req:
	case <-rm.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.reply:
		return err
	case <-rm.done:
		return ErrClosed
	}
}

// Submit hands the room an op the member sent: seq and rev as the client
// sent them, sel its selection after op (nil for none), received when the
// server read it. It reports false when the room has closed.
func (c *Seat) Submit(seq uint64, rev scribe.Revision, op ot.Operation, sel []ot.Range, received time.Time) bool {
	sub := &submission{c: c, session: c.session, seq: seq, rev: rev, op: op, sel: sel, received: received}
	if sel != nil {
		c.selSeq++
		sub.selSeq = c.selSeq
	}
	return c.room.submit(sub)
}

// Select tells the room of the member's selection at revision rev. It
// never waits for the room: the selection goes in the seat's slot,
// replacing one the room has not taken yet, and the room is signalled. A
// burst of presence from 1,000 members costs the room one pass, and no
// read pump waits behind a commit for its turn (issue 16: half the read
// pumps of a 1,000-typist note were found blocked here, their ops then too
// late to transform). It reports false when the room has closed.
func (c *Seat) Select(rev scribe.Revision, sel []ot.Range) bool {
	rm := c.room
	select {
	case <-rm.done:
		return false
	default:
	}
	c.selSeq++
	rm.selMu.Lock()
	if !c.slotted {
		c.slotted = true
		rm.selq = append(rm.selq, c)
	}
	c.slot = seatUpdate{c: c, hasSel: true, rev: rev, sel: sel, seq: c.selSeq}
	rm.selMu.Unlock()
	select {
	case rm.selc <- struct{}{}:
	default: // already signalled: the room takes every slot in one pass
	}
	return true
}

// Rename changes the member's display name (already cleaned). It reports
// false when the room has closed.
func (c *Seat) Rename(name string) bool {
	return c.room.update(seatUpdate{c: c, name: name})
}

// Leave takes the member out of the room; the others are told.
func (c *Seat) Leave() {
	select {
	case c.room.leavec <- c:
	case <-c.room.done:
	}
}

// Room returns the room the seat is in.
func (c *Seat) Room() *Room { return c.room }

func (rm *Room) submit(sub *submission) bool {
	select {
	case rm.submitc <- sub:
		return true
	case <-rm.done:
		return false
	}
}

func (rm *Room) update(u seatUpdate) bool {
	select {
	case rm.updatec <- u:
		return true
	case <-rm.done:
		return false
	}
}

// handleJoin adds a client (run's goroutine).
func (rm *Room) handleJoin(r *joinRequest) error {
	c, h := r.c, r.info
	if rm.deleted {
		return errNoteDeleted
	}
	if _, ok := rm.revoked[c.token]; ok && c.readonly {
		return errShareGone
	}
	if !c.readonly {
		rm.noteSeq(c.session, r.known)
	}
	// A client may know of commits this node has not heard of yet (it was
	// connected to another node): catch up first.
	if (h.HasRev && h.Rev > rm.rev) || r.known.rev > rm.rev {
		if err := rm.syncTo(math.MaxInt64); err != nil {
			return err
		}
	}
	if h.HasRev && h.Rev > rm.rev {
		return invalid("Revision %d is ahead of the note (at revision %d); reload.", h.Rev, rm.rev)
	}
	if !c.readonly {
		// The same person's connection on another node is gone: it came here.
		rm.dropGhosts(sessionHash(c.session), "")
	}
	var catchup [][]byte
	if h.HasRev && h.Rev < rm.histBase {
		ok, err := rm.extendBack(h.Rev)
		if err != nil {
			return err
		}
		if !ok {
			h.HasRev = false // too far behind: a full text is cheaper than the catch-up
		}
	}
	if h.HasRev && h.HasFP {
		// The client's revision h.Rev must be the note's: after a store
		// lost acknowledged revisions, new edits reuse their numbers, and a
		// catch-up on another history cannot apply (or applies to the
		// wrong text). A client whose text differs, or that cannot be
		// checked, gets the full text and merges its pending edits into it.
		if text, ok := rm.textAt(h.Rev); !ok || protocol.FingerprintOf(text) != h.FP {
			h.HasRev = false
		}
	}
	if h.HasRev {
		entries, err := rm.since(h.Rev)
		if err != nil {
			return err
		}
		// A catch-up larger than what may wait for one client would
		// sit in its queue past the send limit (a viewer that never reads
		// held it all): the full text is sent instead, and the client
		// merges its pending edits into it.
		size := 0
		for _, e := range entries {
			size += len(e.opJSON) + catchupOverhead
		}
		if size > rm.cfg.CatchupBytes {
			h.HasRev, entries = false, nil
		}
		for i, e := range entries {
			rev := h.Rev + 1 + scribe.Revision(i)
			if !c.readonly && e.session == c.session {
				catchup = append(catchup, protocol.EncodeAck(e.seq, rev))
				c.ackedSeq = max(c.ackedSeq, e.seq)
			} else {
				catchup = append(catchup, protocol.EncodeOp(rev, e.opJSON, rm.clientFor(e.session), nil))
			}
		}
	}
	switch {
	case h.ColorKey != "":
		c.color = colorOf(h.ColorKey)
	case c.readonly:
		c.color = colorOf(c.id) // nobody sees a viewer's colour: no scan of everyone's
	default:
		c.color = rm.pickColor()
	}
	w := protocol.Welcome{
		Client: c.id, Rev: rm.rev,
		Title: rm.title, ReadOnly: c.readonly, Name: c.name, Color: c.color, Person: c.person,
		Peers:   rm.peers(c),
		Viewers: rm.viewerCount(),
		Limits:  rm.cfg.Limits,
		Export:  rm.export,
	}
	if c.readonly {
		w.Viewers++ // counting the newcomer
	}
	if !c.readonly {
		w.LastSeq = rm.lastSeq[c.session].seq
		c.ackedSeq = max(c.ackedSeq, w.LastSeq) // the welcome acknowledges what lastSeq covers
	}
	if h.HasRev {
		w.Catchup = true
	} else {
		text := rm.doc.String()
		w.Text = &text
	}
	c.m.Welcome(append([][]byte{protocol.EncodeWelcome(w)}, catchup...))

	rm.clients[c] = struct{}{}
	if c.readonly && rm.audience != nil {
		c.shared = true
		rm.audience.Add(c.m)
	} else {
		rm.direct[c] = struct{}{}
	}
	if c.readonly {
		rm.viewers++
		rm.viewersDue = true // the others hear the new count
	} else {
		rm.bySess[c.session] = c
		rm.editors[c] = struct{}{}
		rm.editorCount.Store(int32(len(rm.editors)))
	}
	rm.idleAt = time.Time{}
	rm.dirty[c] = struct{}{} // announce the newcomer (a viewer only to other nodes)
	return nil
}

// handleLeave removes a client (run's goroutine).
func (rm *Room) handleLeave(c *Seat) {
	if _, ok := rm.clients[c]; !ok {
		return
	}
	delete(rm.clients, c)
	delete(rm.direct, c)
	if c.shared {
		rm.audience.Remove(c.m)
	}
	delete(rm.dirty, c)
	delete(rm.moved, c)
	if rm.bySess[c.session] == c {
		delete(rm.bySess, c.session)
	}
	if c.readonly {
		rm.viewers--
		rm.viewersDue = true
	} else {
		delete(rm.editors, c)
		rm.editorCount.Store(int32(len(rm.editors)))
		rm.broadcast(protocol.EncodeLeave(c.id), nil)
	}
	rm.pub.send(nodeMsg{Kind: kindLeave, Clients: []string{c.id}})
	if len(rm.clients) == 0 {
		rm.idleAt = time.Now()
	}
}

// takeSelections applies the selections in the seats' slots (Select),
// each seat's latest (run's goroutine).
func (rm *Room) takeSelections() {
	rm.selMu.Lock()
	taken := rm.selTaken[:0]
	for _, c := range rm.selq {
		taken = append(taken, c.slot)
		c.slot, c.slotted = seatUpdate{}, false
	}
	clear(rm.selq)
	rm.selq = rm.selq[:0]
	rm.selMu.Unlock()
	for _, u := range taken {
		rm.handleUpdate(u)
	}
	clear(taken)
	rm.selTaken = taken[:0]
}

// handleUpdate applies a client's new selection or name (run's goroutine).
// A selection older than the one the seat has (one that came with an op
// the member sent after it, committed first) is ignored.
func (rm *Room) handleUpdate(u seatUpdate) {
	c := u.c
	if _, ok := rm.clients[c]; !ok {
		return
	}
	if u.hasSel && u.seq < c.selApplied {
		return
	}
	if u.name != "" {
		c.name = u.name
	}
	if u.hasSel {
		if u.rev > rm.rev {
			rm.sendError(c, invalid("Revision %d is ahead of the note (at revision %d).", u.rev, rm.rev), nil)
			return
		}
		if u.rev == rm.rev {
			n := rm.doc.Len()
			for i, r := range u.sel {
				if r.Anchor > n || r.Head > n {
					rm.sendError(c, invalid("Selection range %d lies outside the document of length %d.", i, n), nil)
					return
				}
			}
		}
		c.sel, c.selRev, c.hasSel = rm.selAt(u.sel, u.rev), rm.rev, true
		c.selApplied = u.seq
	}
	rm.dirty[c] = struct{}{}
}

// selAt moves sel, which refers to revision rev (at most the head), to the
// head, and clamps it to the document. A selection older than the history
// kept in memory is only clamped.
func (rm *Room) selAt(sel []ot.Range, rev scribe.Revision) []ot.Range {
	out := make([]ot.Range, len(sel))
	copy(out, sel)
	if rev >= rm.histBase && rev <= rm.rev {
		for _, e := range rm.hist[rev-rm.histBase:] {
			for i, r := range out {
				out[i] = r.Transform(e.op)
			}
		}
	}
	n := rm.doc.Len()
	for i, r := range out {
		out[i] = ot.Range{Anchor: min(r.Anchor, n), Head: min(r.Head, n)}
	}
	return out
}

// broadcast queues msg for every local client except skip (never a
// viewer of the audience, which gets it once for all its viewers).
func (rm *Room) broadcast(msg []byte, skip *Seat) {
	rm.sendAudience(msg)
	for c := range rm.direct {
		if c != skip {
			rm.deliver(c, msg, false)
		}
	}
}

// since returns the committed changes after rev, up to the head, from
// memory. Callers make sure rev is not older than the history kept
// (histBase): no op and no join reads the store for it (extendBack is the
// one place that does, once per room for a range). The slice shares the
// history's array, which push trims in place: it is valid until the next
// push.
func (rm *Room) since(rev scribe.Revision) ([]histEntry, error) {
	i, err := rm.histAt(rev)
	if err != nil {
		return nil, err
	}
	return rm.hist[i:], nil
}

// histAt is the index in hist, and in histOps, of the change after
// revision rev; an error when the history in memory does not have it.
func (rm *Room) histAt(rev scribe.Revision) (int, error) {
	if rev < rm.histBase || rev > rm.rev {
		return 0, fmt.Errorf("history: revision %d is outside %d..%d", rev, rm.histBase, rm.rev)
	}
	return int(rev - rm.histBase), nil
}

// extendBack makes the history in memory reach back to revision rev (so
// that a client reconnecting with rev gets a catch-up), reading the changes
// before histBase from the store newest first, in chunks, as long as they
// fit the history's byte budget and maxCatchup. It reports whether the
// history now reaches rev. What it read stays in memory, and a range that
// did not fit is never read again (histFloor): however many clients come
// with old revisions, the store is read at most about one history budget's
// worth per room. Ops never call it: an op based on a revision older than
// the history closes its connection (prepare).
func (rm *Room) extendBack(rev scribe.Revision) (bool, error) {
	if rev >= rm.histBase {
		return true, nil
	}
	if rev < rm.histFloor || rm.rev-rev > maxCatchup {
		return false, nil
	}
	var older [][]histEntry // chunks read, newest first
	size := rm.histSize
	lo := rm.histBase // the history (with what was read) reaches back to lo
	fits := true
	for lo > rev && fits {
		from := max(rev, lo-readBackChunk, rm.histFloor)
		changes, err := rm.cfg.Store.Changes(rm.ctx, rm.id, from, lo)
		if f, ok := scribe.AsFolded(err); ok && f.Rev == from && f.Above <= lo {
			// from is inside a fold of compacted history: read what is
			// after the fold, and no further.
			from, fits = f.Above, false
			changes, err = rm.cfg.Store.Changes(rm.ctx, rm.id, from, lo)
		}
		if _, ok := scribe.AsFolded(err); ok {
			// lo itself was folded since the history was read (a room
			// open for longer than the hot age): nothing older is
			// reachable.
			rm.histFloor = lo
			break
		}
		if err != nil {
			return false, fmt.Errorf("read history: %w", err)
		}
		for i := len(changes) - 1; i >= 0; i-- {
			if changes[i].First != 0 {
				// A fold is many revisions in one change: the history in
				// memory, one change per revision, reaches back to its
				// end. A client older than that gets the full text.
				from, fits = changes[i].Revision, false
				changes = changes[i+1:]
				break
			}
		}
		if len(changes) != int(lo-from) {
			return false, fmt.Errorf("read history: got %d changes for revisions %d..%d", len(changes), from+1, lo)
		}
		chunk := make([]histEntry, len(changes))
		n := 0 // entries at the chunk's end that fit
		for i := len(changes) - 1; i >= 0; i-- {
			ch := changes[i]
			op, err := ot.ParseJSON(ch.Op)
			if err != nil {
				return false, fmt.Errorf("read history: revision %d: %w", ch.Revision, err)
			}
			// The canonical form, as in memory: protocol.EncodeOp relays it unchecked.
			e := histEntry{op: op, opJSON: json.RawMessage(op.String()), session: ch.Session, seq: ch.Seq}
			if size+entrySize(e) > rm.histMax() {
				fits = false
				break
			}
			size += entrySize(e)
			chunk[i] = e
			n++
		}
		older = append(older, chunk[len(chunk)-n:])
		lo -= scribe.Revision(n)
	}
	if !fits {
		rm.histFloor = lo
	}
	if lo == rm.histBase {
		return false, nil
	}
	hist := make([]histEntry, 0, int(rm.histBase-lo)+len(rm.hist))
	for i := len(older) - 1; i >= 0; i-- {
		hist = append(hist, older[i]...)
	}
	rm.hist = append(hist, rm.hist...)
	rm.histOps = make([]ot.Operation, len(rm.hist), cap(rm.hist))
	for i, e := range rm.hist {
		rm.histOps[i] = e.op
	}
	rm.histBase, rm.histSize = lo, size
	return lo <= rev, nil
}

// noteSeq records that session committed seq at rev, if that is news.
func (rm *Room) noteSeq(session string, sr seqRev) {
	if session == "" {
		return
	}
	if cur, ok := rm.lastSeq[session]; !ok || sr.seq > cur.seq {
		rm.lastSeq[session] = sr
	}
}

// push records a committed change as the next revision.
// The history in memory is bounded by size, so a client pasting large
// texts over and over cannot make a room hold gigabytes; within that
// budget it keeps at least the last histKeep ops and at least the ops of
// the last histSpan. The span is what lets a 1,000-typist note, 3,000 ops
// a second, transform an op a few seconds late instead of closing its
// sender (prepare): a count alone covered under 3 s there (issue 16).
// Older bases are read from the store.
func (rm *Room) push(e histEntry) {
	rm.rev++
	e.at = rm.now()
	rm.hist = append(rm.hist, e)
	rm.histOps = append(rm.histOps, e.op)
	rm.histSize += entrySize(e)
	rm.noteSeq(e.session, seqRev{e.seq, rm.rev})
	keep := rm.histKeep()
	if len(rm.hist) > max(2*keep, rm.histTrimAt) || rm.histSize > rm.histMax() {
		drop := max(len(rm.hist)-keep, 0)
		// Entries are in commit order, so their times ascend (read-back
		// ones, older, have none): the first one within the span.
		cut := e.at.Add(-rm.histSpan())
		drop = sort.Search(drop, func(i int) bool { return !rm.hist[i].at.Before(cut) })
		size := rm.histSize
		for i := range drop {
			size -= entrySize(rm.hist[i])
		}
		for drop < len(rm.hist)-1 && size > rm.histMax()/2 {
			size -= entrySize(rm.hist[drop])
			drop++
		}
		// In place: the array, once grown, is reused for the room's life
		// instead of copied out and grown again every historyKeep commits
		// (issue 16: a per-op cost of one writer). The vacated tail is
		// cleared so the dropped ops can be collected. The next trim is
		// when the history has doubled again, so a span longer than
		// histKeep ops costs no search per commit.
		n := copy(rm.hist, rm.hist[drop:])
		clear(rm.hist[n:])
		rm.hist = rm.hist[:n]
		copy(rm.histOps, rm.histOps[drop:])
		clear(rm.histOps[n:])
		rm.histOps = rm.histOps[:n]
		rm.histBase += scribe.Revision(drop)
		rm.histSize = size
		rm.histTrimAt = 2 * n
	}
}

// histKeep is how many ops the history keeps whatever their age.
func (rm *Room) histKeep() int {
	if rm.cfg.histKeep > 0 {
		return rm.cfg.histKeep
	}
	return historyKeep
}

// histSpan is how long ago an op may have been committed and still be
// kept in the history (within its byte budget).
func (rm *Room) histSpan() time.Duration {
	if rm.cfg.histSpan != 0 {
		return rm.cfg.histSpan
	}
	return historySpan
}

// now is the rooms' clock.
func (rm *Room) now() time.Time {
	if rm.cfg.now != nil {
		return rm.cfg.now()
	}
	return time.Now()
}

// textAt returns the note's text at revision rev, undoing the history in
// memory from the head; false when it cannot (rev is older than the
// history whose inverses are kept). It costs a copy of the text and the
// changes since rev: what a full-text welcome costs anyway.
func (rm *Room) textAt(rev scribe.Revision) (string, bool) {
	if rev == rm.rev {
		return rm.doc.String(), true
	}
	if rev < rm.histBase || rev > rm.rev {
		return "", false
	}
	entries := rm.hist[rev-rm.histBase:]
	for _, e := range entries {
		if !e.hasInv {
			return "", false
		}
	}
	d, err := ot.NewDocument(rm.doc.String())
	if err != nil {
		return "", false
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if err := d.Apply(entries[i].inv); err != nil {
			return "", false
		}
	}
	return d.String(), true
}

// histMax is the history's byte budget.
func (rm *Room) histMax() int {
	if rm.cfg.histMaxBytes > 0 {
		return rm.cfg.histMaxBytes
	}
	return historyMaxBytes
}

// entrySize is about what a history entry holds in memory: the op's JSON,
// its inserts once more in the parsed op, and the text its inverse holds
// (what it deleted).
func entrySize(e histEntry) int { return 2*len(e.opJSON) + 3*e.inv.InsertedLen() + 64 }

// applyRemote applies a change committed elsewhere (another node) as the
// next revision and forwards it to the local clients.
func (rm *Room) applyRemote(ch scribe.Change) error {
	op, err := ot.ParseJSON(ch.Op)
	if err != nil {
		return fmt.Errorf("revision %d: stored operation: %w", ch.Revision, err)
	}
	inv, err := rm.doc.Invert(op)
	if err == nil {
		err = rm.doc.Apply(op)
	}
	if err != nil {
		return fmt.Errorf("revision %d: %w", ch.Revision, err)
	}
	opJSON := json.RawMessage(op.String())
	rm.push(histEntry{op: op, inv: inv, hasInv: true, opJSON: opJSON, session: ch.Session, seq: ch.Seq})
	rm.cfg.Metrics.RemoteOp()
	rm.broadcastOp(protocol.EncodeOp(rm.rev, opJSON, rm.clientFor(ch.Session), nil), ch.Session, ch.Seq, rm.rev, nil)
	if touchesHead(op) {
		rm.followHeading(false)
	}
	return nil
}

// broadcastOp queues a committed op, which session submitted as seq and
// which produced rev, for every local client but skip (its sender, which
// gets its ack). A connection of the same session (a client that reconnected
// while its op was being committed through its old connection, here or on
// another node) gets an ack instead: the op is its own in-flight op, and
// applying it a second time would double it.
func (rm *Room) broadcastOp(msg []byte, session string, seq uint64, rev scribe.Revision, skip *Seat) {
	rm.sendAudience(msg)
	for c := range rm.direct {
		switch {
		case c == skip:
		case session != "" && c.session == session:
			rm.ackTo(c, seq, rev)
		default:
			rm.deliver(c, msg, false)
		}
	}
}

// ackTo acknowledges seq as rev to c, once: a connection that has had the
// ack (its op committed through another connection of its session, then
// resent) does not get it twice, which would break its revision sequence.
func (rm *Room) ackTo(c *Seat, seq uint64, rev scribe.Revision) {
	if seq <= c.ackedSeq {
		return
	}
	c.ackedSeq = seq
	rm.deliver(c, protocol.EncodeAck(seq, rev), true)
}

// deliver queues msg for c in this turn of the room's loop; flushOut
// hands each client its messages at the end of the turn with one push, so
// that a batch of ops costs each client one lock and one wake-up, not one
// per op. Everything the room sends a member goes this way (or, for the
// welcome, straight before anything else), which keeps it in order.
func (rm *Room) deliver(c *Seat, msg []byte, urgent bool) {
	if len(c.later) == 0 {
		rm.outq = append(rm.outq, c)
	}
	c.later = append(c.later, msg)
	c.urgent = c.urgent || urgent
}

// sendAudience queues msg for every viewer in the audience, if there is
// one, in this turn; flushOut hands the turn's messages over at once.
func (rm *Room) sendAudience(msg []byte) {
	if rm.audience != nil && rm.viewers > 0 {
		rm.toAudience = append(rm.toAudience, msg)
	}
}

// sendError queues an error for c, in order with the rest.
func (rm *Room) sendError(c *Seat, err error, seq *uint64) {
	rm.cfg.Metrics.Error(scribe.ErrorCode(err))
	rm.deliver(c, protocol.EncodeError(err, seq), true)
}

// flushOut hands each member what deliver queued for it, with one call. A
// member whose queue is over its budget is too slow and closes itself.
func (rm *Room) flushOut() {
	for _, c := range rm.outq {
		c.m.Deliver(c.later, c.urgent) // one call per member per turn; a member too slow closes itself
		if cap(c.later) > keepLater {
			c.later = nil // a burst's array is not kept by a member who may now stay idle for hours
		} else {
			clear(c.later)
			c.later = c.later[:0]
		}
		c.urgent = false
	}
	clear(rm.outq)
	rm.outq = rm.outq[:0]
	if len(rm.toAudience) > 0 {
		rm.audience.Send(rm.toAudience) // the audience keeps the slice
		rm.toAudience = nil
	}
}

// syncTo reads and applies every change after the live revision up to to
// (clamped to the store's head).
func (rm *Room) syncTo(to scribe.Revision) error {
	if to <= rm.rev {
		return nil
	}
	changes, err := rm.cfg.Store.Changes(rm.ctx, rm.id, rm.rev, to)
	if err != nil {
		return fmt.Errorf("catch up: %w", err)
	}
	for _, ch := range changes {
		if ch.Revision != rm.rev+1 {
			return fmt.Errorf("catch up: expected revision %d, store gave %d", rm.rev+1, ch.Revision)
		}
		if err := rm.applyRemote(ch); err != nil {
			return fmt.Errorf("catch up: %w", err)
		}
	}
	return nil
}

// verify checks, on each resync tick, that the store still holds this
// node's history: a store that lost acknowledged revisions (Redis with
// appendfsync everysec after a power cut, or a failover) has a head behind
// this node's, or reuses their numbers for other changes. The head and
// the change at this node's head are compared on every tick (two small
// reads); once the note has been quiet for a tick, the whole text at the
// head is compared once, which catches a history that differs further
// back. A difference ends the room (an error): its members reconnect to a
// room loaded afresh from the store, and a client whose revision is not
// the note's gets the full text (its hello's fingerprint differs, or its
// revision is ahead of the head).
func (rm *Room) verify() error {
	quiet := rm.rev == rm.tickRev
	rm.tickRev = rm.rev
	n, err := rm.cfg.Store.GetNote(rm.ctx, rm.id)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if n.Title != rm.title && rm.trustStoredTitle() {
		rm.adoptTitle(n.Title) // a title message was lost
	}
	if n.Revision < rm.rev {
		return fmt.Errorf("verify: the store's head is revision %d, behind this node's %d: it lost revisions; reloading", n.Revision, rm.rev)
	}
	if rm.rev > rm.histBase {
		chs, err := rm.cfg.Store.Changes(rm.ctx, rm.id, rm.rev-1, rm.rev)
		f, folded := scribe.AsFolded(err)
		if folded {
			// The head was folded by compaction (the note was quiet for
			// the hot age): the fold ends with the head's change.
			chs, err = rm.cfg.Store.Changes(rm.ctx, rm.id, f.Below, rm.rev)
		}
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		last := rm.hist[len(rm.hist)-1]
		same := len(chs) == 1 && chs[0].Session == last.session && chs[0].Seq == last.seq
		if same && !folded {
			op, err := ot.ParseJSON(chs[0].Op)
			same = err == nil && op.String() == string(last.opJSON)
		}
		if !same {
			return fmt.Errorf("verify: the store's revision %d differs from this node's: it lost revisions and reused the number; reloading", rm.rev)
		}
	}
	if quiet && n.Revision == rm.rev && rm.verifiedRev != rm.rev {
		d, err := rm.cfg.Store.LoadNote(rm.ctx, rm.id)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if d.Revision == rm.rev && d.Text != rm.doc.String() {
			return fmt.Errorf("verify: the store's text at revision %d differs from this node's; reloading", rm.rev)
		}
		rm.verifiedRev = rm.rev
	}
	return nil
}

// event handles one thing heard through the subscription.
func (rm *Room) event(ev scribe.Event) error {
	switch {
	case ev.Change != nil:
		ch := *ev.Change
		switch {
		case ch.Revision <= rm.rev:
			return nil // ours, or already read
		case ch.Revision == rm.rev+1:
			return rm.applyRemote(ch)
		default:
			return rm.syncTo(ch.Revision)
		}
	case ev.Message != nil:
		return rm.message(ev.Message)
	}
	return nil
}

// resubscribe makes one attempt to replace a subscription that ended while
// the room runs, then catches up on what was committed meanwhile. run calls
// it from its loop, again after a wait when it fails (rm.sub is then nil),
// so the room stays responsive, and stoppable, meanwhile.
func (rm *Room) resubscribe() error {
	sub, err := rm.cfg.Store.Subscribe(rm.ctx, rm.id)
	if err != nil {
		return err
	}
	rm.sub = sub
	return rm.syncTo(math.MaxInt64)
}

// pending is a submission accepted into a batch: its op transformed to the
// head and over the ones ahead of it.
type pending struct {
	sub *submission
	op  ot.Operation
	sel []ot.Range   // the sender's selection after op, at the revision op produces; nil when it sent none
	inv ot.Operation // undoes op, to roll back a failed append
}

// commit commits a batch of submissions with one Store.Append (group
// commit): resends already committed are acknowledged, each new op is
// transformed over what was committed since its base revision and over the
// ones ahead of it, and the batch is appended at the head. On ECONFLICT the
// room catches up and tries again. An error it returns ends the room;
// every submission of the batch has been answered (websocket clients are
// answered by the close that follows: they resend after reconnecting).
func (rm *Room) commit(batch []*submission) (err error) {
	defer func() {
		if err != nil {
			for _, sub := range batch {
				switch {
				case sub.answered:
				case sub.reply != nil:
					rm.failSub(sub, scribe.Errorf(scribe.EUNAVAILABLE, "The edit could not be saved; retry."))
				case sub.c != nil && scribe.ErrorCode(err) == scribe.EUNAVAILABLE:
					// The store is down, not the op: say so now, with the
					// seq; the close that follows makes the client resend.
					rm.failSub(sub, errCantSave)
					rm.toldDown[sub.c] = struct{}{}
				}
			}
		}
	}()
	for attempt := 1; ; attempt++ {
		accepted, done, err := rm.prepare(batch)
		if err != nil {
			return err
		}
		if len(accepted) == 0 {
			rm.finish(done)
			return nil
		}
		base := rm.rev - scribe.Revision(len(accepted))
		changes := make([]scribe.Change, len(accepted))
		for i, p := range accepted {
			author, email := p.sub.author, p.sub.email
			if p.sub.c != nil {
				author, email = p.sub.c.name, p.sub.c.email
			}
			changes[i] = scribe.Change{Op: json.RawMessage(p.op.String()), Session: p.sub.session, Seq: p.sub.seq, Author: author, Email: email, Credit: p.sub.credit}
		}
		start := time.Now()
		revs, err := rm.cfg.Store.Append(rm.ctx, rm.id, base, changes)
		rm.cfg.Metrics.Append(time.Since(start))
		if err != nil {
			if rerr := rm.rollback(accepted); rerr != nil {
				return rerr
			}
			if scribe.ErrorCode(err) == scribe.ETOOLARGE {
				// The store refused the batch whole (the note's history
				// budget): nothing was written. One op alone may still
				// fit, so a batch of several is committed one by one;
				// an op refused alone is refused to its sender, who
				// reloads, and the room goes on.
				if len(batch) > 1 {
					for _, sub := range batch {
						if err := rm.commit([]*submission{sub}); err != nil {
							return err
						}
					}
					return nil
				}
				rm.finish(done)
				for _, p := range accepted {
					rm.failSub(p.sub, err)
				}
				return nil
			}
			if scribe.ErrorCode(err) == scribe.ECONFLICT && attempt < maxCommitAttempts {
				rm.cfg.Metrics.Conflict()
				if err := rm.syncTo(math.MaxInt64); err != nil {
					return err
				}
				continue
			}
			// The store failed: the ops may or may not be committed. The
			// room ends; its members reconnect and resend, and
			// (session, seq) dedup makes that safe.
			rm.finish(done)
			return fmt.Errorf("append: %w", err)
		}
		if len(revs) != len(accepted) {
			return fmt.Errorf("append: got %d revisions for %d changes", len(revs), len(accepted))
		}
		for i, r := range revs {
			if want := base + 1 + scribe.Revision(i); r != want {
				return fmt.Errorf("append: change %d got revision %d, want %d (a resend was committed that the room did not know of)", i, r, want)
			}
		}
		// The ops are already applied to the live document (prepare did
		// that): record them, ack their senders, and fan them out.
		rm.rev = base
		for i, p := range accepted {
			rm.push(histEntry{op: p.op, inv: p.inv, hasInv: true, opJSON: changes[i].Op, session: p.sub.session, seq: p.sub.seq})
		}
		// Fan-out. Each op is encoded once, and the batch's ops are joined
		// once, by commas, into one buffer (joinOps): every member gets
		// slices of it. A member that wrote none of the ops gets the whole
		// buffer as one message. A member that wrote some of them, or
		// shares a session with their writer (involved), gets each ack in
		// its op's place and the runs of other ops between the acks as one
		// slice each: a few delivers per member per commit, not one per op
		// (1,000 typists on a note: a batch of 500 ops had 500 authors,
		// each handed the other 499 one by one; issue 16, docs/benchmarks.md).
		msgs := make([][]byte, len(accepted))
		for i, p := range accepted {
			from := ""
			if p.sub.c != nil {
				from = p.sub.c.id
			}
			// The author's selection rides in the op message (at rev), so
			// local clients need no presence message for this move; other
			// nodes hear of it through the next presence flush.
			msgs[i] = protocol.EncodeOp(base+1+scribe.Revision(i), changes[i].Op, from, p.sel)
		}
		joined, offs := joinOps(msgs)
		involved := rm.involved(accepted)
		// next[c] is the first op of the batch not yet handed to involved
		// member c; upTo hands it the ops from there to (not including) i.
		next := make(map[*Seat]int, len(involved))
		upTo := func(c *Seat, i int) {
			if from := next[c]; from < i {
				rm.deliver(c, joined[offs[from]:offs[i]-1], false)
			}
			next[c] = i + 1
		}
		bySess := make(map[string][]*Seat)
		for c := range involved {
			next[c] = 0
			if c.session != "" {
				bySess[c.session] = append(bySess[c.session], c)
			}
		}
		for i, p := range accepted {
			rev := base + 1 + scribe.Revision(i)
			if _, ok := involved[p.sub.c]; ok {
				upTo(p.sub.c, i)
			}
			rm.ack(p.sub, rev)
			if p.sub.session != "" {
				for _, c := range bySess[p.sub.session] {
					if c != p.sub.c {
						upTo(c, i)
						rm.ackTo(c, p.sub.seq, rev)
					}
				}
			}
			if c := p.sub.c; c != nil && p.sel != nil {
				if p.sub.selSeq < c.selApplied {
					// The member sent a selection after this op and the room
					// took it first (Select does not queue behind ops): it
					// stands, and the members told the op's older one here
					// are told it again.
					rm.dirty[c] = struct{}{}
					continue
				}
				// Kept at rev, where it was made: moving it to the head here
				// cost each author a step per op after its own in the batch
				// (quadratic in the batch: a fifth of the room's time at
				// 1,000 typists). wire moves it when someone needs it there.
				c.sel, c.selRev, c.hasSel = p.sel, rev, true
				c.selApplied = p.sub.selSeq
				rm.moved[c] = struct{}{}
			}
		}
		for c := range involved {
			upTo(c, len(accepted))
		}
		rm.sendAudience(joined) // a viewer wrote none of them
		for c := range rm.direct {
			if _, ok := involved[c]; !ok {
				rm.deliver(c, joined, false)
			}
		}
		rm.cfg.Metrics.Committed(len(accepted))
		rm.finish(done)
		for _, p := range accepted {
			if touchesHead(p.op) {
				rm.followHeading(true)
				break
			}
		}
		return nil
	}
}

// joinOps joins a batch's op messages by commas into one buffer and
// returns it with each message's offset in it; offs[len(msgs)] is
// len(joined)+1, so that the ops i..j-1 are joined[offs[i]:offs[j]-1],
// themselves a valid message list.
func joinOps(msgs [][]byte) (joined []byte, offs []int) {
	offs = make([]int, len(msgs)+1)
	if len(msgs) == 1 {
		offs[1] = len(msgs[0]) + 1
		return msgs[0], offs
	}
	n := len(msgs) - 1
	for _, m := range msgs {
		n += len(m)
	}
	joined = make([]byte, 0, n)
	for i, m := range msgs {
		if i > 0 {
			joined = append(joined, ',')
		}
		offs[i] = len(joined)
		joined = append(joined, m...)
	}
	offs[len(msgs)] = len(joined) + 1
	return joined, offs
}

// involved returns the members that wrote one of accepted's ops or share
// a session with one of them: those that get an ack in an op's place.
func (rm *Room) involved(accepted []pending) map[*Seat]struct{} {
	out := make(map[*Seat]struct{}, len(accepted))
	sessions := make(map[string]struct{}, len(accepted))
	for _, p := range accepted {
		if _, in := rm.clients[p.sub.c]; in {
			out[p.sub.c] = struct{}{}
		}
		if p.sub.session != "" {
			sessions[p.sub.session] = struct{}{}
		}
	}
	if len(sessions) > 0 {
		for c := range rm.clients {
			if c.session == "" {
				continue
			}
			if _, ok := sessions[c.session]; ok {
				out[c] = struct{}{}
			}
		}
	}
	return out
}

// doneSub is a submission answered without a new commit: a resend (ack with
// its old revision) or a refusal.
type doneSub struct {
	sub     *submission
	rev     scribe.Revision
	err     error
	twin    bool // a duplicate of an op accepted in the same batch
	dropped bool // not answered: its connection is closed, and it resends after reconnecting
}

func (rm *Room) finish(done []doneSub) {
	for _, d := range done {
		if d.dropped {
			d.sub.answered = true
			continue
		}
		if d.err != nil {
			rm.failSub(d.sub, d.err)
		} else {
			rm.ack(d.sub, d.rev)
		}
	}
}

// ack answers a submission that is committed as rev (now or before).
func (rm *Room) ack(sub *submission, rev scribe.Revision) {
	if !sub.received.IsZero() {
		rm.cfg.Metrics.OpLatency(time.Since(sub.received))
	}
	sub.answered = true
	if sub.reply != nil {
		sub.reply <- submitResult{rev: rev}
	} else if sub.c != nil {
		rm.ackTo(sub.c, sub.seq, rev)
	}
}

// failSub answers a submission with an error.
func (rm *Room) failSub(sub *submission, err error) {
	sub.answered = true
	if sub.reply != nil {
		sub.reply <- submitResult{err: err}
		return
	}
	if sub.c != nil {
		seq := sub.seq
		rm.sendError(sub.c, err, &seq)
	}
}

// prepare transforms the batch and applies it to the live document,
// advancing rm.rev tentatively (rollback undoes that). It returns the
// accepted submissions and those answered without a commit.
func (rm *Room) prepare(batch []*submission) ([]pending, []doneSub, error) {
	// An API append with an Idempotency-Key may have been committed by
	// another node after this room opened; the store knows. (A websocket
	// client's session is looked up when it joins; a random API session is
	// new.) Ask before anything is applied tentatively.
	for _, sub := range batch {
		if _, ok := rm.lastSeq[sub.session]; ok || !sub.idempotent {
			continue
		}
		seq, rev, err := rm.cfg.Store.LastSeq(rm.ctx, rm.id, sub.session)
		if err != nil {
			return nil, nil, fmt.Errorf("last seq: %w", err)
		}
		if seq == 0 {
			continue
		}
		if err := rm.syncTo(rev); err != nil { // committed beyond what this node has heard of
			return nil, nil, err
		}
		rm.noteSeq(sub.session, seqRev{seq, rev})
	}
	var accepted []pending
	rm.over = rm.over[:0] // accepted's ops, for transform
	defer func() { clear(rm.over); rm.over = rm.over[:0] }()
	var done []doneSub
	head := rm.rev                     // the committed head
	inBatch := make(map[string]uint64) // session -> highest seq accepted in this batch
	for _, sub := range batch {
		if sub.built() {
			op, err := rm.builtOp(sub)
			if err != nil {
				done = append(done, doneSub{sub: sub, err: err})
				continue
			}
			sub.op, sub.rev = op, rm.rev
			if len(accepted) > 0 {
				sub.rev = head // built on the tentative text: transform over nothing committed
			}
		}
		if sub.rev > head {
			done = append(done, doneSub{sub: sub, err: invalid("Revision %d is ahead of the note (at revision %d); reload.", sub.rev, head)})
			continue
		}
		if sub.rev < rm.histBase {
			// Older than the history in memory: transforming it would read
			// and parse history from the store, per op (a flood of such
			// ops stalled a note). The connection is closed as too slow
			// instead; the client reconnects with its revision, gets a
			// catch-up or the full text (extendBack decides, once per
			// room), merges its pending edits and resends them.
			if sub.c != nil {
				sub.c.m.Close(protocol.CloseTooSlow, protocol.CloseReasonSlow, true)
			}
			done = append(done, doneSub{sub: sub, dropped: true})
			continue
		}
		if seq, ok := inBatch[sub.session]; ok && sub.seq <= seq {
			done = append(done, doneSub{sub: sub, twin: true})
			continue
		}
		if last, ok := rm.lastSeq[sub.session]; ok && sub.seq <= last.seq {
			rev, err := rm.committedRev(sub, last)
			done = append(done, doneSub{sub: sub, rev: rev, err: err})
			continue
		}
		op, sel := sub.op, sub.sel
		if !sub.built() {
			var err error
			op, sel, err = rm.transform(sub.op, sub.sel, sub.rev, head, rm.over)
			if err != nil {
				done = append(done, doneSub{sub: sub, err: protocol.FromOT(err)})
				continue
			}
		}
		before := rm.doc.UTF8Len()
		inv, err := rm.doc.Invert(op)
		if err == nil {
			err = rm.doc.Apply(op)
		}
		if err != nil {
			done = append(done, doneSub{sub: sub, err: protocol.FromOT(err)})
			continue
		}
		if after := rm.doc.UTF8Len(); after > before && after > rm.cfg.Limits.MaxNoteBytes {
			// Edits that shrink the note, or keep its size, are always
			// accepted; this one grew it beyond the limit: undo it.
			if err := rm.doc.Apply(inv); err != nil {
				return nil, nil, fmt.Errorf("undo an edit over the size limit: %w", err) // cannot happen: inv was made for this state
			}
			done = append(done, doneSub{sub: sub, err: scribe.Errorf(scribe.ETOOLARGE, "The note would exceed the limit of %d bytes.", rm.cfg.Limits.MaxNoteBytes)})
			continue
		}
		rm.rev++
		accepted = append(accepted, pending{sub: sub, op: op, sel: sel, inv: inv})
		rm.over = append(rm.over, op)
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
func (rm *Room) rollback(accepted []pending) error {
	for i := len(accepted) - 1; i >= 0; i-- {
		if err := rm.doc.Apply(accepted[i].inv); err != nil {
			return fmt.Errorf("roll back a failed append: %w", err) // cannot happen: inv was made for this state
		}
		rm.rev--
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
func (rm *Room) transform(op ot.Operation, sel []ot.Range, base, head scribe.Revision, accepted []ot.Operation) (ot.Operation, []ot.Range, error) {
	// The history's ops are passed as they lie (histOps), not copied out:
	// at 1,000 typists an op is moved over hundreds of them, and copying
	// was a third of this function's time (issue 16, docs/benchmarks.md).
	var over []ot.Operation
	if base < head {
		i, err := rm.histAt(base)
		if err != nil {
			return ot.Operation{}, nil, err
		}
		over = rm.histOps[i : i+int(head-base)]
	}
	first := over
	if len(first) == 0 {
		first = accepted
	}
	if len(first) > 0 && op.BaseLen() != first[0].BaseLen() {
		return ot.Operation{}, nil, invalid("Operation base length %d does not match the document length %d at revision %d.", op.BaseLen(), first[0].BaseLen(), base)
	}
	op, sel, err := transformOver(op, sel, over)
	if err != nil || len(accepted) == 0 {
		return op, sel, err
	}
	// Then over the batch's ops ahead of it: TransformOver is a fold, so
	// two calls give what one over both would.
	return transformOver(op, sel, accepted)
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
func (rm *Room) committedRev(sub *submission, last seqRev) (scribe.Revision, error) {
	if sub.seq == last.seq {
		return last.rev, nil
	}
	if sub.rev < rm.rev {
		entries, err := rm.since(sub.rev)
		if err != nil {
			return 0, err
		}
		for i, e := range entries {
			if e.session == sub.session && e.seq == sub.seq {
				return sub.rev + 1 + scribe.Revision(i), nil
			}
		}
	}
	if last.seq >= protocol.MaxSeq {
		return 0, invalid("Sequence number %d was already used in this session, which has used its last sequence number (%d); start a new session.", sub.seq, protocol.MaxSeq)
	}
	return 0, invalid("Sequence number %d was already used in this session; the next is %d.", sub.seq, last.seq+1)
}

// appendOp builds the op that appends text at the end of the note, on a
// line of its own.
// built reports whether the room builds the submission's op itself, on
// the head, when its batch is prepared (an API append or restore).
func (sub *submission) built() bool {
	return sub.appendText != "" || sub.rewrite != nil
}

// builtOp builds an API submission's op against the current text.
func (rm *Room) builtOp(sub *submission) (ot.Operation, error) {
	if sub.rewrite != nil {
		old := rm.doc.String()
		text, err := sub.rewrite(old)
		if err != nil {
			return ot.Operation{}, err
		}
		if !utf8.ValidString(text) {
			return ot.Operation{}, invalid("The text must be valid UTF-8.")
		}
		op := ot.Diff(old, text)
		if sub.authors != nil && authorship.Len(*sub.authors) == op.TargetLen() {
			sub.credit = authorship.Credit(*sub.authors, op)
		}
		return op, nil
	}
	return rm.appendOp(sub.appendText)
}

func (rm *Room) appendOp(text string) (ot.Operation, error) {
	if !utf8.ValidString(text) {
		return ot.Operation{}, invalid("The text must be valid UTF-8.")
	}
	n := rm.doc.Len()
	if n > 0 {
		// A slice that splits a surrogate pair fails: the text ends with
		// a character that is not a newline.
		last, err := rm.doc.Slice(n-1, n)
		if err != nil || last != "\n" {
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

// clientFor returns the public id of whoever submitted changes as session:
// a local client, or a peer on another node that announced it.
func (rm *Room) clientFor(session string) string {
	if session == "" {
		return ""
	}
	if c := rm.bySess[session]; c != nil {
		return c.id
	}
	h := sessionHash(session)
	for id, p := range rm.remote {
		if p.SessionHash == h {
			return id
		}
	}
	return ""
}
