package redis

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeEntryFast decodes a log entry written the one way this store writes
// it, without reflection: append.lua's {"r":REV,"t":NS, then Go's
// json.Marshal of a changeBody, compact, fields in order, credit absent:
//
//	{"r":12,"t":1796426792831342592,"o":[5,"x"],"s":"sess","q":3,"a":"Ann","e":"ann@example.com"}
//
// It reports false for anything else (another order, white space, a
// credit, a string with an escape or invalid UTF-8, a number out of
// range), and the caller decodes with encoding/json; when it reports true
// the result is what json.Unmarshal gives (FuzzDecodeEntryFast). Every
// node decodes every commit it hears of this way, its own included (the
// echo of its SPUBLISH), so encoding/json's reflection was a measurable
// share of one op (docs/benchmarks.md, issue 16).
func decodeEntryFast(raw string) (storedChange, bool) {
	var sc storedChange
	p := entryParser{s: raw}
	var ok bool
	if !p.lit(`{"r":`) {
		return sc, false
	}
	if sc.Rev, ok = p.int(); !ok || !p.lit(`,"t":`) {
		return sc, false
	}
	if sc.Time, ok = p.int(); !ok || !p.lit(`,"o":`) {
		return sc, false
	}
	op, ok := p.array()
	if !ok || !p.lit(`,"s":`) {
		return sc, false
	}
	sc.Op = json.RawMessage(op)
	if sc.Session, ok = p.str(); !ok || !p.lit(`,"q":`) {
		return sc, false
	}
	if sc.Seq, ok = p.uint(); !ok {
		return sc, false
	}
	if p.lit(`,"a":`) {
		if sc.Author, ok = p.str(); !ok {
			return sc, false
		}
	}
	if p.lit(`,"e":`) {
		if sc.Email, ok = p.str(); !ok {
			return sc, false
		}
	}
	if !p.lit(`}`) || p.i != len(p.s) {
		return sc, false
	}
	return sc, true
}

// entryParser reads a log entry from the left; every method reports false,
// consuming nothing useful, at the first byte it does not expect.
type entryParser struct {
	s string
	i int
}

// lit consumes lit if the input continues with it.
func (p *entryParser) lit(lit string) bool {
	if len(p.s)-p.i < len(lit) || p.s[p.i:p.i+len(lit)] != lit {
		return false
	}
	p.i += len(lit)
	return true
}

// digits consumes a JSON unsigned integer (no leading zero, no fraction or
// exponent) and returns its text.
func (p *entryParser) digits() (string, bool) {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	d := p.s[start:p.i]
	if d == "" || (len(d) > 1 && d[0] == '0') {
		return "", false
	}
	if p.i < len(p.s) && (p.s[p.i] == '.' || p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		return "", false
	}
	return d, true
}

func (p *entryParser) int() (int64, bool) {
	d, ok := p.digits()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(d, 10, 64)
	return n, err == nil
}

func (p *entryParser) uint() (uint64, bool) {
	d, ok := p.digits()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(d, 10, 64)
	return n, err == nil
}

