package ot

import "strconv"

// TransformIndex returns where the position pos (in UTF-16 code units) of a
// document moves to when op is applied to it, as ot.js's Range.transform
// moves a selection end: text inserted before pos, or exactly at pos, shifts
// it right; text deleted before it shifts it left; a position inside a
// deleted range moves to where the range was. pos is first clamped to
// [0, op.BaseLen()], and the result always lies in [0, op.TargetLen()].
func TransformIndex(pos int, op Operation) int {
	pos = min(max(pos, 0), op.base)
	index, newIndex := pos, pos
	for _, c := range op.comps {
		switch c.k {
		case kRetain:
			index -= c.n
		case kInsert:
			newIndex += c.n
		case kDelete:
			newIndex -= min(index, c.n)
			index -= c.n
		}
		if index < 0 {
			break
		}
	}
	return min(max(newIndex, 0), op.target)
}

// Range is one selection range, in UTF-16 code units. A cursor has
// Anchor == Head. Its JSON form is {"anchor": a, "head": h}.
type Range struct {
	Anchor int `json:"anchor"`
	Head   int `json:"head"`
}

// Transform returns r moved through op with TransformIndex; both ends of the
// result lie in [0, op.TargetLen()].
func (r Range) Transform(op Operation) Range {
	a := TransformIndex(r.Anchor, op)
	if r.Anchor == r.Head {
		return Range{a, a}
	}
	return Range{a, TransformIndex(r.Head, op)}
}

// Selection is a set of ranges, as the protocol's "sel" carries it.
type Selection []Range

// Transform returns a new selection with every range moved through op.
func (s Selection) Transform(op Operation) Selection {
	if s == nil {
		return nil
	}
	out := make(Selection, len(s))
	for i, r := range s {
		out[i] = r.Transform(op)
	}
	return out
}

// AppendJSON appends s's JSON form, [{"anchor":a,"head":h},...], to b, as
// encoding/json would write it ([] for an empty or nil selection).
func (s Selection) AppendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, r := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"anchor":`...)
		b = strconv.AppendInt(b, int64(r.Anchor), 10)
		b = append(b, `,"head":`...)
		b = strconv.AppendInt(b, int64(r.Head), 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

// Validate reports, with an EINVALID error, whether a range of s lies
// outside a document of docLen UTF-16 code units.
func (s Selection) Validate(docLen int) error {
	for i, r := range s {
		if r.Anchor < 0 || r.Anchor > docLen || r.Head < 0 || r.Head > docLen {
			return invalidf("selection range %d {%d, %d} lies outside the document of length %d", i, r.Anchor, r.Head, docLen)
		}
	}
	return nil
}
