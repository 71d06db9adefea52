package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// Machine is the client side of docs/protocol.md as a state machine with no
// I/O, no goroutines and no locks, the Go twin of web/src/collab.js: the
// revision, the operation in flight (with its seq) and the buffer of edits
// made since, the local text (or only its length), the selection, the peers,
// and the welcome's catch-up rules. The transport feeds it the server's
// messages and its connection events; it never sends anything itself but
// queues what must go out (Outbox) and returns what happened as Events.
//
// Its invariant is collab.js's: the local text is the server's text at
// Revision with the in-flight op and then the buffer applied; remote ops are
// transformed over both before they touch it.
//
// A Machine is not safe for concurrent use: the transport serialises calls
// (Client holds its lock). Its zero value is not usable; see NewMachine.
type Machine struct {
	// Now is the clock (for the times in Ack and RemoteOp); nil means
	// time.Now. Tests inject one.
	Now func() time.Time
	// Want says which events the caller wants; others are not built.
	Want EventKinds

	lean     bool         // keep only the text's length (n), not the text
	doc      *ot.Document // the local text; nil when lean
	n        int          // the local text's length in UTF-16 units, when lean
	text     string       // cache of doc.String()
	textOK   bool
	rev      int64
	seq      uint64 // the last sequence number assigned
	inflight *pending
	buffer   *pending
	// server is the server's text at rev while edits are pending (nil
	// otherwise, when it is doc, and when lean): what a full-text welcome
	// is diffed against to merge the pending edits into it, and what the
	// hello's fingerprint describes.
	server  *ot.Document
	refused bool         // the server refused the op in flight: drop the pending edits
	sel     ot.Selection // the local selection, in the local text
	sendSel bool         // sel must go out with the next op or presence
	peers   map[string]*peerState
	hist    [historyLen]histEntry

	open     bool // a welcomed connection is up: messages go out
	welcomed bool // a welcome has been received once: hello carries rev
	resync   bool // the next hello carries no rev: reload the note
	clientID string
	pastIDs  []string // public ids of earlier connections, newest last
	readOnly bool
	title    string
	export   *protocol.Export // the note's latest export; nil if none
	name     string
	color    string
	limits   protocol.Limits

	out []Outgoing
}

// NewMachine returns the state machine of a client that keeps the text.
// name is the display name sent in hello.
func NewMachine(name string) *Machine {
	return &Machine{name: name, peers: make(map[string]*peerState)}
}

// NewLeanMachine returns a state machine that keeps only the text's length,
// not the text: for bots that need to edit correctly but not to read (the
// load tool). It does not track peers; Text and Peers are empty. Remote ops
// are taken in runs (RemoteOps) without applying them to a text.
func NewLeanMachine(name string) *Machine {
	m := NewMachine(name)
	m.lean = true
	return m
}

// EventKinds is a set of event kinds.
type EventKinds uint8

// The kinds of Event.
const (
	EvRemote   EventKinds = 1 << iota // Event.Remote: someone else's committed op
	EvAck                             // Event.Ack: one of ours is durable
	EvPresence                        // Event.Peer: a peer joined, moved or renamed
	EvLeave                           // Event.Client: a peer left
	EvError                           // Event.Err: an error to report
	EvExport                          // Event.Export: the note was exported
)

// Event is something the transport reports to its user (Options.On*).
type Event struct {
	Kind   EventKinds // exactly one kind
	Remote RemoteOp
	Ack    Ack
	Peer   protocol.Peer
	Client string
	Err    error
	Export protocol.Export
}

// OutKind is what an Outgoing message is.
type OutKind uint8

// The kinds of Outgoing.
const (
	OutOp OutKind = iota + 1
	OutPresence
	OutName
)

// Outgoing is a message the transport must send, in order.
type Outgoing struct {
	Kind     OutKind
	Op       protocol.OpMsg
	Presence protocol.Presence
	Name     string
}

// Append appends o's JSON to b. o refers to the machine's state: encode it
// before the next call to the machine.
func (o *Outgoing) Append(b []byte) []byte {
	switch o.Kind {
	case OutOp:
		return protocol.AppendClientOp(b, o.Op)
	case OutPresence:
		return protocol.AppendClientPresence(b, o.Presence)
	case OutName:
		return append(b, protocol.EncodeName(o.Name)...)
	}
	return b
}

