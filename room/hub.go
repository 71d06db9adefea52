package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/scribe-notes/scribe"
)

// Hub is the set of open rooms on this node, one per note. It opens a room
// when the first member (or API call) needs it; a room removes itself when
// it closes. Its lifecycle is New, Open, then Close (or Shutdown); it is
// safe for concurrent use.
type Hub struct {
	cfg    Config
	ctx    context.Context // the rooms' contexts derive from it; cancelled when the hub has closed
	cancel context.CancelFunc

	mu     sync.Mutex
	rooms  map[scribe.NoteID]*Room
	closed bool
	wg     sync.WaitGroup // every goroutine of every room: run, publisher, revocation checks
}

// New returns a Hub for cfg. It does no I/O.
func New(cfg Config) (*Hub, error) {
	if cfg.Store == nil {
		return nil, errors.New("room: a store is required")
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{cfg: cfg.withDefaults(), ctx: ctx, cancel: cancel, rooms: make(map[scribe.NoteID]*Room)}, nil
}

// Open starts the hub. Rooms open on demand, so it has nothing to do yet but
// check that the store is reachable.
func (h *Hub) Open(ctx context.Context) error {
	if err := h.cfg.Store.Ping(ctx); err != nil {
		return fmt.Errorf("room: store unreachable: %w", err)
	}
	return nil
}

// NodeID returns the id this node gives itself in node messages.
func (h *Hub) NodeID() string { return h.cfg.NodeID }

// Close shuts the hub down (see Shutdown) and waits for every goroutine.
func (h *Hub) Close() error { return h.Shutdown(context.Background()) }

// Shutdown stops every room (each commits what is queued and closes its
// members with 1001 after sending them what is queued) and waits for every
// room goroutine, or for ctx: then the rooms' store calls are cancelled and
// ctx's error is returned. Joining afterwards gives EUNAVAILABLE.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	var all []*Room
	for _, rm := range h.rooms {
		all = append(all, rm)
	}
	h.mu.Unlock()
	for _, rm := range all {
		select {
		case <-rm.ready:
		case <-ctx.Done():
			h.cancel()
			return ctx.Err()
		}
		rm.stop()
	}
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		h.cancel()
		return nil
	case <-ctx.Done():
		h.cancel()
		return ctx.Err()
	}
}

// goTracked runs f on a goroutine the hub waits for on Close.
func (h *Hub) goTracked(f func()) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		f()
	}()
}

// room returns the note's open room, opening it (subscribe, load) when
// there is none. An unknown note gives ENOTFOUND; a node shutting down gives
// EUNAVAILABLE.
func (h *Hub) room(ctx context.Context, id scribe.NoteID) (*Room, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, scribe.Errorf(scribe.EUNAVAILABLE, "The server is shutting down; retry.")
	}
	rm := h.rooms[id]
	first := rm == nil
	if first {
		rm = newRoom(h, id)
		h.rooms[id] = rm
		h.wg.Add(1) // released by run, or below when open fails
	}
	h.mu.Unlock()

	if first {
		rm.openErr = rm.open()
		if rm.openErr != nil {
			h.remove(rm)
			rm.cancel()
			close(rm.done)
			h.wg.Done()
		} else {
			rm.pub = newPublisher(rm)
			h.goTracked(rm.pub.run)
			go func() {
				defer h.wg.Done()
				rm.run()
			}()
		}
		close(rm.ready)
	}
	select {
	case <-rm.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if rm.openErr != nil {
		return nil, rm.openErr
	}
	return rm, nil
}

// lookup returns the note's room if it is open on this node.
func (h *Hub) lookup(id scribe.NoteID) *Room {
	h.mu.Lock()
	defer h.mu.Unlock()
	rm := h.rooms[id]
	if rm == nil {
		return nil
	}
	select {
	case <-rm.ready:
		if rm.openErr != nil {
			return nil
		}
		return rm
	default:
		return nil
	}
}

// remove takes rm out of the hub, so no one else joins it. It reports
// whether rm was still in it.
func (h *Hub) remove(rm *Room) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rooms[rm.id] == rm {
		delete(h.rooms, rm.id)
		return true
	}
	return false
}

