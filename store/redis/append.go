package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// Base-length markers passed to append.lua in place of an op's base length.
const (
	markInvalid   = -1 // Go could not parse or apply the op; the body says why
	markDuplicate = -2 // Go treats the change as a duplicate and did not apply it
)

// indexTimeout bounds the update of the global index after an append on a
// Cluster, which runs even when the caller's context is cancelled.
const indexTimeout = 5 * time.Second

// recordedFor is how long an append trusts that the attendees it passed
// before are in the note's people field (docEntry.recorded): a record a
// Redis failover lost is written again with its author's first edit after
// that.
const recordedFor = 10 * time.Second

// maxRecorded bounds docEntry.recorded: a note has at most
// scribe.MaxAttendees people, and authors past those are remembered up to
// as many again.
const maxRecorded = 2 * scribe.MaxAttendees

// maxAppendAttempts bounds the script calls of one Append: the second call
// happens only when the script reports duplicates Go did not know of, and
// then knows them all.
const maxAppendAttempts = 3

// Append commits changes atomically at the expected head revision, with
// deduplication on (Session, Seq); see scribe.Store. An empty batch, an
// empty Session, a Seq of 0 or a negative expected revision is EINVALID.
//
// Every new change's Op must apply to the text it is based on (the text
// after the change before it): its base length must match, and no boundary
// may split a surrogate pair. Append applies each op to its cached copy of
// the note's text (see docCache) before the script runs, and the script
// checks the chain of lengths again against the stored length, so an
// operation that does not fit never reaches the log. A change that does not
// fit gives EINVALID and nothing of the batch is written.
func (s *Store) Append(ctx context.Context, id scribe.NoteID, expected scribe.Revision, changes []scribe.Change) ([]scribe.Revision, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !id.Valid() {
		return nil, notFound()
	}
	if expected < 0 {
		return nil, scribe.Errorf(scribe.EINVALID, "The expected revision must not be negative.")
	}
	if len(changes) == 0 {
		return nil, scribe.Errorf(scribe.EINVALID, "There are no changes to append.")
	}
	if len(changes) > MaxBatch {
		return nil, scribe.Errorf(scribe.ETOOLARGE, "At most %d changes can be appended at once.", MaxBatch)
	}
	ops := make([]ot.Operation, len(changes))
	parseErrs := make([]error, len(changes))
	for i, c := range changes {
		if err := checkChange(i, c); err != nil {
			return nil, err
		}
		ops[i], parseErrs[i] = ot.ParseJSON(c.Op)
	}

	e := s.cache.get(id)
	e.mu.Lock()
	defer e.mu.Unlock()
	loaded, err := s.catchUp(ctx, e, expected)
	if err != nil {
		if e.doc == nil {
			s.cache.remove(e) // e.g. an id of no note: keep no entry for it
		}
		return nil, err
	}

	t := s.clock()
	if t.Sub(e.recordedSince) >= recordedFor || t.Before(e.recordedSince) {
		e.recorded = nil // (see docEntry.recorded)
		e.recordedSince = t
	}
	keys, keyOf := s.appendKeys(id, changes)
	known := make([]bool, len(changes)) // duplicates the script told us of
	for attempt := 1; ; attempt++ {
		args, undo, passed, err := s.appendArgs(e.doc, e.recorded, id, expected, t, changes, ops, parseErrs, known, keyOf)
		if err != nil {
			e.doc, e.recorded = nil, nil
			return nil, err
		}
		res, err := s.runOnce(ctx, appendScript, appendLua, keys, args).Int64Slice()
		if err == nil {
			return s.appended(ctx, e, expected, t, len(undo), changes, res, passed)
		}
		// Nothing was written: put the cached text back to expected.
		for i := len(undo) - 1; i >= 0; i-- {
			if e.doc.Apply(undo[i]) != nil {
				e.doc = nil
				break
			}
		}
		var rerr goredis.Error
		if !errors.As(err, &rerr) {
			// No answer (a timeout, a broken connection): the script
			// may or may not have run, and it is not sent again (see
			// runOnce). The caller's resend of the same (Session, Seq)
			// tells which: a duplicate gets the revision it has.
			return nil, s.wrap(ctx, "append", err)
		}
		msg := rerr.Error()
		if rest, ok := strings.CutPrefix(msg, "EHISTORY "); ok {
			var stored, adding int64
			_, _ = fmt.Sscan(rest, &stored, &adding)
			return nil, scribe.Errorf(scribe.ETOOLARGE, "This note's history would exceed its limit of %d bytes (%d stored, this edit adds %d); the note accepts no more edits. Copy its text into a new note to go on.", s.historyBudget, stored, adding)
		}
		if head, ok := strings.CutPrefix(msg, "ECONFLICT "); ok {
			return nil, scribe.Errorf(scribe.ECONFLICT, "The note is at revision %s, not %d.", head, expected)
		}
		if _, ok := strings.CutPrefix(msg, "ELENGTH "); ok {
			if loaded || attempt >= maxAppendAttempts {
				return nil, corrupt("metadata", id, errors.New(strings.TrimPrefix(msg, "ELENGTH ")))
			}
			// The cached text is stale (say, a failover lost the last
			// changes it has): read the text again and retry.
			e.doc = nil
			if loaded, err = s.catchUp(ctx, e, expected); err != nil {
				return nil, err
			}
			continue
		}
		if list, ok := strings.CutPrefix(msg, "EREDO "); ok && attempt < maxAppendAttempts && e.doc != nil {
			for _, f := range strings.Fields(list) {
				if i, err := strconv.Atoi(f); err == nil && i >= 1 && i <= len(changes) {
					known[i-1] = true
				}
			}
			continue
		}
		return nil, s.wrap(ctx, "append", err)
	}
}

