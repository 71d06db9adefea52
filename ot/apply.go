package ot

import (
	"strings"
	"unicode/utf8"
)

// advance returns the byte offset reached by moving n UTF-16 code units from
// byte offset i in s. ok is false when s ends first (end is then true) or
// when the position reached falls inside a surrogate pair.
func advance(s string, i, n int) (j int, ok, end bool) {
	for n > 0 {
		// Fast path: ASCII bytes are one unit each.
		for n >= 32 && i+32 <= len(s) && ascii8(s[i:i+8]) && ascii8(s[i+8:i+16]) && ascii8(s[i+16:i+24]) && ascii8(s[i+24:i+32]) {
			i += 32
			n -= 32
		}
		for n >= 8 && i+8 <= len(s) && ascii8(s[i:i+8]) {
			i += 8
			n -= 8
		}
		if n == 0 {
			break
		}
		if i >= len(s) {
			return i, false, true
		}
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			n--
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			if n == 1 {
				return i, false, false
			}
			n -= 2
		} else {
			n--
		}
		i += size
	}
	return i, true, false
}

// ascii8 reports whether the eight bytes of s are all ASCII.
func ascii8(s string) bool {
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	return x&0x8080808080808080 == 0
}

// Apply applies op to doc and returns the result. doc must be valid UTF-8
// and op's base length must equal doc's length in UTF-16 code units;
// otherwise, or when a retain or delete boundary falls inside a surrogate
// pair of doc, the error has code EINVALID. Its cost is linear in the
// lengths of doc and of op.
func Apply(doc string, op Operation) (string, error) {
	if !utf8.ValidString(doc) {
		return "", invalidf("document is not valid UTF-8")
	}
	var sb strings.Builder
	sb.Grow(len(doc) + insertedBytes(op))
	i := 0
	for _, c := range op.comps {
		switch c.k {
		case kRetain, kDelete:
			j, ok, end := advance(doc, i, c.n)
			if end {
				return "", op.Validate(Len16(doc))
			}
			if !ok {
				return "", invalidf("operation boundary splits a surrogate pair")
			}
			if c.k == kRetain {
				sb.WriteString(doc[i:j])
			}
			i = j
		case kInsert:
			sb.WriteString(c.s)
		}
	}
	if i != len(doc) {
		return "", op.Validate(Len16(doc))
	}
	return sb.String(), nil
}

func insertedBytes(op Operation) int {
	n := 0
	for _, c := range op.comps {
		if c.k == kInsert {
			n += len(c.s)
		}
	}
	return n
}

// Invert returns the operation that undoes op: Apply(Apply(doc, op),
// Invert(op, doc)) == doc. doc is the document op applies to; errors are
// Apply's.
func Invert(op Operation, doc string) (Operation, error) {
	if !utf8.ValidString(doc) {
		return Operation{}, invalidf("document is not valid UTF-8")
	}
	var b Builder
	i := 0
	for _, c := range op.comps {
		switch c.k {
		case kRetain, kDelete:
			j, ok, end := advance(doc, i, c.n)
			if end {
				return Operation{}, op.Validate(Len16(doc))
			}
			if !ok {
				return Operation{}, invalidf("operation boundary splits a surrogate pair")
			}
			if c.k == kRetain {
				b.retain(c.n)
			} else {
				// A copy, so the inverse does not keep all of doc alive.
				b.insert(strings.Clone(doc[i:j]), c.n)
			}
			i = j
		case kInsert:
			b.delete(c.n)
		}
	}
	if i != len(doc) {
		return Operation{}, op.Validate(Len16(doc))
	}
	return b.op()
}

// split16 splits the insert text s after n UTF-16 code units (0 < n <
// Len16(s)). ok is false when that point falls inside a surrogate pair.
func split16(s string, n int) (head, tail string, ok bool) {
	j, ok, _ := advance(s, 0, n)
	if !ok {
		return "", "", false
	}
	return s[:j], s[j:], true
}

// cursor walks the components of an operation, handing out pieces of them.
type cursor struct {
	comps []comp
	i     int
	cur   comp // the current (possibly partly consumed) component
	ok    bool // cur is valid
}

func newCursor(op Operation) *cursor {
	c := &cursor{comps: op.comps}
	c.next()
	return c
}

func (c *cursor) next() {
	if c.i < len(c.comps) {
		c.cur = c.comps[c.i]
		c.i++
		c.ok = true
		return
	}
	c.cur = comp{}
	c.ok = false
}

