package server

import (
	"net/http"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/authorship"
)

// authorsResponse is who wrote what at one revision
// (GET /api/notes/{id}/authors, docs/api.md "Authorship").
type authorsResponse struct {
	Rev scribe.Revision `json:"rev"`
	// Spans are [length, author] in text order, covering the text exactly
	// in UTF-16 code units; author indexes Authors, -1 is nobody (the
	// template the note was created from).
	Spans   [][2]int      `json:"spans"`
	Authors []authorEntry `json:"authors"`
}

// authorEntry is one person of the legend: person key, name and the
// colour browsers give them (web/src/colors.js assignColors over the
// legend's keys).
type authorEntry struct {
	scribe.Author
	Color string `json:"color"`
}

// handleAuthors returns who wrote each character of the note at a
// revision: GET /api/notes/{id}/authors?rev=N (the head without rev).
// Members and the local person only, like the rest of the history
// (scribe.ActHistory).
func (s *Server) handleAuthors(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActHistory)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rev, err := revParam(r.URL.Query().Get("rev"), "rev", n.Revision)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.store.AuthorsAt(r.Context(), n.ID, rev)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, authorsOf(a))
}

// authorsOf shapes a for the API: only the authors its runs name, with
// their colours.
func authorsOf(a scribe.Authorship) authorsResponse {
	a = authorship.Compact(a)
	out := authorsResponse{Rev: a.Rev, Spans: make([][2]int, len(a.Runs)), Authors: make([]authorEntry, len(a.Authors))}
	for i, run := range a.Runs {
		out.Spans[i] = [2]int{run.Len, run.Author}
	}
	keys := make([]string, len(a.Authors))
	for i, p := range a.Authors {
		keys[i] = p.Key
	}
	colors := authorship.Colors(keys)
	for i, p := range a.Authors {
		out.Authors[i] = authorEntry{Author: p, Color: colors[p.Key]}
	}
	return out
}