// Outbox returns the messages queued for sending since the last call and
// empties the queue. The slice and what it refers to are valid until the
// next call to the machine.
func (m *Machine) Outbox() []Outgoing {
	out := m.out
	m.out = m.out[:0]
	return out
}

// Action is what the transport must do after a batch of messages.
type Action struct {
	// Close, when non-zero, is the close code with which to end the
	// connection (the state is kept; reconnect).
	Close  int
	Reason string
	// Retry, when positive, asks for RetryInflight(RetrySeq) after this
	// long (the server refused the op for its rate).
	Retry    time.Duration
	RetrySeq uint64
	// Gone is set when the note is gone: close the client for good once
	// the connection has ended.
	Gone error
}

// pending is an operation not yet acknowledged: the one in flight or the
// buffer of edits made since.
type pending struct {
	seq      uint64 // 0 for the buffer
	op       ot.Operation
	sent     bool // sent on the current connection
	sentAt   time.Time
	editedAt time.Time
}

type histEntry struct {
	rev int64
	op  ot.Operation
}

// peerState is a peer as last announced, its selection possibly still raw.
type peerState struct {
	protocol.Peer
	raw []byte // the selection's JSON, not decoded yet
}

// peer returns the peer with its selection decoded (as the server sent it).
func (p *peerState) peer() protocol.Peer {
	if p.raw != nil {
		p.Sel, _ = protocol.ParseSel(p.raw) // a malformed selection counts as none
		p.raw = nil
	}
	return p.Peer
}

// protocolError is the server breaking the protocol (a gap in revisions, an
// op that does not apply): the connection is dropped; the next one reloads
// the note when reload is set, else catches up.
type protocolError struct {
	msg    string
	reload bool // the local state is suspect: reload the note rather than catch up
}

func (e *protocolError) Error() string { return "protocol violation: " + e.msg }

func (m *Machine) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// ---- accessors ----

// Text returns the local text ("" when lean).
func (m *Machine) Text() string {
	if m.doc == nil {
		return ""
	}
	if !m.textOK {
		m.text, m.textOK = m.doc.String(), true
	}
	return m.text
}

// Len returns the local text's length in UTF-16 code units.
func (m *Machine) Len() int {
	if m.doc == nil {
		return m.n
	}
	return m.doc.Len()
}

// Revision returns the last revision received.
func (m *Machine) Revision() int64 { return m.rev }

// InFlight reports whether an op is in flight (or waits to be resent).
func (m *Machine) InFlight() bool { return m.inflight != nil }

// Pending reports whether any local edit is unacknowledged.
func (m *Machine) Pending() bool { return m.inflight != nil || m.buffer != nil }

// Open reports whether a welcomed connection is up.
func (m *Machine) Open() bool { return m.open }

// ClientID returns the public id of the current (or last) connection.
func (m *Machine) ClientID() string { return m.clientID }

// ReadOnly reports whether the last welcome was read-only.
func (m *Machine) ReadOnly() bool { return m.readOnly }

// Title returns the note's title as of the last welcome.
func (m *Machine) Title() string { return m.title }

// LastExport returns the note's latest export (from the welcome or an
// exported message), and false when it was never exported.
func (m *Machine) LastExport() (protocol.Export, bool) {
	if m.export == nil {
		return protocol.Export{}, false
	}
	return *m.export, true
}

// ChangedSinceExport reports whether the note has edits its latest export
// does not hold: revisions after the exported one, or local edits not yet
// acknowledged. False when it was never exported.
func (m *Machine) ChangedSinceExport() bool {
	return m.export != nil && (m.rev > int64(m.export.Rev) || m.Pending())
}

// takeExport keeps the export a welcome or an exported message carries.
// A malformed one breaks the protocol.
func (m *Machine) takeExport(raw []byte) (bool, error) {
	if raw == nil {
		return false, nil
	}
	e, err := protocol.ParseExport(raw)
	if err != nil || e.Commit == "" {
		return false, &protocolError{"a malformed export", false}
	}
	m.export = &e
	return true, nil
}

// Limits returns the server's limits as of the last welcome.
func (m *Machine) Limits() protocol.Limits { return m.limits }

// Selection returns a copy of the local selection.
func (m *Machine) Selection() ot.Selection { return append(ot.Selection(nil), m.sel...) }

