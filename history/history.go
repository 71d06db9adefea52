// Package history reads a note's past for people: its revisions grouped
// into checkpoints (who edited, how much, when), the text at any revision,
// and line diffs between two. It depends on the root contract only
// (scribe.Store: Changes, TextAt, Checkpoints); the stores keep the data
// (history snapshots and named checkpoints, scribe.HistoryStore), this
// package shapes it.
package history

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// Limits of one page of checkpoints.
const (
	DefaultPage = 50
	MaxPage     = 200
	// MaxScan bounds how many changes one page reads. A stretch of editing
	// longer than that without a minute boundary (a flood of edits) is cut
	// into checkpoints MaxScan changes apart.
	MaxScan = 20_000
	// chunk is how many changes are read from the store at once.
	chunk = 1000
)

// Checkpoint is a point in a note's history and what happened since the
// checkpoint before it. Checkpoints fall at least every minute of editing
// (at the last change of each clock minute with edits), at every named
// checkpoint (an export, a member's name), at the head, and at revision 0.
type Checkpoint struct {
	Rev   scribe.Revision `json:"rev"`
	Time  time.Time       `json:"time"`  // when revision Rev was committed
	Since scribe.Revision `json:"since"` // the previous checkpoint's revision
	// Authors are the names of who edited in (Since, Rev], most recent
	// first; "API" for an API edit without a name.
	Authors []string `json:"authors"`
	// Added and Removed count the characters inserted and deleted in
	// (Since, Rev], in UTF-16 code units as the editor counts them.
	Added   int `json:"added"`
	Removed int `json:"removed"`
	// Names are the named checkpoints at Rev ("exported as 1a2b3c4"), oldest
	// first; Named the same with who named them and when.
	Names []string            `json:"names,omitempty"`
	Named []scribe.Checkpoint `json:"named,omitempty"`
}

// Page is one page of checkpoints, newest first. Next, when not zero, is
// the before= of the next (older) page.
type Page struct {
	Checkpoints []Checkpoint    `json:"checkpoints"`
	Next        scribe.Revision `json:"next,omitempty"`
}

// Revisions returns up to limit checkpoints at or below revision before-1
// (before <= 0: from the head), newest first. The first checkpoint of the
// page is at before-1 (or the head) whatever it is; paging with Next gives
// every checkpoint exactly once.
func Revisions(ctx context.Context, st scribe.Store, id scribe.NoteID, before scribe.Revision, limit int) (Page, error) {
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	n, err := st.GetNote(ctx, id)
	if err != nil {
		return Page{}, err
	}
	top := n.Revision
	if before > 0 && before-1 < top {
		top = before - 1
		// Inside a fold of compacted history, the page starts below it:
		// only addressable revisions are checkpoints.
		if _, err := st.Changes(ctx, id, max(top-1, 0), top); err != nil {
			f, ok := scribe.AsFolded(err)
			if !ok {
				return Page{}, err
			}
			top = f.Below
		}
	}
	named := map[scribe.Revision][]scribe.Checkpoint{}
	marks, err := st.Checkpoints(ctx, id, top+1, scribe.MaxCheckpointPage)
	if err != nil {
		return Page{}, err
	}
	for _, c := range slices.Backward(marks) { // oldest first within a revision
		named[c.Rev] = append(named[c.Rev], c)
	}
	var page Page
	cur := Checkpoint{Rev: top, Names: nil}
	addNames := func(c *Checkpoint) {
		for _, m := range named[c.Rev] {
			c.Names = append(c.Names, m.Name)
			c.Named = append(c.Named, m)
		}
	}
	addNames(&cur)
	// A checkpoint's time is its revision's; revision 0's is the note's
	// creation.
	var next *scribe.Change // the change after the one being looked at
	scanned := 0
	hi := top
	for hi > 0 && len(page.Checkpoints) < limit {
		lo := max(hi-chunk, 0)
		cs, err := st.Changes(ctx, id, lo, hi)
		if f, ok := scribe.AsFolded(err); ok && f.Rev == lo {
			// lo fell inside a fold of compacted history: read from its
			// start instead (hi never does: see top).
			lo = f.Below
			cs, err = st.Changes(ctx, id, lo, hi)
		}
		if err != nil {
			return Page{}, err
		}
		if len(cs) == 0 {
			break
		}
		for i := len(cs) - 1; i >= 0 && len(page.Checkpoints) < limit; i-- {
			c := &cs[i]
			if c.Revision < cur.Rev && (len(named[c.Revision]) > 0 || scanned >= MaxScan ||
				next != nil && !c.Time.Truncate(time.Minute).Equal(next.Time.Truncate(time.Minute))) {
				// A boundary after c: close the checkpoint above it.
				cur.Since = c.Revision
				page.Checkpoints = append(page.Checkpoints, cur)
				cur = Checkpoint{Rev: c.Revision}
				addNames(&cur)
				scanned = 0
				if len(page.Checkpoints) == limit {
					break
				}
			}
			if c.Revision == cur.Rev {
				cur.Time = c.Time
			}
			count(&cur, c)
			scanned++
			next = c
		}
		hi = lo
	}
	if len(page.Checkpoints) < limit {
		// Down to revision 0: the last open checkpoint closes there, and
		// the note's creation is a checkpoint of its own.
		if cur.Rev > 0 {
			cur.Since = 0
			page.Checkpoints = append(page.Checkpoints, cur)
			cur = Checkpoint{Rev: 0}
			addNames(&cur)
		}
		if len(page.Checkpoints) < limit {
			cur.Time, cur.Authors = n.CreatedAt, []string{}
			page.Checkpoints = append(page.Checkpoints, cur)
			return page, nil
		}
	}
	if last := page.Checkpoints[len(page.Checkpoints)-1]; last.Rev > 0 {
		page.Next = last.Since + 1
	}
	return page, nil
}

// count adds change c to checkpoint cp: its author and its size.
func count(cp *Checkpoint, c *scribe.Change) {
	name := c.Author
	if name == "" && strings.HasPrefix(c.Session, scribe.APISessionPrefix) {
		name = "API"
	}
	if name != "" && !slices.Contains(cp.Authors, name) {
		cp.Authors = append(cp.Authors, name)
	}
	if cp.Authors == nil {
		cp.Authors = []string{}
	}
	op, err := ot.ParseJSON(c.Op)
	if err != nil {
		return // the store checked every op it committed
	}
	ins := op.InsertedLen()
	cp.Added += ins
	cp.Removed += op.BaseLen() - (op.TargetLen() - ins)
}
