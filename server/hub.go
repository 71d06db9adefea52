package server

import (
	"context"
	"sync"

	"github.com/scribe-notes/scribe"
)

// hub is the set of open sessions on this node, one per note. It opens a
// session when the first client (or API call) needs it; the session removes
// itself when it closes.
type hub struct {
	srv      *Server
	mu       sync.Mutex
	sessions map[scribe.NoteID]*session
	closed   bool
	wg       sync.WaitGroup // the sessions' run goroutines
}

func newHub(srv *Server) *hub {
	return &hub{srv: srv, sessions: make(map[scribe.NoteID]*session)}
}

// session returns the note's open session, opening it (subscribe, load)
// when there is none. An unknown note gives ENOTFOUND; a node shutting down
// gives EUNAVAILABLE.
func (h *hub) session(ctx context.Context, id scribe.NoteID) (*session, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, scribe.Errorf(scribe.EUNAVAILABLE, "The server is shutting down; retry.")
	}
	s := h.sessions[id]
	first := s == nil
	if first {
		s = newSession(h.srv, id)
		h.sessions[id] = s
		h.wg.Add(1) // released by run, or below when open fails
	}
	h.mu.Unlock()

	if first {
		s.openErr = s.open()
		if s.openErr != nil {
			h.remove(s)
			s.cancel()
			close(s.done)
			h.wg.Done()
		} else {
			go func() {
				defer h.wg.Done()
				s.run()
			}()
		}
		close(s.ready)
	}
	select {
	case <-s.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.openErr != nil {
		return nil, s.openErr
	}
	return s, nil
}

// lookup returns the note's session if it is open on this node.
func (h *hub) lookup(id scribe.NoteID) *session {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[id]
	if s == nil {
		return nil
	}
	select {
	case <-s.ready:
		if s.openErr != nil {
			return nil
		}
		return s
	default:
		return nil
	}
}

// remove takes s out of the hub, so no one else joins it. It reports
// whether s was still in it.
func (h *hub) remove(s *session) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[s.id] == s {
		delete(h.sessions, s.id)
		return true
	}
	return false
}

// shutdown stops every session (each commits what is queued and closes its
// clients with 1001) and waits for them, or for ctx.
func (h *hub) shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	var all []*session
	for _, s := range h.sessions {
		all = append(all, s)
	}
	h.mu.Unlock()
	for _, s := range all {
		select {
		case <-s.ready:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.stop()
	}
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
