package ot

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MarshalJSON returns op in ot.js's TextOperation wire format, e.g.
// [5,"abc",-2,3]. The empty operation is []. It never fails.
func (op Operation) MarshalJSON() ([]byte, error) {
	return op.appendJSON(make([]byte, 0, op.jsonLen())), nil
}

// appendJSON appends op's JSON form to dst.
func (op Operation) appendJSON(dst []byte) []byte {
	dst = append(dst, '[')
	for i, c := range op.comps {
		if i > 0 {
			dst = append(dst, ',')
		}
		switch c.k {
		case kRetain:
			dst = strconv.AppendInt(dst, int64(c.n), 10)
		case kDelete:
			dst = strconv.AppendInt(dst, -int64(c.n), 10)
		case kInsert:
			dst = appendJSONString(dst, c.s)
		}
	}
	return append(dst, ']')
}

// jsonLen returns the length of op's JSON form, or less when an insert
// holds characters that must be escaped.
func (op Operation) jsonLen() int {
	n := 2 + max(len(op.comps)-1, 0) // the brackets and the commas
	for _, c := range op.comps {
		switch c.k {
		case kInsert:
			n += len(c.s) + 2
		case kDelete:
			n += 1 + digits(c.n)
		default:
			n += digits(c.n)
		}
	}
	return n
}

// digits returns the number of decimal digits of n > 0.
func digits(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// UnmarshalJSON decodes ot.js's TextOperation wire format into op. It reads
// the raw JSON itself, so nothing is lost to encoding/json's leniency, and
// accepts exactly: one JSON array (surrounding whitespace allowed) whose
// items are non-zero integers of magnitude at most MaxLength, written
// without fraction or exponent, and strings. A string must be valid UTF-8
// and may not hold a lone surrogate, raw or escaped ("\ud83d" alone is
// rejected; "\ud83d\ude00" is 😀). Anything else (null, floats, zero, nested
// arrays, objects, booleans, trailing data) is an EINVALID error, and op is
// left unchanged. A valid but non-canonical array is canonicalised: [1,2]
// becomes [3], [-1,"a"] becomes ["a",-1], and "" is dropped, as in ot.js.
// An operation whose total length exceeds MaxLength is an ETOOLARGE error.
//
// Note that encoding/json does not call UnmarshalJSON for a missing field;
// callers check presence themselves.
func (op *Operation) UnmarshalJSON(data []byte) error {
	p := parser{data: data}
	o, err := p.parse()
	if err != nil {
		return err
	}
	*op = o
	return nil
}

// ParseJSON decodes an operation from its JSON wire form; see UnmarshalJSON.
func ParseJSON(data []byte) (Operation, error) {
	p := parser{data: data}
	return p.parse()
}

type parser struct {
	data []byte
	i    int
}

func (p *parser) skipSpace() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) parse() (Operation, error) {
	var b Builder
	// Room for a typical keystroke's [retain, insert, retain] and a little
	// more, so small frames decode with one allocation for the components.
	b.comps = make([]comp, 0, 4)
	p.skipSpace()
	if p.i >= len(p.data) || p.data[p.i] != '[' {
		return Operation{}, invalidf("operation is not a JSON array")
	}
	p.i++
	p.skipSpace()
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
	} else {
		for item := 0; ; item++ {
			p.skipSpace()
			if p.i >= len(p.data) {
				return Operation{}, invalidf("operation: unexpected end of JSON")
			}
			switch c := p.data[p.i]; {
			case c == '"':
				s, n16, err := p.str()
				if err != nil {
					return Operation{}, invalidf("operation item %d: %s", item, err.Message)
				}
				b.insert(s, n16)
			case c == '-' || c >= '0' && c <= '9':
				n, err := p.int()
				if err != nil {
					return Operation{}, invalidf("operation item %d: %s", item, err.Message)
				}
				if n > 0 {
					b.retain(n)
				} else {
					b.delete(-n)
				}
			default:
				return Operation{}, invalidf("operation item %d: not an integer or a string", item)
			}
			p.skipSpace()
			if p.i >= len(p.data) {
				return Operation{}, invalidf("operation: unexpected end of JSON")
			}
			if p.data[p.i] == ',' {
				p.i++
				continue
			}
			if p.data[p.i] == ']' {
				p.i++
				break
			}
			return Operation{}, invalidf("operation: expected ',' or ']' after item %d", item)
		}
	}
	p.skipSpace()
	if p.i != len(p.data) {
		return Operation{}, invalidf("operation: unexpected data after the array")
	}
	op, err := b.op()
	if err != nil {
		return Operation{}, err
	}
	return op, nil
}