// catchUp brings the cached text e to revision expected: from the changes
// in between if it is a little behind, else by loading the note; loaded
// says it read the whole text from Redis. When the note's head is not
// expected it returns ECONFLICT (or ENOTFOUND).
func (s *Store) catchUp(ctx context.Context, e *docEntry, expected scribe.Revision) (loaded bool, err error) {
	if e.doc != nil && e.rev == expected {
		return false, nil
	}
	if e.doc != nil && e.rev < expected && int64(expected-e.rev) <= 2*s.interval(e.doc.Len()) {
		cs, err := s.Changes(ctx, e.id, e.rev, expected)
		if err != nil && scribe.ErrorCode(err) != scribe.EGONE {
			return false, err
		}
		if err == nil && chainEnd(cs, e.rev) < expected {
			// The head is behind expected.
			return false, scribe.Errorf(scribe.ECONFLICT, "The note is at revision %d, not %d.", chainEnd(cs, e.rev), expected)
		}
		// (EGONE: compaction folded the cached revision away; load.)
		ok := err == nil
		for _, c := range cs {
			op, err := ot.ParseJSON(c.Op)
			if err != nil || e.doc.Apply(op) != nil {
				ok = false
				break
			}
			e.rev = c.Revision
		}
		if ok {
			s.cache.resize(e, docSize(e.doc))
			return false, nil
		}
		e.doc = nil // fall through: load from the snapshot
	}
	e.recorded = nil // (a text reloaded: start over)
	doc, _, err := s.load(ctx, e.id)
	if err != nil {
		return true, err
	}
	d, err := ot.NewDocument(doc.Text)
	if err != nil {
		return true, corrupt("text", e.id, err)
	}
	e.doc, e.rev = d, doc.Revision
	s.cache.resize(e, docSize(d))
	if doc.Revision != expected {
		return true, scribe.Errorf(scribe.ECONFLICT, "The note is at revision %d, not %d.", doc.Revision, expected)
	}
	return true, nil
}

// docSize is what a cached document's text counts against
// Options.CacheBytes: its UTF-16 code units, 2 bytes each.
func docSize(d *ot.Document) int {
	if d == nil {
		return 0
	}
	return 2 * d.Len()
}

// indexFlag tells append.lua whether KEYS[6] is the global index.
func indexFlag(oneNode bool) string {
	if oneNode {
		return "1"
	}
	return "0"
}

// appendKeys returns append.lua's KEYS for a batch, and for each change
// the (1-based) index in KEYS of its session's seqrevs list.
func (s *Store) appendKeys(id scribe.NoteID, changes []scribe.Change) ([]string, []int) {
	keys := []string{s.noteKey(id, "meta"), s.noteKey(id, "log"), s.noteKey(id, "dedup"), s.noteKey(id, "sessions"), s.noteKey(id, "snap")}
	if s.oneNode {
		keys = append(keys, s.byUpdatedKey())
	}
	keyOf := make([]int, len(changes))
	index := make(map[string]int)
	for i, c := range changes {
		k, ok := index[c.Session]
		if !ok {
			keys = append(keys, s.noteKey(id, "seqrevs:"+c.Session))
			k = len(keys)
			index[c.Session] = k
		}
		keyOf[i] = k
	}
	return keys, keyOf
}

