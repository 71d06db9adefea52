package scribe

import (
	"context"
	"time"
)

// Store keeps notes, their operation logs, and read-only share tokens, and
// lets several server nodes agree on one order of edits for each note.
//
// Every implementation is safe for concurrent use by many goroutines and,
// where the backend is shared (Redis), by many processes. Every
// implementation passes the conformance suite in store/storetest.
//
// Errors: an unknown or malformed note id or token gives ENOTFOUND; invalid
// arguments give EINVALID; stored data that cannot be decoded gives
// EINTERNAL with a clear message (never a panic); a lost compare-and-swap
// gives ECONFLICT. Context cancellation is returned as the context's error.
//
// Deadlines: no call waits on an unresponsive backend for long. A backend
// reached over the network bounds every call itself, whatever the caller's
// context (the Redis store: redis.CallTimeout, 1.5 s), and a backend that
// does not answer in time gives EUNAVAILABLE, so callers can tell "retry
// later" from a bug; one that refuses the connection gives EINTERNAL. Subscriptions are long-lived
// and not bounded; they reconnect on their own.
type Store interface {
	// A Store keeps the personal API tokens too, so that every node of a
	// deployment accepts them.
	TokenStore

	// A Store keeps every revision of a note readable (history.go).
	HistoryStore

	// A Store says who wrote what, at every revision (authorship.go).
	AuthorshipStore

	// CreateNote creates a note with a new random id, at revision 0, whose
	// text is n.Text.
	CreateNote(ctx context.Context, n NewNote) (Note, error)

	// LoadNote returns the note's metadata and its text at the head revision.
	// Its cost is O(snapshot + operations since the snapshot), never
	// O(whole history): snapshots are written every K operations.
	LoadNote(ctx context.Context, id NoteID) (Document, error)

	// GetNote returns the note's metadata, including its head revision,
	// without its text.
	GetNote(ctx context.Context, id NoteID) (Note, error)

	// ListNotes returns up to limit notes, most recently edited first.
	ListNotes(ctx context.Context, limit int) ([]Note, error)

	// QueryNotes returns one page of the note list: the notes q's filters
	// match (NoteQuery.Match; Person against the notes' Attendees), most
	// recently edited first, after q.After. It examines at most
	// MaxNoteScan notes (see NotePage.Next). An invalid q or a cursor this
	// store did not make gives EINVALID.
	QueryNotes(ctx context.Context, q NoteQuery) (NotePage, error)

	// DeleteNote deletes the note for good: its text, log, history and
	// shares. When it returns every call about the note or one of its
	// share tokens gives ENOTFOUND on every node, and a NoteFeed event for
	// the note has been published, so followers (the search index) drop it.
	// Deleting an unknown note gives ENOTFOUND.
	DeleteNote(ctx context.Context, id NoteID) error

	// UpdateNote changes the note's title, series, archived flag and/or its
	// guest-editing setting (the non-nil fields of u) and returns the note
	// as it now is. It does not touch the log, the revision or UpdatedAt;
	// one that sets a title, series or archived flag publishes a NoteFeed event (at the unchanged revision), so derived
	// copies (the search index) see the new title. An invalid u gives
	// EINVALID (see NoteUpdate.Validate) and changes nothing.
	UpdateNote(ctx context.Context, id NoteID, u NoteUpdate) (Note, error)

	// Append commits changes to the note atomically, as the revisions
	// expected+1, expected+2, ... If the note's head is not expected, nothing
	// is written and the error has code ECONFLICT: another writer committed
	// first, and the caller reads the missing changes, transforms, and retries.
	//
	// Each change's Op must be based on the revision before it; Append does
	// not transform. The caller sets Op, Session, Seq and Author; Append sets
	// Revision and Time.
	//
	// Deduplication: a change whose (Session, Seq) is already in the log is a
	// duplicate. It is not written again, and its entry in the result is the
	// revision it already has. New changes in the same call are written after
	// the head as if the duplicates were absent, so a caller that transforms
	// later changes over earlier ones in one batch removes duplicates first
	// (LastSeq tells which sequence numbers a session has committed).
	//
	// Attendees: the author of every new change (AttendeeOf) who is not
	// yet among the note's Attendees is added to them, up to MaxAttendees,
	// atomically with the changes: a failed Append adds nobody.
	//
	// The result has one revision per change, in order. When Append returns
	// without error the changes are durable to the extent the backend is
	// configured for (see docs/operations.md), and subscribers are notified.
	Append(ctx context.Context, id NoteID, expected Revision, changes []Change) ([]Revision, error)

	// Changes returns the committed changes with from < Revision <= to, in
	// order, with who submitted each and when. A to beyond the head is
	// clamped to the head. Where history was compacted (Compactor) a fold
	// is one Change covering First..Revision; a from or (clamped) to inside
	// a fold gives a *FoldedError (EGONE) naming its neighbours.
	Changes(ctx context.Context, id NoteID, from, to Revision) ([]Change, error)

	// LastSeq returns the highest sequence number committed for session in
	// the note, and the revision it produced; (0, 0) if none.
	LastSeq(ctx context.Context, id NoteID, session string) (uint64, Revision, error)

	// Subscribe delivers the note's newly committed changes (from any node)
	// and the messages published with Publish, until ctx is done or the
	// subscription is closed. Delivery may drop or repeat events: a
	// subscriber checks that each change's revision is the next one it
	// expects and reads any gap with Changes.
	Subscribe(ctx context.Context, id NoteID) (Subscription, error)

	// Publish sends an opaque message (presence, revocation notices) to every
	// subscriber of the note on every node, without touching the log.
	// Delivery is best-effort.
	Publish(ctx context.Context, id NoteID, msg []byte) error

	// CreateShare creates a read-only share token for the note, recording
	// meta (at most one; none means no label and no maker). An invalid meta
	// gives EINVALID (ShareMeta.Validate). (Variadic so that callers that
	// need no label stay as they are.)
	CreateShare(ctx context.Context, id NoteID, meta ...ShareMeta) (Share, error)
	// ResolveShare returns the share for a token. An unknown or revoked token
	// gives ENOTFOUND, on every node, as soon as RevokeShare has returned.
	ResolveShare(ctx context.Context, token Token) (Share, error)
	// ListShares returns the note's active (unrevoked) shares, oldest first.
	ListShares(ctx context.Context, id NoteID) ([]Share, error)
	// RevokeShare revokes a token. Revoking an unknown token gives ENOTFOUND.
	RevokeShare(ctx context.Context, token Token) error

	// Ping reports whether the backend is reachable (for /readyz).
	Ping(ctx context.Context) error

	// Close releases the store's resources and ends its subscriptions.
	Close() error
}

