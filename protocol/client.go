package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// Limits on what a client may send, beyond the configurable ones
// (docs/protocol.md).
const (
	maxNameRunes      = 64  // a display name, after trimming
	MaxSelRanges      = 100 // ranges in one selection
	defaultPersonName = "Anonymous"
	maxPingID         = MaxInt // a ping's id
)

// MaxInt is the largest integer a JavaScript number holds exactly, 2^53 − 1:
// the cap on every integer the protocol carries (seq, rev, a ping's id), so
// that each survives a browser's JSON.parse. A larger one is refused with
// EINVALID.
const MaxInt = 1<<53 - 1

// MaxSeq is the highest seq a session may use; MaxRev the highest revision.
const (
	MaxSeq uint64          = MaxInt
	MaxRev scribe.Revision = MaxInt
)

// checkRev refuses a revision a client sent that is negative or above MaxRev.
func checkRev(msg string, rev *int64) (scribe.Revision, error) {
	switch {
	case rev == nil:
		return 0, invalid("%s needs \"rev\", a revision from 0 to %d.", msg, MaxRev)
	case *rev < 0:
		return 0, invalid("rev must not be negative.")
	case *rev > int64(MaxRev):
		return 0, invalid("rev may be at most %d.", MaxRev)
	}
	return scribe.Revision(*rev), nil
}

// ClientMsg is any client frame, decoded loosely by type; the fields a type
// does not use are ignored. Pointers tell a missing field from a zero one.
// The methods Hello, OpMsg, Presence, PingID and NewName validate it as
// the message its Type says.
type ClientMsg struct {
	Type     string          `json:"type"`
	Protocol *int            `json:"protocol"`
	Session  *string         `json:"session"`
	Name     *string         `json:"name"`
	Rev      *int64          `json:"rev"`
	Seq      *uint64         `json:"seq"`
	Op       json.RawMessage `json:"op"`
	Sel      json.RawMessage `json:"sel"`
	ID       json.RawMessage `json:"id"`
	Len      *int64          `json:"len"`
	Hash     *int64          `json:"hash"`

	op *OpMsg // set by decodeOpFast: already validated
}

// Hello is a validated hello.
type Hello struct {
	Session string
	Name    string
	Rev     scribe.Revision // valid when HasRev
	HasRev  bool
	// FP is the fingerprint of the client's text at Rev, when HasFP (only
	// with HasRev): the server sends the full text when its own differs.
	FP    Fingerprint
	HasFP bool
}

// OpMsg is a validated op message.
type OpMsg struct {
	Rev scribe.Revision
	Seq uint64
	Op  ot.Operation
	Sel []ot.Range // nil when absent
}

// Presence is a validated presence message.
type Presence struct {
	Rev scribe.Revision
	Sel []ot.Range
}

func invalid(format string, args ...any) *scribe.Error {
	return scribe.Errorf(scribe.EINVALID, format, args...)
}

// DecodeClientMsg parses one client frame. Every failure is an EINVALID
// *scribe.Error whose message says what was wrong. An op frame in the form
// browsers send is decoded without reflection (decodeOpFast); anything else
// goes through encoding/json.
func DecodeClientMsg(data []byte) (*ClientMsg, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, invalid("A message must be a JSON object.")
	}
	if m, ok := decodeOpFast(data); ok {
		return m, nil
	}
	var m ClientMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, invalid("Malformed message: %s.", JSONProblem(err))
	}
	if m.Type == "" {
		return nil, invalid("A message needs a \"type\".")
	}
	return &m, nil
}

