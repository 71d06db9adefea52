package server

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/room"
	"github.com/scribe-notes/scribe/search"
	"github.com/scribe-notes/scribe/web"
)

// Action items and decisions across notes (GET /api/actions, GET
// /api/decisions, the /actions page) answer members and the local person
// only: the "actions" action of scribe.Role.Can, since every item names its
// note's id, its edit link. They read the search.Ledger, which the search
// indexer keeps from the store's change feed; a note's changes reach it
// within about the indexer's debounce (a second).
//
// Ticking an item (POST /api/notes/{id}/tick) is an ordinary edit of its
// note through its room: the "edit" action on that note.

// maxOwnerLen bounds the owner parameter, in bytes.
const maxOwnerLen = 100

// actionsPage is one page of action items as the API returns it.
type actionsPage struct {
	Total int                 `json:"total"`
	Page  int                 `json:"page"`
	Limit int                 `json:"limit"`
	Today string              `json:"today"` // what overdue is measured against, in the team's time zone
	Items []search.ActionItem `json:"items"`
}

// ownerKeys are the owners a person answers to as "me": their name, its
// first word, and their email's local part ("Ana Lima" <ana.lima@...> is
// @ana, @AnaLima and @ana.lima).
func ownerKeys(p scribe.Person) []string {
	var out []string
	if name := strings.TrimSpace(p.Name); name != "" {
		out = append(out, name, strings.Fields(name)[0])
	}
	if local, _, ok := strings.Cut(p.Email, "@"); ok && local != "" {
		out = append(out, local)
	}
	return out
}

// today is the date in the team's time zone.
func (s *Server) today() string { return time.Now().In(s.loc).Format(time.DateOnly) }

// actionQuery reads GET /api/actions' parameters: owner (an @name, "me"
// for the person asking, or "" for everyone), state (open, done, or all;
// default all), due_before (YYYY-MM-DD, exclusive), page and limit (1 to
// search.MaxLedgerLimit, default search.DefaultLedgerLimit).
func (s *Server) actionQuery(r *http.Request, v url.Values) (search.ActionQuery, int, error) {
	q := search.ActionQuery{Today: s.today(), Limit: search.DefaultLedgerLimit}
	switch owner := strings.TrimPrefix(strings.TrimSpace(v.Get("owner")), "@"); {
	case len(owner) > maxOwnerLen || !utf8.ValidString(owner):
		return q, 0, invalid("owner must be valid UTF-8 of at most %d bytes.", maxOwnerLen)
	case owner == "me":
		q.Owners = ownerKeys(person(r))
		if len(q.Owners) == 0 {
			return q, 0, invalid("owner=me needs a name or an email to match; give owner=<name>.")
		}
	case owner != "":
		q.Owners = []string{owner}
	}
	switch st := v.Get("state"); st {
	case "", "all":
	case search.StateOpen, search.StateDone:
		q.State = st
	default:
		return q, 0, invalid("state must be open, done or all.")
	}
	if d := v.Get("due_before"); d != "" {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return q, 0, invalid("due_before must be a date, YYYY-MM-DD.")
		}
		q.DueBefore = d
	}
	page, err := paging(v, &q.Limit, search.MaxLedgerLimit)
	q.Offset = (page - 1) * q.Limit
	return q, page, err
}

// ledger checks that the request may see items across notes and that the
// server keeps them.
func (s *Server) ledgerFor(r *http.Request) (*search.Ledger, error) {
	if err := s.may(r, scribe.ActActions); err != nil {
		return nil, err
	}
	if s.ledger == nil {
		return nil, scribe.Errorf(scribe.EUNAVAILABLE, "Action items are not kept on this server: it has no search index.")
	}
	return s.ledger, nil
}

