package room

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math"
	"sync"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// Presence across nodes.
//
// Every node publishes, through Store.Publish on the note's channel, what
// its local clients do: a "presence" message when a client joins, moves its
// selection or renames itself, a "leave" message when it goes. Each node
// keeps the peers it hears of from other nodes (remotePeer) and forwards
// their presence to its own clients. So that a node learns who is already
// present when it opens a note, it publishes "sync", and every other node
// answers by republishing all its local presence. Every node also
// republishes its local presence every presenceRefresh, and forgets a remote
// peer not heard of for presenceExpiry: a node that died without saying
// goodbye leaves no ghosts. A "revoke" message tells every node to close the
// live connections of a revoked share token.
//
// These messages are internal to the nodes; clients never see them. A peer
// carries a hash of its session id ("sh"), so that a node receiving a commit
// from another node can tell which peer made it; the session id itself is a
// secret and never leaves the node that holds the connection.

// nodeMsg kinds.
const (
	kindPresence = "presence"
	kindLeave    = "leave"
	kindSync     = "sync"
	kindRevoke   = "revoke"
	kindDelete   = "delete" // the note is being deleted: every room closes its members
)

// mustJSON marshals a node message. nodeMsg always marshals.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("room: marshal " + err.Error())
	}
	return b
}

// nodeMsg is what a node publishes on a note's channel.
type nodeMsg struct {
	V       int              `json:"v"`
	Node    string           `json:"node"`
	Kind    string           `json:"kind"`
	Peers   []wirePeer       `json:"peers,omitempty"`
	Clients []string         `json:"clients,omitempty"`
	Token   string           `json:"token,omitempty"`
	Title   string           `json:"title,omitempty"`
	Export  *protocol.Export `json:"export,omitempty"`
}

// wirePeer is one client's presence as nodes exchange it.
type wirePeer struct {
	Client      string          `json:"client"`
	Name        string          `json:"name"`
	Color       string          `json:"color"`
	Person      string          `json:"pk,omitempty"`
	ReadOnly    bool            `json:"readonly,omitempty"`
	Rev         scribe.Revision `json:"rev"`
	Sel         []ot.Range      `json:"sel,omitempty"`
	HasSel      bool            `json:"hasSel,omitempty"`
	SessionHash string          `json:"sh,omitempty"`
}

// remotePeer is a client connected to another node.
type remotePeer struct {
	wirePeer
	node string
	seen time.Time
}

