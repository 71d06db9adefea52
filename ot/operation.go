package ot

import "unicode/utf8"

// MaxLength is the largest length, in UTF-16 code units, of a component, of
// an operation's base or target, or of a Document: 2^31-1, the largest
// length a JavaScript client can hold in practice and the largest magnitude
// the JSON form accepts. It keeps every length computation far from integer
// overflow, even where int has 32 bits.
const MaxLength = 1<<31 - 1

type kind uint8

const (
	kRetain kind = iota + 1
	kInsert
	kDelete
)

// comp is one component. For an insert, n caches the UTF-16 length of s.
type comp struct {
	k kind
	n int
	s string
}

// Operation is a canonical sequence of retain, insert and delete components
// (see the package comment). The zero value is the empty operation: the
// identity on the empty document. Operations are immutable values; every
// function returns a new one.
type Operation struct {
	comps  []comp
	base   int
	target int
}

// BaseLen returns the length, in UTF-16 code units, of the documents op
// applies to.
func (op Operation) BaseLen() int { return op.base }

// TargetLen returns the length, in UTF-16 code units, of the document op
// produces.
func (op Operation) TargetLen() int { return op.target }

// IsNoop reports whether op changes nothing: it only retains (or is empty).
func (op Operation) IsNoop() bool {
	return len(op.comps) == 0 || len(op.comps) == 1 && op.comps[0].k == kRetain
}

// Len returns the number of components of op.
func (op Operation) Len() int { return len(op.comps) }

// Equal reports whether op and other are the same operation. Since
// operations are canonical, that is whether they make the same edit in the
// same way.
func (op Operation) Equal(other Operation) bool {
	if op.base != other.base || op.target != other.target || len(op.comps) != len(other.comps) {
		return false
	}
	for i, c := range op.comps {
		if c != other.comps[i] {
			return false
		}
	}
	return true
}

// Validate reports, with an EINVALID error, whether op cannot apply to a
// document of docLen UTF-16 code units because its base length differs.
func (op Operation) Validate(docLen int) error {
	if op.base != docLen {
		return invalidf("operation base length %d does not match document length %d", op.base, docLen)
	}
	return nil
}

// String returns op's JSON form, e.g. [5,"abc",-2,3].
func (op Operation) String() string {
	if n := op.jsonLen(); n > smallJSON {
		return string(op.appendJSON(make([]byte, 0, n)))
	}
	// A keystroke's JSON is encoded on the stack and copied once.
	var buf [smallJSON]byte
	return string(op.appendJSON(buf[:0]))
}

// smallJSON is the length of JSON that String encodes on the stack.
const smallJSON = 128

// Component is one component of an operation, as returned by Components.
// Exactly one of the fields is set: Retain > 0, Insert != "", or Delete > 0.
type Component struct {
	Retain int
	Insert string
	Delete int
}

// Components returns a copy of op's components, in order.
func (op Operation) Components() []Component {
	out := make([]Component, len(op.comps))
	for i, c := range op.comps {
		switch c.k {
		case kRetain:
			out[i].Retain = c.n
		case kInsert:
			out[i].Insert = c.s
		case kDelete:
			out[i].Delete = c.n
		}
	}
	return out
}

// InsertedLen returns the number of UTF-16 code units op inserts.
func (op Operation) InsertedLen() int {
	n := 0
	for _, c := range op.comps {
		if c.k == kInsert {
			n += c.n
		}
	}
	return n
}

// Len16 returns the length of s in UTF-16 code units, as JavaScript's
// String.length would count it. An invalid UTF-8 byte counts as one unit (it
// would become U+FFFD).
func Len16(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}

// len16Valid returns the UTF-16 length of s and whether s is valid UTF-8
// (which excludes encoded surrogates, hence lone surrogates).
func len16Valid(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return 0, false
		}
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n, true
}

