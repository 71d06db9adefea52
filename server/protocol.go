package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// protocolVersion is the websocket protocol version this server speaks
// (docs/protocol.md).
const protocolVersion = 1

// Limits on what a client may send, beyond the configurable ones.
const (
	maxNameRunes      = 64  // a display name, after trimming
	maxSelRanges      = 100 // ranges in one selection
	defaultPersonName = "Anonymous"
	maxPingID         = 1<<53 - 1 // the largest integer a JavaScript number holds exactly
)

// Range is one range of a selection, in UTF-16 code units: ot's, with its
// JSON form {"anchor": a, "head": h}.
type Range = ot.Range

// clientMsg is any client frame, decoded loosely by type; the fields a type
// does not use are ignored. Pointers tell a missing field from a zero one.
type clientMsg struct {
	Type     string          `json:"type"`
	Protocol *int            `json:"protocol"`
	Session  *string         `json:"session"`
	Name     *string         `json:"name"`
	Rev      *int64          `json:"rev"`
	Seq      *uint64         `json:"seq"`
	Op       json.RawMessage `json:"op"`
	Sel      json.RawMessage `json:"sel"`
	ID       json.RawMessage `json:"id"`

	op *opMsg // set by decodeOpFast: already validated
}

// helloMsg is a validated hello.
type helloMsg struct {
	session string
	name    string
	rev     scribe.Revision // valid when hasRev
	hasRev  bool
}

// opMsg is a validated op message.
type opMsg struct {
	rev scribe.Revision
	seq uint64
	op  ot.Operation
	sel []Range // nil when absent
}

// presenceMsg is a validated presence message.
type presenceMsg struct {
	rev scribe.Revision
	sel []Range
}

func invalid(format string, args ...any) *scribe.Error {
	return scribe.Errorf(scribe.EINVALID, format, args...)
}

// decodeClientMsg parses one client frame. Every failure is an EINVALID
// *scribe.Error whose message says what was wrong.
func decodeClientMsg(data []byte) (*clientMsg, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, invalid("A message must be a JSON object.")
	}
	if m, ok := decodeOpFast(data); ok {
		return m, nil
	}
	var m clientMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, invalid("Malformed message: %s.", jsonProblem(err))
	}
	if m.Type == "" {
		return nil, invalid("A message needs a \"type\".")
	}
	return &m, nil
}

// jsonProblem describes a decoding error without echoing large input.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field != "" {
			return "field \"" + te.Field + "\" has the wrong type (" + te.Value + ")"
		}
		return "wrong type (" + te.Value + ")"
	case errors.As(err, &se):
		return "not valid JSON"
	}
	return "not valid JSON"
}

func (m *clientMsg) hello() (helloMsg, error) {
	var h helloMsg
	if m.Protocol == nil {
		return h, invalid("hello needs \"protocol\": %d.", protocolVersion)
	}
	if *m.Protocol != protocolVersion {
		return h, invalid("Protocol version %d is not supported; this server speaks version %d.", *m.Protocol, protocolVersion)
	}
	if m.Session == nil {
		return h, invalid("hello needs a \"session\".")
	}
	if !scribe.ValidSession(*m.Session) {
		return h, invalid("The session must be %d to %d characters of A-Z, a-z, 0-9, '-' or '_'.", scribe.MinSessionLen, scribe.MaxSessionLen)
	}
	h.session = *m.Session
	name := ""
	if m.Name != nil {
		name = *m.Name
	}
	n, err := cleanName(name)
	if err != nil {
		return h, err
	}
	h.name = n
	if m.Rev != nil {
		if *m.Rev < 0 {
			return h, invalid("rev must not be negative.")
		}
		h.rev, h.hasRev = scribe.Revision(*m.Rev), true
	}
	return h, nil
}

func (m *clientMsg) opMsg() (opMsg, error) {
	if m.op != nil {
		return *m.op, nil
	}
	var o opMsg
	if m.Rev == nil || *m.Rev < 0 {
		return o, invalid("op needs \"rev\", a revision of at least 0.")
	}
	if m.Seq == nil || *m.Seq == 0 {
		return o, invalid("op needs \"seq\", a sequence number of at least 1.")
	}
	o.rev, o.seq = scribe.Revision(*m.Rev), *m.Seq
	if len(m.Op) == 0 || string(m.Op) == "null" {
		return o, invalid("op needs \"op\", an operation.")
	}
	op, err := ot.ParseJSON(m.Op)
	if err != nil {
		return o, fromOT(err)
	}
	o.op = op
	if len(m.Sel) > 0 && string(m.Sel) != "null" {
		sel, err := parseSel(m.Sel)
		if err != nil {
			return o, err
		}
		o.sel = sel
	}
	return o, nil
}

func (m *clientMsg) presence() (presenceMsg, error) {
	var p presenceMsg
	if m.Rev == nil || *m.Rev < 0 {
		return p, invalid("presence needs \"rev\", a revision of at least 0.")
	}
	p.rev = scribe.Revision(*m.Rev)
	if len(m.Sel) == 0 || string(m.Sel) == "null" {
		return p, invalid("presence needs \"sel\", a list of ranges.")
	}
	sel, err := parseSel(m.Sel)
	if err != nil {
		return p, err
	}
	p.sel = sel
	return p, nil
}

