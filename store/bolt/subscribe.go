package bolt

import (
	"context"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
)

// subscription is one subscriber's buffered channel. The store's mutex
// guards sending on and closing events, so a send never meets a closed
// channel.
type subscription struct {
	s      *Store
	id     scribe.NoteID
	events chan scribe.Event
	done   chan struct{}
	once   sync.Once
}

func (sub *subscription) Events() <-chan scribe.Event { return sub.events }

// Close ends the subscription and closes Events. It is safe to call more
// than once and from any goroutine.
func (sub *subscription) Close() error {
	sub.s.mu.Lock()
	defer sub.s.mu.Unlock()
	sub.closeLocked()
	return nil
}

// closeLocked removes and closes the subscription; s.mu is held.
func (sub *subscription) closeLocked() {
	sub.once.Do(func() {
		if set := sub.s.subs[sub.id]; set != nil {
			delete(set, sub)
			if len(set) == 0 {
				delete(sub.s.subs, sub.id)
			}
		}
		close(sub.events)
		close(sub.done)
	})
}

// Subscribe delivers the note's committed changes and published messages in
// the order they happened, until ctx is done, the subscription is closed or
// the store is closed. Delivery never blocks a writer: a subscriber more
// than SubscriberBuffer events behind loses the events that do not fit, and
// fills the gap from the log when it notices.
func (s *Store) Subscribe(ctx context.Context, id scribe.NoteID) (scribe.Subscription, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := s.view("subscribe", func(tx *bbolt.Tx) error {
		_, err := getMeta(tx, id)
		return err
	}); err != nil {
		return nil, err
	}
	sub := &subscription{s: s, id: id, events: make(chan scribe.Event, s.opts.SubscriberBuffer), done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errClosed
	}
	set := s.subs[id]
	if set == nil {
		set = make(map[*subscription]struct{})
		s.subs[id] = set
	}
	set[sub] = struct{}{}
	s.wg.Add(1) // under s.mu with closed false: Close has not started waiting
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
		case <-sub.done:
		case <-s.ctx.Done():
		}
		sub.Close()
	}()
	return sub, nil
}

// Publish delivers msg to the note's subscribers in this process.
func (s *Store) Publish(ctx context.Context, id scribe.NoteID, msg []byte) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := s.view("publish", func(tx *bbolt.Tx) error {
		_, err := getMeta(tx, id)
		return err
	}); err != nil {
		return err
	}
	s.notify(id, scribe.Event{Message: append([]byte(nil), msg...)})
	return nil
}

// notify sends ev to every subscriber of the note without blocking. Each
// subscriber gets its own copy of a change.
func (s *Store) notify(id scribe.NoteID, ev scribe.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs[id] {
		e := ev
		if ev.Change != nil {
			c := *ev.Change
			e.Change = &c
		}
		select {
		case sub.events <- e:
		default:
			s.dropped.Add(1)
		}
	}
}
