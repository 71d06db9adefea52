package protocol

import (
	"strconv"

	"github.com/scribe-notes/scribe/ot"
)

// Client -> server encoding, for Go clients. The server decodes these with
// DecodeClientMsg.

// helloMsg is a hello as a client sends it.
type helloMsg struct {
	Type     string `json:"type"`
	Protocol int    `json:"protocol"`
	Session  string `json:"session"`
	Name     string `json:"name"`
	Rev      *int64 `json:"rev,omitempty"`
	Len      *int   `json:"len,omitempty"`
	Hash     *int64 `json:"hash,omitempty"`
}

// EncodeHello encodes a hello for this protocol version: the client's
// session id and name, and the revision it has when HasRev.
func EncodeHello(h Hello) []byte {
	m := helloMsg{Type: "hello", Protocol: Version, Session: h.Session, Name: h.Name}
	if h.HasRev {
		rev := int64(h.Rev)
		m.Rev = &rev
		if h.HasFP {
			n, hash := h.FP.Len, int64(h.FP.Hash)
			m.Len, m.Hash = &n, &hash
		}
	}
	return mustJSON(m)
}

// nameMsg changes the client's display name.
type nameMsg struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// EncodeName encodes a name message.
func EncodeName(name string) []byte {
	return mustJSON(nameMsg{Type: "name", Name: name})
}

// pingMsg asks for a pong.
type pingMsg struct {
	Type string `json:"type"`
	ID   *int64 `json:"id,omitempty"`
}

// EncodePing encodes a ping with id (none when nil), which the pong echoes.
func EncodePing(id *int64) []byte {
	return mustJSON(pingMsg{Type: "ping", ID: id})
}

// AppendClientOp appends an op message to b:
// {"type":"op","rev":R,"seq":S,"op":[...]} with "sel" when o.Sel is not nil.
// It is what every local edit of a Go client (and of each load-tool bot)
// costs, so it is appended by hand, as the browser's JSON.stringify would
// write it; the server decodes that form on its fast path (decodeOpFast).
func AppendClientOp(b []byte, o OpMsg) []byte {
	b = append(b, `{"type":"op","rev":`...)
	b = strconv.AppendInt(b, int64(o.Rev), 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, o.Seq, 10)
	b = append(b, `,"op":`...)
	b = append(b, o.Op.String()...)
	if o.Sel != nil {
		b = append(b, `,"sel":`...)
		b = ot.Selection(o.Sel).AppendJSON(b)
	}
	return append(b, '}')
}

// AppendClientPresence appends a presence message to b:
// {"type":"presence","rev":R,"sel":[...]}.
func AppendClientPresence(b []byte, p Presence) []byte {
	b = append(b, `{"type":"presence","rev":`...)
	b = strconv.AppendInt(b, int64(p.Rev), 10)
	b = append(b, `,"sel":`...)
	b = ot.Selection(p.Sel).AppendJSON(b)
	return append(b, '}')
}