// pingID returns the id of a ping message, nil when it has none. An id must
// be an integer of magnitude at most 2^53-1, so that it survives a round trip
// through a JavaScript number.
func (m *clientMsg) pingID() (*int64, error) {
	if len(m.ID) == 0 || string(m.ID) == "null" {
		return nil, nil
	}
	var id int64
	if err := json.Unmarshal(m.ID, &id); err != nil || id > maxPingID || id < -maxPingID {
		return nil, invalid("A ping's \"id\" must be an integer between %d and %d.", -maxPingID, maxPingID)
	}
	return &id, nil
}

func parseSel(raw json.RawMessage) ([]Range, error) {
	var sel []Range
	if err := json.Unmarshal(raw, &sel); err != nil {
		return nil, invalid("\"sel\" must be a list of {\"anchor\": n, \"head\": n}: %s.", jsonProblem(err))
	}
	if len(sel) > maxSelRanges {
		return nil, invalid("A selection may have at most %d ranges.", maxSelRanges)
	}
	for _, r := range sel {
		if r.Anchor < 0 || r.Head < 0 || r.Anchor > ot.MaxLength || r.Head > ot.MaxLength {
			return nil, invalid("Selection offsets must be between 0 and the document length.")
		}
	}
	if sel == nil {
		sel = []Range{}
	}
	return sel, nil
}

// cleanName trims a display name and checks it: at most 64 characters, no
// control characters. An empty name becomes "Anonymous".
func cleanName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return defaultPersonName, nil
	}
	if !utf8.ValidString(s) {
		return "", invalid("The name must be valid UTF-8.")
	}
	if utf8.RuneCountInString(s) > maxNameRunes {
		return "", invalid("The name may have at most %d characters.", maxNameRunes)
	}
	// Control and format characters are an error here, not silently
	// dropped; whitespace runs collapse as in every other name.
	if strings.ContainsFunc(s, scribe.IsControl) {
		return "", invalid("The name must not contain control characters.")
	}
	if s = scribe.CleanText(s, maxNameRunes); s == "" {
		return defaultPersonName, nil
	}
	return s, nil
}

// fromOT turns an ot error into a scribe error with the same code.
func fromOT(err error) error {
	var oe *ot.Error
	if errors.As(err, &oe) {
		return &scribe.Error{Code: oe.Code, Message: upperFirst(oe.Message) + "."}
	}
	return err
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

// Server messages. Each is marshalled once and queued to every client that
// should get it.

type welcomeMsg struct {
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
	Peers    []peerMsg       `json:"peers"`
	Limits   limitsMsg       `json:"limits"`
}

type limitsMsg struct {
	MaxMessageBytes int     `json:"maxMessageBytes"`
	MaxNoteBytes    int     `json:"maxNoteBytes"`
	OpsPerSecond    float64 `json:"opsPerSecond"`
}

// peerMsg is one entry of welcome.peers and, with Type "presence", a
// presence message.
type peerMsg struct {
	Type     string          `json:"type,omitempty"`
	Client   string          `json:"client"`
	Name     string          `json:"name"`
	Color    string          `json:"color"`
	ReadOnly bool            `json:"readonly"`
	Rev      scribe.Revision `json:"rev"`
	Sel      []Range         `json:"sel,omitempty"`
}

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
		panic("server: marshal " + err.Error())
	}
	return b
}

// encodeAck encodes {"type":"ack","seq":S,"rev":R} by hand: one per op.
func encodeAck(seq uint64, rev scribe.Revision) []byte {
	b := make([]byte, 0, len(`{"type":"ack","seq":,"rev":}`)+40)
	b = append(b, `{"type":"ack","seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"rev":`...)
	b = strconv.AppendInt(b, int64(rev), 10)
	return append(b, '}')
}

// encodeOp encodes an op message: {"type":"op","rev":R,"op":[...]} with
// "client" when client is not empty and "sel" when sel is not nil. It is the
// hottest encoding of the server (every keystroke, once per note), so it is
// appended by hand rather than through encoding/json's reflection: op must
// be valid JSON (every caller passes the canonical form
// ot.Operation.String writes), and a client id is URL-safe base64 ("c_" +
// randomString) that needs no escaping; one that would (a peer id another
// node published) is quoted by encoding/json.
func encodeOp(rev scribe.Revision, op json.RawMessage, client string, sel []Range) []byte {
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
func appendSel(b []byte, sel []Range) []byte { return ot.Selection(sel).AppendJSON(b) }

func encodePong(id *int64) []byte {
	return mustJSON(pongMsg{Type: "pong", ID: id})
}

func encodeError(err error, seq *uint64) []byte {
	return mustJSON(errorMsg{Type: "error", Code: scribe.ErrorCode(err), Message: scribe.ErrorMessage(err), Seq: seq})
}
