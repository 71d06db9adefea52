package redis

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// Compaction (scribe.Compactor). One more key per note, in its slot, and
// one more field of its metadata:
//
//	P note:{id}:cold  list: revisions 1..logbase, compacted (lua/cold.lua)
//	meta logbase      the revision before the log's first element (0 if absent)
//
// The compacted history stays in Redis, beside the hot log, so that every
// node reads an old revision the same way (docs/operations.md, "Bounding
// Redis memory by age"). CompactStep plans the folds of a note's oldest
// cold changes in Go (Lua cannot compose operations) from one consistent
// read (lua/foldread.lua), and one script (lua/fold.lua) checks that what
// it replaces is still there and swaps it, atomically: a crash of a node
// or of Redis leaves the old layout or the new one. Folds go no further
// than the latest snapshot, so LoadNote reads the log alone, as before.
//
// Deduplication after a fold: each session's highest seq (LastSeq) stays,
// pointed at its fold when it was folded; the session's list of
// revisions (seqrevs) loses the folded ones and remembers, in its first
// element, the fold that holds the last of them, which answers a resend
// of any older seq (append.lua); dedup-hash entries of folded changes
// point at their fold.

var _ scribe.Compactor = (*Store)(nil)

var (
	//go:embed lua/cold.lua
	coldLua string
	//go:embed lua/foldread.lua
	foldReadLua string
	//go:embed lua/fold.lua
	foldLua string

	foldReadScript = goredis.NewScript(coldLua + foldReadLua)
	foldScript     = goredis.NewScript(coldLua + foldLua)
)

// Bounds of one CompactStep, besides its budget of folded changes.
const (
	// maxFoldRead is how many log elements one fold script replaces at
	// most (and one planning read reads): about 100 KB of changes.
	maxFoldRead = 1000
	// compactScan is how many notes one step examines at most, in
	// batches of compactBatch (one round trip each).
	compactScan  = 1000
	compactBatch = 100
	// maxFoldTries bounds the re-plans of one note in one step when
	// another writer (a checkpoint, a snapshot, another node's step)
	// moves it under the plan.
	maxFoldTries = 3
)

// CompactStep folds at most budget cold changes; see scribe.Compactor.
// Besides the budget, it moves at most budget+maxFoldRead changes that
// stay as they are (runs of one) into the compacted list, and examines
// at most compactScan notes, from where the previous step stopped, in
// the order of notes:byupdated (least recently edited first).
func (s *Store) CompactStep(ctx context.Context, now time.Time, hotAge time.Duration, budget int) (scribe.CompactStats, error) {
	var st scribe.CompactStats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	if budget < 1 {
		return st, scribe.Errorf(scribe.EINVALID, "A compaction step folds at least one change.")
	}
	if hotAge <= 0 {
		return st, scribe.Errorf(scribe.EINVALID, "The hot age must be positive.")
	}
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	total, err := s.client.ZCard(ctx, s.byUpdatedKey()).Result()
	if err != nil {
		return st, s.wrap(ctx, "compact", err)
	}
	w := &compactWork{now: now, hotAge: hotAge, budget: budget, left: budget, moves: budget + maxFoldRead}
	pos := s.compactPos
	if !s.compactStarted && total > 0 {
		// Each node starts at its own place, so the sweepers of several
		// nodes rarely plan the same note at once (the loser's fold is
		// refused, ERETRY, and costs only its reads).
		pos, s.compactStarted = rand.Int64N(total), true
	}
	if pos >= total {
		pos = 0
	}
	resume := int64(-1) // the first note left behind: the next step starts there
	for examined := int64(0); examined < min(total, compactScan); {
		count := min(compactBatch, min(total, compactScan)-examined)
		ids, err := s.client.ZRange(ctx, s.byUpdatedKey(), pos, pos+count-1).Result()
		if err != nil {
			return st, s.wrap(ctx, "compact", err)
		}
		if len(ids) == 0 {
			if pos == 0 {
				break
			}
			pos = 0 // the end of the index: wrap around
			continue
		}
		firsts := make([]*goredis.StringCmd, len(ids))
		_, err = s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, id := range ids {
				firsts[i] = p.LIndex(ctx, s.noteKey(scribe.NoteID(id), "log"), 0)
			}
			return nil
		})
		if err != nil && !errors.Is(err, goredis.Nil) {
			return st, s.wrap(ctx, "compact", err)
		}
		for i, raw := range ids {
			examined++
			id := scribe.NoteID(raw)
			c, err := decodeChange(firsts[i].Val())
			if !id.Valid() || err != nil || !scribe.Cold(c.Time, now, hotAge) {
				pos++
				continue // nothing cold (or not readable: the step's own read will say)
			}
			if w.left == 0 || w.moves == 0 {
				st.Behind++
				if resume < 0 {
					resume = pos
				}
				pos++
				continue
			}
			ns, more, err := s.compactNote(ctx, id, w)
			st.Add(ns)
			if err != nil {
				if ctx.Err() != nil || scribe.ErrorCode(err) == scribe.EUNAVAILABLE {
					s.compactPos = pos
					return st, err
				}
				// One note's bad data must not stop compaction of the rest.
				s.log.Error("compact note", "note", noteRef(id), "err", err)
				more = false
			}
			if more {
				st.Behind++
				if resume < 0 {
					resume = pos
				}
			}
			pos++
		}
	}
	if resume >= 0 {
		pos = resume
	}
	s.compactPos = pos
	return st, nil
}

