package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
)

// The change feed (scribe.NoteFeed) is one capped Redis stream,
//
//	P feed:{feed}    stream: one entry per note change, fields id and rev
//
// with its own hash tag, so on a Cluster it lives in one slot like any key.
// CreateNote and every Append that writes queue an entry right after the
// commit, and the publisher adds what is queued with one pipeline of XADD
// MAXLEN ~ FeedLength, at most once per feedDelay: a second round trip,
// because on a Cluster the stream is in another slot than the note, shared
// by every commit of those milliseconds. If a node dies between the two,
// the change reaches followers with the note's next edit, or at their next
// resynchronisation. Each node's events keep its commit order; events of
// two nodes committed within feedDelay of each other may reach the stream
// in either order (a follower reads the note, whose head is the last
// word).
//
// Each cursor is a stream entry id. A follower whose cursor is older than
// the stream's first entry, once the stream has been trimmed, was away
// longer than the cap keeps: it gets a Lost event and resynchronises.

// DefaultFeedLength is about how many events the feed stream keeps (XADD
// MAXLEN ~, so a little more).
const DefaultFeedLength = 10000

// Following the feed.
const (
	// feedBlock bounds one blocking XREAD, and so how long Close waits for
	// a follower to notice.
	feedBlock = 500 * time.Millisecond
	// feedBatch is how many entries one XREAD returns at most.
	feedBatch = 512
	// feedRetry is the pause after a failed read, doubled up to feedRetryMax.
	feedRetry    = 100 * time.Millisecond
	feedRetryMax = 2 * time.Second
	// feedPublishTimeout bounds one flush of queued feed events, which
	// runs even when the store is closing (the commits happened).
	feedPublishTimeout = 5 * time.Second
	// feedDelay is the least time between two flushes of the feed
	// publisher: what a follower on another node (a search index) may lag
	// behind a busy node's commits, in exchange for one round trip per
	// feedDelay instead of one per commit.
	feedDelay = 20 * time.Millisecond
	// eachNotePage is how many notes EachNote reads per round trip.
	eachNotePage = 1000
)

var _ scribe.NoteFeed = (*Store)(nil)

func (s *Store) feedKey() string { return s.prefix + "feed:{feed}" }

// publishChange queues an event for the feed after a commit; the feed
// publisher (runFeed) adds queued events to the stream in order, many per
// round trip, so a commit does not wait for a second round trip to Redis.
// A failure is logged, not returned: the commit stands, and followers
// catch up with the note's next change or their next resynchronisation.
func (s *Store) publishChange(_ context.Context, id scribe.NoteID, rev scribe.Revision) {
	s.feedMu.Lock()
	if len(s.feedPending) >= maxFeedPending {
		s.feedMu.Unlock()
		s.log.Error("publish note change: the feed queue is full (Redis is not answering); the event is dropped")
		return
	}
	s.feedPending = append(s.feedPending, feedEvent{id, rev})
	s.feedMu.Unlock()
	select {
	case s.feedWake <- struct{}{}:
	default:
	}
}

// feedEvent is a queued "note changed" event.
type feedEvent struct {
	id  scribe.NoteID
	rev scribe.Revision
}

// maxFeedPending bounds the events queued while Redis does not answer.
const maxFeedPending = 100_000

// runFeed is the feed publisher: woken by a queued event, it flushes at
// once unless it flushed less than feedDelay ago; then it waits out the
// rest of feedDelay, and flushes everything queued meanwhile in one
// pipeline. It flushes once more when the store closes. One writer alone
// commits an op every few hundred microseconds; a flush per commit cost a
// round trip to Redis here and a blocked XREAD woken in every follower,
// about a quarter of the server's CPU per op (docs/benchmarks.md, issue
// 16). An occasional commit is published as soon as before, and a follower
// on this node still sees everything committed before it asks: FeedHead
// and FollowChanges flush first.
func (s *Store) runFeed() {
	var last time.Time // when the publisher last flushed
	pause := time.NewTimer(time.Hour)
	pause.Stop()
	for {
		select {
		case <-s.ctx.Done():
			s.flushFeed(context.WithoutCancel(s.ctx))
			return
		case <-s.feedWake:
		}
		if wait := feedDelay - time.Since(last); wait > 0 {
			pause.Reset(wait)
			select {
			case <-s.ctx.Done():
				pause.Stop()
				s.flushFeed(context.WithoutCancel(s.ctx))
				return
			case <-pause.C:
			}
		}
		last = time.Now()
		s.flushFeed(s.ctx)
	}
}