// appendArgs applies each new op to doc (the text at expected) and returns
// the script's arguments, the inverses of the ops it applied, in order,
// and the attendee keys it passed. An author whose key is in recorded is
// known to be in the note's people field already and is not passed: the
// script would only search the field for it (docs/benchmarks.md, issue
// 16, branch fanout).
func (s *Store) appendArgs(doc *ot.Document, recorded map[string]bool, id scribe.NoteID, expected scribe.Revision, t time.Time,
	changes []scribe.Change, ops []ot.Operation, parseErrs []error, known []bool, keyOf []int) ([]any, []ot.Operation, []string, error) {
	args := make([]any, 0, 7+6*len(changes))
	args = append(args, strconv.FormatInt(int64(expected), 10), strconv.FormatInt(t.UnixNano(), 10), s.noteKey(id, "events"), string(id), doc.Len(), indexFlag(s.oneNode), s.historyBudget)
	var undo []ot.Operation
	var people strings.Builder // the last argument: the authors of what Go applied
	var passed []string
	authors := make(map[string]bool)
	prev := -1 // the change Go applied last
	inBatch := make(map[string]bool, len(changes))
	for i, c := range changes {
		seq := strconv.FormatUint(c.Seq, 10)
		key := seq + ":" + c.Session
		repeat := inBatch[key]
		inBatch[key] = true
		if known[i] || repeat {
			args = append(args, c.Session, seq, markDuplicate, markDuplicate, "", keyOf[i])
			continue
		}
		if parseErrs[i] != nil {
			args = append(args, c.Session, seq, markInvalid, markInvalid, opMessage(parseErrs[i]), keyOf[i])
			continue
		}
		op := ops[i]
		err := scribe.ValidateCredit(c.Credit, op.InsertedLen())
		var inv ot.Operation
		if err == nil {
			inv, err = doc.Invert(op)
		}
		if err == nil {
			err = doc.Apply(op)
		}
		if err != nil {
			args = append(args, c.Session, seq, markInvalid, markInvalid, opMessage(err), keyOf[i])
			continue
		}
		undo = append(undo, inv)
		canon, err := op.MarshalJSON()
		if err != nil {
			return nil, undo, nil, fmt.Errorf("append: encode op %d: %w", i+1, err)
		}
		body, err := encodeBody(changeBody{Op: canon, Session: c.Session, Seq: c.Seq, Author: c.Author, Email: c.Email, Credit: c.Credit})
		if err != nil {
			return nil, undo, nil, fmt.Errorf("append: encode change %d: %w", i+1, err)
		}
		args = append(args, c.Session, seq, op.BaseLen(), op.TargetLen(), body, keyOf[i])
		if prev >= 0 && scribe.SameAuthor(changes[prev], c) {
			continue // the author of the change applied before: written
		}
		prev = i
		if a := scribe.AttendeeOf(c); !authors[a.Key] && !recorded[a.Key] {
			authors[a.Key] = true
			if err := attendeeLine(&people, a); err != nil {
				return nil, undo, nil, err
			}
			passed = append(passed, a.Key)
		}
	}
	args = append(args, people.String())
	return args, undo, passed, nil
}

// attendeeLine writes append.lua's line for attendee a: the needle that
// finds a's record in the meta hash's "people" array, a tab, the record.
func attendeeLine(b *strings.Builder, a scribe.Attendee) error {
	key, err := json.Marshal(a.Key)
	if err != nil {
		return fmt.Errorf("append: encode attendee: %w", err)
	}
	rec, err := json.Marshal(attendee(a))
	if err != nil {
		return fmt.Errorf("append: encode attendee: %w", err)
	}
	b.WriteString(`"k":`)
	b.Write(key)
	b.WriteByte('\t')
	b.Write(rec)
	b.WriteByte('\n')
	return nil
}