// HistoryBytes returns the bytes of the note's history, the count its
// history budget (Options.MaxHistoryBytes) is checked against: every
// entry of its log and of its compacted list, since the budget existed
// (storetest.HistorySizer).
func (s *Store) HistoryBytes(ctx context.Context, id scribe.NoteID) (int64, error) {
	if !id.Valid() {
		return 0, notFound()
	}
	v, err := s.client.HGet(ctx, s.noteKey(id, "meta"), "history").Result()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, s.wrap(ctx, "history bytes", err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, corrupt("metadata", id, fmt.Errorf("history %q", v))
	}
	return n, nil
}

// compactWork is what is left of one CompactStep's bounds.
type compactWork struct {
	now    time.Time
	hotAge time.Duration
	budget int // the step's budget of folded changes
	left   int // what is left of it
	moves  int // changes left that may move as they are (runs of one)
}

// compactNote folds the note's oldest cold changes within w's bounds. more
// says cold changes are left that w's bounds (or a note that kept moving
// under the plan) kept it from.
func (s *Store) compactNote(ctx context.Context, id scribe.NoteID, w *compactWork) (st scribe.CompactStats, more bool, err error) {
	snapped := false
	for tries := 0; w.left > 0 && w.moves > 0; {
		p, err := s.planFolds(ctx, id, w)
		if err != nil {
			return st, false, err
		}
		if p.needSnapshot && !snapped {
			// Cold changes above the latest snapshot: snapshot the head
			// first (the worker may lag), so they can be folded and a load
			// still reads the log alone.
			snapped = true
			if err := s.snapshot(ctx, id); err != nil {
				return st, false, err
			}
			continue
		}
		if p.m == 0 {
			return st, p.rest, nil
		}
		removed, added, err := s.runFold(ctx, id, p)
		if err != nil {
			if strings.HasPrefix(err.Error(), "ERETRY") {
				if tries++; tries < maxFoldTries {
					continue
				}
				return st, true, nil
			}
			return st, false, s.wrap(ctx, "compact", err)
		}
		st.Changes += p.folded
		st.Folds += p.folds
		st.Bytes += removed - added
		w.left -= p.folded
		w.moves -= p.m - p.folded
		if !p.rest {
			return st, false, nil
		}
	}
	return st, true, nil
}

// foldPlan is what one fold script writes.
type foldPlan struct {
	base    scribe.Revision // the logbase the plan starts from
	m       int             // log elements replaced: revisions base+1 .. base+m
	entries []foldEntry
	folded  int  // changes merged into folds
	folds   int  // folds among entries
	rest    bool // cold changes are left after these
	// needSnapshot: cold changes lie above the latest snapshot.
	needSnapshot bool
	sessions     []string       // sessions with changes that move, in order
	moving       map[string]int // how many of each session's changes move
	dedup        []any          // field, revision, fold's last revision: per folded change
}

