package ot

import (
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// Document is a text held for fast editing: the representation the server
// keeps a live note in. Its text is UTF-16 code units in chunks of at most
// maxChunk units, kept in a treap (a randomised balanced binary tree) in
// document order, each node caching the length of its subtree. Finding a
// position, inserting and deleting cost O(log n + maxChunk), so applying an
// operation costs O(components × log n) plus the length of its inserts and
// deletes, however long the document: retains only move a position.
//
// A Document is not safe for concurrent use. The zero value is not usable;
// create one with NewDocument.
type Document struct {
	root    *node
	seed    uint64   // state of the priority generator (splitmix64)
	scratch []uint16 // reused buffer for an insert's UTF-16 form
	path    []*node  // reused buffer for the path find walks
	bytes   int      // the length of the text in UTF-8 bytes
	// astral is true when the text may hold a surrogate pair: it held one
	// when loaded or an insert since brought one. While it is false, no
	// position can fall inside a pair, and splitsPair (one descent of the
	// tree per boundary of an operation) answers at once.
	astral bool
}

const (
	maxChunk  = 1024 // a chunk never holds more units than this
	initChunk = 512  // chunk size when text is loaded in bulk
)

type node struct {
	left, right *node
	prio        uint64
	units       []uint16 // never empty
	size        int      // units in this subtree
}

func (t *node) fix() {
	t.size = len(t.units)
	if t.left != nil {
		t.size += t.left.size
	}
	if t.right != nil {
		t.size += t.right.size
	}
}

func size(t *node) int {
	if t == nil {
		return 0
	}
	return t.size
}

// NewDocument returns a Document holding text, which must be valid UTF-8
// (EINVALID otherwise) and at most MaxLength UTF-16 code units long
// (ETOOLARGE otherwise).
func NewDocument(text string) (*Document, error) {
	n, ok := len16Valid(text)
	if !ok {
		return nil, invalidf("document is not valid UTF-8")
	}
	if n > MaxLength {
		return nil, errorf(ETOOLARGE, "document of %d units exceeds the maximum length %d", n, MaxLength)
	}
	d := &Document{seed: 0x5eed5c71be, bytes: len(text), astral: hasPair(text, n)}
	units := make([]uint16, 0, n)
	units = appendUTF16(units, text)
	d.root = d.build(units)
	return d, nil
}

// appendUTF16 appends the UTF-16 form of the valid UTF-8 string s to buf.
func appendUTF16(buf []uint16, s string) []uint16 {
	buf = slices.Grow(buf, len(s)) // UTF-16 never has more units than UTF-8 has bytes
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			buf = append(buf, uint16(c))
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		buf = utf16.AppendRune(buf, r)
		i += size
	}
	return buf
}

