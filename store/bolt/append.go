package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	bbolt "go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
)

// appendReq is one Append call waiting for the writer.
type appendReq struct {
	ctx      context.Context
	id       scribe.NoteID
	expected scribe.Revision
	changes  []scribe.Change
	done     chan appendResult // buffered: the writer never blocks on it
}

type appendResult struct {
	revs []scribe.Revision
	err  error
}

// Append commits changes at the expected head revision; see scribe.Store.
// The changes are fsynced when it returns. It checks, in order: the
// expected revision (ECONFLICT), then each change: its Session (non-empty,
// at most 255 bytes, UTF-8) and Seq (> 0), whether it is a duplicate, and
// for a new change that its Op is ot JSON that applies to the text at that
// point: base length and no boundary inside a surrogate pair (EINVALID).
func (s *Store) Append(ctx context.Context, id scribe.NoteID, expected scribe.Revision, changes []scribe.Change) ([]scribe.Revision, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if !id.Valid() {
		return nil, notFound(id)
	}
	if len(changes) == 0 {
		return nil, scribe.Errorf(scribe.EINVALID, "No changes to append.")
	}
	if expected < 0 {
		return nil, scribe.Errorf(scribe.EINVALID, "Invalid expected revision %d.", expected)
	}
	if err := s.disk.check(); err != nil {
		return nil, err
	}
	r := &appendReq{ctx: ctx, id: id, expected: expected, changes: changes, done: make(chan appendResult, 1)}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.ctx.Done():
		return nil, errClosed
	}
	res := <-r.done // once accepted, the writer always answers
	return res.revs, res.err
}

// writer owns every append: it takes one request, drains whatever else is
// queued (up to maxGroup) and commits them all in one transaction, one fsync.
func (s *Store) writer() {
	for {
		var batch []*appendReq
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		case <-s.ctx.Done():
			return
		}
	drain:
		for len(batch) < maxGroup {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.commit(batch)
	}
}

// plan is an append that passed validation: everything to write.
type plan struct {
	id      scribe.NoteID
	m       *meta           // updated in place to the new head
	oldTime time.Time       // UpdatedAt before, for the ListNotes index
	changes []scribe.Change // the new changes, with Revision set, Time unset
	revs    []scribe.Revision
	snap    *string // text at the new head, when a snapshot is due
	oldSnap int64
	stored  []byte // the meta's bytes as stored before (a copy of its own)
	full    bool   // the meta changed beyond its head record: write all of it
}

// commit runs the requests in one write transaction. A request that fails
// validation writes nothing and gets its error; the others commit. If the
// transaction itself fails, every request that would have written fails.
func (s *Store) commit(batch []*appendReq) {
	results := make([]appendResult, len(batch))
	plans := make([]*plan, len(batch))
	now := s.opts.Now().UTC().Round(0)
	s.touched = s.touched[:0]
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for i, r := range batch {
			if err := r.ctx.Err(); err != nil {
				results[i].err = err
				continue
			}
			p, err := s.plan(tx, r)
			if err != nil {
				results[i].err = err
				continue
			}
			results[i].revs = p.revs
			if len(p.changes) == 0 {
				continue // all duplicates: nothing to write
			}
			if err := s.write(tx, p, now); err != nil {
				return err // partial writes: abort the whole transaction
			}
			plans[i] = p
		}
		return nil
	})
	if err != nil {
		// The cached heads moved on with writes that were rolled back.
		for _, id := range s.touched {
			s.heads.drop(id)
		}
		err = wrap("append", err)
		for i := range results {
			if results[i].err == nil {
				results[i] = appendResult{err: err}
			}
		}
		plans = nil
	}
	s.heads.trim()
	if wrote := countPlans(plans); wrote > 0 {
		s.txs.Add(1)
		s.appends.Add(int64(wrote))
		for _, p := range plans {
			if p != nil {
				s.ops.Add(int64(len(p.changes)))
			}
		}
	}
	// Subscribers first: when Append returns, they have been notified (the
	// contract), and notify never blocks.
	var feed []scribe.NoteChange
	for _, p := range plans {
		if p != nil {
			for _, c := range p.changes {
				c.Time = now
				s.notify(p.id, scribe.Event{Change: &c})
			}
			feed = append(feed, scribe.NoteChange{ID: p.id, Revision: scribe.Revision(p.m.Rev)})
		}
	}
	if len(feed) > 0 {
		s.feed.publish(feed...)
	}
	for i, r := range batch {
		r.done <- results[i]
	}
}

