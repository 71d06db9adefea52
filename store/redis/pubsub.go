package redis

import (
	"context"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
)

// eventBuffer is how many events a subscription holds for a slow reader
// before it drops new ones (subscribers fill gaps with Store.Changes).
const eventBuffer = 256

// Message kinds on a note's channel: the first byte of every payload.
const (
	kindChanges = 'c' // log entries of one append, separated by '\n'
	kindMessage = 'm' // an opaque Publish message
)

// Subscribe delivers the note's newly committed changes and published
// messages. It returns once Redis has confirmed the subscription, so every
// commit after Subscribe returns is delivered unless dropped (a reader that
// falls eventBuffer events behind loses events, as may a reconnect).
//
// Each subscription holds one connection (SSUBSCRIBE on the note's shard
// channel; in a Cluster, on the node that owns the note's slot). When the
// slot moves to another master, Redis ends the subscription and it
// subscribes again on the new owner; events published in between are lost.
func (s *Store) Subscribe(ctx context.Context, id scribe.NoteID) (scribe.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !id.Valid() {
		return nil, notFound()
	}
	n, err := s.client.Exists(ctx, s.noteKey(id, "meta")).Result()
	if err != nil {
		return nil, s.wrap(ctx, "subscribe", err)
	}
	if n == 0 {
		return nil, notFound()
	}
	ps := s.client.SSubscribe(ctx, s.noteKey(id, "events"))
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, s.wrap(ctx, "subscribe", err)
	}
	sub := &subscription{
		store:  s,
		id:     id,
		ps:     ps,
		events: make(chan scribe.Event, eventBuffer),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	s.subsMu.Lock()
	if s.closed {
		s.subsMu.Unlock()
		_ = ps.Close()
		return nil, scribe.Errorf(scribe.EUNAVAILABLE, "The store is closed.")
	}
	s.subs[sub] = struct{}{}
	s.subsMu.Unlock()
	go sub.run(ctx)
	return sub, nil
}

// Publish sends msg to every subscriber of the note on every node. It
// checks that the note exists in the same script (EXISTS + SPUBLISH, one
// round trip): an unknown note gives ENOTFOUND.
func (s *Store) Publish(ctx context.Context, id scribe.NoteID, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !id.Valid() {
		return notFound()
	}
	payload := make([]byte, 0, len(msg)+1)
	payload = append(append(payload, kindMessage), msg...)
	err := publishScript.Run(ctx, s.client, []string{s.noteKey(id, "meta")}, s.noteKey(id, "events"), payload).Err()
	return s.wrap(ctx, "publish", err)
}

type subscription struct {
	store  *Store
	id     scribe.NoteID
	ps     *goredis.PubSub
	events chan scribe.Event

	once   sync.Once
	done   chan struct{} // closed by Close
	exited chan struct{} // closed when run has returned and closed events
}

func (sub *subscription) Events() <-chan scribe.Event { return sub.events }

// Close ends the subscription and closes Events. It is safe to call more
// than once and from any goroutine.
func (sub *subscription) Close() error {
	sub.once.Do(func() { close(sub.done) })
	<-sub.exited
	return nil
}

func (sub *subscription) run(ctx context.Context) {
	ps := sub.ps
	defer func() {
		if ps != nil {
			_ = ps.Close()
		}
		sub.store.subsMu.Lock()
		delete(sub.store.subs, sub)
		sub.store.subsMu.Unlock()
		close(sub.events)
		close(sub.exited)
	}()
	// ChannelWithSubscriptions, unlike Channel, also reports subscription
	// changes, so the loop sees Redis end the subscription itself.
	msgs := ps.ChannelWithSubscriptions(goredis.WithChannelSize(eventBuffer))
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.done:
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			switch m := m.(type) {
			case *goredis.Message:
				sub.deliver(m.Payload)
			case *goredis.Subscription:
				if m.Kind != "sunsubscribe" {
					continue // our own (re)subscription confirmed
				}
				// Redis ended the subscription: the note's slot moved to
				// another master. (go-redis restores subscriptions whose
				// connection broke, but not these.) Subscribe again where
				// the slot lives now; what was published in between is a
				// gap the subscriber reads from the log.
				_ = ps.Close()
				if ps = sub.resubscribe(ctx); ps == nil {
					return
				}
				msgs = ps.ChannelWithSubscriptions(goredis.WithChannelSize(eventBuffer))
			}
		}
	}
}

// Backoff between attempts to subscribe again after Redis ended a
// subscription.
const (
	resubscribeMin     = 50 * time.Millisecond
	resubscribeMax     = 2 * time.Second
	resubscribeTimeout = 5 * time.Second
)

// resubscribe subscribes to the note's channel again, retrying with backoff
// until it succeeds or the subscription ends (then it returns nil).
func (sub *subscription) resubscribe(ctx context.Context) *goredis.PubSub {
	s := sub.store
	channel := s.noteKey(sub.id, "events")
	wait := resubscribeMin
	for {
		attempt, cancel := context.WithTimeout(ctx, resubscribeTimeout)
		if c, ok := s.client.(*goredis.ClusterClient); ok {
			c.ReloadState(attempt) // learn the slot's new master
		}
		ps := s.client.SSubscribe(attempt, channel)
		_, err := ps.Receive(attempt)
		cancel()
		if err == nil {
			return ps
		}
		_ = ps.Close()
		if ctx.Err() == nil {
			s.log.Warn("subscription: subscribe again", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-sub.done:
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, resubscribeMax)
	}
}

// deliver queues the events of one payload, dropping what a slow reader has
// no room for: it reads the gap from the log.
func (sub *subscription) deliver(payload string) {
	for _, ev := range sub.decode(payload) {
		select {
		case sub.events <- ev:
		default:
		}
	}
}

// decode turns one channel payload into events; a payload that cannot be
// decoded is logged and skipped.
func (sub *subscription) decode(payload string) []scribe.Event {
	if payload == "" {
		return nil
	}
	switch payload[0] {
	case kindMessage:
		return []scribe.Event{{Message: []byte(payload[1:])}}
	case kindChanges:
		lines := strings.Split(payload[1:], "\n")
		evs := make([]scribe.Event, 0, len(lines))
		for _, line := range lines {
			c, err := decodeChange(line)
			if err != nil {
				sub.store.log.Error("subscription: undecodable change", "err", corrupt("event", sub.id, err))
				return evs
			}
			evs = append(evs, scribe.Event{Change: &c})
		}
		return evs
	}
	sub.store.log.Error("subscription: unknown event kind", "kind", payload[:1])
	return nil
}