// appended finishes a successful append: it moves the cached text to the
// new head, remembers the attendees passed as recorded, updates the global
// index on a Cluster, and snapshots.
func (s *Store) appended(ctx context.Context, e *docEntry, expected scribe.Revision, t time.Time, applied int, changes []scribe.Change, res []int64, passed []string) ([]scribe.Revision, error) {
	if len(res) != len(changes)+2 {
		e.doc, e.recorded = nil, nil
		return nil, fmt.Errorf("append: script returned %d values for %d changes", len(res), len(changes))
	}
	head, snapRev := res[0], res[1]
	revs := make([]scribe.Revision, len(changes))
	for i := range changes {
		revs[i] = scribe.Revision(res[i+2])
	}
	if e.doc != nil && head == int64(expected)+int64(applied) {
		e.rev = scribe.Revision(head)
		s.cache.resize(e, docSize(e.doc))
	} else {
		e.doc = nil
	}
	if e.doc == nil {
		e.recorded = nil
	} else if head > int64(expected) && len(passed) > 0 {
		// The script wrote the batch, so it looked at each attendee
		// passed: each is in people now, or people is full.
		if e.recorded == nil {
			e.recorded = make(map[string]bool, len(passed))
		}
		for _, key := range passed {
			if len(e.recorded) >= maxRecorded {
				break // (the rest are passed again: bounded memory)
			}
			e.recorded[key] = true
		}
	}
	if head == int64(expected) {
		return revs, nil // all duplicates: nothing written
	}
	// The changes are committed: a failure below must not report the
	// append as failed, or the caller would retry a committed edit.
	if !s.oneNode {
		// Even if the caller gives up now, the index should follow the
		// commit: detach from its cancellation, within a bound.
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), indexTimeout)
		if err := s.touch(tctx, e.id, t); err != nil {
			s.log.Error("index note after append", "err", err)
		}
		cancel()
	}
	s.publishChange(ctx, e.id, scribe.Revision(head))
	k := s.k
	if e.doc != nil {
		k = s.interval(e.doc.Len())
	}
	switch {
	case head-snapRev >= 2*k:
		// The worker is behind (or this batch alone spans two intervals):
		// snapshot now, so loads stay O(K) and a writer that outruns the
		// worker is slowed down rather than letting the replay grow.
		var err error
		if e.doc != nil {
			err = s.writeSnapshot(ctx, e.id, e.rev, e.doc.String())
		} else {
			err = s.snapshot(ctx, e.id)
		}
		if err != nil && ctx.Err() == nil {
			s.log.Error("snapshot after append", "err", err)
		}
	case int64(expected)/k != head/k:
		s.scheduleSnapshot(e.id)
	}
	return revs, nil
}

// onceCmd is a script call go-redis sends at most once: NoRetry turns off
// its retries (a read that timed out, a connection that broke after the
// write), which would send the script again although Redis may have run
// it. Redirections (MOVED, ASK, READONLY in a Cluster) still go to the
// right node: Redis refused those without running anything.
type onceCmd struct{ *goredis.Cmd }

func (onceCmd) NoRetry() bool { return true }

// runOnce runs script, whose source is src, as Script.Run does (EVALSHA,
// then EVAL if Redis does not have it cached), but never sends a call
// twice. An append must not be retried blindly: if Redis ran it and its
// answer was late (a read beyond ReadTimeout), a second run finds the head
// moved by the first and answers ECONFLICT, so a committed batch would be
// reported as refused (with nothing published to the change feed). Without
// the retry, such an append fails with EUNAVAILABLE, which says the outcome
// is unknown; the caller resends, and (Session, Seq) deduplication answers
// with the revisions the batch has. (A NOSCRIPT answer means nothing ran,
// so the EVAL after it is safe.)
func (s *Store) runOnce(ctx context.Context, script *goredis.Script, src string, keys []string, args []any) *goredis.Cmd {
	cmd := scriptCmd(ctx, "evalsha", script.Hash(), keys, args)
	_ = s.client.Process(ctx, onceCmd{cmd})
	if err := cmd.Err(); err != nil && (errors.Is(err, goredis.ErrNoScript) || goredis.HasErrorPrefix(err, "NOSCRIPT")) {
		cmd = scriptCmd(ctx, "eval", src, keys, args)
		_ = s.client.Process(ctx, onceCmd{cmd})
	}
	return cmd
}

// scriptCmd builds an EVAL or EVALSHA command as go-redis's Eval does.
func scriptCmd(ctx context.Context, name, payload string, keys []string, args []any) *goredis.Cmd {
	a := make([]any, 0, 3+len(keys)+len(args))
	a = append(a, name, payload, len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	a = append(a, args...)
	cmd := goredis.NewCmd(ctx, a...)
	if len(keys) > 0 {
		cmd.SetFirstKeyPos(3)
	}
	return cmd
}
