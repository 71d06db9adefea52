package scribe

import (
	"context"
	"time"
)

// Compactor folds a note's old history so that it stops costing a change's
// bytes per keystroke (issue 13: history older than a configurable age
// moves into compacted checkpoints, never silently dropped). Both stores
// implement it; the sweeper in cmd/scribe calls CompactStep on a ticker.
//
// What compaction does. A change is cold when the clock minute it was
// committed in ended at or before now - hotAge. Each run of two or more
// consecutive cold changes with the same Session, Author and Email, within
// one clock minute, none of them with Credit, becomes one fold: a Change
// whose Op is the runs' ops composed (ot.Compose), First its first
// revision, Revision its last, Seq and Time the last change's. A fold
// never has strictly inside it (First <= r < Revision) revision 0, a
// history snapshot, the latest snapshot or a named checkpoint (so export
// checkpoints too): those revisions stay addressable. Folds are never
// folded again. A run longer than what one step may fold is folded in
// pieces (more fold boundaries, never fewer).
//
// What stays true after it:
//   - The text at every addressable revision (0, every revision no fold
//     covers, every fold's First-1 and Revision, which includes the head) is
//     what it was, from TextAt, and LoadNote is unchanged. So is AuthorsAt
//     at every addressable revision: a fold is one author's, and composing
//     keeps who inserted each character that survives.
//   - TextAt, AuthorsAt and AddCheckpoint at a revision inside a fold, and
//     Changes whose from or (clamped) to falls inside one, give a
//     *FoldedError (EGONE) naming the nearest addressable revisions. Never
//     a wrong text.
//   - Changes returns a fold as one Change (First set) where the changes
//     were; consecutive results satisfy next.Base() == prev.Revision.
//   - Append's deduplication: LastSeq is unchanged, and a resend of a
//     (Session, Seq) that was folded is still a duplicate: nothing is
//     written, and its result is an addressable revision at or after the
//     end of the fold that holds it (the fold's end, where the store still
//     knows it; at most the head), never a new revision.
//   - The note's history budget (see the stores' MaxHistoryBytes) goes down
//     by what the step freed (CompactStats.Bytes).
//
// CompactStep is safe for concurrent use with every other call, and on a
// shared backend with other nodes' CompactStep: each fold is written
// atomically, after checking that what it replaces is still there.
type Compactor interface {
	// CompactStep does one bounded step of compaction with now as the
	// clock: it folds at most budget (>= 1, else EINVALID) cold changes,
	// over as many notes as that takes, resuming where the previous step
	// left off. hotAge <= 0 is EINVALID (a caller that never compacts does
	// not call). A step that finds nothing to do returns zero stats; calling
	// it again with the same now folds nothing more (idempotent).
	CompactStep(ctx context.Context, now time.Time, hotAge time.Duration, budget int) (CompactStats, error)
}

// CompactStats says what one CompactStep did.
type CompactStats struct {
	// Changes is how many changes were merged into folds (a fold of five
	// counts five); Folds how many folds were written.
	Changes int
	Folds   int
	// Bytes is how much the notes' history (the budget's count: op,
	// session and author of each change) went down.
	Bytes int64
	// Behind is how many notes the step saw that still hold cold changes
	// it did not get to (its budget ran out); 0 when it caught up with
	// every note it examined.
	Behind int
}

// Add adds o to s (a sweeper's running totals).
func (s *CompactStats) Add(o CompactStats) {
	s.Changes += o.Changes
	s.Folds += o.Folds
	s.Bytes += o.Bytes
}

// Cold reports whether a change committed at t is cold at now with hot
// age hotAge: its clock minute ended at or before now - hotAge.
func Cold(t, now time.Time, hotAge time.Duration) bool {
	return !t.Truncate(time.Minute).Add(time.Minute).After(now.Add(-hotAge))
}

// DefaultHistoryHotAge is how old history gets before it is compacted,
// unless configured (--history-hot-age).
const DefaultHistoryHotAge = 7 * 24 * time.Hour