// str consumes a JSON string without escapes, of valid UTF-8 and no control
// character: what encoding/json decodes to the same bytes.
func (p *entryParser) str() (string, bool) {
	if !p.lit(`"`) {
		return "", false
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			v := p.s[start:p.i]
			p.i++
			return v, utf8.ValidString(v)
		case c == '\\' || c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

// array consumes a flat JSON array of numbers and strings, as an op is
// written, and returns a copy of its text. Strings may hold escapes here:
// the text is kept as it is (a json.RawMessage), so they need only be
// valid JSON.
func (p *entryParser) array() ([]byte, bool) {
	start := p.i
	if !p.skipArray() {
		return nil, false
	}
	return []byte(p.s[start:p.i]), true
}

// skipArray consumes what array reads, without copying it.
func (p *entryParser) skipArray() bool {
	if !p.lit(`[`) {
		return false
	}
	if p.lit(`]`) {
		return true
	}
	for {
		if !p.value() {
			return false
		}
		if p.lit(`]`) {
			return true
		}
		if !p.lit(`,`) {
			return false
		}
	}
}

// value consumes one JSON number or string (escapes checked, not decoded).
func (p *entryParser) value() bool {
	if p.i >= len(p.s) {
		return false
	}
	if p.s[p.i] == '"' {
		p.i++
		for p.i < len(p.s) {
			c := p.s[p.i]
			switch {
			case c == '"':
				p.i++
				return true
			case c < 0x20:
				return false
			case c == '\\':
				if p.i+1 >= len(p.s) {
					return false
				}
				switch p.s[p.i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					p.i += 2
				case 'u':
					if p.i+6 > len(p.s) {
						return false
					}
					for _, h := range []byte(p.s[p.i+2 : p.i+6]) {
						if !isHex(h) {
							return false
						}
					}
					p.i += 6
				default:
					return false
				}
				continue
			}
			p.i++
		}
		return false
	}
	// A number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
	p.lit(`-`)
	switch {
	case p.lit(`0`):
	case p.i < len(p.s) && p.s[p.i] >= '1' && p.s[p.i] <= '9':
		p.skipDigits()
	default:
		return false
	}
	if p.lit(`.`) && !p.skipDigits() {
		return false
	}
	if p.lit(`e`) || p.lit(`E`) {
		if !p.lit(`+`) {
			p.lit(`-`)
		}
		if !p.skipDigits() {
			return false
		}
	}
	return true
}

// skipDigits consumes one or more digits.
func (p *entryParser) skipDigits() bool {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// encodeBody encodes b exactly as json.Marshal does (FuzzEncodeBody), by
// hand when nothing in it needs escaping or HTML-safe rewriting, which is
// nearly always; otherwise with json.Marshal. Append encodes one per op.
func encodeBody(b changeBody) ([]byte, error) {
	if len(b.Credit) > 0 || !plainJSON(string(b.Op)) || !plainString(b.Session) || !plainString(b.Author) || !plainString(b.Email) {
		return json.Marshal(b)
	}
	out := make([]byte, 0, len(b.Op)+len(b.Session)+len(b.Author)+len(b.Email)+48)
	out = append(out, `{"o":`...)
	out = append(out, b.Op...)
	out = append(out, `,"s":"`...)
	out = append(out, b.Session...)
	out = append(out, `","q":`...)
	out = strconv.AppendUint(out, b.Seq, 10)
	if b.Author != "" {
		out = append(append(append(out, `,"a":"`...), b.Author...), '"')
	}
	if b.Email != "" {
		out = append(append(append(out, `,"e":"`...), b.Email...), '"')
	}
	return append(out, '}'), nil
}

// plainString reports whether json.Marshal writes s as it is between
// quotes: valid UTF-8 with no quote, backslash, control character, <, >,
// & or line or paragraph separator.
func plainString(s string) bool {
	for _, r := range s {
		switch {
		case r == utf8.RuneError, r < 0x20, r == '"', r == '\\', r == '<', r == '>', r == '&', r == '\u2028', r == '\u2029':
			return false
		}
	}
	return true
}

// plainJSON reports whether json.Marshal copies raw, a json.RawMessage,
// unchanged: a flat array, compact (entryParser.array allows no white
// space outside strings nor a control character inside), with nothing
// it would rewrite as HTML-safe (<, >, &, U+2028, U+2029) and valid UTF-8.
// An op's MarshalJSON writes exactly that unless its text holds one of them.
func plainJSON(raw string) bool {
	if !utf8.ValidString(raw) || strings.ContainsAny(raw, "<>&\u2028\u2029") {
		return false
	}
	p := entryParser{s: raw}
	return p.skipArray() && p.i == len(raw)
}