// JSONProblem describes an encoding/json decoding error without echoing
// large input; the HTTP API words its errors with it too.
func JSONProblem(err error) string {
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

// Hello validates m as a hello: the protocol version, the session id, the
// display name (cleaned) and the revision the client has, if any.
func (m *ClientMsg) Hello() (Hello, error) {
	var h Hello
	if m.Protocol == nil {
		return h, invalid("hello needs \"protocol\": %d.", Version)
	}
	if *m.Protocol != Version {
		return h, invalid("Protocol version %d is not supported; this server speaks version %d.", *m.Protocol, Version)
	}
	if m.Session == nil {
		return h, invalid("hello needs a \"session\".")
	}
	if !scribe.ValidSession(*m.Session) {
		return h, invalid("The session must be %d to %d characters of A-Z, a-z, 0-9, '-' or '_'.", scribe.MinSessionLen, scribe.MaxSessionLen)
	}
	h.Session = *m.Session
	name := ""
	if m.Name != nil {
		name = *m.Name
	}
	n, err := cleanName(name)
	if err != nil {
		return h, err
	}
	h.Name = n
	if m.Rev != nil {
		rev, err := checkRev("hello", m.Rev)
		if err != nil {
			return h, err
		}
		h.Rev, h.HasRev = rev, true
	}
	if m.Len != nil || m.Hash != nil {
		switch {
		case m.Len == nil || m.Hash == nil || !h.HasRev:
			return h, invalid("hello's \"len\" and \"hash\" come together, with \"rev\".")
		case *m.Len < 0 || *m.Len > ot.MaxLength:
			return h, invalid("hello's \"len\" must be from 0 to %d.", ot.MaxLength)
		case *m.Hash < 0 || *m.Hash > 1<<32-1:
			return h, invalid("hello's \"hash\" must be from 0 to %d.", uint32(1<<32-1))
		}
		h.FP, h.HasFP = Fingerprint{Len: int(*m.Len), Hash: uint32(*m.Hash)}, true
	}
	return h, nil
}

// OpMsg validates m as an op message: rev, seq, the operation and the
// optional selection.
func (m *ClientMsg) OpMsg() (OpMsg, error) {
	if m.op != nil {
		return *m.op, nil
	}
	var o OpMsg
	rev, err := checkRev("op", m.Rev)
	if err != nil {
		return o, err
	}
	if m.Seq == nil || *m.Seq == 0 || *m.Seq > MaxSeq {
		return o, invalid("op needs \"seq\", a sequence number from 1 to %d.", MaxSeq)
	}
	o.Rev, o.Seq = rev, *m.Seq
	if len(m.Op) == 0 || string(m.Op) == "null" {
		return o, invalid("op needs \"op\", an operation.")
	}
	op, err := ot.ParseJSON(m.Op)
	if err != nil {
		return o, FromOT(err)
	}
	o.Op = op
	if len(m.Sel) > 0 && string(m.Sel) != "null" {
		sel, err := parseSel(m.Sel)
		if err != nil {
			return o, err
		}
		o.Sel = sel
	}
	return o, nil
}

// Presence validates m as a presence message: rev and the selection.
func (m *ClientMsg) Presence() (Presence, error) {
	var p Presence
	rev, err := checkRev("presence", m.Rev)
	if err != nil {
		return p, err
	}
	p.Rev = rev
	if len(m.Sel) == 0 || string(m.Sel) == "null" {
		return p, invalid("presence needs \"sel\", a list of ranges.")
	}
	sel, err := parseSel(m.Sel)
	if err != nil {
		return p, err
	}
	p.Sel = sel
	return p, nil
}

// NewName validates m as a name message and returns the cleaned name.
func (m *ClientMsg) NewName() (string, error) {
	if m.Name == nil {
		return "", invalid("name needs \"name\".")
	}
	return cleanName(*m.Name)
}

// PingID returns the id of a ping message, nil when it has none. An id must
// be an integer of magnitude at most 2^53-1, so that it survives a round trip
// through a JavaScript number.
func (m *ClientMsg) PingID() (*int64, error) {
	if len(m.ID) == 0 || string(m.ID) == "null" {
		return nil, nil
	}
	var id int64
	if err := json.Unmarshal(m.ID, &id); err != nil || id > maxPingID || id < -maxPingID {
		return nil, invalid("A ping's \"id\" must be an integer between %d and %d.", -maxPingID, maxPingID)
	}
	return &id, nil
}

func parseSel(raw json.RawMessage) ([]ot.Range, error) {
	var sel []ot.Range
	if err := json.Unmarshal(raw, &sel); err != nil {
		return nil, invalid("\"sel\" must be a list of {\"anchor\": n, \"head\": n}: %s.", JSONProblem(err))
	}
	if len(sel) > MaxSelRanges {
		return nil, invalid("A selection may have at most %d ranges.", MaxSelRanges)
	}
	for _, r := range sel {
		if r.Anchor < 0 || r.Head < 0 || r.Anchor > ot.MaxLength || r.Head > ot.MaxLength {
			return nil, invalid("Selection offsets must be between 0 and the document length.")
		}
	}
	if sel == nil {
		sel = []ot.Range{}
	}
	return sel, nil
}

// CleanName cleans a display name as a hello or name message has it
// cleaned (cleanName); the HTTP API cleans an edit's author with it.
func CleanName(s string) (string, error) { return cleanName(s) }

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

// FromOT turns an ot error into a scribe error with the same code, worded
// as an error message to a client.
func FromOT(err error) error {
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