// Peers returns everyone else present, with their selections moved into the
// local text.
func (m *Machine) Peers() []protocol.Peer {
	out := make([]protocol.Peer, 0, len(m.peers))
	for _, p := range m.peers {
		q := p.peer()
		q.Sel = m.localSel(q.Sel, int64(q.Rev))
		out = append(out, q)
	}
	return out
}

// ---- connection events ----

// serverText is the server's text at rev as far as the machine knows: the
// local text without the pending edits; nil when lean.
func (m *Machine) serverText() *ot.Document {
	if m.server != nil {
		return m.server
	}
	return m.doc
}

// Hello returns the hello for a new connection: with the current revision
// (a catch-up) once a welcome was received, unless the note must be
// reloaded.
func (m *Machine) Hello(session string) protocol.Hello {
	h := protocol.Hello{Session: session, Name: m.name}
	if m.welcomed && !m.resync {
		h.Rev, h.HasRev = scribe.Revision(m.rev), true
		if base := m.serverText(); base != nil {
			// The server checks that its revision rev is our text; if not
			// (it lost revisions and reused their numbers) it sends the
			// whole note instead of a catch-up.
			h.FP, h.HasFP = protocol.FingerprintOf(base.String()), true
		}
	}
	return h
}

// Disconnected records that the connection ended: nothing goes out until
// the next welcome, and the op in flight is resent then unless the welcome
// says it was committed.
func (m *Machine) Disconnected() {
	m.open = false
	if p := m.inflight; p != nil {
		p.sent = false
	}
}

// Reload makes the next hello ask for the whole note (the server refused
// our revision, e.g. because it is ahead of the note's).
func (m *Machine) Reload() { m.resync = true }

// Refused records that the server closed the connection with 1008 (policy):
// a refused hello revision, unless an op is in flight; reload next time.
func (m *Machine) Refused() {
	if !m.resync && m.inflight == nil {
		m.resync = true
	}
}

// Welcome takes a connection's welcome. On a catch-up the local state stays
// and the in-flight op is resent unless lastSeq says the server committed
// it (its ack then follows in the catch-up). With a full text the
// unacknowledged edits the server lacks are merged into it, as
// web/src/collab.js does: the change from the server's text at our
// revision to the new text is transformed over them and applied to the
// local text, and they are sent again. They are discarded instead
// (reported as a *ResyncError event) when the server refused the op in
// flight, and on a lean machine, which has no text to merge into. On error
// nothing is open.
func (m *Machine) Welcome(w *protocol.Msg, evs []Event) ([]Event, error) {
	if m.clientID != "" {
		m.pastIDs = append(m.pastIDs, m.clientID)
		if len(m.pastIDs) > maxPastIDs {
			m.pastIDs = m.pastIDs[1:]
		}
	}
	m.clientID = w.Client
	m.readOnly = w.ReadOnly
	m.title = w.Title
	if _, err := m.takeExport(w.Export); err != nil {
		return evs, err
	}
	m.color = w.Color()
	if len(w.Limits) > 0 {
		var l protocol.Limits
		if json.Unmarshal(w.Limits, &l) == nil {
			m.limits = l
		}
	}
	if !m.lean {
		m.peers = make(map[string]*peerState)
		if len(w.Peers) > 0 {
			var ps []protocol.Peer
			if err := json.Unmarshal(w.Peers, &ps); err != nil {
				return evs, fmt.Errorf("welcome: bad peers: %w", err)
			}
			for _, p := range ps {
				m.peers[p.Client] = &peerState{Peer: p}
			}
		}
	}
	m.seq = max(m.seq, w.LastSeq)
	m.open = true // so the resend below goes out on this connection
	// The new connection's peers do not know our selection yet.
	m.sendSel = m.sel != nil
	if w.Catchup && m.welcomed && !m.resync {
		// Catch-up: the ops after our revision follow. The in-flight op was
		// committed if its seq <= lastSeq (its ack is in the catch-up);
		// otherwise resend it, based on our revision.
		if p := m.inflight; p != nil {
			p.sent = false
			if p.seq <= w.LastSeq {
				p.sent = true
			} else {
				m.sendInflight()
			}
		} else {
			m.sendPresence()
		}
		return evs, nil
	}
	if !w.HasText {
		m.open = false
		return evs, errors.New("welcome: no text and no catch-up")
	}
	var doc *ot.Document
	n := 0
	if m.lean {
		n = ot.Len16(w.Text)
	} else {
		var err error
		if doc, err = ot.NewDocument(w.Text); err != nil {
			m.open = false
			return evs, fmt.Errorf("welcome: %w", err)
		}
		n = doc.Len()
	}
	if m.server != nil && !m.refused {
		if err := m.merge(w, doc); err != nil {
			m.open = false
			return evs, err
		}
		return evs, nil
	}
	if m.inflight != nil && !(m.inflight.seq <= w.LastSeq && m.buffer == nil) {
		discarded := m.inflight.op
		if m.buffer != nil {
			if d, err := ot.Compose(discarded, m.buffer.op); err == nil {
				discarded = d
			}
		}
		rerr := &ResyncError{Reason: "the server sent the whole note instead of a catch-up", Discarded: discarded}
		if m.refused {
			rerr.Reason = "the server refused an edit"
		}
		if m.Want&EvError != 0 {
			evs = append(evs, Event{Kind: EvError, Err: rerr})
		}
	}
	m.inflight, m.buffer, m.server, m.refused = nil, nil, nil, false
	m.doc, m.n, m.textOK = doc, n, false
	m.rev = w.Rev
	m.hist = [historyLen]histEntry{}
	m.sel = clampSel(m.sel, n)
	m.welcomed, m.resync = true, false
	m.sendPresence()
	return evs, nil
}