func countPlans(plans []*plan) int {
	n := 0
	for _, p := range plans {
		if p != nil {
			n++
		}
	}
	return n
}

// plan validates r against the transaction's state and prepares its writes.
func (s *Store) plan(tx *bbolt.Tx, r *appendReq) (_ *plan, err error) {
	var doc *head // the note's text, once a new change needs it
	defer func() {
		if err != nil && doc != nil {
			s.heads.drop(r.id) // doc may hold ops of this failed request
		}
	}()
	m, stored, err := s.heads.meta(r.id, tx.Bucket(bucketNotes).Get([]byte(r.id)), headValue(tx, r.id))
	if err != nil {
		return nil, err
	}
	if int64(r.expected) != m.Rev {
		return nil, scribe.Errorf(scribe.ECONFLICT, "The note is at revision %d, not %d.", m.Rev, r.expected)
	}
	seqs, err := noteBucket(tx, r.id, bucketSeqs)
	if err != nil {
		return nil, err
	}
	p := &plan{id: r.id, m: m, stored: stored, oldTime: m.UpdatedAt, revs: make([]scribe.Revision, len(r.changes)), oldSnap: m.SnapRev}
	inBatch := map[string]scribe.Revision{}
	length, head := m.Len, m.Rev
	for i, c := range r.changes {
		if c.Session == "" || len(c.Session) > maxSession || !utf8.ValidString(c.Session) {
			return nil, scribe.Errorf(scribe.EINVALID, "Change %d: the session id must be 1 to %d bytes of UTF-8.", i, maxSession)
		}
		if c.Seq == 0 {
			return nil, scribe.Errorf(scribe.EINVALID, "Change %d: the sequence number must be at least 1.", i)
		}
		key := seqKey(c.Session, c.Seq)
		if rev, ok := inBatch[string(key)]; ok {
			p.revs[i] = rev
			continue
		}
		if v := seqs.Get(key); v != nil {
			v, ok := unseal(v)
			if !ok || len(v) != 8 {
				return nil, corrupt(r.id, "sequence index entry for (%q, %d)", c.Session, c.Seq)
			}
			p.revs[i] = scribe.Revision(binary.BigEndian.Uint64(v))
			continue
		}
		if rev, ok := foldedSeq(seqs, c.Session, c.Seq, m.Cold); ok {
			p.revs[i] = rev // committed long ago, and folded since
			continue
		}
		if !utf8.ValidString(c.Author) || !utf8.ValidString(c.Email) {
			return nil, scribe.Errorf(scribe.EINVALID, "Change %d: the author is not valid UTF-8.", i)
		}
		op, err := ot.ParseJSON(c.Op)
		if err != nil {
			return nil, opError(i, err)
		}
		if err := scribe.ValidateCredit(c.Credit, op.InsertedLen()); err != nil {
			return nil, scribe.Errorf(scribe.EINVALID, "Change %d: %s", i, scribe.ErrorMessage(err))
		}
		if op.BaseLen() != length {
			return nil, scribe.Errorf(scribe.EINVALID, "Change %d: operation base length %d does not match document length %d.", i, op.BaseLen(), length)
		}
		if doc == nil {
			if doc, err = s.headDoc(tx, r.id, m); err != nil {
				return nil, err
			}
		}
		if err := doc.doc.Apply(op); err != nil {
			return nil, opError(i, err)
		}
		canon, _ := op.MarshalJSON() // never fails
		length = op.TargetLen()
		head++
		p.revs[i] = scribe.Revision(head)
		inBatch[string(key)] = scribe.Revision(head)
		p.changes = append(p.changes, scribe.Change{Revision: scribe.Revision(head), Op: canon, Session: c.Session, Seq: c.Seq, Author: c.Author, Email: c.Email, Credit: c.Credit})
	}
	if len(p.changes) == 0 {
		return p, nil
	}
	var adding int64
	for _, c := range p.changes {
		adding += historyBytes(c)
	}
	if budget := s.opts.MaxHistoryBytes; budget > 0 && m.History+adding > budget {
		return nil, historyFull(m.History, adding, budget)
	}
	m.History += adding
	people := len(m.Attendees)
	m.addAttendees(p.changes) // written with m, in this transaction
	p.full = len(m.Attendees) != people
	s.heads.update(doc, head)
	s.touched = append(s.touched, r.id)
	if k := int64(s.opts.SnapshotEvery); m.Rev/k != head/k {
		text := doc.doc.String()
		p.snap = &text
	}
	m.Rev, m.Len = head, length
	if p.snap != nil {
		m.SnapRev = head
		p.full = true
	}
	return p, nil
}

