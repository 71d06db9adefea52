package protocol

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// Server -> client messages. The server encodes each once and queues it to
// every client that should get it; Go clients parse them with ParseFrame.

// Welcome answers a hello. EncodeWelcome sets Type and Protocol.
type Welcome struct {
	Type     string          `json:"type"`
	Protocol int             `json:"protocol"`
	Client   string          `json:"client"`
	Rev      scribe.Revision `json:"rev"`
	Text     *string         `json:"text,omitempty"`
	Catchup  bool            `json:"catchup,omitempty"`
	Title    string          `json:"title"`
	ReadOnly bool            `json:"readonly"`
	LastSeq  uint64          `json:"lastSeq"`
	Name     string          `json:"name"`
	Color    string          `json:"color"`
	Person   string          `json:"person,omitempty"` // the joining member's person key (Peer.Person)
	Peers    []Peer          `json:"peers"`            // the editors present but this client; viewers are counted in Viewers
	Viewers  int             `json:"viewers"`          // read-only viewers connected, on every node (this client too, if it is one)
	Limits   Limits          `json:"limits"`
	Export   *Export         `json:"export,omitempty"` // the note's latest export; nil if none
}

// Export is a note's latest export as everyone in the note sees it:
// "Exported by Ana as 1a2b3c4 at 14:05". It is in the welcome and in the
// exported message.
type Export struct {
	By     string          `json:"by"`     // the name of the person who exported
	Commit string          `json:"commit"` // the commit's hash (full; a short one for old exports)
	Time   time.Time       `json:"time"`   // when the export was committed
	Rev    scribe.Revision `json:"rev"`    // the note's revision that was exported
}

// exportedMsg says the note was exported.
type exportedMsg struct {
	Type   string `json:"type"`
	Export Export `json:"export"`
}

// EncodeExported encodes {"type":"exported","export":{...}}: the note was
// just exported as e.
func EncodeExported(e Export) []byte {
	return mustJSON(exportedMsg{Type: "exported", Export: e})
}

// ParseExport decodes the raw "export" object of a welcome or an exported
// message (Msg.Export).
func ParseExport(raw []byte) (Export, error) {
	var e Export
	err := json.Unmarshal(raw, &e)
	return e, err
}

// Limits are the server's limits, announced in the welcome.
type Limits struct {
	MaxMessageBytes int     `json:"maxMessageBytes"`
	MaxNoteBytes    int     `json:"maxNoteBytes"`
	OpsPerSecond    float64 `json:"opsPerSecond"`
}

// Peer is another participant: one entry of welcome.peers and, with type
// "presence" (EncodePresence), a presence message. Sel, when not nil, is
// its selection at revision Rev. Read-only viewers are not peers: they
// are counted (Welcome.Viewers, EncodeViewers).
type Peer struct {
	Client string `json:"client"`
	Name   string `json:"name"`
	Color  string `json:"color"`
	// Person is a stable key for a signed-in member, the same on every
	// tab, note, node and visit: a short hash, never the email. Empty for
	// guests, viewers without sign-in and local mode; clients then tell
	// people apart by name.
	Person   string          `json:"person,omitempty"`
	ReadOnly bool            `json:"readonly"`
	Rev      scribe.Revision `json:"rev"`
	Sel      ot.Selection    `json:"sel,omitempty"`
}

// viewersMsg says how many read-only viewers are connected.
type viewersMsg struct {
	Type    string `json:"type"`
	Viewers int    `json:"viewers"`
}

// EncodeViewers encodes {"type":"viewers","viewers":N}: N read-only
// viewers are connected to the note, on every node. Viewers are counted,
// never listed: in an all-hands of thousands, a list would cost every join
// a message to everyone.
func EncodeViewers(n int) []byte {
	return mustJSON(viewersMsg{Type: "viewers", Viewers: n})
}

// presenceMsg is a presence message: a Peer with its type.
type presenceMsg struct {
	Type string `json:"type"`
	Peer
}

// titleMsg says the note's title changed.
type titleMsg struct {
	Type  string `json:"type"`
	Title string `json:"title"`
}