// foldEntry is one element of the compacted list: a fold or a change
// moved as it is (json "").
type foldEntry struct {
	first, last scribe.Revision
	json        string
}

// planFolds reads the oldest log elements of the note and plans the
// entries that replace its cold prefix (see scribe.Compactor for the
// rules a fold follows).
func (s *Store) planFolds(ctx context.Context, id scribe.NoteID, w *compactWork) (foldPlan, error) {
	keys := []string{s.noteKey(id, "meta"), s.noteKey(id, "log"), s.noteKey(id, "snap"), s.noteKey(id, "marks"), s.noteKey(id, "histrevs")}
	window := min(maxFoldRead, w.left+w.moves)
	res, err := foldReadScript.Run(ctx, s.client, keys, window).Slice()
	if err != nil {
		return foldPlan{}, s.wrap(ctx, "compact", err)
	}
	if len(res) != 5 {
		return foldPlan{}, fmt.Errorf("compact: script returned %d values", len(res))
	}
	headStr, _ := res[0].(string)
	baseStr, _ := res[1].(string)
	snapStr, _ := res[2].(string) // nil: no snapshot (corrupt; nothing folds)
	raws, ok1 := res[3].([]any)
	stopList, ok2 := res[4].([]any)
	head, err1 := strconv.ParseInt(headStr, 10, 64)
	base, err2 := strconv.ParseInt(baseStr, 10, 64)
	snapRev, err3 := strconv.ParseInt(snapStr, 10, 64)
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		return foldPlan{}, corrupt("metadata", id, errors.New("head or logbase"))
	}
	if err3 != nil {
		return foldPlan{}, corrupt("snapshot", id, fmt.Errorf("revision %q", snapStr))
	}
	// A boundary: a revision whose text stays addressable, so no fold
	// goes on past it.
	stops := map[scribe.Revision]bool{scribe.Revision(snapRev): true}
	for _, v := range stopList {
		str, _ := v.(string)
		f, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return foldPlan{}, corrupt("checkpoints", id, fmt.Errorf("score %q", str))
		}
		stops[scribe.Revision(f)] = true
	}
	changes, err := decodeChain(id, raws, scribe.Revision(base))
	if err != nil {
		return foldPlan{}, err
	}
	p := foldPlan{base: scribe.Revision(base), moving: map[string]int{}}
	// The cold prefix, no further than the latest snapshot.
	n := 0
	for n < len(changes) && scribe.Cold(changes[n].Time, w.now, w.hotAge) {
		if int64(changes[n].Revision) > snapRev {
			p.needSnapshot = true
			break
		}
		n++
	}
	// Is the cold prefix all there is, or does it (maybe) go on past what
	// was read (or above the snapshot)?
	readAll := base+int64(len(changes)) >= head
	p.rest = p.needSnapshot || n == len(changes) && !readAll
	// Runs: consecutive changes that may be one fold.
	var runs [][]scribe.Change
	for i := 0; i < n; i++ {
		if i > 0 && sameRun(changes[i-1], changes[i]) && !stops[changes[i-1].Revision] {
			runs[len(runs)-1] = append(runs[len(runs)-1], changes[i])
			continue
		}
		runs = append(runs, changes[i:i+1])
	}
	if n == len(changes) && !readAll && len(runs) > 1 {
		// The last run may go on beyond what was read: leave it whole for
		// the next read.
		runs = runs[:len(runs)-1]
		p.rest = true
	}
	left, moves := w.left, w.moves
	for ri, run := range runs {
		if len(run) == 1 {
			if moves == 0 {
				p.rest = true
				break
			}
			moves--
			p.addSingle(run[0])
			continue
		}
		if len(run) > left {
			// A run longer than the whole budget folds in pieces; a
			// shorter one waits for the next step, to fold whole.
			if len(run) <= w.budget || left < 2 {
				p.rest = true
				break
			}
			run = run[:left]
			if ri < len(runs)-1 || len(run) < len(runs[ri]) {
				p.rest = true
			}
		}
		if err := p.addFold(run); err != nil {
			// Not composable (it should be: every op was checked against
			// its text): keep the changes as they are.
			for _, c := range run {
				p.addSingle(c)
			}
			moves -= len(run)
			continue
		}
		left -= len(run)
		if len(run) < len(runs[ri]) {
			break
		}
	}
	return p, nil
}

