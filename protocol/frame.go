package protocol

// Parsing server -> client frames, for Go clients: the client package and
// the load tool share it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/scribe-notes/scribe/ot"
)

// Msg is any server -> client message; Type says which fields are set.
type Msg struct {
	Type     string
	Protocol int
	Client   string
	// ClientRaw is the JSON string of client, quotes included, when the
	// frame was parsed by ParseFrameLean (which leaves Client empty).
	ClientRaw []byte `json:"-"`
	Rev       int64
	Seq       uint64
	HasSeq    bool
	Op        []byte // raw JSON of the operation
	Sel       []byte // raw JSON of the selection
	NameRaw   []byte `json:"-"` // the JSON string (with quotes) of name: decode with Name
	ColorRaw  []byte `json:"-"` // the JSON string of color: decode with Color
	Person    string `json:"-"` // a member's person key (Peer.Person), in presence and welcome
	ReadOnly  bool
	Code      string
	Message   string
	Text      string
	HasText   bool
	Title     string
	LastSeq   uint64
	Catchup   bool
	Peers     []byte // raw JSON
	Viewers   int64  // a welcome's or a viewers message's count of read-only viewers
	Limits    []byte // raw JSON
	Export    []byte // raw JSON of a welcome's or an exported message's export: decode with ParseExport
	ID        int64  // a pong's id, when HasID
	HasID     bool
}

// ParseFrame decodes one server frame, a JSON array of message objects (a
// single object is accepted too), appending the messages to out. Client ids
// are interned in intern when it is not nil. Byte-slice fields point into b.
// It is a small hand-written scanner rather than encoding/json because a
// client in a busy note decodes thousands of messages per second, and the
// load tool runs hundreds of clients in one process; unknown keys are
// skipped, so the server may add fields.
func ParseFrame(b []byte, out []Msg, intern map[string]string) ([]Msg, error) {
	return parseFrame(scanner{b: b, intern: intern}, out)
}

// ParseFrameLean is ParseFrame for a reader that does not need to know who
// sent an op or moved: client ids are not decoded (ClientRaw holds them),
// which spares a string or a map lookup per message.
func ParseFrameLean(b []byte, out []Msg) ([]Msg, error) {
	return parseFrame(scanner{b: b, lean: true}, out)
}

// ParseObjectLean parses one message object starting at b[i], as
// ParseFrameLean parses each, and returns it and the index just past it:
// for a reader that walks a frame itself.
func ParseObjectLean(b []byte, i int) (Msg, int, error) {
	s := scanner{b: b, i: i, lean: true}
	var m Msg
	err := s.object(&m)
	return m, s.i, err
}

func parseFrame(s scanner, out []Msg) ([]Msg, error) {
	s.ws()
	if s.i >= len(s.b) {
		return out, errors.New("empty frame")
	}
	if s.b[s.i] == '{' {
		var m Msg
		if err := s.object(&m); err != nil {
			return out, err
		}
		return append(out, m), s.end()
	}
	if !s.eat('[') {
		return out, s.errf("frame is neither an array nor an object")
	}
	s.ws()
	if s.eat(']') {
		return out, s.end()
	}
	for {
		var m Msg
		s.ws()
		if err := s.object(&m); err != nil {
			return out, err
		}
		out = append(out, m)
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat(']') {
			return out, s.end()
		}
		return out, s.errf("expected , or ] in frame")
	}
}

type scanner struct {
	b      []byte
	i      int
	intern map[string]string // recurring strings (client ids), to spare an allocation each; may be nil
	lean   bool              // leave client ids raw
}

// maxInterned bounds a scanner's intern map; it is emptied when full.
const maxInterned = 4096

// typeName reads a message type, returning constants for the known ones.
func (s *scanner) typeName() (string, error) {
	save := s.i
	raw, err := s.rawString()
	if err != nil {
		return "", err
	}
	switch string(raw) {
	case "op":
		return "op", nil
	case "ack":
		return "ack", nil
	case "presence":
		return "presence", nil
	case "leave":
		return "leave", nil
	case "welcome":
		return "welcome", nil
	case "error":
		return "error", nil
	case "title":
		return "title", nil
	case "viewers":
		return "viewers", nil
	}
	s.i = save
	return s.str()
}