// sessionHash is a short one-way digest of a session id, safe to share
// between nodes.
func sessionHash(session string) string {
	sum := sha256.Sum256([]byte("scribe-session:" + session))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// colors is the palette peers get colours from: the browser's (web/src/colors.js),
// 12 colours that stay apart for common colour-vision deficiencies, each with
// label text (near-black or white) at 4.5:1 or more. The browser chooses
// people's colours itself, from their names; this is for other clients.
var colors = []string{
	"#0077bb", "#ee7733", "#009988", "#cc3311", "#33bbee", "#ee3377",
	"#117733", "#332288", "#ddcc77", "#882255", "#bbbbbb", "#aa4499",
}

// personKey is the person key clients see for a member whose ColorKey is
// key (their email): "m" and 16 base64url characters of a SHA-256, so that
// clients can group one person's tabs and keep their colour without
// learning the email.
func personKey(key string) string { return scribe.PersonKey(key) }

// colorOf is the palette colour of a person's key (their email): stable
// for that person across joins, notes and nodes.
func colorOf(key string) string {
	sum := sha256.Sum256([]byte("scribe-color:" + key))
	return colors[int(sum[0])%len(colors)]
}

// pickColor returns the palette colour fewest present peers have.
func (rm *Room) pickColor() string {
	use := make(map[string]int)
	for c := range rm.clients {
		use[c.color]++
	}
	for _, p := range rm.remote {
		use[p.Color]++
	}
	best, bestN := colors[0], math.MaxInt
	for _, c := range colors {
		if use[c] < bestN {
			best, bestN = c, use[c]
		}
	}
	return best
}

// wire describes a local client for other nodes, its selection at the head.
func (rm *Room) wire(c *Seat) wirePeer {
	p := wirePeer{Client: c.id, Name: c.name, Color: c.color, Person: c.person, ReadOnly: c.readonly, Rev: rm.rev}
	if !c.readonly {
		p.SessionHash = sessionHash(c.session)
		if c.hasSel {
			c.sel, c.selRev = rm.selAt(c.sel, c.selRev), rm.rev
			p.Sel, p.HasSel = c.sel, true
		}
	}
	return p
}

// wireAt describes a local client for other nodes with its selection at
// the revision it was made (c.selRev), not moved to the head: a node that
// hears it moves it over its own history, as it does for any peer's
// (message). flushPresence publishes the authors of a commit's ops this
// way; moving each to the head here would cost a step per op committed
// since its own, for each of them (1,000 typists: issue 16).
func (rm *Room) wireAt(c *Seat) wirePeer {
	if c.readonly || !c.hasSel || c.selRev < rm.histBase {
		return rm.wire(c)
	}
	return wirePeer{Client: c.id, Name: c.name, Color: c.color, Person: c.person, Rev: c.selRev,
		SessionHash: sessionHash(c.session), Sel: c.sel, HasSel: true}
}

// peerMessage is p as clients see it, in a presence message or in
// welcome.peers.
func peerMessage(p wirePeer) protocol.Peer {
	m := protocol.Peer{Client: p.Client, Name: p.Name, Color: p.Color, Person: p.Person, ReadOnly: p.ReadOnly, Rev: p.Rev}
	if p.HasSel && !p.ReadOnly {
		m.Sel = p.Sel
		if m.Sel == nil {
			m.Sel = ot.Selection{}
		}
	}
	return m
}

// peers lists the editors present but c, on every node, for c's welcome.
// Viewers are not listed (viewerCount counts them).
func (rm *Room) peers(c *Seat) []protocol.Peer {
	out := []protocol.Peer{}
	for o := range rm.editors {
		if o != c {
			out = append(out, peerMessage(rm.wire(o)))
		}
	}
	for _, p := range rm.remote {
		if p.ReadOnly {
			continue
		}
		w := p.wirePeer
		w.Sel, w.Rev = rm.selAt(w.Sel, min(w.Rev, rm.rev)), rm.rev
		out = append(out, peerMessage(w))
	}
	return out
}

// flushPresence broadcasts the presence of every client that joined, moved
// or renamed since the last flush, to local clients and to other nodes. A
// client whose selection only moved with its ops (rm.moved) is published to
// other nodes alone: the local clients got the selection in the op messages.
func (rm *Room) flushPresence() {
	if len(rm.dirty) == 0 && len(rm.moved) == 0 {
		return
	}
	batch := make([]wirePeer, 0, len(rm.dirty)+len(rm.moved))
	for c := range rm.dirty {
		w := rm.wire(c)
		batch = append(batch, w)
		if !c.readonly { // a viewer is only counted here (flushViewers); other nodes count it from its presence
			rm.broadcast(protocol.EncodePresence(peerMessage(w)), c)
		}
	}
	for c := range rm.moved {
		if _, ok := rm.dirty[c]; !ok {
			batch = append(batch, rm.wireAt(c))
		}
	}
	clear(rm.dirty)
	clear(rm.moved)
	rm.pub.send(nodeMsg{Kind: kindPresence, Peers: batch})
}

// publishAll republishes the presence of every local client.
func (rm *Room) publishAll() {
	if len(rm.clients) == 0 {
		return
	}
	batch := make([]wirePeer, 0, len(rm.clients))
	for c := range rm.clients {
		batch = append(batch, rm.wire(c))
	}
	rm.pub.send(nodeMsg{Kind: kindPresence, Peers: batch})
}

// expireRemote forgets remote peers not heard of for presenceExpiry.
func (rm *Room) expireRemote() {
	now := time.Now()
	for id, p := range rm.remote {
		if now.Sub(p.seen) > rm.cfg.Timing.PresenceExpiry {
			delete(rm.remote, id)
			rm.remoteLeft(p)
		}
	}
}

// message handles a message another node (or this one) published.
func (rm *Room) message(data []byte) error {
	var m nodeMsg
	if err := json.Unmarshal(data, &m); err != nil || m.V != 1 {
		rm.cfg.Logger.Warn("ignoring an unreadable node message", "note", rm.ref)
		return nil
	}
	if m.Kind == kindRevoke {
		rm.revoke(scribe.Token(m.Token))
		return nil
	}
	if m.Kind == kindDelete {
		rm.noteDeleted()
		return nil
	}
	if m.Kind == kindRename {
		// An explicit title wins over one this room has yet to store.
		rm.titleDue = false
		rm.adoptPeerTitle(m.Title)
		return nil
	}
	if m.Kind == kindExported {
		return rm.adoptExport(m.Export)
	}
	if m.Node == rm.cfg.NodeID {
		return nil // our own, heard back
	}
	switch m.Kind {
	case kindTitle:
		rm.titleHeard = time.Now()
		rm.adoptPeerTitle(m.Title)
	case kindSync:
		rm.publishAll()
	case kindLeave:
		for _, id := range m.Clients {
			if p, ok := rm.remote[id]; ok && p.node == m.Node {
				delete(rm.remote, id)
				rm.remoteLeft(p)
			}
		}
	case kindPresence:
		now := time.Now()
		for _, w := range m.Peers {
			if w.Client == "" || len(w.Sel) > protocol.MaxSelRanges {
				continue
			}
			if w.Rev > rm.rev {
				// The peer has seen commits this node has not heard of yet.
				if err := rm.syncTo(w.Rev); err != nil {
					return err
				}
			}
			old, known := rm.remote[w.Client]
			if !known && w.SessionHash != "" {
				rm.dropGhosts(w.SessionHash, w.Client)
			}
			rm.remote[w.Client] = &remotePeer{wirePeer: w, node: m.Node, seen: now}
			if was := known && old.ReadOnly; was != w.ReadOnly {
				rm.viewersDue = true
				if w.ReadOnly {
					rm.remoteViews++
				} else {
					rm.remoteViews--
				}
			}
			if w.ReadOnly {
				continue // a viewer elsewhere is counted, never listed
			}
			if known && old.Name == w.Name && old.Rev == w.Rev && equalSel(old.Sel, w.Sel) {
				continue // a refresh: nothing changed for the clients
			}
			w.Sel, w.Rev = rm.selAt(w.Sel, min(w.Rev, rm.rev)), rm.rev
			rm.broadcast(protocol.EncodePresence(peerMessage(w)), nil)
		}
	}
	return nil
}

// remoteLeft tells the local members that a peer on another node left: a
// leave for an editor, a new count for a viewer.
func (rm *Room) remoteLeft(p *remotePeer) {
	if p.ReadOnly {
		rm.remoteViews--
		rm.viewersDue = true
		return
	}
	rm.broadcast(protocol.EncodeLeave(p.Client), nil)
}

// viewerCount is the number of read-only viewers of the note, on every
// node: kept as counts, so that a join does not scan thousands of them.
func (rm *Room) viewerCount() int { return rm.viewers + rm.remoteViews }

// flushViewers sends every local member the viewer count, which changed
// (or may have) since it was last sent. Viewers are counted rather than
// announced one by one: in an all-hands, announcing each join to everyone
// cost O(N²) messages to fill the note (docs/benchmarks.md, issue 16); the
// count costs one message per member per ViewerCount, however many joined.
func (rm *Room) flushViewers() {
	rm.viewersDue = false
	rm.broadcast(protocol.EncodeViewers(rm.viewerCount()), nil)
}

func equalSel(a, b []ot.Range) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// dropGhosts forgets the remote peers of a session (by its hash) other
// than keep: the same person reconnected (here, or to another node), so the
// old connection, perhaps on a node that died, is gone. Without this its
// cursor would linger until presenceExpiry.
func (rm *Room) dropGhosts(hash, keep string) {
	for id, p := range rm.remote {
		if id != keep && p.SessionHash == hash {
			delete(rm.remote, id)
			rm.remoteLeft(p)
		}
	}
}

// revoke closes the live connections of a revoked share token.
func (rm *Room) revoke(t scribe.Token) {
	if len(rm.revoked) < maxRevoked {
		rm.revoked[t] = struct{}{} // a join already under way with t is refused
	}
	for c := range rm.clients {
		if c.readonly && c.token == t {
			c.m.Close(protocol.CloseNotFound, protocol.CloseReasonGone, false)
		}
	}
}

// noteDeleted closes every member, editors and viewers, with the reason
// that the note was deleted, and refuses joins from now on.
func (rm *Room) noteDeleted() {
	rm.deleted = true
	for c := range rm.clients {
		c.m.Close(protocol.CloseNotFound, protocol.CloseReasonDeleted, false)
	}
}

// checkTokens re-checks, off the room goroutine, that the share tokens of
// the read-only clients are still valid, in case a revocation message was
// lost; revoked ones come back through revokedc.
func (rm *Room) checkTokens() {
	if rm.checking {
		return
	}
	seen := make(map[scribe.Token]bool)
	var tokens []scribe.Token
	for c := range rm.clients {
		if c.readonly && !seen[c.token] {
			seen[c.token] = true
			tokens = append(tokens, c.token)
		}
	}
	if len(tokens) == 0 {
		return
	}
	rm.checking = true
	rm.hub.goTracked(func() {
		var revoked []scribe.Token
		for _, t := range tokens {
			ctx, cancel := context.WithTimeout(rm.ctx, 5*time.Second)
			_, err := rm.cfg.Store.ResolveShare(ctx, t)
			cancel()
			if scribe.ErrorCode(err) == scribe.ENOTFOUND {
				revoked = append(revoked, t)
			}
		}
		select {
		case rm.revokedc <- revoked:
		case <-rm.done:
		}
	})
}

// publisher publishes a room's node messages off the room goroutine,
// merging the presence queued meanwhile into one message. Publishing is
// best-effort: when the queue is full, a message is dropped (the periodic
// republish repairs presence).
type publisher struct {
	rm   *Room
	in   chan nodeMsg
	done chan struct{}
	once sync.Once
}

const publishQueue = 256

// newPublisher returns the room's publisher; the hub runs its run method
// on a goroutine it tracks.
func newPublisher(rm *Room) *publisher {
	return &publisher{rm: rm, in: make(chan nodeMsg, publishQueue), done: make(chan struct{})}
}

func (p *publisher) send(m nodeMsg) {
	m.V, m.Node = 1, p.rm.cfg.NodeID
	select {
	case p.in <- m:
	default:
		p.rm.cfg.Metrics.Error("EPUBLISHDROP")
	}
}

// stop publishes what is queued and ends the publisher, waiting at most 5 s
// for it (then the room's context, cancelled once run returns, cuts its last
// publication short; the hub waits for the goroutine on Close).
func (p *publisher) stop() {
	p.once.Do(func() { close(p.in) })
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

func (p *publisher) run() {
	defer close(p.done)
	for m := range p.in {
		var presence []wirePeer
		var others []nodeMsg
		add := func(m nodeMsg) {
			if m.Kind == kindPresence {
				presence = append(presence, m.Peers...)
			} else {
				others = append(others, m)
			}
		}
		add(m)
	drain:
		for len(presence) < 512 {
			select {
			case more, ok := <-p.in:
				if !ok {
					break drain
				}
				add(more)
			default:
				break drain
			}
		}
		if len(presence) > 0 {
			others = append([]nodeMsg{{V: 1, Node: p.rm.cfg.NodeID, Kind: kindPresence, Peers: presence}}, others...)
		}
		for _, m := range others {
			ctx, cancel := context.WithTimeout(p.rm.ctx, 2*time.Second)
			err := p.rm.cfg.Store.Publish(ctx, p.rm.id, mustJSON(m))
			cancel()
			if err != nil {
				p.rm.cfg.Logger.Warn("publish to other nodes", "note", p.rm.ref, "kind", m.Kind, "err", err)
			}
		}
	}
}
