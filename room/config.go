package room

import (
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/protocol"
)

// Config configures a Hub. Store is required; every other field has a
// default.
type Config struct {
	Store scribe.Store
	// Logger receives structured logs; nil is slog.Default().
	Logger *slog.Logger
	// Metrics is told what the rooms do; nil counts nothing.
	Metrics Metrics
	// Limits are the limits members are told of in the welcome; the room
	// enforces MaxNoteBytes (an edit that would grow a note beyond it is
	// refused; edits that shrink it are always accepted), the transport
	// the others. A zero field takes its default.
	Limits protocol.Limits
	// NodeID names this node in the messages nodes exchange about a note
	// (presence, revocations); empty is a random one.
	NodeID string
	// CatchupBytes bounds the catch-up a reconnecting member is sent
	// (the encoded messages after its welcome): a larger one gets the
	// full text instead. The server sets it to what may wait to be sent
	// to one client (its SendQueueBytes); zero is 4 MiB.
	CatchupBytes int
	Timing       Timing
	// NewAudience, when set, gives each room an Audience: its read-only
	// members then get what every viewer gets alike (others' ops,
	// presence, counts, title) through it, once per turn of the room's
	// loop, instead of one Deliver each. Nil delivers to each viewer
	// like to any member.
	NewAudience func() Audience

	histMaxBytes int              // the history a room keeps in memory, in bytes (historyMaxBytes; tests lower it)
	histKeep     int              // ops the history keeps whatever their age (historyKeep; tests lower it)
	histSpan     time.Duration    // and the ops of at least this long (historySpan; tests change it)
	now          func() time.Time // the rooms' clock for the history's span (time.Now; tests set it)
}

// Default limits. DefaultMaxMessageBytes is MessageBytesFor(DefaultMaxNoteBytes).
const (
	DefaultMaxMessageBytes = 2*DefaultMaxNoteBytes + 64<<10
	DefaultMaxNoteBytes    = 1 << 20
	DefaultOpsPerSecond    = 60
	DefaultCatchupBytes    = 4 << 20
)

// Timing of the rooms. A zero field takes its default.
type Timing struct {
	Grace           time.Duration // an empty room stays open this long for a reconnect (30 s)
	Resync          time.Duration // how often a room checks the store for missed commits, and idleness (5 s)
	PresenceRefresh time.Duration // how often a node republishes its local presence (10 s)
	PresenceExpiry  time.Duration // a remote peer not heard of for this long has left (35 s)
	RevokeCheck     time.Duration // how often read-only tokens are re-checked (30 s)
	PresenceFlush   time.Duration // local presence is relayed at most this often (50 ms)
	ResubscribeWait time.Duration // the first wait before re-subscribing again after a failure; it grows (200 ms)
	TitleSave       time.Duration // a title that follows the heading is stored at most this often (1 s; title.go)
	ViewerCount     time.Duration // the count of read-only viewers is sent to the members at most this often (1 s)
}

// DefaultTiming is the timing of a production node.
var DefaultTiming = Timing{
	Grace:           30 * time.Second,
	Resync:          5 * time.Second,
	PresenceRefresh: 10 * time.Second,
	PresenceExpiry:  35 * time.Second,
	RevokeCheck:     30 * time.Second,
	PresenceFlush:   50 * time.Millisecond,
	ResubscribeWait: 200 * time.Millisecond,
	TitleSave:       time.Second,
	ViewerCount:     time.Second,
}

func (t Timing) withDefaults() Timing {
	d := DefaultTiming
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&t.Grace, d.Grace)
	set(&t.Resync, d.Resync)
	set(&t.PresenceRefresh, d.PresenceRefresh)
	set(&t.PresenceExpiry, d.PresenceExpiry)
	set(&t.RevokeCheck, d.RevokeCheck)
	set(&t.PresenceFlush, d.PresenceFlush)
	set(&t.ResubscribeWait, d.ResubscribeWait)
	set(&t.TitleSave, d.TitleSave)
	set(&t.ViewerCount, d.ViewerCount)
	return t
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = noMetrics{}
	}
	if c.NodeID == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		c.NodeID = "n_" + base64.RawURLEncoding.EncodeToString(b)
	}
	c.Timing = c.Timing.withDefaults()
	if c.CatchupBytes <= 0 {
		c.CatchupBytes = DefaultCatchupBytes
	}
	if c.histMaxBytes <= 0 {
		c.histMaxBytes = historyMaxBytes
	}
	if c.Limits.MaxNoteBytes <= 0 {
		c.Limits.MaxNoteBytes = DefaultMaxNoteBytes
	}
	if c.Limits.MaxMessageBytes <= 0 {
		c.Limits.MaxMessageBytes = MessageBytesFor(c.Limits.MaxNoteBytes)
	}
	if c.Limits.OpsPerSecond <= 0 {
		c.Limits.OpsPerSecond = DefaultOpsPerSecond
	}
	return c
}