// handleActions is GET /api/actions?owner=&state=&due_before=&page=&limit=.
func (s *Server) handleActions(w http.ResponseWriter, r *http.Request) {
	l, err := s.ledgerFor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, page, err := s.actionQuery(r, r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := l.Actions(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, actionsPage{Total: res.Total, Page: page, Limit: q.Limit, Today: q.Today, Items: res.Items})
}

// decisionsPage is one page of decisions as the API returns it.
type decisionsPage struct {
	Total     int               `json:"total"`
	Page      int               `json:"page"`
	Limit     int               `json:"limit"`
	Decisions []search.Decision `json:"decisions"`
}

// handleDecisions is GET /api/decisions?q=&from=&to=&page=&limit=: q's
// words in the decision or its meeting's title; from and to as search's.
func (s *Server) handleDecisions(w http.ResponseWriter, r *http.Request) {
	l, err := s.ledgerFor(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := r.URL.Query()
	q := search.DecisionQuery{Text: v.Get("q"), Limit: search.DefaultLedgerLimit}
	if len(q.Text) > search.MaxQueryLen || !utf8.ValidString(q.Text) {
		s.writeError(w, r, invalid("q must be valid UTF-8 of at most %d bytes.", search.MaxQueryLen))
		return
	}
	if q.From, err = searchDate(v.Get("from"), s.loc, false); err == nil {
		q.To, err = searchDate(v.Get("to"), s.loc, true)
	}
	var page int
	if err == nil {
		page, err = paging(v, &q.Limit, search.MaxLedgerLimit)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q.Offset = (page - 1) * q.Limit
	res, err := l.Decisions(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, decisionsPage{Total: res.Total, Page: page, Limit: q.Limit, Decisions: res.Decisions})
}

// tickRequest ticks or unticks one action item: the line it was listed on
// and that line's text then (search.Task's Line and Source).
type tickRequest struct {
	Line   int    `json:"line"`
	Source string `json:"source"`
	Done   *bool  `json:"done"`
	Author string `json:"author"`
}

// handleTick is POST /api/notes/{id}/tick: one edit of the note that
// ticks (or unticks) the item, found in the text at the head by its line's
// text (search.Tick). An item changed or removed since it was listed is 409
// ECONFLICT and changes nothing.
func (s *Server) handleTick(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActEdit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.limit(w, r, s.appendLimit) {
		return
	}
	var req tickRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Done == nil || req.Line < 1 || req.Source == "" || len(req.Source) > s.limits.MaxNoteBytes || !utf8.ValidString(req.Source) {
		s.writeError(w, r, invalid("\"line\" (from 1), \"source\" (the item's line as listed) and \"done\" are required."))
		return
	}
	author, email, err := apiAuthor(r, req.Author)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	line := 0
	ctx, cancel := context.WithTimeout(r.Context(), appendWait)
	defer cancel()
	rev, err := s.rooms.Rewrite(ctx, n.ID, room.Rewrite{
		Session: scribe.APISession(randomString(22)), Author: author, Email: email,
		Edit: func(text string) (string, error) {
			var err error
			text, line, err = search.Tick(text, req.Line, req.Source, *req.Done)
			return text, err
		},
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"revision": rev, "line": line, "done": *req.Done})
}

// handleActionsPage serves /actions: the team's action items, the
// person's own open ones first chosen when the link says owner=me.
func (s *Server) handleActionsPage(w http.ResponseWriter, r *http.Request) {
	if err := s.may(r, scribe.ActActions); err != nil {
		if u := s.signInURL(r); u != "" {
			http.Redirect(w, r, u, http.StatusSeeOther)
			return
		}
		s.writePageError(w, r, err)
		return
	}
	s.writePage(w, r, func(b *bytes.Buffer) error {
		return s.pages.Actions(b, web.ActionsData{Me: person(r), Available: s.ledger != nil, Today: s.today()})
	})
}

// myOpenItems counts the person's open action items, for the home page;
// -1 when the server keeps none or the person has no name to match.
func (s *Server) myOpenItems(p scribe.Person) int {
	keys := ownerKeys(p)
	if s.ledger == nil || len(keys) == 0 {
		return -1
	}
	res, err := s.ledger.Actions(search.ActionQuery{Owners: keys, State: search.StateOpen, Limit: 1})
	if err != nil {
		return -1
	}
	return res.Total
}