// merge takes a full-text welcome w (text in doc) while edits are pending:
// collab.js's welcomeWithText. The in-flight op is dropped when lastSeq
// says the server has it (it is in the text); the rest move over the
// change from the server's text at our revision to the new text.
func (m *Machine) merge(w *protocol.Msg, doc *ot.Document) error {
	if p := m.inflight; p != nil && p.seq <= w.LastSeq {
		if err := m.server.Apply(p.op); err != nil {
			return fmt.Errorf("welcome: %w", err)
		}
		m.inflight = nil
	}
	remote := ot.Diff(m.server.String(), w.Text)
	var err error
	if p := m.inflight; p != nil {
		if p.op, remote, err = ot.Transform(p.op, remote); err != nil {
			return fmt.Errorf("welcome: %w", err)
		}
	}
	if b := m.buffer; b != nil {
		if b.op, remote, err = ot.Transform(b.op, remote); err != nil {
			return fmt.Errorf("welcome: %w", err)
		}
	}
	if err := m.doc.Apply(remote); err != nil {
		return fmt.Errorf("welcome: %w", err)
	}
	transformSel(m.sel, remote)
	m.textOK = false
	m.server = doc
	m.rev = w.Rev
	m.hist = [historyLen]histEntry{}
	m.welcomed, m.resync = true, false
	if m.inflight == nil && m.buffer != nil {
		m.inflight, m.buffer = m.buffer, nil
		m.seq++
		m.inflight.seq = m.seq
	}
	if m.inflight != nil {
		m.sendInflight()
	} else {
		m.server = nil // nothing pending any more
		m.sendPresence()
	}
	return nil
}

// Receive handles a frame's messages after the welcome, in order, and says
// what the transport must do (for a refused op: the last such message
// decides). It stops at the first message that breaks the protocol
// (Action.Close is then set and an EvError reported).
func (m *Machine) Receive(msgs []protocol.Msg, evs []Event) ([]Event, Action) {
	now := m.now()
	var act Action
	for i := range msgs {
		msg := &msgs[i]
		var err error
		switch msg.Type {
		case "op":
			evs, err = m.remoteOp(msg, now, evs)
		case "ack":
			evs, err = m.ack(msg.Seq, msg.Rev, now, evs)
		case "presence":
			if !m.lean {
				evs = m.presence(msg, evs)
			}
		case "leave":
			delete(m.peers, msg.Client)
			if m.Want&EvLeave != 0 {
				evs = append(evs, Event{Kind: EvLeave, Client: msg.Client})
			}
		case "error":
			var a Action
			if evs, a = m.serverError(msg, evs); a != (Action{}) {
				act = a
			}
		case "exported":
			var ok bool
			if ok, err = m.takeExport(msg.Export); ok && m.Want&EvExport != 0 {
				evs = append(evs, Event{Kind: EvExport, Export: *m.export})
			}
		case "welcome":
			err = &protocolError{"a second welcome", true}
		default:
			// Unknown message types are ignored: the server may add some.
		}
		if err != nil {
			var pe *protocolError
			if errors.As(err, &pe) && pe.reload {
				m.resync = true
			}
			if m.Want&EvError != 0 {
				evs = append(evs, Event{Kind: EvError, Err: err})
			}
			m.open = false
			return evs, Action{Close: closeProtocolError, Reason: "protocol violation"}
		}
	}
	return evs, act
}