// headDoc returns the note's cached text at m.Rev, loading it (snapshot
// plus the operations since) when it is not cached.
func (s *Store) headDoc(tx *bbolt.Tx, id scribe.NoteID, m *meta) (*head, error) {
	if e := s.heads.get(id, m.Rev); e != nil {
		return e, nil
	}
	text, _, err := textAt(tx, id, m)
	if err != nil {
		return nil, err
	}
	doc, err := ot.NewDocument(text)
	if err != nil {
		return nil, corrupt(id, "text at revision %d: %v", m.Rev, err)
	}
	return s.heads.put(id, m.Rev, doc), nil
}

// opError turns an ot error about change i into a scribe error with the
// same code (EINVALID or ETOOLARGE).
func opError(i int, err error) error {
	if e, ok := err.(*ot.Error); ok {
		return scribe.Errorf(e.Code, "Change %d: %s", i, e.Message)
	}
	return scribe.Errorf(scribe.EINVALID, "Change %d: %v", i, err)
}

// write puts a validated plan into the transaction.
func (s *Store) write(tx *bbolt.Tx, p *plan, now time.Time) error {
	ops, err := noteBucket(tx, p.id, bucketOps)
	if err != nil {
		return err
	}
	seqs, err := noteBucket(tx, p.id, bucketSeqs)
	if err != nil {
		return err
	}
	// Revisions only grow, so the log's pages can be filled completely
	// instead of bbolt's default half (a session's seqs mostly grow too).
	ops.FillPercent = 1.0
	seqs.FillPercent = 0.9
	for i := range p.changes {
		c := p.changes[i]
		c.Time = now
		v, err := json.Marshal(&c)
		if err != nil {
			return fmt.Errorf("encode change: %w", err)
		}
		if err := ops.Put(revKey(int64(c.Revision)), seal(v)); err != nil {
			return err
		}
		if err := seqs.Put(seqKey(c.Session, c.Seq), seal(revKey(int64(c.Revision)))); err != nil {
			return err
		}
	}
	if p.snap != nil {
		snaps, err := noteBucket(tx, p.id, bucketSnap)
		if err != nil {
			return err
		}
		if err := snaps.Put(revKey(p.m.SnapRev), seal([]byte(*p.snap))); err != nil {
			return err
		}
		if err := s.keepHistory(tx, p.id, snaps, p.oldSnap); err != nil {
			return err
		}
		if err := snaps.Delete(revKey(p.oldSnap)); err != nil {
			return err
		}
		if err := keepAuthors(tx, p); err != nil {
			return err
		}
	}
	// Most appends change only rev, len, history and UpdatedAt: they go to
	// the note's head record, in its log bucket, whose page the ops and
	// seqs above rewrite anyway; the meta (2 pages more) only when a
	// snapshot or a new attendee changes the rest.
	p.m.UpdatedAt = now
	if p.full {
		stored, head, err := putMeta(tx, p.id, p.m)
		if err != nil {
			return err
		}
		s.heads.wrote(p.id, stored, head, p.m)
	} else {
		head := encodeHead(p.m)
		if err := tx.Bucket(bucketLogs).Bucket([]byte(p.id)).Put(keyHead, head); err != nil {
			return err
		}
		s.heads.wrote(p.id, p.stored, head, p.m)
	}
	return relist(tx, p.id, p.oldTime, now)
}
