package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scribe-notes/scribe"
)

// DefaultPollInterval is how often a Follower with nothing to read asks the
// store for its head, in case the subscription dropped the latest change.
const DefaultPollInterval = 50 * time.Millisecond

// Follower turns a Subscription, which may drop or repeat changes, into an
// exact stream: Next yields the changes after a starting revision each
// exactly once, in revision order, and passes published messages through.
//
// When a change arrives whose revision is beyond the next expected one, the
// Follower reads the gap with Store.Changes. When the subscription is quiet,
// it polls the head every PollInterval, so that a dropped last change is
// still found. A Follower is used by one goroutine.
type Follower struct {
	store scribe.Store
	id    scribe.NoteID
	sub   scribe.Subscription
	next  scribe.Revision // the revision Next yields next
	queue []scribe.Change // read from the log, to be yielded first

	// PollInterval is how long Next waits for an event before it checks the
	// head; DefaultPollInterval when zero.
	PollInterval time.Duration
}

// NewFollower returns a Follower that yields the note's changes with
// revisions after `after`. Subscribe before reading the revision to start
// after, so that nothing committed in between is missed.
func NewFollower(s scribe.Store, id scribe.NoteID, sub scribe.Subscription, after scribe.Revision) *Follower {
	return &Follower{store: s, id: id, sub: sub, next: after + 1}
}

// Revision returns the last revision Next yielded (or the starting one).
func (f *Follower) Revision() scribe.Revision { return f.next - 1 }

// Next returns the next event: a change with the next revision, or a
// published message. It returns an error when ctx is done, the subscription
// ends, or the log does not hold the changes the subscription announced.
func (f *Follower) Next(ctx context.Context) (scribe.Event, error) {
	poll := f.PollInterval
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if len(f.queue) > 0 {
			c := f.queue[0]
			f.queue = f.queue[1:]
			f.next = c.Revision + 1
			return scribe.Event{Change: &c}, nil
		}
		if timer == nil {
			timer = time.NewTimer(poll)
		} else {
			timer.Reset(poll)
		}
		select {
		case <-ctx.Done():
			return scribe.Event{}, ctx.Err()
		case ev, ok := <-f.sub.Events():
			if !ok {
				return scribe.Event{}, errors.New("follow: subscription ended")
			}
			switch {
			case ev.Message != nil:
				return ev, nil
			case ev.Change == nil || ev.Change.Revision < f.next:
				// A repeat of something already yielded.
			case ev.Change.Revision == f.next:
				c := *ev.Change
				f.next++
				return scribe.Event{Change: &c}, nil
			default:
				if err := f.fill(ctx, ev.Change.Revision); err != nil {
					return scribe.Event{}, err
				}
			}
		case <-timer.C:
			n, err := f.store.GetNote(ctx, f.id)
			if err != nil {
				return scribe.Event{}, fmt.Errorf("follow: %w", err)
			}
			if n.Revision >= f.next {
				if err := f.fill(ctx, n.Revision); err != nil {
					return scribe.Event{}, err
				}
			}
		}
	}
}

// fill queues the changes from f.next through to from the log.
func (f *Follower) fill(ctx context.Context, to scribe.Revision) error {
	cs, err := f.store.Changes(ctx, f.id, f.next-1, to)
	if err != nil {
		return fmt.Errorf("follow: read gap %d..%d: %w", f.next, to, err)
	}
	want := f.next
	for _, c := range cs {
		if c.Revision != want {
			return fmt.Errorf("follow: log gives revision %d, want %d", c.Revision, want)
		}
		want++
	}
	if want <= to {
		return fmt.Errorf("follow: log ends at %d, the subscription announced %d", want-1, to)
	}
	f.queue = append(f.queue, cs...)
	return nil
}

// Lossy wraps a Subscription so that it drops every dropEvery-th event and
// delivers every repeatEvery-th event twice (0 disables either), to test
// subscribers against the worst a Store may do. Closing it closes sub.
func Lossy(sub scribe.Subscription, dropEvery, repeatEvery int) scribe.Subscription {
	l := &lossySub{sub: sub, events: make(chan scribe.Event, 64), done: make(chan struct{})}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(l.events)
		n := 0
		for ev := range sub.Events() {
			n++
			if dropEvery > 0 && n%dropEvery == 0 {
				l.dropped.Add(1)
				continue
			}
			times := 1
			if repeatEvery > 0 && n%repeatEvery == 0 {
				times = 2
			}
			for range times {
				select {
				case l.events <- ev:
				case <-l.done:
					return
				}
			}
		}
	}()
	return l
}

type lossySub struct {
	sub     scribe.Subscription
	events  chan scribe.Event
	done    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	dropped atomic.Int64
}

func (l *lossySub) Events() <-chan scribe.Event { return l.events }

func (l *lossySub) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.sub.Close()
		l.wg.Wait()
	})
	return err
}