// closeProtocolError is websocket.CloseProtocolError, kept here so the
// machine needs no websocket package.
const closeProtocolError = 1002

// closeNormal is websocket.CloseNormalClosure.
const closeNormal = 1000

func (m *Machine) remoteOp(msg *protocol.Msg, now time.Time, evs []Event) ([]Event, error) {
	if msg.Rev <= m.rev {
		return evs, nil // already seen (a repeat after a race with a reconnect)
	}
	if msg.Rev != m.rev+1 {
		return evs, &protocolError{msg: fmt.Sprintf("op for revision %d while at %d", msg.Rev, m.rev)}
	}
	if p := m.inflight; p != nil && msg.Client != "" && m.wasMe(msg.Client) {
		// Our own in-flight op, sent on an earlier connection and committed
		// after this one joined: the server reports it as someone else's
		// op. It is its ack (a later ack of the resend repeats the revision
		// and is ignored).
		return m.ack(p.seq, msg.Rev, now, evs)
	}
	op, err := ot.ParseJSON(msg.Op)
	if err != nil {
		return evs, &protocolError{"bad op: " + err.Error(), true}
	}
	if evs, err = m.apply(op, msg.Rev, msg.Client, now, evs); err != nil {
		return evs, err
	}
	if len(msg.Sel) > 0 && msg.Client != "" && !m.lean {
		// The author's selection after the op, at msg.Rev: the server sends
		// it in the op instead of a presence message.
		evs = m.peerSel(m.peer(msg.Client), msg.Rev, msg.Sel, evs)
	}
	return evs, nil
}

// apply takes op, committed by someone else as revision rev (the next one):
// it moves the in-flight op and the buffer over it and applies it, so
// transformed, to the local text and selection.
func (m *Machine) apply(op ot.Operation, rev int64, client string, now time.Time, evs []Event) ([]Event, error) {
	committed := op
	if m.server != nil {
		if err := m.server.Apply(committed); err != nil {
			return evs, &protocolError{"op does not apply: " + err.Error(), true}
		}
	}
	if p := m.inflight; p != nil {
		var pp ot.Operation
		var err error
		if pp, op, err = ot.Transform(p.op, op); err != nil {
			return evs, &protocolError{"op does not fit: " + err.Error(), true}
		}
		p.op = pp
		if b := m.buffer; b != nil {
			var bp ot.Operation
			if bp, op, err = ot.Transform(b.op, op); err != nil {
				return evs, &protocolError{"op does not fit: " + err.Error(), true}
			}
			b.op = bp
		}
	}
	if m.doc != nil {
		if err := m.doc.Apply(op); err != nil {
			return evs, &protocolError{"op does not apply: " + err.Error(), true}
		}
		m.textOK = false
	} else {
		if op.BaseLen() != m.n {
			return evs, &protocolError{fmt.Sprintf("op for length %d, the text has %d", op.BaseLen(), m.n), true}
		}
		m.n = op.TargetLen()
	}
	transformSel(m.sel, op)
	m.rev = rev
	if m.lean {
		return evs, nil // RemoteOps reports the run; no peers, no history
	}
	m.hist[rev%historyLen] = histEntry{rev: rev, op: committed}
	if m.Want&EvRemote != 0 {
		evs = append(evs, Event{Kind: EvRemote, Remote: RemoteOp{Rev: rev, Op: committed, Client: client, Received: now}})
	}
	return evs, nil
}