// interned reads a string and returns the interned copy of it.
func (s *scanner) interned() (string, error) {
	save := s.i
	raw, err := s.rawString()
	if err != nil || s.intern == nil {
		s.i = save
		return s.str()
	}
	if v, ok := s.intern[string(raw)]; ok {
		return v, nil
	}
	s.i = save
	v, err := s.str()
	if err != nil {
		return "", err
	}
	if len(s.intern) >= maxInterned {
		clear(s.intern)
	}
	s.intern[v] = v
	return v, nil
}

func (s *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("bad server frame at byte %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.errf("trailing data")
	}
	return nil
}

func (s *scanner) object(m *Msg) error {
	if !s.eat('{') {
		return s.errf("expected an object")
	}
	s.ws()
	if s.eat('}') {
		return nil
	}
	for {
		s.ws()
		key, err := s.rawString()
		if err != nil {
			return err
		}
		s.ws()
		if !s.eat(':') {
			return s.errf("expected :")
		}
		s.ws()
		if err := s.field(m, key); err != nil {
			return err
		}
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return nil
		}
		return s.errf("expected , or }")
	}
}

func (s *scanner) field(m *Msg, key []byte) error {
	var err error
	switch string(key) {
	case "type":
		m.Type, err = s.typeName()
	case "protocol":
		var n int64
		n, err = s.int()
		m.Protocol = int(n)
	case "client":
		if s.lean {
			m.ClientRaw, err = s.rawValue()
		} else {
			m.Client, err = s.interned()
		}
	case "rev":
		m.Rev, err = s.int()
	case "viewers":
		m.Viewers, err = s.int()
	case "seq":
		var n int64
		n, err = s.int()
		m.Seq, m.HasSeq = uint64(n), true
	case "lastSeq":
		var n int64
		n, err = s.int()
		m.LastSeq = uint64(n)
	case "op":
		m.Op, err = s.skip()
	case "sel":
		m.Sel, err = s.skip()
	case "peers":
		m.Peers, err = s.skip()
	case "limits":
		m.Limits, err = s.skip()
	case "export":
		m.Export, err = s.skip()
	case "name":
		m.NameRaw, err = s.rawValue()
	case "color":
		m.ColorRaw, err = s.rawValue()
	case "person":
		m.Person, err = s.str()
	case "readonly":
		m.ReadOnly, err = s.bool()
	case "catchup":
		m.Catchup, err = s.bool()
	case "code":
		m.Code, err = s.str()
	case "message":
		m.Message, err = s.str()
	case "title":
		m.Title, err = s.str()
	case "text":
		m.Text, err = s.str()
		m.HasText = err == nil
	case "id":
		m.ID, err = s.int()
		m.HasID = err == nil
	default:
		_, err = s.skip()
	}
	return err
}

// rawValue returns the raw JSON of a string value, quotes included
// (or null), for decoding later.
func (s *scanner) rawValue() ([]byte, error) {
	start := s.i
	if s.literal("null") {
		return nil, nil
	}
	if _, err := s.rawString(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// decodeStr decodes a raw JSON string from rawValue; "" for nil or invalid.
func decodeStr(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	s := scanner{b: raw}
	v, err := s.str()
	if err != nil {
		return ""
	}
	return v
}

// SameStr reports whether the raw JSON string raw (from rawValue) decodes
// to v, without allocating when it has no escapes.
func SameStr(raw []byte, v string) bool {
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1:len(raw)-1]) == v
	}
	return decodeStr(raw) == v
}

// Name is the decoded name of a presence or welcome message.
func (m *Msg) Name() string { return decodeStr(m.NameRaw) }

// Color is the decoded colour of a presence or welcome message.
func (m *Msg) Color() string { return decodeStr(m.ColorRaw) }