// MessageBytesFor is the default largest message for notes of at most
// maxNoteBytes: an edit that fills a whole note fits in one op message (JSON
// spends at most 2 bytes per byte of text other than control characters:
// quotes, backslashes, newlines and tabs are escaped), with room for the
// rest of the message. So one user action is one op, committed or refused
// whole, never split into several messages one of which might be refused.
func MessageBytesFor(maxNoteBytes int) int { return 2*maxNoteBytes + 64<<10 }

// Metrics is told what the rooms do, for the server's Prometheus metrics.
// Its methods are called from the rooms' goroutines and must be safe for
// concurrent use; they must not block.
type Metrics interface {
	RoomsOpen(delta int)          // a room opened (+1) or closed (-1)
	Append(took time.Duration)    // one Store.Append (a group commit), successful or not
	Committed(ops int)            // a group commit of ops operations succeeded
	Conflict()                    // an Append lost to another node (ECONFLICT) and is retried
	OpLatency(took time.Duration) // from reading an op (or an API append) to queuing its answer
	RemoteOp()                    // an op committed by another node was applied
	Error(code string)            // an error was answered to a member or API caller, or a node message dropped (EPUBLISHDROP)
}

type noMetrics struct{}

func (noMetrics) RoomsOpen(int)           {}
func (noMetrics) Append(time.Duration)    {}
func (noMetrics) Committed(int)           {}
func (noMetrics) Conflict()               {}
func (noMetrics) OpLatency(time.Duration) {}
func (noMetrics) RemoteOp()               {}
func (noMetrics) Error(string)            {}

// Member is one connection joined to a room, as the room sees it: the
// websocket transport implements it in package server, tests with a
// recorder. The room calls its methods from its own goroutine; none may
// block.
type Member interface {
	// Welcome queues the welcome and the catch-up that follows it, before
	// anything else, whatever the member's send budget.
	Welcome(msgs [][]byte)
	// Deliver queues the messages of one turn of the room's loop, in order.
	// urgent means the client waits for one of them (its ack, an error) and
	// it should go out at once; other people's ops and presence may wait a
	// little to share a frame. A member that cannot take them (its queue is
	// over budget: too slow) closes itself; the room does not wait for it.
	// Each of msgs is one JSON message, or several joined by commas (the
	// ops of one commit, joined once: the whole of them for a member that
	// wrote none, the runs between its acks for one that did, each a slice
	// of the same bytes): a frame is "[" + msgs joined by commas + "]". msgs is reused
	// after Deliver returns; the messages themselves are never changed.
	Deliver(msgs [][]byte, urgent bool)
	// Close ends the connection with a websocket close code and reason,
	// after sending what is queued when flush is set. Later calls do
	// nothing.
	Close(code int, reason string, flush bool)
}

// Audience reaches a room's read-only members at once. A viewer gets
// nothing from a room but its welcome and what every viewer gets, so the
// transport can build those messages into frames once for all of them
// (docs/architecture.md, the fan-out). The room calls its methods from its
// own goroutine only; none may block.
type Audience interface {
	// Add makes m one of the audience, right after its welcome: every
	// message Send passes from now on is for it too, after the welcome.
	Add(m Member)
	// Remove takes m out of the audience (it left).
	Remove(m Member)
	// Send passes the messages of one turn of the room's loop, in order,
	// for every member added. msgs is the audience's to keep; the
	// messages are never changed. A member that cannot take them (too
	// slow) closes itself, as with Member.Deliver.
	Send(msgs [][]byte)
}

// Info is what a member is when it joins, fixed for the connection.
type Info struct {
	Client  string // public id, new per connection ("c_" + random)
	Session string // the client's secret session id; empty for read-only viewers
	Name    string // the display name it joins with
	// ColorKey, when set (a member's verified email), picks the member's
	// colour from the palette by its hash, the same on every join and node,
	// and gives the member a person key (protocol.Peer.Person): a short
	// hash, so that clients group one person's tabs without learning the
	// email.
	ColorKey string
	// Email is the member's email when it is known from sign-in; it is
	// recorded with their changes (scribe.Change.Email) for export's
	// Co-authored-by: trailers and never sent to clients. Empty for guests.
	Email    string
	ReadOnly bool         // a viewer through a share link
	Token    scribe.Token // the share token of a read-only member
	// HasRev and Rev are the revision a reconnecting client has; it gets
	// the changes since instead of the text.
	HasRev bool
	Rev    scribe.Revision
	// FP, when HasFP, is the fingerprint of the client's text at Rev: when
	// the note's text at Rev differs (the store lost revisions whose
	// numbers were reused), the client gets the full text.
	FP    protocol.Fingerprint
	HasFP bool
}

// invalid returns an EINVALID error with a formatted message.
func invalid(format string, args ...any) *scribe.Error {
	return scribe.Errorf(scribe.EINVALID, format, args...)
}