// Join seats m in the note's room, opening the room when needed, and
// returns its seat once the welcome (and the catch-up since info.Rev) is
// queued for m. A read-only member's share token is checked again here,
// and against the revocations the room has heard of, so a connection
// upgraded just before its token was revoked cannot join after.
// Errors: ENOTFOUND for an unknown note or a revoked token, EINVALID for a
// revision ahead of the note, EUNAVAILABLE when the node shuts down, or
// ctx's error.
func (h *Hub) Join(ctx context.Context, id scribe.NoteID, m Member, info Info) (*Seat, error) {
	for attempt := 0; ; attempt++ {
		rm, err := h.room(ctx, id)
		if err != nil {
			return nil, err
		}
		if info.ReadOnly {
			// The token was checked when the connection was upgraded; it
			// may have been revoked since (before the hello came).
			sh, err := h.cfg.Store.ResolveShare(ctx, info.Token)
			if err != nil {
				return nil, err
			}
			if sh.NoteID != id {
				return nil, errShareGone
			}
		}
		var known seqRev
		if info.Session != "" && !info.ReadOnly {
			seq, rev, err := h.cfg.Store.LastSeq(ctx, id, info.Session)
			if err != nil {
				return nil, err
			}
			known = seqRev{seq, rev}
		}
		c := &Seat{room: rm, m: m, id: info.Client, session: info.Session, readonly: info.ReadOnly, token: info.Token, name: info.Name, email: info.Email, person: personKey(info.ColorKey)}
		if info.ReadOnly {
			c.session = "" // a viewer commits nothing; its session id is not kept
		}
		err = rm.join(ctx, c, info, known)
		if errors.Is(err, ErrClosed) && attempt < 10 {
			continue // it closed itself as we came in; open a new one
		}
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// Append is text appended to a note through the API.
type Append struct {
	Session    string // the caller's session (scribe.APISession of its key, or of a random id); the text is committed as (Session, 1)
	Text       string // non-empty UTF-8; it goes on a line of its own at the end
	Author     string // recorded with the change
	Email      string // the author's email when known from sign-in, recorded with the change
	Idempotent bool   // Session came from an Idempotency-Key: it may have been committed already
}

// Append commits a.Text at the end of the note through its room, built
// against the head when its batch runs, and returns the revision it got. A
// session that already committed returns that revision. Errors: ENOTFOUND,
// ETOOLARGE (the note would exceed its limit), EUNAVAILABLE, or ctx's error.
func (h *Hub) Append(ctx context.Context, id scribe.NoteID, a Append) (scribe.Revision, error) {
	return h.submitAPI(ctx, id, a.Session, a.Idempotent, func() *submission {
		return &submission{session: a.Session, seq: 1, appendText: a.Text, author: a.Author, email: a.Email, idempotent: a.Idempotent}
	})
}

// Replace is a note's whole new text submitted through the API: a restore
// of an earlier revision.
type Replace struct {
	Session    string // as Append's: the change is committed as (Session, 1)
	Text       string // the text the note is to have; valid UTF-8
	Author     string // recorded with the change
	Email      string // the author's email when known from sign-in, recorded with the change
	Idempotent bool   // Session came from an Idempotency-Key
	// Authors, when known, is who wrote Text (the restored revision's
	// authorship): what the edit re-inserts keeps its authors (the
	// change's Credit) instead of becoming Author's.
	Authors *scribe.Authorship
}

// Replace makes the note's text equal to r.Text with one ordinary edit
// through its room: the op from the head's text to r.Text (ot.Diff, built
// when its batch runs), committed, acked and broadcast like any other, so
// everyone in the note sees it live and it is itself in the history. It
// returns the revision it got (a session that already committed returns
// that revision). Errors as Append's.
func (h *Hub) Replace(ctx context.Context, id scribe.NoteID, r Replace) (scribe.Revision, error) {
	return h.submitAPI(ctx, id, r.Session, r.Idempotent, func() *submission {
		text := r.Text
		restored := func(string) (string, error) { return text, nil }
		return &submission{session: r.Session, seq: 1, rewrite: restored, authors: r.Authors, author: r.Author, email: r.Email, idempotent: r.Idempotent}
	})
}

// Rewrite is an edit the API builds from the note's text at the head: a
// tick of an action item, a mark on an item carried into the next meeting.
type Rewrite struct {
	Session string // as Append's: the change is committed as (Session, 1)
	// Edit gets the text at the head, when the edit's batch runs, and
	// returns the text the note is to have, or an error that refuses the
	// edit (returned as is; nothing is committed). It runs on the room's
	// goroutine: it must be quick and touch nothing else.
	Edit   func(text string) (string, error)
	Author string // recorded with the change
	Email  string // the author's email when known from sign-in, recorded with the change
}

// Rewrite commits the text rw.Edit makes of the head's text with one
// ordinary edit through the note's room (the op from the head's text to
// the new one, as Replace), so it cannot be built on a stale copy, and
// everyone in the note sees it live. Errors as Append's, and Edit's.
func (h *Hub) Rewrite(ctx context.Context, id scribe.NoteID, rw Rewrite) (scribe.Revision, error) {
	return h.submitAPI(ctx, id, rw.Session, false, func() *submission {
		return &submission{session: rw.Session, seq: 1, rewrite: rw.Edit, author: rw.Author, email: rw.Email}
	})
}

// submitAPI submits an API edit (seq 1 of session) through the note's
// room, opening it when needed, and waits for its revision. Only a session
// the caller chose (idempotent: an Idempotency-Key) can have committed
// already; a random one is not looked up.
func (h *Hub) submitAPI(ctx context.Context, id scribe.NoteID, session string, idempotent bool, newSub func() *submission) (scribe.Revision, error) {
	if idempotent {
		seq, rev, err := h.cfg.Store.LastSeq(ctx, id, session)
		if err != nil {
			return 0, err
		}
		if seq >= 1 {
			return rev, nil // this idempotency key was used: the edit is in
		}
	}
	for attempt := 0; attempt < 5; attempt++ {
		rm, err := h.room(ctx, id)
		if err != nil {
			return 0, err
		}
		sub := newSub()
		sub.reply, sub.received = make(chan submitResult, 1), time.Now()
		if !rm.submit(sub) {
			continue // the room closed as we came; open a new one
		}
		select {
		case res := <-sub.reply:
			if errors.Is(res.err, ErrClosed) {
				continue
			}
			return res.rev, res.err
		case <-rm.done:
			// Closed before answering: retry; dedup by (session, 1) makes it safe.
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return 0, scribe.Errorf(scribe.EUNAVAILABLE, "The note's session was unavailable; retry.")
}

// Delete closes every connection to the note on every node, with the
// reason that it was deleted, before the caller deletes it from the store:
// it publishes the deletion to the other nodes (Store.Publish needs the note
// to exist) and tells this node's room at once. Rooms refuse joins from
// then on; a join that races the store's delete fails there, as the note
// is gone. The error is the publication's.
func (h *Hub) Delete(ctx context.Context, id scribe.NoteID) error {
	msg, _ := json.Marshal(nodeMsg{V: 1, Node: h.cfg.NodeID, Kind: kindDelete})
	err := h.cfg.Store.Publish(ctx, id, msg)
	if rm := h.lookup(id); rm != nil {
		select {
		case rm.deletedc <- struct{}{}:
		default: // already told
		}
	}
	return err
}

// Revoke closes the live read-only connections of a revoked share token on
// every node: it publishes the revocation to the other nodes and tells this
// node's room at once. Should the message be lost, rooms re-check their
// tokens periodically. The error is the publication's; the local room has
// been told regardless.
func (h *Hub) Revoke(ctx context.Context, id scribe.NoteID, t scribe.Token) error {
	msg, _ := json.Marshal(nodeMsg{V: 1, Node: h.cfg.NodeID, Kind: kindRevoke, Token: string(t)})
	err := h.cfg.Store.Publish(ctx, id, msg)
	if rm := h.lookup(id); rm != nil {
		select {
		case rm.revokedc <- []scribe.Token{t}:
		default: // a check is reporting; the published message reaches the room too
		}
	}
	return err
}