func (d *Document) rand() uint64 {
	d.seed += 0x9e3779b97f4a7c15
	z := d.seed
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// build returns a treap holding units (copied) in chunks of initChunk, in
// O(len(units)), by the stack construction of a Cartesian tree.
func (d *Document) build(units []uint16) *node {
	var stack []*node
	for len(units) > 0 {
		k := min(len(units), initChunk)
		buf := make([]uint16, k, maxChunk)
		copy(buf, units[:k])
		units = units[k:]
		nd := &node{prio: d.rand(), units: buf}
		var last *node
		for len(stack) > 0 && stack[len(stack)-1].prio < nd.prio {
			last = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		}
		nd.left = last
		if len(stack) > 0 {
			stack[len(stack)-1].right = nd
		}
		stack = append(stack, nd)
	}
	if len(stack) == 0 {
		return nil
	}
	root := stack[0]
	fixAll(root)
	return root
}

func fixAll(t *node) {
	if t == nil {
		return
	}
	fixAll(t.left)
	fixAll(t.right)
	t.fix()
}

// split cuts the tree t into the first pos units and the rest. When pos
// falls inside a chunk, the chunk is cut first: its tail becomes a new node
// with a priority of its own, merged in front of the right part. (Giving it
// the priority of the chunk it came from would be simpler, but every chunk
// cut from one chunk would then share a priority, and a treap whose
// priorities are equal degenerates into a list; TestDocumentBalance.)
func (d *Document) split(t *node, pos int) (l, r *node) {
	var tail *node
	path := d.path[:0]
	for x, p := t, pos; x != nil; {
		ls := size(x.left)
		switch {
		case p < ls:
			path = append(path, x)
			x = x.left
		case p > ls+len(x.units):
			path = append(path, x)
			p -= ls + len(x.units)
			x = x.right
		case p == ls || p == ls+len(x.units):
			x = nil // already a boundary
		default:
			k := p - ls
			units := make([]uint16, len(x.units)-k, maxChunk)
			copy(units, x.units[k:])
			tail = &node{prio: d.rand(), units: units, size: len(units)}
			x.units = x.units[:k]
			x.size -= len(units)
			for _, q := range path {
				q.size -= len(units)
			}
			x = nil
		}
	}
	d.path = path[:0]
	l, r = splitAt(t, pos)
	if tail != nil {
		r = merge(tail, r)
	}
	return l, r
}

// splitAt cuts t at pos, which falls between two chunks.
func splitAt(t *node, pos int) (l, r *node) {
	if t == nil {
		return nil, nil
	}
	ls := size(t.left)
	if pos <= ls {
		l, t.left = splitAt(t.left, pos)
		t.fix()
		return l, t
	}
	t.right, r = splitAt(t.right, pos-ls-len(t.units))
	t.fix()
	return t, r
}

// merge joins l and r, every unit of l coming before every unit of r.
func merge(l, r *node) *node {
	if l == nil {
		return r
	}
	if r == nil {
		return l
	}
	if l.prio >= r.prio {
		l.right = merge(l.right, r)
		l.fix()
		return l
	}
	r.left = merge(l, r.left)
	r.fix()
	return r
}

// Len returns the document's length in UTF-16 code units.
func (d *Document) Len() int { return size(d.root) }

// UTF8Len returns the length of the document's text in UTF-8 bytes, that
// is len(d.String()), in O(1): it is kept up to date by every Apply.
func (d *Document) UTF8Len() int { return d.bytes }

// utf8Len returns the UTF-8 length of units, which neither start nor end
// inside a surrogate pair: each half of a pair counts 2 of its 4 bytes.
func utf8Len(units []uint16) int {
	n := 0
	for _, u := range units {
		switch {
		case u < 0x80:
			n++
		case u < 0x800 || u >= 0xD800 && u <= 0xDFFF:
			n += 2
		default:
			n += 3
		}
	}
	return n
}

// utf8LenTree returns the UTF-8 length of the units in t.
func utf8LenTree(t *node) int {
	if t == nil {
		return 0
	}
	return utf8LenTree(t.left) + utf8Len(t.units) + utf8LenTree(t.right)
}

// String returns the document's text.
func (d *Document) String() string {
	buf := make([]byte, 0, d.bytes) // exactly the text's size
	var hi uint16                   // a high surrogate whose pair straddles two chunks
	var walk func(t *node)
	walk = func(t *node) {
		if t == nil {
			return
		}
		walk(t.left)
		buf, hi = appendUTF8(buf, t.units, hi)
		walk(t.right)
	}
	walk(d.root)
	return string(buf)
}

// appendUTF8 appends the UTF-8 form of units to buf. hi is a high surrogate
// left over from the previous call (or 0); the one this call leaves over, if
// any, is returned.
func appendUTF8(buf []byte, units []uint16, hi uint16) ([]byte, uint16) {
	for _, u := range units {
		switch {
		case hi != 0:
			buf = utf8.AppendRune(buf, utf16.DecodeRune(rune(hi), rune(u)))
			hi = 0
		case u < utf8.RuneSelf:
			buf = append(buf, byte(u))
		case u >= 0xD800 && u <= 0xDBFF:
			hi = u
		default:
			buf = utf8.AppendRune(buf, rune(u))
		}
	}
	return buf, hi
}

// unitAt returns the unit at pos, 0 <= pos < Len().
func (d *Document) unitAt(pos int) uint16 {
	t := d.root
	for t != nil {
		ls := size(t.left)
		switch {
		case pos < ls:
			t = t.left
		case pos < ls+len(t.units):
			return t.units[pos-ls]
		default:
			pos -= ls + len(t.units)
			t = t.right
		}
	}
	return 0
}

// splitsPair reports whether the position pos falls inside a surrogate pair.
func (d *Document) splitsPair(pos int) bool {
	if !d.astral || pos <= 0 || pos >= d.Len() {
		return false
	}
	u := d.unitAt(pos)
	return u >= 0xDC00 && u <= 0xDFFF
}

// checkRange validates 0 <= from <= to <= Len() with neither end inside a
// surrogate pair.
func (d *Document) checkRange(from, to int) error {
	if from < 0 || to < from || to > d.Len() {
		return invalidf("range [%d, %d) lies outside the document of length %d", from, to, d.Len())
	}
	if d.splitsPair(from) || d.splitsPair(to) {
		return invalidf("range [%d, %d) splits a surrogate pair", from, to)
	}
	return nil
}

// Slice returns the text between the UTF-16 offsets from and to. The range
// must lie inside the document and not split a surrogate pair (EINVALID
// otherwise). Its cost is O(log n + to - from).
func (d *Document) Slice(from, to int) (string, error) {
	if err := d.checkRange(from, to); err != nil {
		return "", err
	}
	buf := make([]byte, 0, to-from)
	var hi uint16
	var walk func(t *node, start int)
	walk = func(t *node, start int) { // start: offset of t's subtree
		if t == nil || start >= to || start+t.size <= from {
			return
		}
		walk(t.left, start)
		cs := start + size(t.left) // offset of t's chunk
		lo, up := max(from-cs, 0), min(to-cs, len(t.units))
		if lo < up {
			buf, hi = appendUTF8(buf, t.units[lo:up], hi)
		}
		walk(t.right, cs+len(t.units))
	}
	walk(d.root, 0)
	return string(buf), nil
}

// Apply applies op to the document. op's base length must equal Len() and no
// boundary of op may fall inside a surrogate pair (EINVALID otherwise); the
// result may not exceed MaxLength (ETOOLARGE). A failed Apply leaves the
// document unchanged. Its cost is O(op.Len() × log n) plus the units
// inserted and deleted: a retain costs nothing, whatever its length.
func (d *Document) Apply(op Operation) error {
	if err := op.Validate(d.Len()); err != nil {
		return err
	}
	if done, err := d.applyEdit(op); done {
		return err
	}
	pos := 0
	for _, c := range op.comps {
		if c.k != kInsert {
			pos += c.n
			if d.splitsPair(pos) {
				return invalidf("operation boundary splits a surrogate pair")
			}
		}
	}
	pos = 0
	for _, c := range op.comps {
		switch c.k {
		case kRetain:
			pos += c.n
		case kInsert:
			d.scratch = appendUTF16(d.scratch[:0], c.s)
			d.insert(pos, d.scratch)
			d.bytes += len(c.s)
			d.astral = d.astral || hasPair(c.s, c.n)
			pos += c.n
		case kDelete:
			d.bytes -= d.delete(pos, c.n)
		}
	}
	if cap(d.scratch) > 4*maxChunk {
		d.scratch = nil // do not keep a large insert's buffer alive
	}
	return nil
}

// applyEdit applies op, whose base length is Len(), with one descent of the
// tree when it is a single edit within one chunk, the shape of nearly every
// keystroke: [retain?, insert s, retain?] where s fits in the chunk it goes
// into, or [retain?, delete n, retain?] where the n units lie in one chunk
// and are not all of it. It then does what the general path of Apply does,
// in the same way (the same chunk, the same tree), and reports true with
// Apply's result. For any other op it changes nothing and reports false.
func (d *Document) applyEdit(op Operation) (bool, error) {
	cs := op.comps
	pos := 0
	if len(cs) > 0 && cs[0].k == kRetain {
		pos = cs[0].n
		cs = cs[1:]
	}
	if len(cs) == 0 || len(cs) > 2 || len(cs) == 2 && cs[1].k != kRetain || d.root == nil {
		return false, nil
	}
	switch c := cs[0]; c.k {
	case kInsert:
		if c.n > maxChunk/2 {
			return false, nil // insert splices in chunks of its own
		}
		t, k, path := d.find(pos, 1, d.path[:0])
		if len(t.units)+c.n > maxChunk {
			return false, nil // insert halves the chunk first
		}
		if d.astral && inPair(t.units, k) {
			return true, invalidf("operation boundary splits a surrogate pair")
		}
		d.scratch = appendUTF16(d.scratch[:0], c.s)
		insertAt(t, k, path, d.scratch)
		d.bytes += len(c.s)
		d.astral = d.astral || hasPair(c.s, c.n)
		return true, nil
	case kDelete:
		t, k, path := d.find(pos, 0, d.path[:0])
		if k+c.n > len(t.units) || c.n == len(t.units) {
			return false, nil // delete cuts the range out of the tree
		}
		if d.astral && (inPair(t.units, k) || inPair(t.units, k+c.n)) {
			return true, invalidf("operation boundary splits a surrogate pair")
		}
		d.bytes -= deleteAt(t, k, path, c.n)
		return true, nil
	}
	return false, nil
}

// hasPair reports whether the valid UTF-8 string s, of n UTF-16 units, holds
// a character outside the BMP, that is a surrogate pair in UTF-16.
func hasPair(s string, n int) bool {
	return n != utf8.RuneCountInString(s)
}

// inPair reports whether offset k of the chunk units (0 <= k <= len(units))
// falls inside a surrogate pair, as splitsPair does for the document
// position there, without a descent: whether the unit before it is a high
// surrogate or, at the chunk's start, the unit at it a low one. A pair may
// straddle two chunks, and the two tests agree because the document is
// always valid UTF-16: a high surrogate is always followed by a low one.
func inPair(units []uint16, k int) bool {
	if k > 0 {
		u := units[k-1]
		return u >= 0xD800 && u <= 0xDBFF
	}
	u := units[0]
	return u >= 0xDC00 && u <= 0xDFFF
}

// Invert returns the operation that undoes op on the document as it is now
// (before op is applied); see the package function Invert.
func (d *Document) Invert(op Operation) (Operation, error) {
	if err := op.Validate(d.Len()); err != nil {
		return Operation{}, err
	}
	var b Builder
	pos := 0
	for _, c := range op.comps {
		switch c.k {
		case kRetain:
			b.retain(c.n)
			pos += c.n
		case kInsert:
			b.delete(c.n)
		case kDelete:
			s, err := d.Slice(pos, pos+c.n)
			if err != nil {
				return Operation{}, err
			}
			b.insert(s, c.n)
			pos += c.n
		}
		if d.splitsPair(pos) {
			return Operation{}, invalidf("operation boundary splits a surrogate pair")
		}
	}
	return b.op()
}

// find returns the node whose chunk holds position pos, the offset in that
// chunk, and the path from the root to it (excluding it). For an insert, pos
// may be the chunk's end (edge = 1); for a delete it may not (edge = 0).
func (d *Document) find(pos, edge int, path []*node) (*node, int, []*node) {
	t := d.root
	for {
		ls := size(t.left)
		switch {
		case pos < ls:
			path = append(path, t)
			t = t.left
		case pos < ls+len(t.units)+edge || t.right == nil:
			d.path = path
			return t, pos - ls, path
		default:
			path = append(path, t)
			pos -= ls + len(t.units)
			t = t.right
		}
	}
}

// insert inserts units (not retained) at pos, 0 <= pos <= Len().
func (d *Document) insert(pos int, units []uint16) {
	if len(units) == 0 {
		return
	}
	if d.root == nil {
		d.root = d.build(units)
		return
	}
	if len(units) > maxChunk/2 {
		l, r := d.split(d.root, pos)
		d.root = merge(merge(l, d.build(units)), r)
		return
	}
	t, k, path := d.find(pos, 1, d.path[:0])
	if len(t.units)+len(units) > maxChunk {
		// Halve the full chunk, then look again: both halves have room.
		start := pos - k
		l, r := d.split(d.root, start+len(t.units)/2)
		d.root = merge(l, r)
		t, k, path = d.find(pos, 1, d.path[:0])
	}
	insertAt(t, k, path, units)
}

// insertAt inserts units at offset k of t's chunk, which has room for them;
// path is the path from the root to t.
func insertAt(t *node, k int, path []*node, units []uint16) {
	n := len(t.units)
	t.units = append(t.units, units...) // fits in the capacity: no allocation
	copy(t.units[k+len(units):], t.units[k:n])
	copy(t.units[k:], units)
	t.size += len(units)
	for _, p := range path {
		p.size += len(units)
	}
}

// delete removes n units at pos, 0 <= pos, pos+n <= Len(), and returns the
// UTF-8 length of what it removed.
func (d *Document) delete(pos, n int) int {
	if n <= 0 {
		return 0
	}
	t, k, path := d.find(pos, 0, d.path[:0])
	if k+n > len(t.units) || n == len(t.units) {
		// The range passes the chunk's end, or would leave it empty: cut
		// the range out of the tree.
		return d.cut(pos, n)
	}
	return deleteAt(t, k, path, n)
}

// deleteAt removes n units at offset k of t's chunk, which holds them and
// more, and returns their UTF-8 length; path is the path from the root to t.
func deleteAt(t *node, k int, path []*node, n int) int {
	removed := utf8Len(t.units[k : k+n])
	t.units = append(t.units[:k], t.units[k+n:]...)
	t.size -= n
	for _, p := range path {
		p.size -= n
	}
	return removed
}

// cut removes n units at pos from the tree, then joins the two chunks that
// meet at pos when both are small, so deletions do not leave the tree full
// of tiny chunks. It returns the UTF-8 length of what it removed.
func (d *Document) cut(pos, n int) int {
	l, r := d.split(d.root, pos)
	mid, r := d.split(r, n)
	removed := utf8LenTree(mid)
	if l != nil && r != nil {
		lr, rl := l, r
		for lr.right != nil {
			lr = lr.right
		}
		for rl.left != nil {
			rl = rl.left
		}
		if m := len(rl.units); len(lr.units)+m <= maxChunk/2 {
			lr.units = append(lr.units, rl.units...)
			for t := l; t != nil; t = t.right { // the right spine holds lr
				t.size += m
			}
			_, r = d.split(r, m)
		}
	}
	d.root = merge(l, r)
	return removed
}
