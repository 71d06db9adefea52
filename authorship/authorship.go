// Package authorship keeps who wrote what in a note: runs of characters and
// their authors (scribe.Authorship), moved through each committed operation
// as its text is (an insert is its change's author's, a delete removes, a
// retain keeps), the compact form the stores keep beside their snapshots,
// and people's colours as the browser chooses them (web/src/colors.js).
// web/src/authors.js is its twin in the browser; both pass the vectors in
// web/test/authorship-vectors.json.
//
// It is pure: no I/O, no goroutines; it imports the root and ot only.
package authorship

import (
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf16"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// Start is the authorship of a note's text at its creation (revision rev,
// 0 for a new note): nobody's.
func Start(rev scribe.Revision, text string) scribe.Authorship {
	a := scribe.Authorship{Rev: rev}
	if n := ot.Len16(text); n > 0 {
		a.Runs = []scribe.AuthorRun{{Len: n, Author: scribe.NoAuthor}}
	}
	return a
}

// Len is the length of the text a covers, in UTF-16 code units.
func Len(a scribe.Authorship) int {
	n := 0
	for _, r := range a.Runs {
		n += r.Len
	}
	return n
}

// Apply moves a through op, committed by who: what op inserts is who's,
// what it deletes is gone, what it retains keeps its author. It does not
// change a.Rev. An op that does not apply to a text of a's length gives an
// error and changes nothing.
func Apply(a *scribe.Authorship, op ot.Operation, who scribe.Author) error {
	return apply(a, op, func() int { return authorIndex(a, who) }, nil)
}

// apply is Apply with who's index found (or added) only when op inserts,
// or, with credit, each inserted unit credited as it says.
func apply(a *scribe.Authorship, op ot.Operation, who func() int, credit []scribe.CreditRun) error {
	if err := scribe.ValidateCredit(credit, op.InsertedLen()); err != nil {
		return fmt.Errorf("authorship: %w", err)
	}
	if n := Len(*a); op.BaseLen() != n {
		return fmt.Errorf("authorship: operation base length %d does not match text length %d", op.BaseLen(), n)
	}
	out := make([]scribe.AuthorRun, 0, len(a.Runs)+2)
	i, off := 0, 0 // the next unit of a.Runs: run i, off units in
	take := func(n int, keep bool) {
		for n > 0 {
			r := a.Runs[i]
			k := min(n, r.Len-off)
			if keep {
				out = push(out, k, r.Author)
			}
			off += k
			n -= k
			if off == r.Len {
				i, off = i+1, 0
			}
		}
	}
	idx := scribe.NoAuthor
	credit = slices.Clone(credit) // consumed below
	for _, c := range op.Components() {
		switch {
		case c.Retain > 0:
			take(c.Retain, true)
		case c.Delete > 0:
			take(c.Delete, false)
		case len(credit) > 0:
			for n := ot.Len16(c.Insert); n > 0; {
				k := min(n, credit[0].Len)
				who := scribe.NoAuthor
				if credit[0].Key != "" {
					who = authorIndex(a, credit[0].Author)
				}
				out = push(out, k, who)
				n -= k
				if credit[0].Len -= k; credit[0].Len == 0 {
					credit = credit[1:]
				}
			}
		default:
			if idx == scribe.NoAuthor {
				idx = who()
			}
			out = push(out, ot.Len16(c.Insert), idx)
		}
	}
	a.Runs = out
	return nil
}

// applyEdit is apply, without credit, for an op that inserts or deletes in
// one place (retain, insert or delete, retain: a keystroke), changing a's
// runs in place around that place instead of copying all of them: at 1,000
// typists a snapshot's authorship replayed 500 such ops over thousands of
// runs, a copy of every run per op (issue 16, docs/benchmarks.md). It
// gives the same runs as apply, which merges runs of one author as it
// goes: it only runs on runs so merged (with no empty one), checked in the
// same pass that finds the place, and merges around what it changes. It
// reports false, having changed nothing, when op is not of that shape, the
// runs are not merged, or op does not apply (apply then says why).
func applyEdit(a *scribe.Authorship, op ot.Operation, who func() int) bool {
	at, del, ins, edits := 0, 0, 0, 0
	var inserted string
	for _, c := range op.Components() {
		switch {
		case c.Retain > 0:
			if edits == 0 {
				at += c.Retain
			}
		case c.Delete > 0:
			del, edits = c.Delete, edits+1
		default:
			inserted, edits = c.Insert, edits+1
		}
	}
	if edits != 1 {
		return false
	}
	ins = ot.Len16(inserted)
	// One pass: the runs are merged, their length is op's base length,
	// and the window of runs the edit touches, with one more on each side
	// (lo, hi), is found: the runs overlapping [at, at+del], or the one at
	// or after at.
	runs := a.Runs
	lo, hi, start, loStart := -1, -1, 0, 0
	for i, r := range runs {
		if r.Len <= 0 || (i > 0 && runs[i-1].Author == r.Author) {
			return false
		}
		end := start + r.Len
		if lo < 0 && end > at {
			lo, loStart = i, start
		}
		if hi < 0 && (end > at+del || (del > 0 && end == at+del)) && end > at {
			hi = i + 1
		}
		start = end
	}
	if start != op.BaseLen() {
		return false
	}
	if lo < 0 { // at the end of the text
		lo, hi, loStart = len(runs), len(runs), start
	}
	if hi < 0 {
		hi = len(runs)
	}
	if lo > 0 {
		lo--
		loStart -= runs[lo].Len
	}
	hi = min(hi+1, len(runs))
	// The window's new runs: what lies before at, the insert, what lies
	// after at+del, merged as push merges.
	var buf [8]scribe.AuthorRun
	out := buf[:0]
	pos := loStart
	for _, r := range runs[lo:hi] {
		out = push(out, min(max(at-pos, 0), r.Len), r.Author)
		pos += r.Len
	}
	if ins > 0 {
		out = push(out, ins, who())
	}
	pos = loStart
	for _, r := range runs[lo:hi] {
		out = push(out, r.Len-min(max(at+del-pos, 0), r.Len), r.Author)
		pos += r.Len
	}
	a.Runs = slices.Replace(runs, lo, hi, out...)
	return true
}

// push appends n units by author to runs, merging with the last run.
func push(runs []scribe.AuthorRun, n, author int) []scribe.AuthorRun {
	if n == 0 {
		return runs
	}
	if k := len(runs) - 1; k >= 0 && runs[k].Author == author {
		runs[k].Len += n
		return runs
	}
	return append(runs, scribe.AuthorRun{Len: n, Author: author})
}

// authorIndex returns who's index in a.Authors, adding them when new; a
// known person's name becomes the latest one they wrote under.
func authorIndex(a *scribe.Authorship, who scribe.Author) int {
	for i, p := range a.Authors {
		if p.Key == who.Key {
			a.Authors[i].Name = who.Name
			return i
		}
	}
	a.Authors = append(a.Authors, who)
	return len(a.Authors) - 1
}

// Replay applies changes, which must follow a.Rev in order (each one's
// Base is the revision before it: a fold of compacted history counts as
// one), each as written by scribe.AuthorOf(change) or as its Credit says, and
// sets a.Rev to the last.
// On an error a may hold some of the changes.
func Replay(a *scribe.Authorship, changes []scribe.Change) error {
	// The runs are changed in place (applyEdit) from here on: a copy of
	// its own, so that a caller's other copies of a keep theirs.
	a.Runs = slices.Clone(a.Runs)
	for _, c := range changes {
		if c.Base() != a.Rev {
			return fmt.Errorf("authorship: revision %d after %d", c.Revision, a.Rev)
		}
		op, err := ot.ParseJSON(c.Op)
		if err != nil {
			return fmt.Errorf("authorship: revision %d: %w", c.Revision, err)
		}
		who := func() int { return authorIndex(a, scribe.AuthorOf(c)) }
		if len(c.Credit) == 0 && applyEdit(a, op, who) {
			a.Rev = c.Revision
			continue
		}
		if err := apply(a, op, who, c.Credit); err != nil {
			return fmt.Errorf("revision %d: %w", c.Revision, err)
		}
		a.Rev = c.Revision
	}
	return nil
}

// Credit says who wrote each character op inserts, when op turns some
// text into the text whose authorship is target (a restore of target's
// revision): each inserted character keeps the author it has in target.
func Credit(target scribe.Authorship, op ot.Operation) []scribe.CreditRun {
	var out []scribe.CreditRun
	i, off := 0, 0 // the unit of target the next inserted one is
	skip := func(n int) {
		for n > 0 && i < len(target.Runs) {
			k := min(n, target.Runs[i].Len-off)
			off += k
			n -= k
			if off == target.Runs[i].Len {
				i, off = i+1, 0
			}
		}
	}
	for _, c := range op.Components() {
		switch {
		case c.Retain > 0:
			skip(c.Retain)
		case c.Insert != "":
			for n := ot.Len16(c.Insert); n > 0 && i < len(target.Runs); {
				r := target.Runs[i]
				k := min(n, r.Len-off)
				var who scribe.Author
				if r.Author != scribe.NoAuthor {
					who = target.Authors[r.Author]
				}
				if last := len(out) - 1; last >= 0 && out[last].Author == who {
					out[last].Len += k
				} else {
					out = append(out, scribe.CreditRun{Len: k, Author: who})
				}
				n -= k
				skip(k)
			}
		}
	}
	return out
}

// Compact returns a with only the authors its runs name, in order of
// their first character.
func Compact(a scribe.Authorship) scribe.Authorship {
	out := scribe.Authorship{Rev: a.Rev, Runs: make([]scribe.AuthorRun, len(a.Runs))}
	renum := make(map[int]int, len(a.Authors))
	for i, r := range a.Runs {
		if r.Author != scribe.NoAuthor {
			n, ok := renum[r.Author]
			if !ok {
				n = len(out.Authors)
				renum[r.Author] = n
				out.Authors = append(out.Authors, a.Authors[r.Author])
			}
			r.Author = n
		}
		out.Runs[i] = r
	}
	return out
}

// stored is the form the stores keep: {"r":rev,"a":[authors],"s":[len,
// author, len, author, ...]}, compacted.
type stored struct {
	Rev     scribe.Revision `json:"r"`
	Authors []scribe.Author `json:"a"`
	Runs    []int           `json:"s"`
}

// Encode returns a, compacted, in the form the stores keep.
func Encode(a scribe.Authorship) []byte {
	a = Compact(a)
	s := stored{Rev: a.Rev, Authors: a.Authors, Runs: make([]int, 0, 2*len(a.Runs))}
	if s.Authors == nil {
		s.Authors = []scribe.Author{}
	}
	for _, r := range a.Runs {
		s.Runs = append(s.Runs, r.Len, r.Author)
	}
	b, _ := json.Marshal(s) // ints and strings: never fails
	return b
}

// Decode reads what Encode wrote, checking that it is well formed.
func Decode(b []byte) (scribe.Authorship, error) {
	var s stored
	if err := json.Unmarshal(b, &s); err != nil {
		return scribe.Authorship{}, fmt.Errorf("authorship: %w", err)
	}
	if s.Rev < 0 || len(s.Runs)%2 != 0 {
		return scribe.Authorship{}, fmt.Errorf("authorship: malformed runs at revision %d", s.Rev)
	}
	a := scribe.Authorship{Rev: s.Rev, Authors: s.Authors, Runs: make([]scribe.AuthorRun, 0, len(s.Runs)/2)}
	for i := 0; i < len(s.Runs); i += 2 {
		n, who := s.Runs[i], s.Runs[i+1]
		if n <= 0 || n > ot.MaxLength || who < scribe.NoAuthor || who >= len(a.Authors) {
			return scribe.Authorship{}, fmt.Errorf("authorship: run %d (%d, %d) is out of range", i/2, n, who)
		}
		a.Runs = push(a.Runs, n, who)
	}
	return a, nil
}

// Palette is the people's colours of web/src/colors.js, in the same order.
var Palette = []string{
	"#0077bb", "#ee7733", "#009988", "#cc3311", "#33bbee", "#ee3377",
	"#117733", "#332288", "#ddcc77", "#882255", "#bbbbbb", "#aa4499",
}

// preferred is the palette index key asks for first: FNV-1a over its
// UTF-16 code units (colors.js preferred).
func preferred(key string) int {
	h := uint32(2166136261)
	for _, u := range utf16.Encode([]rune(key)) {
		h ^= uint32(u)
		h *= 16777619
	}
	return int(h % uint32(len(Palette)))
}

// Colors gives each key a colour as every browser does (colors.js
// assignColors): keys in order, each its preferred colour if free, else
// the next free one after it; shared only once all are taken.
func Colors(keys []string) map[string]string {
	sorted := make([]string, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			sorted = append(sorted, k)
		}
	}
	sortUTF16(sorted)
	out := make(map[string]string, len(sorted))
	used := make([]int, len(Palette))
	for _, k := range sorted {
		least := used[0]
		for _, u := range used {
			least = min(least, u)
		}
		start, pick := preferred(k), preferred(k)
		for i := range Palette {
			if c := (start + i) % len(Palette); used[c] == least {
				pick = c
				break
			}
		}
		used[pick]++
		out[k] = Palette[pick]
	}
	return out
}