// Builder builds an Operation component by component, keeping it canonical.
// The zero value is an empty builder. The first invalid call is remembered;
// later calls do nothing and Build returns that error.
//
//	op, err := ot.NewBuilder().Retain(5).Insert("abc").Delete(2).Retain(3).Build()
type Builder struct {
	comps  []comp
	base   int64
	target int64
	err    error
	// An insert growing by many pieces is accumulated in pend, not by
	// string concatenation (which would be quadratic: think of a frame of
	// 100,000 one-letter strings); pendAt is the index of that insert in
	// comps, whose s is stale until flush; pendOn says pend is in use.
	pend   []byte
	pendAt int
	pendOn bool
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder { return &Builder{} }

// Retain keeps the next n UTF-16 code units. n == 0 does nothing; n < 0 is an
// error.
func (b *Builder) Retain(n int) *Builder {
	if b.err != nil {
		return b
	}
	if n < 0 {
		b.err = invalidf("retain of negative length %d", n)
		return b
	}
	if n > MaxLength {
		b.err = errorf(ETOOLARGE, "retain of %d exceeds the maximum length %d", n, MaxLength)
		return b
	}
	b.retain(n)
	return b
}

// Insert inserts s. An empty s does nothing; s must be valid UTF-8 (so it
// holds no lone surrogate).
func (b *Builder) Insert(s string) *Builder {
	if b.err != nil {
		return b
	}
	n, ok := len16Valid(s)
	if !ok {
		b.err = invalidf("insert is not valid UTF-8 or holds a lone surrogate")
		return b
	}
	if n > MaxLength {
		b.err = errorf(ETOOLARGE, "insert of %d units exceeds the maximum length %d", n, MaxLength)
		return b
	}
	b.insert(s, n)
	return b
}

// Delete removes the next n UTF-16 code units. n == 0 does nothing; n < 0 is
// an error.
func (b *Builder) Delete(n int) *Builder {
	if b.err != nil {
		return b
	}
	if n < 0 {
		b.err = invalidf("delete of negative length %d", n)
		return b
	}
	if n > MaxLength {
		b.err = errorf(ETOOLARGE, "delete of %d exceeds the maximum length %d", n, MaxLength)
		return b
	}
	b.delete(n)
	return b
}

// Build returns the operation built so far, or the first error. The builder
// may be used further; the returned operation does not change.
func (b *Builder) Build() (Operation, error) {
	if b.err != nil {
		return Operation{}, b.err
	}
	op, err := b.op()
	if err != nil {
		return Operation{}, err
	}
	op.comps = append([]comp(nil), op.comps...)
	return op, nil
}

// op returns the built operation sharing the builder's slice; the builder
// must not be used afterwards.
func (b *Builder) op() (Operation, error) {
	b.flush()
	if b.base > MaxLength || b.target > MaxLength {
		return Operation{}, errorf(ETOOLARGE, "operation length exceeds the maximum length %d", MaxLength)
	}
	return Operation{comps: b.comps, base: int(b.base), target: int(b.target)}, nil
}

// The unchecked builder steps: n > 0 fits in int64 sums (callers bound n by
// MaxLength), s is valid UTF-8 with UTF-16 length n16.

func (b *Builder) retain(n int) {
	if n == 0 {
		return
	}
	b.base += int64(n)
	b.target += int64(n)
	if l := len(b.comps); l > 0 && b.comps[l-1].k == kRetain {
		b.comps[l-1].n += n
		return
	}
	b.comps = append(b.comps, comp{k: kRetain, n: n})
}

// flush stores the pending insert text in its component.
func (b *Builder) flush() {
	if b.pendOn {
		b.comps[b.pendAt].s = string(b.pend)
		b.pend = b.pend[:0]
		b.pendOn = false
	}
}

// appendTo appends s to the insert at index i.
func (b *Builder) appendTo(i int, s string, n16 int) {
	if !b.pendOn || b.pendAt != i {
		b.flush()
		b.pend = append(b.pend, b.comps[i].s...)
		b.pendAt, b.pendOn = i, true
	}
	b.pend = append(b.pend, s...)
	b.comps[i].n += n16
}

func (b *Builder) insert(s string, n16 int) {
	if n16 == 0 {
		return
	}
	b.target += int64(n16)
	l := len(b.comps)
	if l > 0 && b.comps[l-1].k == kInsert {
		b.appendTo(l-1, s, n16)
		return
	}
	if l > 0 && b.comps[l-1].k == kDelete {
		// Keep inserts before deletes: [.., ins?, del] + ins.
		if l > 1 && b.comps[l-2].k == kInsert {
			b.appendTo(l-2, s, n16)
			return
		}
		d := b.comps[l-1]
		b.comps[l-1] = comp{k: kInsert, n: n16, s: s}
		b.comps = append(b.comps, d)
		return
	}
	b.comps = append(b.comps, comp{k: kInsert, n: n16, s: s})
}

func (b *Builder) delete(n int) {
	if n == 0 {
		return
	}
	b.base += int64(n)
	if l := len(b.comps); l > 0 && b.comps[l-1].k == kDelete {
		b.comps[l-1].n += n
		return
	}
	b.comps = append(b.comps, comp{k: kDelete, n: n})
}

// New builds an operation from items in the JSON form's vocabulary: a
// positive int retains, a string inserts, a negative int deletes. Any other
// item (zero, another type) is an EINVALID error.
//
//	op, err := ot.New(5, "abc", -2, 3)
func New(items ...any) (Operation, error) {
	var b Builder
	for i, it := range items {
		switch v := it.(type) {
		case int:
			switch {
			case v > 0:
				b.Retain(v)
			case v < 0:
				if v < -MaxLength {
					return Operation{}, errorf(ETOOLARGE, "item %d: delete exceeds the maximum length %d", i, MaxLength)
				}
				b.Delete(-v)
			default:
				return Operation{}, invalidf("item %d: zero is not a component", i)
			}
		case string:
			b.Insert(v)
		default:
			return Operation{}, invalidf("item %d: %T is not a component", i, it)
		}
	}
	return b.Build()
}

// appendJSONString appends s to dst as a JSON string literal.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == '\u2028' || r == '\u2029' {
				// Valid JSON, but not valid in older JavaScript string
				// literals; escape them as encoding/json does.
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\u202`...)
				dst = append(dst, hex[r&0xF])
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, `\"`...)
		case '\\':
			dst = append(dst, `\\`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			dst = append(dst, `\u00`...)
			dst = append(dst, hex[c>>4], hex[c&0xF])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
