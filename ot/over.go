package ot

// TransformOver transforms op over each of over in turn, as repeated
// Transform(op, o) would, and moves sel (positions in the text after op,
// clamped to [0, op.TargetLen()]) along: through each o's other half, as
// Range.Transform would. The results are the transformed op and sel, which
// refers to the text after over and then the transformed op. sel may be nil.
//
// It is what a server does with an op sent against an older revision, so it
// is built for the common case: a keystroke-sized op (one insert or one
// delete, between retains) over others like it. Those steps are integer
// arithmetic with no allocation; any other step takes the general Transform.
// The results are the same either way (TestTransformOverMatches).
func TransformOver(op Operation, over []Operation, sel Selection) (Operation, Selection, error) {
	if sel != nil {
		n := op.target
		c := make(Selection, len(sel))
		for i, r := range sel {
			c[i] = Range{min(max(r.Anchor, 0), n), min(max(r.Head, 0), n)}
		}
		sel = c
	}
	a, simple := simpleOf(op)
	for _, o := range over {
		if simple {
			// Only the shapes move; a's text goes along unchanged.
			if b, ok := spanOf(o); ok && a.base == b.base {
				if a2, b2, ok := transformSpans(a.span, b); ok {
					if len(sel) > 0 {
						b2.move(sel)
					}
					a.span = a2
					continue
				}
			}
			op = a.op()
			simple = false
		}
		var oPrime Operation
		var err error
		if op, oPrime, err = Transform(op, o); err != nil {
			return Operation{}, nil, err
		}
		for i, r := range sel {
			sel[i] = r.Transform(oPrime)
		}
		if a, simple = simpleOf(op); simple {
			// An op that became simple again takes the fast path.
			continue
		}
	}
	if simple {
		op = a.op()
	}
	return op, sel, nil
}

// edit is an operation with at most one insert or delete: retain pos,
// insert s (n units) or delete n, retain the rest, on a text of base units.
// n == 0 is the identity.
type edit struct {
	span
	s string
}

// span is an edit's shape without its text: what transforming and moving
// positions need. Four words, so that a transform of two spans passes and
// returns them in registers (TransformOver's inner loop).
type span struct {
	base int
	pos  int
	n    int
	del  bool
}

func (e span) target() int {
	switch {
	case e.n == 0:
		return e.base
	case e.del:
		return e.base - e.n
	}
	return e.base + e.n
}

// simpleOf reports whether op is an edit, and returns it.
func simpleOf(op Operation) (edit, bool) {
	e, ok := spanOf(op)
	if !ok {
		return edit{}, false
	}
	if e.n == 0 {
		return edit{span: e}, true
	}
	c := op.comps
	if c[0].k == kRetain {
		c = c[1:]
	}
	return edit{span: e, s: c[0].s}, true
}

// spanOf reports whether op is an edit, and returns its shape.
func spanOf(op Operation) (span, bool) {
	e := span{base: op.base}
	c := op.comps
	if len(c) > 0 && c[0].k == kRetain {
		e.pos = c[0].n
		c = c[1:]
	}
	if len(c) > 0 && c[0].k != kRetain {
		e.n, e.del = c[0].n, c[0].k == kDelete
		c = c[1:]
	}
	if len(c) > 0 && c[0].k == kRetain {
		c = c[1:]
	}
	if len(c) > 0 {
		return span{}, false
	}
	if e.n == 0 {
		e.pos = 0
	}
	return e, true
}

// op builds e's canonical Operation.
func (e edit) op() Operation {
	if e.n == 0 {
		if e.base == 0 {
			return Operation{}
		}
		return Operation{comps: []comp{{k: kRetain, n: e.base}}, base: e.base, target: e.base}
	}
	comps := make([]comp, 0, 3)
	if e.pos > 0 {
		comps = append(comps, comp{k: kRetain, n: e.pos})
	}
	if e.del {
		comps = append(comps, comp{k: kDelete, n: e.n})
	} else {
		comps = append(comps, comp{k: kInsert, n: e.n, s: e.s})
	}
	rest := e.base - e.pos
	if e.del {
		rest -= e.n
	}
	if rest > 0 {
		comps = append(comps, comp{k: kRetain, n: rest})
	}
	return Operation{comps: comps, base: e.base, target: e.target()}
}

// indexTo moves a position through e as TransformIndex does; t is e's
// target length.
func (e span) indexTo(x, t int) int {
	x = min(max(x, 0), e.base)
	switch {
	case e.n == 0:
	case !e.del && x >= e.pos:
		x += e.n
	case e.del && x >= e.pos+e.n:
		x -= e.n
	case e.del && x > e.pos:
		x = e.pos
	}
	return min(max(x, 0), t)
}

// move moves every position of sel through e, in place.
func (e span) move(sel Selection) {
	t := e.target()
	for i, r := range sel {
		sel[i] = Range{e.indexTo(r.Anchor, t), e.indexTo(r.Head, t)}
	}
}

// transformSimple is Transform for two edits on the same text. It reports
// false when a result is not an edit (an insert inside the other's delete
// splits that delete) or a length would pass MaxLength; the caller then
// takes the general path, which also gives its errors.
func transformSimple(a, b edit) (edit, edit, bool) {
	a2, b2, ok := transformSpans(a.span, b.span)
	if !ok {
		return edit{}, edit{}, false
	}
	return edit{span: a2, s: a.s}, edit{span: b2, s: b.s}, true
}

// transformSpans is transformSimple for the edits' shapes (an edit's text
// does not change in a transform).
func transformSpans(a, b span) (span, span, bool) {
	a2 := span{base: b.target(), pos: a.pos, n: a.n, del: a.del}
	b2 := span{base: a.target(), pos: b.pos, n: b.n, del: b.del}
	switch {
	case a.n == 0 || b.n == 0:
		// The identity changes nothing and is changed by nothing but its
		// length.
		if a.n == 0 {
			a2.pos = 0
		}
		if b.n == 0 {
			b2.pos = 0
		}
	case !a.del && !b.del:
		// Both insert: at the same position a's text comes first.
		if a.pos <= b.pos {
			b2.pos += a.n
		} else {
			a2.pos += b.n
		}
	case !a.del && b.del:
		switch {
		case a.pos <= b.pos:
			b2.pos += a.n
		case a.pos >= b.pos+b.n:
			a2.pos -= b.n
		default:
			return span{}, span{}, false // b's delete is split around a's text
		}
	case a.del && !b.del:
		switch {
		case b.pos <= a.pos:
			a2.pos += b.n
		case b.pos >= a.pos+a.n:
			b2.pos -= a.n
		default:
			return span{}, span{}, false // a's delete is split around b's text
		}
	default:
		// Both delete: each deletes what the other left of its range.
		overlap := max(0, min(a.pos+a.n, b.pos+b.n)-max(a.pos, b.pos))
		switch {
		case a.pos+a.n <= b.pos:
			b2.pos -= a.n
		case b.pos+b.n <= a.pos:
			a2.pos -= b.n
		default:
			a2.pos, b2.pos = min(a.pos, b.pos), min(a.pos, b.pos)
			a2.n -= overlap
			b2.n -= overlap
		}
		if a2.n == 0 {
			a2.pos = 0
		}
		if b2.n == 0 {
			b2.pos = 0
		}
	}
	if a2.base > MaxLength || b2.base > MaxLength || a2.target() > MaxLength || b2.target() > MaxLength {
		return span{}, span{}, false
	}
	return a2, b2, true
}