// sameRun reports whether b may join a fold that ends with a: one writer
// (session, name and email), no Credit, one clock minute.
func sameRun(a, b scribe.Change) bool {
	return a.Session == b.Session && a.Author == b.Author && a.Email == b.Email &&
		len(a.Credit) == 0 && len(b.Credit) == 0 &&
		a.Time.Truncate(time.Minute).Equal(b.Time.Truncate(time.Minute))
}

// addSingle plans c to move into the compacted list as it is.
func (p *foldPlan) addSingle(c scribe.Change) {
	p.entries = append(p.entries, foldEntry{first: c.Revision, last: c.Revision})
	p.moved(c)
}

func (p *foldPlan) moved(c scribe.Change) {
	p.m++
	if _, ok := p.moving[c.Session]; !ok {
		p.sessions = append(p.sessions, c.Session)
	}
	p.moving[c.Session]++
}

// addFold plans the run's fold: its ops composed, the last change's seq
// and time.
func (p *foldPlan) addFold(run []scribe.Change) error {
	op, err := ot.ParseJSON(run[0].Op)
	if err != nil {
		return err
	}
	for _, c := range run[1:] {
		next, err := ot.ParseJSON(c.Op)
		if err != nil {
			return err
		}
		if op, err = ot.Compose(op, next); err != nil {
			return err
		}
	}
	canon, err := op.MarshalJSON()
	if err != nil {
		return err
	}
	last := run[len(run)-1]
	body, err := json.Marshal(storedChange{
		Rev: int64(last.Revision), First: int64(run[0].Revision), Time: last.Time.UnixNano(),
		Op: canon, Session: last.Session, Seq: last.Seq, Author: last.Author, Email: last.Email,
	})
	if err != nil {
		return err
	}
	p.entries = append(p.entries, foldEntry{first: run[0].Revision, last: last.Revision, json: string(body)})
	for _, c := range run {
		p.moved(c)
		if c.Revision != last.Revision {
			p.dedup = append(p.dedup, strconv.FormatUint(c.Seq, 10)+":"+c.Session, int64(c.Revision), int64(last.Revision))
		}
	}
	p.folded += len(run)
	p.folds++
	return nil
}

// runFold runs lua/fold.lua for p and returns the bytes it removed from
// the log and added to the compacted list.
func (s *Store) runFold(ctx context.Context, id scribe.NoteID, p foldPlan) (removed, added int64, err error) {
	keys := []string{
		s.noteKey(id, "meta"), s.noteKey(id, "log"), s.noteKey(id, "cold"), s.noteKey(id, "snap"),
		s.noteKey(id, "histrevs"), s.noteKey(id, "marks"), s.noteKey(id, "dedup"), s.noteKey(id, "sessions"),
	}
	args := make([]any, 0, 5+3*len(p.entries)+2*len(p.sessions)+len(p.dedup))
	args = append(args, int64(p.base), p.m, len(p.entries), len(p.dedup)/3, len(p.sessions))
	for _, e := range p.entries {
		args = append(args, int64(e.first), int64(e.last), e.json)
	}
	for _, session := range p.sessions {
		keys = append(keys, s.noteKey(id, "seqrevs:"+session))
		args = append(args, session, p.moving[session])
	}
	args = append(args, p.dedup...)
	res, err := foldScript.Run(ctx, s.client, keys, args...).Int64Slice()
	if err != nil {
		return 0, 0, err
	}
	if len(res) != 2 {
		return 0, 0, fmt.Errorf("compact: script returned %d values", len(res))
	}
	return res[0], res[1], nil
}