// flushFeed adds every queued event to the stream, in order, in one
// pipeline. Flushes are serialised, so the stream keeps commit order; a
// follower on this node flushes first (FeedHead, FollowChanges), so it sees
// every change this node committed before it asked.
func (s *Store) flushFeed(ctx context.Context) {
	s.feedFlushMu.Lock()
	defer s.feedFlushMu.Unlock()
	s.feedMu.Lock()
	events := s.feedPending
	s.feedPending = nil
	s.feedMu.Unlock()
	if len(events) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, feedPublishTimeout)
	defer cancel()
	pipe := s.client.Pipeline()
	for _, e := range events {
		pipe.XAdd(ctx, &goredis.XAddArgs{
			Stream: s.feedKey(),
			MaxLen: s.feedLen,
			Approx: true,
			Values: []string{"id", string(e.id), "rev", strconv.FormatInt(int64(e.rev), 10)},
		})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		s.log.Error("publish note changes", "events", len(events), "err", err)
	}
}

// streamID is a parsed stream entry id, ms-seq.
type streamID struct{ ms, seq uint64 }

func parseStreamID(s string) (streamID, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return streamID{}, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	return streamID{ms, seq}, err1 == nil && err2 == nil
}

func (a streamID) less(b streamID) bool { return a.ms < b.ms || a.ms == b.ms && a.seq < b.seq }

// feedInfo is what a follower needs to know of the stream.
type feedInfo struct {
	last    streamID // the newest entry ever added, 0-0 if none (or no stream)
	first   streamID // the oldest entry kept
	trimmed bool     // entries were removed by the cap
}

func (s *Store) feedInfo(ctx context.Context) (feedInfo, error) {
	info, err := s.client.XInfoStream(ctx, s.feedKey()).Result()
	if err != nil {
		if strings.Contains(err.Error(), "no such key") {
			return feedInfo{}, nil
		}
		return feedInfo{}, s.wrap(ctx, "feed info", err)
	}
	var fi feedInfo
	var ok1, ok2 bool
	fi.last, ok1 = parseStreamID(info.LastGeneratedID)
	fi.first, ok2 = parseStreamID(info.FirstEntry.ID)
	if info.Length == 0 {
		fi.first, ok2 = fi.last, true
	}
	if !ok1 || !ok2 {
		return feedInfo{}, corrupt("change feed", "", errors.New("unexpected stream ids"))
	}
	fi.trimmed = info.EntriesAdded > info.Length
	return fi, nil
}

// lost reports whether entries after since are no longer in the stream.
func (fi feedInfo) lost(since streamID) bool {
	return fi.last.less(since) || fi.trimmed && since.less(fi.first) && fi.first != (streamID{since.ms, since.seq + 1})
}

func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

// FeedHead returns the id of the newest entry of the feed stream.
func (s *Store) FeedHead(ctx context.Context) (scribe.FeedCursor, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.flushFeed(ctx) // what this node committed is in the head
	fi, err := s.feedInfo(ctx)
	if err != nil {
		return "", err
	}
	return scribe.FeedCursor(fi.last.String()), nil
}

