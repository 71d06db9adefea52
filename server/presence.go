package server

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
)

// mustJSON marshals a node message. nodeMsg always marshals.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("server: marshal " + err.Error())
	}
	return b
}

// nodeMsg is what a node publishes on a note's channel.
type nodeMsg struct {
	V       int        `json:"v"`
	Node    string     `json:"node"`
	Kind    string     `json:"kind"`
	Peers   []wirePeer `json:"peers,omitempty"`
	Clients []string   `json:"clients,omitempty"`
	Token   string     `json:"token,omitempty"`
}

// wirePeer is one client's presence as nodes exchange it.
type wirePeer struct {
	Client      string          `json:"client"`
	Name        string          `json:"name"`
	Color       string          `json:"color"`
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

// pickColor returns the palette colour fewest present peers have.
func (s *session) pickColor() string {
	use := make(map[string]int)
	for c := range s.clients {
		use[c.color]++
	}
	for _, p := range s.remote {
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
func (s *session) wire(c *client) wirePeer {
	p := wirePeer{Client: c.id, Name: c.name, Color: c.color, ReadOnly: c.readonly, Rev: s.rev}
	if !c.readonly {
		p.SessionHash = sessionHash(c.session)
		if c.hasSel {
			c.sel, c.selRev = s.selAt(c.sel, c.selRev), s.rev
			p.Sel, p.HasSel = c.sel, true
		}
	}
	return p
}

// peerMessage is p as clients see it, in a presence message or in
// welcome.peers.
func peerMessage(p wirePeer) protocol.Peer {
	m := protocol.Peer{Client: p.Client, Name: p.Name, Color: p.Color, ReadOnly: p.ReadOnly, Rev: p.Rev}
	if p.HasSel && !p.ReadOnly {
		m.Sel = p.Sel
		if m.Sel == nil {
			m.Sel = ot.Selection{}
		}
	}
	return m
}

// peers lists everyone present but c, on every node, for c's welcome.
func (s *session) peers(c *client) []protocol.Peer {
	out := []protocol.Peer{}
	for o := range s.clients {
		if o != c {
			out = append(out, peerMessage(s.wire(o)))
		}
	}
	for _, p := range s.remote {
		w := p.wirePeer
		w.Sel, w.Rev = s.selAt(w.Sel, min(w.Rev, s.rev)), s.rev
		out = append(out, peerMessage(w))
	}
	return out
}

// flushPresence broadcasts the presence of every client that joined, moved
// or renamed since the last flush, to local clients and to other nodes. A
// client whose selection only moved with its ops (s.moved) is published to
// other nodes alone: the local clients got the selection in the op messages.
func (s *session) flushPresence() {
	if len(s.dirty) == 0 && len(s.moved) == 0 {
		return
	}
	batch := make([]wirePeer, 0, len(s.dirty)+len(s.moved))
	for c := range s.dirty {
		w := s.wire(c)
		batch = append(batch, w)
		s.broadcast(protocol.EncodePresence(peerMessage(w)), c)
	}
	for c := range s.moved {
		if _, ok := s.dirty[c]; !ok {
			batch = append(batch, s.wire(c))
		}
	}
	clear(s.dirty)
	clear(s.moved)
	s.pub.send(nodeMsg{Kind: kindPresence, Peers: batch})
}

// publishAll republishes the presence of every local client.
func (s *session) publishAll() {
	if len(s.clients) == 0 {
		return
	}
	batch := make([]wirePeer, 0, len(s.clients))
	for c := range s.clients {
		batch = append(batch, s.wire(c))
	}
	s.pub.send(nodeMsg{Kind: kindPresence, Peers: batch})
}

// expireRemote forgets remote peers not heard of for presenceExpiry.
func (s *session) expireRemote() {
	now := time.Now()
	for id, p := range s.remote {
		if now.Sub(p.seen) > presenceExpiry {
			delete(s.remote, id)
			s.broadcast(protocol.EncodeLeave(id), nil)
		}
	}
}

// message handles a message another node (or this one) published.
func (s *session) message(data []byte) error {
	var m nodeMsg
	if err := json.Unmarshal(data, &m); err != nil || m.V != 1 {
		s.srv.log.Warn("ignoring an unreadable node message", "note", s.ref)
		return nil
	}
	if m.Kind == kindRevoke {
		s.revoke(scribe.Token(m.Token))
		return nil
	}
	if m.Node == s.srv.nodeID {
		return nil // our own, heard back
	}
	switch m.Kind {
	case kindSync:
		s.publishAll()
	case kindLeave:
		for _, id := range m.Clients {
			if p, ok := s.remote[id]; ok && p.node == m.Node {
				delete(s.remote, id)
				s.broadcast(protocol.EncodeLeave(id), nil)
			}
		}
	case kindPresence:
		now := time.Now()
		for _, w := range m.Peers {
			if w.Client == "" || len(w.Sel) > protocol.MaxSelRanges {
				continue
			}
			if w.Rev > s.rev {
				// The peer has seen commits this node has not heard of yet.
				if err := s.syncTo(w.Rev); err != nil {
					return err
				}
			}
			old, known := s.remote[w.Client]
			if !known && w.SessionHash != "" {
				s.dropGhosts(w.SessionHash, w.Client)
			}
			s.remote[w.Client] = &remotePeer{wirePeer: w, node: m.Node, seen: now}
			if known && old.Name == w.Name && old.Rev == w.Rev && equalSel(old.Sel, w.Sel) {
				continue // a refresh: nothing changed for the clients
			}
			w.Sel, w.Rev = s.selAt(w.Sel, min(w.Rev, s.rev)), s.rev
			s.broadcast(protocol.EncodePresence(peerMessage(w)), nil)
		}
	}
	return nil
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
func (s *session) dropGhosts(hash, keep string) {
	for id, p := range s.remote {
		if id != keep && p.SessionHash == hash {
			delete(s.remote, id)
			s.broadcast(protocol.EncodeLeave(id), nil)
		}
	}
}

// revoke closes the live connections of a revoked share token.
func (s *session) revoke(t scribe.Token) {
	for c := range s.clients {
		if c.readonly && c.token == t {
			c.close(protocol.CloseNotFound, protocol.CloseReasonGone, false)
		}
	}
}

// checkTokens re-checks, off the session goroutine, that the share tokens of
// the read-only clients are still valid, in case a revocation message was
// lost; revoked ones come back through revokedc.
func (s *session) checkTokens() {
	if s.checking {
		return
	}
	seen := make(map[scribe.Token]bool)
	var tokens []scribe.Token
	for c := range s.clients {
		if c.readonly && !seen[c.token] {
			seen[c.token] = true
			tokens = append(tokens, c.token)
		}
	}
	if len(tokens) == 0 {
		return
	}
	s.checking = true
	s.srv.goBackground(func() {
		var revoked []scribe.Token
		for _, t := range tokens {
			ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
			_, err := s.srv.store.ResolveShare(ctx, t)
			cancel()
			if scribe.ErrorCode(err) == scribe.ENOTFOUND {
				revoked = append(revoked, t)
			}
		}
		select {
		case s.revokedc <- revoked:
		case <-s.done:
		}
	})
}

// publisher publishes a session's node messages off the session goroutine,
// merging the presence queued meanwhile into one message. Publishing is
// best-effort: when the queue is full, a message is dropped (the periodic
// republish repairs presence).
type publisher struct {
	s    *session
	in   chan nodeMsg
	done chan struct{}
	once sync.Once
}

const publishQueue = 256

func newPublisher(s *session) *publisher {
	p := &publisher{s: s, in: make(chan nodeMsg, publishQueue), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *publisher) send(m nodeMsg) {
	m.V, m.Node = 1, p.s.srv.nodeID
	select {
	case p.in <- m:
	default:
		p.s.srv.metrics.errors.WithLabelValues("EPUBLISHDROP").Inc()
	}
}

// stop publishes what is queued and ends the publisher.
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
			others = append([]nodeMsg{{V: 1, Node: p.s.srv.nodeID, Kind: kindPresence, Peers: presence}}, others...)
		}
		for _, m := range others {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err := p.s.srv.store.Publish(ctx, p.s.id, mustJSON(m))
			cancel()
			if err != nil {
				p.s.srv.log.Warn("publish to other nodes", "note", p.s.ref, "kind", m.Kind, "err", err)
			}
		}
	}
}