// rawString returns the bytes between the quotes of a string without
// decoding escapes (used for keys, which are plain ASCII). A byte loop: the
// strings of a busy frame are short, and a call to IndexByte per string
// cost more than it saved.
func (s *scanner) rawString() ([]byte, error) {
	if !s.eat('"') {
		return nil, s.errf("expected a string")
	}
	start := s.i
	for i := start; i < len(s.b); i++ {
		switch s.b[i] {
		case '"':
			s.i = i + 1
			return s.b[start:i], nil
		case '\\':
			i++ // the escaped byte cannot end the string
		}
	}
	s.i = len(s.b)
	return nil, s.errf("unterminated string")
}

// str decodes a JSON string (null reads as ""). Strings without escapes are
// converted directly; others go through encoding/json.
func (s *scanner) str() (string, error) {
	if s.literal("null") {
		return "", nil
	}
	start := s.i
	raw, err := s.rawString()
	if err != nil {
		return "", err
	}
	plain := true
	for _, c := range raw {
		if c == '\\' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain && utf8.Valid(raw) {
		return string(raw), nil
	}
	var v string
	if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
		return "", s.errf("bad string: %v", err)
	}
	return v, nil
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

func (s *scanner) bool() (bool, error) {
	switch {
	case s.literal("true"):
		return true, nil
	case s.literal("false"), s.literal("null"):
		return false, nil
	}
	return false, s.errf("expected a boolean")
}

func (s *scanner) int() (int64, error) {
	if s.literal("null") {
		return 0, nil
	}
	start := s.i
	neg := s.eat('-')
	var n int64
	digits := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		d := int64(s.b[s.i] - '0')
		if n > (1<<63-1-d)/10 {
			return 0, s.errf("integer out of range")
		}
		n = n*10 + d
		s.i++
		digits++
	}
	if digits == 0 || (digits > 1 && s.b[start+b2i(neg)] == '0') {
		return 0, s.errf("expected an integer")
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return 0, s.errf("expected an integer")
	}
	if neg {
		n = -n
	}
	return n, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// skip passes over any JSON value and returns its raw bytes. It finds the
// value's end (strings, nesting); it does not validate what lies inside.
func (s *scanner) skip() ([]byte, error) {
	start := s.i
	if s.i >= len(s.b) {
		return nil, s.errf("unterminated value")
	}
	switch s.b[s.i] {
	case '"':
		if _, err := s.rawString(); err != nil {
			return nil, err
		}
		return s.b[start:s.i], nil
	case '[', '{':
		depth := 0
		for i := s.i; i < len(s.b); i++ {
			switch s.b[i] {
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					s.i = i + 1
					return s.b[start:s.i], nil
				}
			case '"':
				s.i = i
				if _, err := s.rawString(); err != nil {
					return nil, err
				}
				i = s.i - 1
			}
		}
		s.i = len(s.b)
		return nil, s.errf("unterminated value")
	case ']', '}', ',':
		return nil, s.errf("expected a value")
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return s.b[start:s.i], nil
		}
		s.i++
	}
	return s.b[start:s.i], nil
}

// ParseSel decodes a selection, [{"anchor":a,"head":h},...], without
// reflection; null is no selection.
func ParseSel(b []byte) (ot.Selection, error) {
	s := scanner{b: b}
	s.ws()
	if s.literal("null") {
		return nil, s.end()
	}
	if !s.eat('[') {
		return nil, s.errf("a selection must be an array")
	}
	sel := ot.Selection{}
	s.ws()
	if s.eat(']') {
		return sel, s.end()
	}
	for {
		s.ws()
		if !s.eat('{') {
			return nil, s.errf("a range must be an object")
		}
		var r ot.Range
		for {
			s.ws()
			key, err := s.rawString()
			if err != nil {
				return nil, err
			}
			s.ws()
			if !s.eat(':') {
				return nil, s.errf("expected :")
			}
			s.ws()
			switch string(key) {
			case "anchor", "head":
				n, err := s.int()
				if err != nil {
					return nil, err
				}
				if string(key) == "anchor" {
					r.Anchor = int(n)
				} else {
					r.Head = int(n)
				}
			default:
				if _, err := s.skip(); err != nil {
					return nil, err
				}
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			if s.eat('}') {
				break
			}
			return nil, s.errf("expected , or }")
		}
		sel = append(sel, r)
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat(']') {
			return sel, s.end()
		}
		return nil, s.errf("expected , or ]")
	}
}