// FollowChanges follows the feed stream with blocking XREADs on one
// connection; see scribe.NoteFeed. After a failed read it retries with
// backoff, and checks, as after every full batch, whether the cap trimmed
// entries it had not read, which it reports with a Lost event.
func (s *Store) FollowChanges(ctx context.Context, since scribe.FeedCursor) (<-chan scribe.NoteChange, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.flushFeed(ctx) // what this node committed before is in the stream
	fi, err := s.feedInfo(ctx)
	if err != nil {
		return nil, err
	}
	cur := fi.last
	var first []scribe.NoteChange
	if since != "" {
		c, ok := parseStreamID(string(since))
		if !ok {
			return nil, scribe.Errorf(scribe.EINVALID, "The feed cursor is malformed.")
		}
		if fi.lost(c) {
			first = append(first, scribe.NoteChange{Cursor: scribe.FeedCursor(fi.last.String()), Lost: true})
		} else {
			cur = c
		}
	}
	out := make(chan scribe.NoteChange)
	s.subsMu.Lock()
	if s.closed {
		s.subsMu.Unlock()
		return nil, scribe.Errorf(scribe.EUNAVAILABLE, "The store is closed.")
	}
	s.wg.Add(1) // under subsMu with closed false: Close has not started waiting
	s.subsMu.Unlock()
	go func() {
		defer s.wg.Done()
		defer close(out)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() { // end the follower when the store closes
			select {
			case <-s.ctx.Done():
				cancel()
			case <-ctx.Done():
			}
		}()
		send := func(c scribe.NoteChange) bool {
			select {
			case out <- c:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for _, c := range first {
			if !send(c) {
				return
			}
		}
		s.followFeed(ctx, cur, send)
	}()
	return out, nil
}

// followFeed reads the stream after cur and sends each entry until ctx is
// done or send fails.
func (s *Store) followFeed(ctx context.Context, cur streamID, send func(scribe.NoteChange) bool) {
	check := false // whether to look for trimmed entries before the next read
	retry := feedRetry
	for ctx.Err() == nil {
		if check {
			fi, err := s.feedInfo(ctx)
			if err != nil {
				s.feedPause(ctx, &retry, err)
				continue
			}
			if fi.lost(cur) {
				cur = fi.last
				if !send(scribe.NoteChange{Cursor: scribe.FeedCursor(cur.String()), Lost: true}) {
					return
				}
			}
			check = false
		}
		res, err := s.client.XRead(ctx, &goredis.XReadArgs{
			Streams: []string{s.feedKey(), cur.String()},
			Count:   feedBatch,
			Block:   feedBlock,
		}).Result()
		if errors.Is(err, goredis.Nil) {
			continue // nothing new within feedBlock
		}
		if err != nil {
			check = true
			s.feedPause(ctx, &retry, err)
			continue
		}
		retry = feedRetry
		n := 0
		for _, st := range res {
			for _, m := range st.Messages {
				n++
				id, ok := parseStreamID(m.ID)
				if !ok {
					continue
				}
				cur = id
				nid, _ := m.Values["id"].(string)
				rs, _ := m.Values["rev"].(string)
				rev, err := strconv.ParseInt(rs, 10, 64)
				if !scribe.NoteID(nid).Valid() || err != nil {
					s.log.Error("follow note changes", "err", corrupt("change feed entry", "", errors.New(m.ID)))
					continue
				}
				if !send(scribe.NoteChange{Cursor: scribe.FeedCursor(m.ID), ID: scribe.NoteID(nid), Revision: scribe.Revision(rev)}) {
					return
				}
			}
		}
		// A full batch means the follower is behind: the cap may have
		// trimmed entries it has not read yet.
		check = n >= feedBatch
	}
}

// feedPause logs err (unless the follower is ending) and waits before the
// next attempt, doubling the wait up to feedRetryMax.
func (s *Store) feedPause(ctx context.Context, retry *time.Duration, err error) {
	if ctx.Err() != nil {
		return
	}
	s.log.Error("follow note changes", "err", err)
	select {
	case <-time.After(*retry):
	case <-ctx.Done():
	}
	*retry = min(2**retry, feedRetryMax)
}

// EachNote walks the notes:byupdated index with ZSCAN, reading each page's
// metadata in one pipeline. A note whose index entry was lost (a Cluster
// node died between its creation and the index update) is not visited.
func (s *Store) EachNote(ctx context.Context, fn func(scribe.Note) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var cursor uint64
	seen := make(map[scribe.NoteID]bool) // ZSCAN may return an element twice
	for {
		keys, next, err := s.client.ZScan(ctx, s.byUpdatedKey(), cursor, "", eachNotePage).Result()
		if err != nil {
			return s.wrap(ctx, "list notes", err)
		}
		var ids []scribe.NoteID
		for i := 0; i < len(keys); i += 2 { // member, score, member, score...
			id := scribe.NoteID(keys[i])
			if !id.Valid() {
				return corrupt("note index", "", errors.New("a member is not a note id"))
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			cmds := make([]*goredis.MapStringStringCmd, len(ids))
			if _, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
				for i, id := range ids {
					cmds[i] = p.HGetAll(ctx, s.noteKey(id, "meta"))
				}
				return nil
			}); err != nil {
				return s.wrap(ctx, "list notes", err)
			}
			for i, id := range ids {
				m := cmds[i].Val()
				if len(m) == 0 {
					continue // indexed but no longer stored
				}
				md, err := decodeMeta(id, m)
				if err != nil {
					return err
				}
				if err := fn(md.note); err != nil {
					return err
				}
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