// Subscription is a stream of events for one note.
type Subscription interface {
	// Events delivers the events; it is closed when the subscription ends.
	Events() <-chan Event
	// Close ends the subscription and closes Events.
	Close() error
}

// Event is one thing a subscriber hears: either a committed Change or a
// Message published with Store.Publish. Exactly one of the two is set.
type Event struct {
	Change  *Change
	Message []byte
}

// TokenStore keeps personal API tokens. Only hashes are stored: a secret
// never reaches a TokenStore. Every Store is a TokenStore (the server gets one
// Store and needs no second backend for identity); the interface is separate
// so that the auth package depends on these five methods alone.
//
// It is safe for concurrent use, and where the backend is shared (Redis) a
// token created or revoked on one node is seen by every node as soon as the
// call returns.
type TokenStore interface {
	// CreateAPIToken stores t. t.Hash must be a SHA-256 (32 bytes) and t.ID
	// must be APITokenID(t.Hash); t.Owner must be a non-empty email of at most
	// MaxEmail bytes and t.Label at most MaxTokenLabel bytes, else EINVALID.
	// A token whose id is already stored gives ECONFLICT.
	CreateAPIToken(ctx context.Context, t APIToken) error

	// APIToken returns the token whose hash is hash, or ENOTFOUND (also once
	// revoked). The caller compares nothing: the store matches the full hash.
	APIToken(ctx context.Context, hash []byte) (APIToken, error)

	// TouchAPIToken sets the token's LastUsed to at, unless it is already
	// at or after at. An unknown or revoked id gives ENOTFOUND and creates
	// nothing.
	TouchAPIToken(ctx context.Context, id string, at time.Time) error

	// ListAPITokens returns owner's tokens, oldest first.
	ListAPITokens(ctx context.Context, owner string) ([]APIToken, error)

	// RevokeAPIToken deletes owner's token id. A token that does not exist,
	// or belongs to someone else, gives ENOTFOUND and changes nothing.
	RevokeAPIToken(ctx context.Context, owner, id string) error
}