// RemoteOps takes a run of ops committed by others, the revisions right
// after Revision, already decoded (the load tool decodes each revision once
// for all its bots). On a lean machine this is the load tool's hot path:
// with an op in flight and no buffer (a typing bot's usual state) the
// in-flight op and the selection move over the whole run in one
// ot.TransformOver; with nothing pending only the length and selection
// move; no history is kept. Otherwise op by op, as Receive.
func (m *Machine) RemoteOps(ops []ot.Operation, evs []Event) ([]Event, error) {
	if !m.lean {
		now := m.now()
		first := m.rev + 1
		for i, o := range ops {
			var err error
			if evs, err = m.apply(o, first+int64(i), "", now, evs); err != nil {
				return evs, fmt.Errorf("revision %d: %w", first+int64(i), err)
			}
		}
		return evs, nil
	}
	// Lean: no text to apply to, no peers, so no history to keep (a load
	// bot receives every op of a busy note; this is its hot path).
	first := m.rev + 1
	switch p := m.inflight; {
	case p != nil && m.buffer == nil:
		op, sel, err := ot.TransformOver(p.op, ops, m.sel)
		if err != nil {
			return evs, fmt.Errorf("revisions %d-%d: %w", first, first+int64(len(ops))-1, err)
		}
		p.op, m.n, m.sel = op, op.TargetLen(), sel
	case p == nil:
		for i, o := range ops {
			if o.BaseLen() != m.n {
				return evs, fmt.Errorf("revision %d: op for length %d, the text has %d", first+int64(i), o.BaseLen(), m.n)
			}
			m.n = o.TargetLen()
			transformSel(m.sel, o)
		}
	default:
		for i, o := range ops {
			var err error
			if evs, err = m.apply(o, first+int64(i), "", time.Time{}, evs); err != nil {
				return evs, fmt.Errorf("revision %d: %w", first+int64(i), err)
			}
		}
	}
	m.rev = first + int64(len(ops)) - 1
	if m.Want&EvRemote != 0 {
		now := m.now()
		for i, o := range ops {
			evs = append(evs, Event{Kind: EvRemote, Remote: RemoteOp{Rev: first + int64(i), Op: o, Received: now}})
		}
	}
	return evs, nil
}

// wasMe reports whether id was the public id of one of this client's
// earlier connections.
func (m *Machine) wasMe(id string) bool {
	for _, p := range m.pastIDs {
		if p == id {
			return true
		}
	}
	return false
}

// Ack takes the acknowledgement of op seq as revision rev, received at now,
// as Receive does for an ack message: for transports that parse frames
// their own way (the load tool). An ack that does not fit gives an error.
func (m *Machine) Ack(seq uint64, rev int64, now time.Time, evs []Event) ([]Event, error) {
	return m.ack(seq, rev, now, evs)
}

// ack takes the acknowledgement of op seq as revision rev, and sends the
// buffer, if any, as the next op in flight.
func (m *Machine) ack(seq uint64, rev int64, now time.Time, evs []Event) ([]Event, error) {
	p := m.inflight
	if p == nil || seq != p.seq {
		if rev <= m.rev || (p != nil && seq < p.seq) {
			return evs, nil // a repeated ack for an op acknowledged before
		}
		return evs, &protocolError{fmt.Sprintf("ack for seq %d, which is not in flight", seq), true}
	}
	if rev != m.rev+1 {
		return evs, &protocolError{msg: fmt.Sprintf("ack for revision %d while at %d", rev, m.rev)}
	}
	m.rev = rev
	m.hist[rev%historyLen] = histEntry{rev: rev, op: p.op}
	m.inflight = nil
	if m.server != nil {
		if m.buffer == nil {
			m.server = nil // the server's text is ours again
		} else if err := m.server.Apply(p.op); err != nil {
			return evs, &protocolError{"acked op does not apply: " + err.Error(), true}
		}
	}
	if m.Want&EvAck != 0 {
		evs = append(evs, Event{Kind: EvAck, Ack: Ack{Seq: p.seq, Rev: rev, Op: p.op, SentAt: p.sentAt, EditedAt: p.editedAt, Received: now}})
	}
	if b := m.buffer; b != nil {
		m.buffer = nil
		m.seq++
		b.seq = m.seq
		m.inflight = b
		m.sendInflight()
	} else {
		m.sendPresence()
	}
	return evs, nil
}

func (m *Machine) presence(msg *protocol.Msg, evs []Event) []Event {
	p := m.peer(msg.Client)
	if !protocol.SameStr(msg.NameRaw, p.Name) {
		p.Name = msg.Name()
	}
	if !protocol.SameStr(msg.ColorRaw, p.Color) {
		p.Color = msg.Color()
	}
	p.ReadOnly = msg.ReadOnly
	return m.peerSel(p, msg.Rev, msg.Sel, evs)
}

// peer returns the peer with public id client, added when unknown.
func (m *Machine) peer(client string) *peerState {
	p := m.peers[client]
	if p == nil {
		p = &peerState{Peer: protocol.Peer{Client: client}}
		m.peers[client] = p
	}
	return p
}

