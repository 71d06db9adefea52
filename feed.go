package scribe

import "context"

// NoteFeed is the change feed: one stream of "note changed" events for every
// note of a deployment, from every node. Search indexes (and anything else
// that keeps a derived copy of all notes) follow it instead of subscribing to
// each note.
//
// A store derives the feed from its own writes: CreateNote, every Append
// that commits at least one change, and every UpdateNote that sets a title
// publish an event before they return, so no caller has to remember to. A store that gains note deletion publishes
// an event for the deleted note too: a follower that then finds the note
// gone (ENOTFOUND) drops its copy. The feed is best-effort in one direction
// only: it may repeat an event, and a follower that was away longer than the
// feed keeps (or fell behind) is told so with a NoteChange whose Lost is
// set, after which it resynchronises from the notes themselves (EachNote).
// A follower never misses an event silently.
//
// Implementations are safe for concurrent use. Errors: a malformed cursor is
// EINVALID; context cancellation is returned as the context's error.
type NoteFeed interface {
	// FeedHead returns the cursor of the newest event in the feed: following
	// from it delivers every event published after FeedHead was called.
	FeedHead(ctx context.Context) (FeedCursor, error)

	// FollowChanges delivers, in order, the events published after the one
	// at since ("" means from now on), until ctx is done or the store is
	// closed, when the channel is closed. If events after since are no
	// longer kept (the follower was away longer than the feed's cap, or since
	// belongs to an earlier run of an in-process store) the first event has
	// Lost set. A follower that falls too far behind while following gets an
	// event with Lost set instead of the events it missed.
	FollowChanges(ctx context.Context, since FeedCursor) (<-chan NoteChange, error)

	// EachNote calls fn with the metadata of every note, in no particular
	// order, reading them in pages so memory stays bounded. A note created
	// or deleted during the walk may or may not be visited; a note present
	// throughout is visited at least once. fn's error ends the walk and is
	// returned.
	EachNote(ctx context.Context, fn func(Note) error) error
}

// FeedCursor is a position in a NoteFeed, opaque to its users. It is
// meaningful only to the store (and, for an in-process store, the run) that
// produced it.
type FeedCursor string

// NoteChange is one event of the change feed.
type NoteChange struct {
	// Cursor is this event's position: following from it resumes after it.
	Cursor FeedCursor
	// ID is the note that changed, and Revision its head revision after the
	// change (0 for a note just created). Both are zero when Lost is set.
	ID       NoteID
	Revision Revision
	// Lost reports that events before this one were lost to the follower:
	// it must compare its copy with every note (EachNote).
	Lost bool
}
