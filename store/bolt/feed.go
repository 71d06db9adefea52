package bolt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
)

// DefaultFeedLength is how many change-feed events the store keeps in
// memory for followers that resume from a cursor, and how many a follower
// may fall behind before it is told it lost events.
const DefaultFeedLength = 4096

// eachNotePage is how many notes EachNote reads per transaction.
const eachNotePage = 1000

var _ scribe.NoteFeed = (*Store)(nil)

// feed is the store's in-process change feed. Its events live in memory
// only: a cursor from an earlier run (another epoch) is answered with Lost,
// and the follower (the search index) resynchronises from EachNote, which
// is cheap when little changed. Publishing never blocks: every follower has
// its own queue, bounded by the feed's length, drained by its own goroutine.
type feed struct {
	epoch string
	max   int

	mu        sync.Mutex
	seq       uint64              // the newest event's sequence number
	ring      []scribe.NoteChange // the last max events, oldest first
	followers map[*follower]struct{}
}

type follower struct {
	mu    sync.Mutex
	queue []scribe.NoteChange
	lost  bool // events were dropped; the next delivery is a Lost event
	wake  chan struct{}
}

func newFeed(max int) *feed {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &feed{epoch: hex.EncodeToString(b[:]), max: max, followers: make(map[*follower]struct{})}
}

func (f *feed) cursor(seq uint64) scribe.FeedCursor {
	return scribe.FeedCursor(f.epoch + "-" + strconv.FormatUint(seq, 10))
}

// publish appends one event per note to the feed and queues it for every
// follower, without blocking.
func (f *feed) publish(changes ...scribe.NoteChange) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range changes {
		f.seq++
		c.Cursor = f.cursor(f.seq)
		f.ring = append(f.ring, c)
		if len(f.ring) > f.max {
			f.ring = append(f.ring[:0], f.ring[len(f.ring)-f.max:]...)
		}
		for fl := range f.followers {
			fl.push(c, f.max)
		}
	}
}

func (fl *follower) push(c scribe.NoteChange, max int) {
	fl.mu.Lock()
	if len(fl.queue) >= max {
		fl.queue = fl.queue[:0]
		fl.lost = true
	}
	if fl.lost {
		// Remember only where the loss ends: the Lost event carries the
		// cursor of the newest event dropped.
		fl.queue = append(fl.queue[:0], scribe.NoteChange{Cursor: c.Cursor, Lost: true})
	} else {
		fl.queue = append(fl.queue, c)
	}
	fl.mu.Unlock()
	select {
	case fl.wake <- struct{}{}:
	default:
	}
}

// FeedHead returns the cursor of the newest event of this run.
func (s *Store) FeedHead(ctx context.Context) (scribe.FeedCursor, error) {
	if err := s.begin(ctx); err != nil {
		return "", err
	}
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	return s.feed.cursor(s.feed.seq), nil
}

// FollowChanges follows the store's change feed; see scribe.NoteFeed. A
// cursor of an earlier run, or older than the DefaultFeedLength events kept,
// starts with a Lost event.
func (s *Store) FollowChanges(ctx context.Context, since scribe.FeedCursor) (<-chan scribe.NoteChange, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	f := s.feed
	fl := &follower{wake: make(chan struct{}, 1)}
	f.mu.Lock()
	switch epoch, seq, ok := strings.Cut(string(since), "-"); {
	case since == "":
	case !ok:
		f.mu.Unlock()
		return nil, scribe.Errorf(scribe.EINVALID, "The feed cursor is malformed.")
	default:
		n, err := strconv.ParseUint(seq, 10, 64)
		if err != nil {
			f.mu.Unlock()
			return nil, scribe.Errorf(scribe.EINVALID, "The feed cursor is malformed.")
		}
		oldest := f.seq - uint64(len(f.ring)) // events after oldest are in the ring
		switch {
		case epoch != f.epoch || n > f.seq || n < oldest:
			fl.queue = []scribe.NoteChange{{Cursor: f.cursor(f.seq), Lost: true}}
		default:
			fl.queue = append(fl.queue, f.ring[n-oldest:]...)
		}
	}
	f.followers[fl] = struct{}{}
	f.mu.Unlock()

	out := make(chan scribe.NoteChange)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		f.mu.Lock()
		delete(f.followers, fl)
		f.mu.Unlock()
		return nil, errClosed
	}
	s.wg.Add(1) // under s.mu with closed false: Close has not started waiting
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer func() {
			f.mu.Lock()
			delete(f.followers, fl)
			f.mu.Unlock()
		}()
		for {
			fl.mu.Lock()
			batch := fl.queue
			fl.queue, fl.lost = nil, false
			fl.mu.Unlock()
			for _, c := range batch {
				select {
				case out <- c:
				case <-ctx.Done():
					return
				case <-s.ctx.Done():
					return
				}
			}
			if len(batch) > 0 {
				continue
			}
			select {
			case <-fl.wake:
			case <-ctx.Done():
				return
			case <-s.ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// EachNote calls fn with every note's metadata, in id order, reading
// eachNotePage notes per read transaction and calling fn outside it.
func (s *Store) EachNote(ctx context.Context, fn func(scribe.Note) error) error {
	var after []byte
	for {
		if err := s.begin(ctx); err != nil {
			return err
		}
		page := make([]scribe.Note, 0, eachNotePage)
		err := s.view("list notes", func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucketNotes).Cursor()
			k, _ := c.First()
			if after != nil {
				k, _ = c.Seek(after)
				if k != nil && string(k) == string(after) {
					k, _ = c.Next()
				}
			}
			ms := newMetas(tx)
			for ; k != nil && len(page) < eachNotePage; k, _ = c.Next() {
				id := scribe.NoteID(k)
				m, err := ms.get(id)
				if err != nil {
					return err
				}
				page = append(page, m.note(id))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, n := range page {
			if err := fn(n); err != nil {
				return err
			}
		}
		if len(page) < eachNotePage {
			return nil
		}
		after = []byte(page[len(page)-1].ID)
	}
}