// peerSel sets p's selection to raw (its JSON, empty for none), which
// refers to revision rev, and reports p: for a presence message, and for
// an op that carries its author's selection.
func (m *Machine) peerSel(p *peerState, rev int64, raw []byte, evs []Event) []Event {
	p.Rev = scribe.Revision(rev)
	// The selection is decoded when someone looks at it: in a busy note a
	// selection arrives with nearly every op.
	p.Sel, p.raw = nil, nil
	if len(raw) > 0 {
		p.raw = bytes.Clone(raw) // raw points into the reused frame buffer
	}
	if m.Want&EvPresence != 0 {
		q := p.peer()
		q.Sel = m.localSel(q.Sel, int64(q.Rev))
		evs = append(evs, Event{Kind: EvPresence, Peer: q})
	}
	return evs
}

// serverError reports an error message and, when it refused the op in
// flight, says what docs/protocol.md prescribes for its code.
func (m *Machine) serverError(msg *protocol.Msg, evs []Event) ([]Event, Action) {
	se := &ServerError{Code: msg.Code, Message: msg.Message, Seq: msg.Seq, HasSeq: msg.HasSeq}
	if m.Want&EvError != 0 {
		evs = append(evs, Event{Kind: EvError, Err: se})
	}
	p := m.inflight
	if !se.HasSeq || p == nil || se.Seq != p.seq {
		return evs, Action{}
	}
	p.sent = false
	switch se.Code {
	case scribe.ERATELIMIT:
		// Keep it and resend it, same seq, after a pause of two intervals
		// of the server's rate.
		delay := 100 * time.Millisecond
		if r := m.limits.OpsPerSecond; r > 0 {
			delay = min(max(time.Duration(2*float64(time.Second)/r), 50*time.Millisecond), 2*time.Second)
		}
		return evs, Action{Retry: delay, RetrySeq: p.seq}
	case scribe.EINTERNAL, scribe.EUNAVAILABLE:
		// Keep it; reconnect (the welcome's lastSeq decides the resend).
		return evs, Action{Close: closeNormal, Reason: "retrying after a server error"}
	case scribe.ENOTFOUND:
		// The note is gone: stop for good.
		return evs, Action{Close: closeNormal, Reason: "the note is gone", Gone: &scribe.Error{Code: se.Code, Message: se.Message}}
	default:
		// EINVALID, ETOOLARGE, EFORBIDDEN: our text is out of step with
		// the server's. Drop the op (and the buffer) by reloading the note.
		m.resync, m.refused = true, true
		return evs, Action{Close: closeNormal, Reason: "resynchronising"}
	}
}

// RetryInflight resends the op in flight after a rate-limit refusal, if it
// is still op seq and has not been sent again since.
func (m *Machine) RetryInflight(seq uint64) {
	if p := m.inflight; p != nil && p.seq == seq && !p.sent {
		m.sendInflight()
	}
}

// ---- local changes ----

// Edit applies op, a local edit based on the local text (its base length is
// Len()), and queues it for sending, or buffers it while another op is in
// flight. With hasSel, sel is the selection after the edit, sent with the
// op; else the selection moves through op. An op that does not fit gives
// EINVALID and changes nothing; on a read-only connection EFORBIDDEN.
func (m *Machine) Edit(op ot.Operation, sel ot.Selection, hasSel bool) error {
	if m.readOnly {
		return scribe.Errorf(scribe.EFORBIDDEN, "This is a read-only link; it cannot edit the note.")
	}
	if hasSel {
		if err := sel.Validate(op.TargetLen()); err != nil {
			return otError(err)
		}
	}
	if op.IsNoop() && op.BaseLen() == m.Len() {
		if hasSel {
			m.setSel(sel)
		}
		return nil
	}
	if m.doc != nil {
		if err := op.Validate(m.doc.Len()); err != nil {
			return otError(err)
		}
		first := m.inflight == nil && m.buffer == nil
		if first {
			// The first pending edit: keep the server's text.
			srv, err := ot.NewDocument(m.Text())
			if err != nil {
				return otError(err)
			}
			m.server = srv
		}
		if err := m.doc.Apply(op); err != nil {
			if first {
				m.server = nil
			}
			return otError(err)
		}
		m.textOK = false
	} else {
		if op.BaseLen() != m.n {
			return scribe.Errorf(scribe.EINVALID, "The edit is for a text of %d units; the text has %d.", op.BaseLen(), m.n)
		}
		m.n = op.TargetLen()
	}
	now := m.now()
	if hasSel {
		m.sel = append(m.sel[:0:0], sel...)
		m.sendSel = true
	} else {
		transformSel(m.sel, op)
	}
	switch {
	case m.inflight == nil:
		m.seq++
		m.inflight = &pending{seq: m.seq, op: op, editedAt: now}
		m.sendInflight()
	case m.buffer == nil:
		m.buffer = &pending{op: op, editedAt: now}
	default:
		composed, err := ot.Compose(m.buffer.op, op)
		if err != nil { // cannot happen: op was based on the local text
			return otError(err)
		}
		m.buffer.op = composed
	}
	return nil
}