// Compose returns the operation that has the effect of a followed by b:
// Apply(Apply(s, a), b) == Apply(s, Compose(a, b)). b's base length must be
// a's target length (EINVALID otherwise), and no boundary of b may fall
// inside a surrogate pair that a inserts.
func Compose(a, b Operation) (Operation, error) {
	if a.target != b.base {
		return Operation{}, invalidf("compose: the second operation's base length %d does not match the first's target length %d", b.base, a.target)
	}
	var out Builder
	out.comps = make([]comp, 0, len(a.comps)+len(b.comps))
	x, y := newCursor(a), newCursor(b)
	for x.ok || y.ok {
		if x.ok && x.cur.k == kDelete {
			out.delete(x.cur.n)
			x.next()
			continue
		}
		if y.ok && y.cur.k == kInsert {
			out.insert(y.cur.s, y.cur.n)
			y.next()
			continue
		}
		if !x.ok || !y.ok {
			// Unreachable when the lengths match; kept so no input panics.
			return Operation{}, invalidf("compose: operations do not line up")
		}
		n := min(x.cur.n, y.cur.n)
		switch {
		case x.cur.k == kRetain && y.cur.k == kRetain:
			out.retain(n)
		case x.cur.k == kRetain && y.cur.k == kDelete:
			out.delete(n)
		case x.cur.k == kInsert && y.cur.k == kRetain:
			if n < x.cur.n {
				head, tail, ok := split16(x.cur.s, n)
				if !ok {
					return Operation{}, invalidf("compose: a boundary splits an inserted surrogate pair")
				}
				out.insert(head, n)
				x.cur.s = tail
			} else {
				out.insert(x.cur.s, n)
			}
		case x.cur.k == kInsert && y.cur.k == kDelete:
			if n < x.cur.n {
				_, tail, ok := split16(x.cur.s, n)
				if !ok {
					return Operation{}, invalidf("compose: a boundary splits an inserted surrogate pair")
				}
				x.cur.s = tail
			}
		}
		x.cur.n -= n
		y.cur.n -= n
		if x.cur.n == 0 {
			x.next()
		}
		if y.cur.n == 0 {
			y.next()
		}
	}
	return out.op()
}

// Transform takes two operations a and b made concurrently on the same
// document and returns aPrime and bPrime such that applying a then bPrime
// gives the same text as applying b then aPrime:
//
//	Apply(Apply(s, a), bPrime) == Apply(Apply(s, b), aPrime)
//
// When both insert at the same position, a's insert comes first, as in
// ot.js. The base lengths must be equal (EINVALID otherwise); a transformed
// length beyond MaxLength is an ETOOLARGE error.
func Transform(a, b Operation) (aPrime, bPrime Operation, err error) {
	if a.base != b.base {
		return Operation{}, Operation{}, invalidf("transform: base lengths %d and %d differ", a.base, b.base)
	}
	// Two keystrokes (the common case by far) are integer arithmetic.
	if x, ok := simpleOf(a); ok {
		if y, ok := simpleOf(b); ok {
			if x2, y2, ok := transformSimple(x, y); ok {
				return x2.op(), y2.op(), nil
			}
		}
	}
	return transformGeneral(a, b)
}

// transformGeneral is Transform for any operations of equal base length.
func transformGeneral(a, b Operation) (aPrime, bPrime Operation, err error) {
	var ap, bp Builder
	ap.comps = make([]comp, 0, len(a.comps)+len(b.comps))
	bp.comps = make([]comp, 0, len(a.comps)+len(b.comps))
	x, y := newCursor(a), newCursor(b)
	for x.ok || y.ok {
		if x.ok && x.cur.k == kInsert {
			ap.insert(x.cur.s, x.cur.n)
			bp.retain(x.cur.n)
			x.next()
			continue
		}
		if y.ok && y.cur.k == kInsert {
			ap.retain(y.cur.n)
			bp.insert(y.cur.s, y.cur.n)
			y.next()
			continue
		}
		if !x.ok || !y.ok {
			// Unreachable when the lengths match; kept so no input panics.
			return Operation{}, Operation{}, invalidf("transform: operations do not line up")
		}
		n := min(x.cur.n, y.cur.n)
		switch {
		case x.cur.k == kRetain && y.cur.k == kRetain:
			ap.retain(n)
			bp.retain(n)
		case x.cur.k == kDelete && y.cur.k == kRetain:
			ap.delete(n)
		case x.cur.k == kRetain && y.cur.k == kDelete:
			bp.delete(n)
		}
		// Both deleting the same range: neither needs to delete it again.
		x.cur.n -= n
		y.cur.n -= n
		if x.cur.n == 0 {
			x.next()
		}
		if y.cur.n == 0 {
			y.next()
		}
	}
	if aPrime, err = ap.op(); err != nil {
		return Operation{}, Operation{}, err
	}
	if bPrime, err = bp.op(); err != nil {
		return Operation{}, Operation{}, err
	}
	return aPrime, bPrime, nil
}
