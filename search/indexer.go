package search

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/scribe-notes/scribe"
)

// Indexer defaults.
const (
	// DefaultDebounce is the least time between two re-indexings of one
	// note: the first change of a burst is indexed at once, later ones at
	// most once per Debounce.
	DefaultDebounce = time.Second
	// maxBatch bounds the notes loaded and indexed in one batch.
	maxBatch = 200
	// retryPause is the wait after a failed batch or a failed follow.
	retryPause = time.Second
)

// IndexerOptions configures an Indexer. The zero value gives the defaults.
type IndexerOptions struct {
	Debounce time.Duration // DefaultDebounce when zero
	Logger   *slog.Logger  // slog.Default() when nil
	// Ledger, when set, is kept in step with the index: loaded from it at
	// Open and given every note indexed or deleted after.
	Ledger *Ledger
}

// Indexer keeps a Backend in step with a store: it follows the store's
// change feed and re-indexes each changed note from the store (debounced),
// and resynchronises from every note's metadata when the index is new or
// the feed reports lost events. Its lifecycle is NewIndexer, Open, Close.
// It is safe for concurrent use.
type Indexer struct {
	store   scribe.Store
	feed    scribe.NoteFeed
	idx     Backend
	fresh   bool
	opts    IndexerOptions
	log     *slog.Logger
	changes <-chan scribe.NoteChange

	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	updated chan struct{} // closed and replaced after every batch
	synced  bool          // the first resynchronisation is done
}

// NewIndexer returns an Indexer of store into idx. fresh says the index is
// new and must be built from every note (Bleve.Fresh). It does no I/O.
func NewIndexer(store scribe.Store, feed scribe.NoteFeed, idx Backend, fresh bool, opts IndexerOptions) *Indexer {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Indexer{store: store, feed: feed, idx: idx, fresh: fresh, opts: opts,
		log: opts.Logger.With("component", "search-indexer"), updated: make(chan struct{})}
}