// int reads a JSON integer: -?(0|[1-9][0-9]*), non-zero, magnitude at most
// MaxLength, not followed by a fraction or exponent.
func (p *parser) int() (int, *Error) {
	neg := false
	if p.data[p.i] == '-' {
		neg = true
		p.i++
	}
	start := p.i
	n := 0
	for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
		d := int(p.data[p.i] - '0')
		if n > (MaxLength-d)/10 { // checked before it happens: int may be 32 bits
			return 0, invalidf("number exceeds %d", MaxLength)
		}
		n = n*10 + d
		p.i++
	}
	digits := p.i - start
	if digits == 0 {
		return 0, invalidf("malformed number")
	}
	if digits > 1 && p.data[start] == '0' {
		return 0, invalidf("number with a leading zero")
	}
	if p.i < len(p.data) {
		if c := p.data[p.i]; c == '.' || c == 'e' || c == 'E' {
			return 0, invalidf("number is not an integer")
		}
	}
	if n == 0 {
		return 0, invalidf("zero is not a component")
	}
	if neg {
		n = -n
	}
	return n, nil
}

// str reads a JSON string literal starting at the opening quote and returns
// its value and UTF-16 length.
func (p *parser) str() (string, int, *Error) {
	p.i++ // opening quote
	var sb []byte
	n16 := 0
	start := p.i
	escaped := false
	for {
		if p.i >= len(p.data) {
			return "", 0, invalidf("unterminated string")
		}
		c := p.data[p.i]
		switch {
		case c == '"':
			var s string
			if escaped {
				sb = append(sb, p.data[start:p.i]...)
				s = string(sb)
			} else {
				s = string(p.data[start:p.i])
			}
			p.i++
			if n16 > MaxLength {
				return "", 0, errorf(ETOOLARGE, "string exceeds the maximum length %d", MaxLength)
			}
			return s, n16, nil
		case c < 0x20:
			return "", 0, invalidf("control character in string")
		case c == '\\':
			if !escaped {
				sb = make([]byte, 0, p.i-start+16)
				escaped = true
			}
			sb = append(sb, p.data[start:p.i]...)
			r, err := p.escape()
			if err != nil {
				return "", 0, err
			}
			sb = utf8.AppendRune(sb, r)
			if r >= 0x10000 {
				n16 += 2
			} else {
				n16++
			}
			start = p.i
		case c < utf8.RuneSelf:
			n16++
			p.i++
		default:
			r, size := utf8.DecodeRune(p.data[p.i:])
			if r == utf8.RuneError && size == 1 {
				return "", 0, invalidf("string is not valid UTF-8")
			}
			if r >= 0x10000 {
				n16 += 2
			} else {
				n16++
			}
			p.i += size
		}
	}
}

// escape reads an escape sequence starting at the backslash, combining a
// \uXXXX surrogate pair into one rune and rejecting lone surrogates.
func (p *parser) escape() (rune, *Error) {
	if p.i+1 >= len(p.data) {
		return 0, invalidf("unterminated escape")
	}
	c := p.data[p.i+1]
	p.i += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return 0, invalidf("malformed \\u escape")
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return 0, invalidf("lone surrogate in string")
		case r >= 0xD800 && r <= 0xDBFF:
			if p.i+1 >= len(p.data) || p.data[p.i] != '\\' || p.data[p.i+1] != 'u' {
				return 0, invalidf("lone surrogate in string")
			}
			p.i += 2
			lo, ok := p.hex4()
			if !ok {
				return 0, invalidf("malformed \\u escape")
			}
			if lo < 0xDC00 || lo > 0xDFFF {
				return 0, invalidf("lone surrogate in string")
			}
			return utf16.DecodeRune(r, lo), nil
		}
		return r, nil
	}
	return 0, invalidf("invalid escape")
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.i : p.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}
