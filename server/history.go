package server

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/history"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/room"
)

// History routes (issue 13; docs/api.md "History"): members (and the local
// person) only, scribe.ActHistory. The text at a revision is served by
// GET /api/notes/{id}/text?rev=N (handleNoteText), which checks ActHistory
// when rev is given.

// handleRevisions lists a note's checkpoints, newest first:
// GET /api/notes/{id}/revisions?before=R&limit=N.
func (s *Server) handleRevisions(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActHistory)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	before, err := revParam(q.Get("before"), "before", 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := history.DefaultPage
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > history.MaxPage {
			s.writeError(w, r, invalid("\"limit\" is a number from 1 to %d.", history.MaxPage))
			return
		}
	}
	page, err := history.Revisions(r.Context(), s.store, n.ID, before, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// revParam parses a revision query parameter; "" gives def.
func revParam(v, name string, def scribe.Revision) (scribe.Revision, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, invalid("%q is a revision: a number, 0 or more.", name)
	}
	return scribe.Revision(n), nil
}

// textAtRevision serves the note's text at revision rev (handleNoteText
// with ?rev=).
func (s *Server) textAtRevision(w http.ResponseWriter, r *http.Request, revStr string) {
	n, err := s.note(r, scribe.ActHistory)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rev, err := revParam(revStr, "rev", 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	text, err := s.store.TextAt(r.Context(), n.ID, rev)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n.Revision = rev
	writeMarkdown(w, scribe.Document{Note: n, Text: text}, "")
}

// handleDiff returns a line diff between two revisions:
// GET /api/notes/{id}/diff?from=A&to=B (to defaults to the head), as JSON,
// or as a unified diff with Accept: text/x-diff or ?format=unified.
func (s *Server) handleDiff(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActHistory)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	if q.Get("from") == "" {
		s.writeError(w, r, invalid("\"from\" is required: the revision to diff from."))
		return
	}
	from, err := revParam(q.Get("from"), "from", 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	to, err := revParam(q.Get("to"), "to", n.Revision)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.store.TextAt(r.Context(), n.ID, from)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := s.store.TextAt(r.Context(), n.ID, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d := history.LineDiff(a, b, int64(from), int64(to))
	if q.Get("format") == "unified" || wantsDiff(r) {
		w.Header().Set("Content-Type", "text/x-diff; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(d.Unified("rev-"+strconv.FormatInt(int64(from), 10), "rev-"+strconv.FormatInt(int64(to), 10))))
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// wantsDiff reports whether the request's Accept header asks for
// text/x-diff (or text/plain) rather than JSON.
func wantsDiff(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == "text/x-diff" || mt == "text/x-patch") {
			return true
		}
	}
	return false
}

type checkpointRequest struct {
	Name string           `json:"name"`
	Rev  *scribe.Revision `json:"rev"` // the head when absent
}

// handleAddCheckpoint names a checkpoint: POST /api/notes/{id}/checkpoints
// {"name": "...", "rev": N}; without rev, at the head.
func (s *Server) handleAddCheckpoint(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActHistory)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req checkpointRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	c := scribe.Checkpoint{Rev: n.Revision, Name: strings.TrimSpace(req.Name), By: checkpointBy(person(r))}
	if req.Rev != nil {
		c.Rev = *req.Rev
	}
	c, err = s.store.AddCheckpoint(r.Context(), n.ID, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

// checkpointBy is who a checkpoint records as its maker: a name and email,
// never how they signed in.
func checkpointBy(p scribe.Person) scribe.Person {
	return scribe.Person{Name: editorName(p), Email: p.Email}
}

type restoreRequest struct {
	Rev *scribe.Revision `json:"rev"`
}

// handleRestore makes the note's text equal to an earlier revision's again,
// as one new edit through the room that everyone in the note sees live:
// POST /api/notes/{id}/restore {"rev": N}. With an Idempotency-Key header a
// retried request is applied once.
func (s *Server) handleRestore(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActHistory)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req restoreRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Rev == nil {
		s.writeError(w, r, invalid("\"rev\" is required: the revision to restore."))
		return
	}
	session := scribe.APISession(randomString(22))
	idempotent := false
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if !scribe.ValidSession(key) || len(key) > scribe.MaxSessionLen-len(scribe.APISessionPrefix) {
			s.writeError(w, r, invalid("Idempotency-Key must be %d to %d characters of A-Z, a-z, 0-9, '-' or '_'.", scribe.MinSessionLen, scribe.MaxSessionLen-len(scribe.APISessionPrefix)))
			return
		}
		session, idempotent = scribe.APISession(key), true
	}
	text, err := s.store.TextAt(r.Context(), n.ID, *req.Rev)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// What the restore re-inserts keeps its authors; a note whose
	// authorship at rev is not kept is restored as the restorer's.
	var authors *scribe.Authorship
	if a, err := s.store.AuthorsAt(r.Context(), n.ID, *req.Rev); err == nil {
		authors = &a
	} else if scribe.ErrorCode(err) != scribe.ENOTFOUND {
		s.writeError(w, r, err)
		return
	}
	author := editorName(person(r))
	if author == "" {
		author = "API"
	}
	ctx, cancel := context.WithTimeout(r.Context(), appendWait)
	defer cancel()
	rev, err := s.rooms.Replace(ctx, n.ID, room.Replace{Session: session, Text: text, Author: author, Email: signedIn(person(r)), Idempotent: idempotent, Authors: authors})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"revision": rev, "restored": *req.Rev})
}

// announceExport records the "exported as <commit>" checkpoint of an
// export that made a commit, and tells everyone in the note on every node
// (room.Hub.Exported). A failure is logged, not returned: the export
// itself succeeded; a room opened later reads the checkpoint.
func (s *Server) announceExport(ctx context.Context, id scribe.NoteID, p scribe.Person, res scribe.ExportResult) {
	if res.Unchanged || res.Commit == "" {
		return
	}
	c, err := s.store.AddCheckpoint(ctx, id, scribe.ExportCheckpoint(res.Revision, res.Commit, checkpointBy(p)))
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("export checkpoint", "err", err)
		}
		return
	}
	e := protocol.Export{By: c.By.Name, Commit: res.Commit, Time: c.Time, Rev: res.Revision}
	if err := s.rooms.Exported(context.WithoutCancel(ctx), id, e); err != nil {
		s.log.Warn("announce an export", "err", err)
	}
}