// EncodeTitle encodes {"type":"title","title":T}: the note's title is now
// t (its first heading changed, or a member renamed it).
func EncodeTitle(t string) []byte {
	return mustJSON(titleMsg{Type: "title", Title: t})
}

// leaveMsg says a participant left.
type leaveMsg struct {
	Type   string `json:"type"`
	Client string `json:"client"`
}

// pongMsg answers a ping, echoing its id.
type pongMsg struct {
	Type string `json:"type"`
	ID   *int64 `json:"id,omitempty"`
}

type errorMsg struct {
	Type    string  `json:"type"`
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Seq     *uint64 `json:"seq,omitempty"`
}

// mustJSON marshals a server message. The types above always marshal.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("protocol: marshal " + err.Error())
	}
	return b
}

// EncodeWelcome encodes a welcome message, with its type and the protocol
// version.
func EncodeWelcome(w Welcome) []byte {
	w.Type, w.Protocol = "welcome", Version
	return mustJSON(w)
}

// EncodePresence encodes a presence message for p.
func EncodePresence(p Peer) []byte {
	return mustJSON(presenceMsg{Type: "presence", Peer: p})
}

// EncodeLeave encodes a leave message for the client id client.
func EncodeLeave(client string) []byte {
	return mustJSON(leaveMsg{Type: "leave", Client: client})
}

// EncodeAck encodes {"type":"ack","seq":S,"rev":R} by hand: one per op.
func EncodeAck(seq uint64, rev scribe.Revision) []byte {
	b := make([]byte, 0, len(`{"type":"ack","seq":,"rev":}`)+40)
	b = append(b, `{"type":"ack","seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"rev":`...)
	b = strconv.AppendInt(b, int64(rev), 10)
	return append(b, '}')
}

// EncodeOp encodes an op message: {"type":"op","rev":R,"op":[...]} with
// "client" when client is not empty and "sel" when sel is not nil. It is the
// hottest encoding of the server (every keystroke, once per note), so it is
// appended by hand rather than through encoding/json's reflection: op must
// be valid JSON (every caller passes the canonical form
// ot.Operation.String writes), and a client id is URL-safe base64 ("c_" +
// randomString) that needs no escaping; one that would (a peer id another
// node published) is quoted by encoding/json.
func EncodeOp(rev scribe.Revision, op json.RawMessage, client string, sel []ot.Range) []byte {
	n := len(`{"type":"op","rev":,"op":}`) + 20 + len(op)
	if client != "" {
		n += len(`,"client":""`) + len(client)
	}
	if sel != nil {
		n += len(`,"sel":[]`) + len(sel)*len(`{"anchor":0000000,"head":0000000},`)
	}
	b := make([]byte, 0, n)
	b = append(b, `{"type":"op","rev":`...)
	b = strconv.AppendInt(b, int64(rev), 10)
	b = append(b, `,"op":`...)
	b = append(b, op...)
	if client != "" {
		b = append(b, `,"client":`...)
		if urlSafe(client) {
			b = append(b, '"')
			b = append(b, client...)
			b = append(b, '"')
		} else {
			q, _ := json.Marshal(client) // a string always marshals
			b = append(b, q...)
		}
	}
	if sel != nil {
		b = append(b, `,"sel":`...)
		b = appendSel(b, sel)
	}
	return append(b, '}')
}

// urlSafe reports whether s holds only [A-Za-z0-9_-], which JSON strings
// carry as they are.
func urlSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// appendSel appends sel as JSON, [{"anchor":a,"head":h},...], as
// encoding/json would write it.
func appendSel(b []byte, sel []ot.Range) []byte { return ot.Selection(sel).AppendJSON(b) }

// EncodePong encodes the answer to a ping, echoing its id (none when nil).
func EncodePong(id *int64) []byte {
	return mustJSON(pongMsg{Type: "pong", ID: id})
}

// EncodeError encodes an error message for err: its code and its message to
// clients (scribe.ErrorCode, scribe.ErrorMessage), with the seq of the op
// it refuses when seq is not nil.
func EncodeError(err error, seq *uint64) []byte {
	return mustJSON(errorMsg{Type: "error", Code: scribe.ErrorCode(err), Message: scribe.ErrorMessage(err), Seq: seq})
}