// Change is Edit of the op f computes from the local text's length and
// selection; f returns the selection after the edit (nil: moved through
// the op).
func (m *Machine) Change(f func(length int, sel ot.Selection) (ot.Operation, ot.Selection)) error {
	op, sel := f(m.Len(), m.sel)
	return m.Edit(op, sel, sel != nil)
}

// Select sets the local selection (in the local text); it goes out at once
// when nothing is in flight, else with the next op or after the ack.
// Out-of-range offsets give EINVALID.
func (m *Machine) Select(sel ot.Selection) error {
	if err := sel.Validate(m.Len()); err != nil {
		return otError(err)
	}
	m.setSel(sel)
	return nil
}

func (m *Machine) setSel(sel ot.Selection) {
	m.sel = append(ot.Selection{}, sel...)
	m.sendSel = true
	if m.inflight == nil {
		m.sendPresence()
	}
}

// SetName changes the display name, telling the server when connected.
func (m *Machine) SetName(name string) {
	m.name = name
	if m.open {
		m.out = append(m.out, Outgoing{Kind: OutName, Name: name})
	}
}

// sendInflight queues the in-flight op, based on the current revision, with
// the selection when it refers to the text after this op (no buffer behind
// it).
func (m *Machine) sendInflight() {
	p := m.inflight
	if !m.open || p == nil {
		return
	}
	o := Outgoing{Kind: OutOp, Op: protocol.OpMsg{Rev: scribe.Revision(m.rev), Seq: p.seq, Op: p.op}}
	if m.sendSel && m.buffer == nil && m.sel != nil {
		o.Op.Sel = m.sel
		m.sendSel = false
	}
	p.sent, p.sentAt = true, m.now()
	m.out = append(m.out, o)
}

func (m *Machine) sendPresence() {
	if !m.open || !m.sendSel || m.sel == nil {
		return
	}
	m.sendSel = false
	m.out = append(m.out, Outgoing{Kind: OutPresence, Presence: protocol.Presence{Rev: scribe.Revision(m.rev), Sel: m.sel}})
}

func otError(err error) error {
	var oe *ot.Error
	if errors.As(err, &oe) {
		return &scribe.Error{Code: oe.Code, Message: oe.Message}
	}
	return err
}

// localSel moves sel, which refers to the server's text at rev, into the
// local text: through the committed operations after rev that are still in
// the history, then through the in-flight op and the buffer.
func (m *Machine) localSel(sel ot.Selection, rev int64) ot.Selection {
	if sel == nil {
		return nil
	}
	for r := rev + 1; r <= m.rev; r++ {
		h := m.hist[r%historyLen]
		if h.rev != r {
			break // too old: use the selection as it is (clamped below)
		}
		sel = sel.Transform(h.op)
	}
	if m.inflight != nil {
		sel = sel.Transform(m.inflight.op)
		if m.buffer != nil {
			sel = sel.Transform(m.buffer.op)
		}
	}
	return clampSel(sel, m.Len())
}

// transformSel moves sel through op in place.
func transformSel(sel ot.Selection, op ot.Operation) {
	for i, r := range sel {
		sel[i] = r.Transform(op)
	}
}

// clampSel returns a copy of sel with every offset clamped to [0, n].
func clampSel(sel ot.Selection, n int) ot.Selection {
	if sel == nil {
		return nil
	}
	out := make(ot.Selection, len(sel))
	for i, r := range sel {
		out[i] = ot.Range{Anchor: min(max(r.Anchor, 0), n), Head: min(max(r.Head, 0), n)}
	}
	return out
}