// Open starts following the feed from the index's cursor (a new index from
// the feed's head, then builds itself from every note), and returns; the
// work happens in the background. ctx bounds Open only.
func (x *Indexer) Open(ctx context.Context) error {
	cur, err := x.idx.Cursor(ctx)
	if err != nil {
		return err
	}
	if l := x.opts.Ledger; l != nil {
		if err := x.idx.EachLedger(ctx, func(n NoteLedger) error { l.put(n); return nil }); err != nil {
			return err
		}
	}
	rebuild := x.fresh || cur == ""
	if rebuild {
		// Everything committed after this cursor reaches the feed; everything
		// before it is read by the rebuild.
		if cur, err = x.feed.FeedHead(ctx); err != nil {
			return fmt.Errorf("search: %w", err)
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	changes, err := x.feed.FollowChanges(runCtx, cur)
	if err != nil {
		cancel()
		return fmt.Errorf("search: follow changes: %w", err)
	}
	x.cancel = cancel
	x.changes = changes
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		x.run(runCtx, cur, rebuild)
	}()
	return nil
}

// Close stops the indexer and waits for it. The index stays open (its
// owner closes it).
func (x *Indexer) Close() error {
	if x.cancel != nil {
		x.cancel()
	}
	x.wg.Wait()
	return nil
}

// pendingNote is a note waiting to be (re-)indexed.
type pendingNote struct {
	due   time.Time
	order uint64            // arrival order of its oldest unindexed event
	since scribe.FeedCursor // the cursor before that event
}

// run is the indexer's one goroutine: it owns the pending set.
func (x *Indexer) run(ctx context.Context, cur scribe.FeedCursor, resync bool) {
	pending := make(map[scribe.NoteID]*pendingNote)
	last := make(map[scribe.NoteID]time.Time) // when each note was last indexed
	var arrivals uint64
	saved := cur // the cursor stored with the index
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	changes := x.changes
	if !resync {
		x.mu.Lock()
		x.synced = true
		x.mu.Unlock()
	}
	for {
		if resync {
			if err := x.resync(ctx, pending, cur); err != nil {
				if ctx.Err() != nil {
					return
				}
				x.log.Error("resynchronise search index", "err", err)
				if !sleep(ctx, retryPause) {
					return
				}
				continue
			}
			resync = false
			x.mu.Lock()
			x.synced = true
			x.mu.Unlock()
		}
		now := time.Now()
		var due []scribe.NoteID
		next := now.Add(time.Hour)
		for id, p := range pending {
			if !p.due.After(now) {
				due = append(due, id)
			} else if p.due.Before(next) {
				next = p.due
			}
		}
		if len(due) > 0 {
			if len(due) > maxBatch {
				due = due[:maxBatch]
			}
			if err := x.index(ctx, due); err != nil {
				if ctx.Err() != nil {
					return
				}
				x.log.Error("update search index", "err", err)
				for _, id := range due {
					pending[id].due = now.Add(retryPause)
				}
				continue
			}
			for _, id := range due {
				delete(pending, id)
				last[id] = now
			}
			// The stored cursor may move up to just before the oldest
			// change not yet indexed.
			to := cur
			var oldest uint64
			for _, p := range pending {
				if oldest == 0 || p.order < oldest {
					oldest, to = p.order, p.since
				}
			}
			if to != saved {
				if err := x.idx.SetCursor(ctx, to); err == nil {
					saved = to
				}
			}
			x.notify()
			if len(last) > 10000 {
				for id, t := range last {
					if now.Sub(t) > x.opts.Debounce {
						delete(last, id)
					}
				}
			}
			continue
		}
		timer.Reset(next.Sub(now))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case c, ok := <-changes:
			if !ok {
				// The store closed the feed (it is closing, or failed):
				// follow again from where we are.
				if ctx.Err() != nil {
					return
				}
				if !sleep(ctx, retryPause) {
					return
				}
				ch, err := x.feed.FollowChanges(ctx, cur)
				if err != nil {
					x.log.Error("follow changes", "err", err)
					continue
				}
				changes = ch
				continue
			}
			if c.Lost {
				resync = true
				cur = c.Cursor
				continue
			}
			arrivals++
			if p := pending[c.ID]; p == nil {
				due := now
				if t, ok := last[c.ID]; ok && now.Sub(t) < x.opts.Debounce {
					due = t.Add(x.opts.Debounce)
				}
				pending[c.ID] = &pendingNote{due: due, order: arrivals, since: cur}
			}
			cur = c.Cursor
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// index loads the notes and indexes them in one batch; a note the store no
// longer has is deleted from the index.
func (x *Indexer) index(ctx context.Context, ids []scribe.NoteID) error {
	var docs []Doc
	var deletes []scribe.NoteID
	for _, id := range ids {
		d, err := x.store.LoadNote(ctx, id)
		switch {
		case scribe.ErrorCode(err) == scribe.ENOTFOUND:
			deletes = append(deletes, id)
		case err != nil:
			return fmt.Errorf("load note: %w", err)
		default:
			docs = append(docs, NoteDoc(d))
		}
	}
	// The ledger first: once the index has a revision (WaitFor), the
	// ledger has it too. Putting a batch that then fails is harmless: it
	// is retried with the same notes.
	if l := x.opts.Ledger; l != nil {
		for _, d := range docs {
			l.put(d.ledger())
		}
		l.remove(deletes...)
	}
	return x.idx.UpdateBatch(ctx, docs, deletes)
}

// resync compares every note's head revision with the index: notes that
// differ are queued (due now), and notes the store no longer has are
// deleted.
func (x *Indexer) resync(ctx context.Context, pending map[scribe.NoteID]*pendingNote, cur scribe.FeedCursor) error {
	indexed, err := x.idx.Revisions(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	queue := func(id scribe.NoteID) {
		if pending[id] == nil {
			pending[id] = &pendingNote{due: now, since: cur}
		}
	}
	err = x.feed.EachNote(ctx, func(n scribe.Note) error {
		if r, ok := indexed[n.ID]; !ok || r != n.Revision {
			queue(n.ID)
		}
		delete(indexed, n.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("list notes: %w", err)
	}
	var gone []scribe.NoteID
	for id := range indexed {
		gone = append(gone, id)
	}
	if len(gone) > 0 {
		if l := x.opts.Ledger; l != nil {
			l.remove(gone...)
		}
		if err := x.idx.UpdateBatch(ctx, nil, gone); err != nil {
			return err
		}
		x.notify()
	}
	return nil
}

func (x *Indexer) notify() {
	x.mu.Lock()
	close(x.updated)
	x.updated = make(chan struct{})
	x.mu.Unlock()
}

// WaitFor waits until the index has the note at revision rev or later, or,
// for a negative rev, no longer has the note; or until ctx is done. It lets
// a caller (a test, a request that wants to read its own write) wait on
// the condition instead of sleeping.
func (x *Indexer) WaitFor(ctx context.Context, id scribe.NoteID, rev scribe.Revision) error {
	for {
		x.mu.Lock()
		updated := x.updated
		x.mu.Unlock()
		r, ok, err := x.idx.Revision(ctx, id)
		if err != nil {
			return err
		}
		if rev < 0 && !ok || rev >= 0 && ok && r >= rev {
			return nil
		}
		select {
		case <-updated:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Synced reports whether the first resynchronisation (the rebuild of a new
// index) has finished, so that the index holds every note.
func (x *Indexer) Synced() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.synced
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
