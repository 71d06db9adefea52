package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/room"
	"github.com/scribe-notes/scribe/web"
)

// API limits.
const (
	defaultListLimit = 50
	maxAuthorRunes   = 64
	appendWait       = 30 * time.Second // the longest an append may wait for its room
)

// noteJSON is a note as the API shows it.
type noteJSON struct {
	scribe.Note
	URL string `json:"url"`
}

// noteJSON is n as the API shows it to r's sender. The attendees (names
// and person keys of everyone who edited the note, never an email) are
// for those who may list the team's notes: a guest with the edit link
// does not learn who else wrote in it from the API.
func (s *Server) noteJSON(r *http.Request, n scribe.Note) noteJSON {
	if !serverRole(r).Can(scribe.ActList) {
		n.Attendees = nil
	}
	return noteJSON{Note: n, URL: s.baseURL(r) + "/n/" + string(n.ID)}
}

// shareJSON is a share as the API shows it: never with the note id.
type shareJSON struct {
	Token     scribe.Token `json:"token"`
	URL       string       `json:"url"`
	CreatedAt time.Time    `json:"createdAt"`
	Label     string       `json:"label,omitempty"`
	By        *byJSON      `json:"by,omitempty"`
}

// byJSON is who made a link.
type byJSON struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

func (s *Server) shareJSON(r *http.Request, sh scribe.Share) shareJSON {
	out := shareJSON{Token: sh.Token, URL: s.baseURL(r) + "/s/" + string(sh.Token), CreatedAt: sh.CreatedAt, Label: sh.Label}
	if sh.By != (scribe.Person{}) {
		out.By = &byJSON{Name: sh.By.Name, Email: sh.By.Email}
	}
	return out
}

// noteID reads and checks the {id} URL parameter. A malformed id is
// ENOTFOUND, like an unknown one.
func noteID(r *http.Request) (scribe.NoteID, error) {
	id := scribe.NoteID(chi.URLParam(r, "id"))
	if !id.Valid() {
		return "", scribe.Errorf(scribe.ENOTFOUND, "There is no such note.")
	}
	return id, nil
}

func shareToken(r *http.Request) (scribe.Token, error) {
	t := scribe.Token(chi.URLParam(r, "token"))
	if !t.Valid() {
		return "", scribe.Errorf(scribe.ENOTFOUND, "There is no such read-only link (or it was revoked).")
	}
	return t, nil
}

// resolve returns the share for the {token} parameter.
func (s *Server) resolve(r *http.Request) (scribe.Share, error) {
	t, err := shareToken(r)
	if err != nil {
		return scribe.Share{}, err
	}
	sh, err := s.store.ResolveShare(r.Context(), t)
	if scribe.ErrorCode(err) == scribe.ENOTFOUND {
		// The store's message may name the note; say nothing about it.
		return scribe.Share{}, scribe.Errorf(scribe.ENOTFOUND, "There is no such read-only link (or it was revoked).")
	}
	return sh, err
}

func (s *Server) handleListTemplates(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"templates": s.templates.List()})
}

type createNoteRequest struct {
	Title    string `json:"title"`
	Template string `json:"template"`
	Series   string `json:"series"`
}

// handleCreateNote creates a note from a template: POST /api/notes.
func (s *Server) handleCreateNote(w http.ResponseWriter, r *http.Request) {
	if err := s.may(r, scribe.ActCreate); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.limit(w, r, s.createLimit) {
		return
	}
	var req createNoteRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.createNote(r.Context(), req, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/notes/"+string(n.ID))
	writeJSON(w, http.StatusCreated, s.noteJSON(r, n))
}

// createNote creates a note from req's template, with more (markdown, or
// "") after the filled-in template.
func (s *Server) createNote(ctx context.Context, req createNoteRequest, more string) (scribe.Note, error) {
	name := req.Template
	if name == "" {
		name = web.DefaultTemplate
	}
	now := time.Now()
	text, err := s.templates.Fill(name, req.Title, now, s.loc)
	if err != nil {
		return scribe.Note{}, err
	}
	if more != "" {
		text = strings.TrimRight(text, "\n") + "\n\n" + more
	}
	if len(text) > s.limits.MaxNoteBytes {
		return scribe.Note{}, scribe.Errorf(scribe.ETOOLARGE, "The template makes a note larger than the limit of %d bytes.", s.limits.MaxNoteBytes)
	}
	title := web.CleanTitle(req.Title)
	if title == "" {
		for _, t := range s.templates.List() {
			if t.Name == name {
				title = t.Label
			}
		}
	}
	// In local mode the edit link is the only way in for anyone else, as
	// before; with sign-in, guests need a member to allow them (issue 11).
	guest := s.auth.Mode() == auth.ModeNone
	n, err := s.store.CreateNote(ctx, scribe.NewNote{Title: title, Template: name, Series: strings.TrimSpace(req.Series), Text: text, CreatedAt: now, GuestEdit: guest})
	if err != nil {
		return scribe.Note{}, fmt.Errorf("create note: %w", err)
	}
	s.log.Info("note created", "template", name)
	return n, nil
}

// handleListNotes lists one page of notes, most recently edited first,
// with filters: GET /api/notes (docs/api.md).
func (s *Server) handleListNotes(w http.ResponseWriter, r *http.Request) {
	if err := s.may(r, scribe.ActList); err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := noteQuery(r.URL.Query(), s.loc)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.store.QueryNotes(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]noteJSON, len(page.Notes))
	for i, n := range page.Notes {
		out[i] = s.noteJSON(r, n)
	}
	writeJSON(w, http.StatusOK, map[string]any{"notes": out, "next": page.Next})
}

// noteQuery reads a list request's parameters: limit (1 to
// scribe.MaxNotePage, default defaultListLimit), after (the next of the
// page before), template, series, person (an attendee's name, first
// name, email or "@handle"), from and to (as for search) and archived
// ("1" or "true": the archived notes instead).
func noteQuery(v url.Values, loc *time.Location) (scribe.NoteQuery, error) {
	q := scribe.NoteQuery{Limit: defaultListLimit, After: scribe.NoteCursor(v.Get("after")), Template: v.Get("template"), Series: v.Get("series"), Person: v.Get("person")}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > scribe.MaxNotePage {
			return q, invalid("limit must be a number from 1 to %d.", scribe.MaxNotePage)
		}
		q.Limit = n
	}
	switch v.Get("archived") {
	case "", "0", "false":
	case "1", "true":
		q.Archived = true
	default:
		return q, invalid("archived is 1 or 0.")
	}
	var err error
	if q.From, err = searchDate(v.Get("from"), loc, false); err != nil {
		return q, err
	}
	if q.To, err = searchDate(v.Get("to"), loc, true); err != nil {
		return q, err
	}
	return q, q.Validate()
}

// handleGetNote returns a note's metadata: GET /api/notes/{id}.
func (s *Server) handleGetNote(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActEdit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSONTagged(w, r, s.noteJSON(r, n))
}

type updateNoteRequest struct {
	Title     *string `json:"title"`
	GuestEdit *bool   `json:"guestEdit"`
	Series    *string `json:"series"`
	Archived  *bool   `json:"archived"`
}

// handleUpdateNote renames a note, moves it to a series, archives or
// unarchives it and/or turns guest editing on or off: PATCH
// /api/notes/{id}. A title or series needs the rename right, guestEdit the
// share right, archived the archive right; all are checked before anything
// is written.
func (s *Server) handleUpdateNote(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActRename)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req updateNoteRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, need := range []struct {
		asked bool
		a     scribe.Action
	}{{req.GuestEdit != nil, scribe.ActShare}, {req.Archived != nil, scribe.ActArchive}} {
		if role := noteRole(r, n); need.asked && !role.Can(need.a) {
			s.writeError(w, r, s.refusal(r, role, need.a))
			return
		}
	}
	if req.Title != nil {
		t := web.CleanTitle(*req.Title)
		req.Title = &t
	}
	if req.Series != nil {
		series := strings.TrimSpace(*req.Series)
		req.Series = &series
	}
	n, err = s.store.UpdateNote(r.Context(), n.ID, scribe.NoteUpdate{Title: req.Title, GuestEdit: req.GuestEdit, Series: req.Series, Archived: req.Archived})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Title != nil {
		// Everyone in the note sees the new title now; a lost message is
		// made up by the rooms' periodic check.
		if err := s.rooms.Retitle(r.Context(), n.ID, n.Title); err != nil {
			s.log.Warn("tell the rooms of a new title", "note", room.NoteRef(n.ID), "err", err)
		}
	}
	writeJSON(w, http.StatusOK, s.noteJSON(r, n))
}

// handleDeleteNote deletes a note for good: DELETE /api/notes/{id}. Every
// connection to it, on every node, is closed first ("This note was
// deleted."), then the store deletes its text, history and read-only links
// and tells every node's search index. A commit export made stays in the
// repository.
func (s *Server) handleDeleteNote(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActDelete)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.rooms.Delete(r.Context(), n.ID); err != nil {
		// This node's room has been told; on another node a lost message
		// leaves its members connected until their room next meets the
		// deleted note.
		s.log.Warn("tell the rooms of a deletion", "note", room.NoteRef(n.ID), "err", err)
	}
	if err := s.store.DeleteNote(r.Context(), n.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("note deleted", "note", room.NoteRef(n.ID))
	w.WriteHeader(http.StatusNoContent)
}

// writeMarkdown answers with a note's text.
func writeMarkdown(w http.ResponseWriter, d scribe.Document, disposition string) {
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Scribe-Revision", strconv.FormatInt(int64(d.Revision), 10))
	if disposition != "" {
		w.Header().Set("Content-Disposition", disposition)
	}
	_, _ = w.Write([]byte(d.Text))
}

// handleNoteText returns a note's markdown: GET /api/notes/{id}/text.
// With ?rev=N it returns the text at revision N instead, for members only
// (history.go).
func (s *Server) handleNoteText(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("rev") {
		s.textAtRevision(w, r, r.URL.Query().Get("rev"))
		return
	}
	n, err := s.note(r, scribe.ActEdit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.store.LoadNote(r.Context(), n.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeMarkdown(w, d, "")
}

type appendRequest struct {
	Text   string `json:"text"`
	Author string `json:"author"`
}

// handleAppend appends text at the end of a note as a committed edit that
// live clients see: POST /api/notes/{id}/append. With an Idempotency-Key
// header a retried request is applied once.
func (s *Server) handleAppend(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActEdit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.limit(w, r, s.appendLimit) {
		return
	}
	id := n.ID
	var req appendRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Text == "" {
		s.writeError(w, r, invalid("\"text\" must not be empty."))
		return
	}
	if !utf8.ValidString(req.Text) {
		s.writeError(w, r, invalid("\"text\" must be valid UTF-8."))
		return
	}
	author, email, err := apiAuthor(r, req.Author)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	random := scribe.APISession(randomString(22))
	session := random
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if !scribe.ValidSession(key) || len(key) > scribe.MaxSessionLen-len(scribe.APISessionPrefix) {
			s.writeError(w, r, invalid("Idempotency-Key must be %d to %d characters of A-Z, a-z, 0-9, '-' or '_'.", scribe.MinSessionLen, scribe.MaxSessionLen-len(scribe.APISessionPrefix)))
			return
		}
		session = scribe.APISession(key)
	}
	rev, err := s.appendText(r.Context(), id, room.Append{Session: session, Text: req.Text, Author: author, Email: email, Idempotent: session != random})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"revision": rev})
}

// appendText commits text at the end of the note through its room, as
// (session, 1), and returns the revision it got.
func (s *Server) appendText(ctx context.Context, id scribe.NoteID, a room.Append) (scribe.Revision, error) {
	ctx, cancel := context.WithTimeout(ctx, appendWait)
	defer cancel()
	return s.rooms.Append(ctx, id, a)
}

// handleCreateShare creates a read-only link: POST /api/notes/{id}/shares.
type createShareRequest struct {
	// Label names the link ("for the board"). Without one, the note's
	// existing unlabelled link is returned (200) when it has one, so that
	// "Copy read-only link" does not mint a new link per click; Fresh asks
	// for a new one anyway.
	Label string `json:"label"`
	Fresh bool   `json:"fresh"`
}

func (s *Server) handleCreateShare(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActShare)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req createShareRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	label := strings.TrimSpace(req.Label)
	shares, err := s.store.ListShares(r.Context(), n.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if label == "" && !req.Fresh {
		for _, sh := range shares {
			if sh.Label == "" {
				writeJSON(w, http.StatusOK, s.shareJSON(r, sh))
				return
			}
		}
	}
	// Checked before the store writes; two requests at once may both pass
	// the cap by one each (the rate limit bounds how many).
	if most := s.limits.MaxSharesPerNote; most > 0 && len(shares) >= most {
		s.writeError(w, r, scribe.Errorf(scribe.ETOOLARGE, "This note has %d read-only links, the limit of %d; revoke one first.", len(shares), most))
		return
	}
	if !s.limit(w, r, s.shareLimit) {
		return
	}
	by := person(r)
	by.Via = ""
	sh, err := s.store.CreateShare(r.Context(), n.ID, scribe.ShareMeta{Label: label, By: by})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.shareJSON(r, sh))
}

// handleListShares lists a note's active read-only links: GET
// /api/notes/{id}/shares.
func (s *Server) handleListShares(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActShare)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	shares, err := s.store.ListShares(r.Context(), n.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]shareJSON, len(shares))
	for i, sh := range shares {
		out[i] = s.shareJSON(r, sh)
	}
	writeJSON(w, http.StatusOK, map[string]any{"shares": out})
}

// handleRevokeShare revokes a read-only link and closes its live
// connections on every node: DELETE /api/notes/{id}/shares/{token}. It
// needs the note's edit id and the share right: a token alone revokes
// nothing, and a token of another note is not found.
func (s *Server) handleRevokeShare(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActShare)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sh, err := s.resolve(r)
	if err == nil && sh.NoteID != n.ID {
		err = scribe.Errorf(scribe.ENOTFOUND, "This note has no such read-only link.")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.RevokeShare(r.Context(), sh.Token); err != nil {
		s.writeError(w, r, err)
		return
	}
	// Tell every node (this one included) to close the token's connections.
	// Should the message be lost, rooms re-check tokens periodically.
	if err := s.rooms.Revoke(r.Context(), sh.NoteID, sh.Token); err != nil {
		s.log.Warn("publish revocation", "err", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// shareInfo is what a read-only link shows about its note: never the id.
type shareInfo struct {
	Token     scribe.Token    `json:"token"`
	Title     string          `json:"title"`
	Revision  scribe.Revision `json:"revision"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// handleGetShare returns a read-only link's note metadata: GET
// /api/shares/{token}.
func (s *Server) handleGetShare(w http.ResponseWriter, r *http.Request) {
	sh, err := s.resolve(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := s.store.GetNote(r.Context(), sh.NoteID)
	if err != nil {
		s.writeError(w, r, hideID(err))
		return
	}
	writeJSON(w, http.StatusOK, shareInfo{Token: sh.Token, Title: n.Title, Revision: n.Revision, UpdatedAt: n.UpdatedAt})
}

// handleShareText returns a read-only link's markdown: GET
// /api/shares/{token}/text.
func (s *Server) handleShareText(w http.ResponseWriter, r *http.Request) {
	sh, err := s.resolve(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.store.LoadNote(r.Context(), sh.NoteID)
	if err != nil {
		s.writeError(w, r, hideID(err))
		return
	}
	writeMarkdown(w, d, "")
}

// hideID replaces a store error that may name the note with one that does
// not, for answers to read-only links.
func hideID(err error) error {
	switch scribe.ErrorCode(err) {
	case scribe.ENOTFOUND:
		return scribe.Errorf(scribe.ENOTFOUND, "The note of this read-only link no longer exists.")
	case scribe.EINTERNAL:
		return err // the message shown is generic anyway
	default:
		return scribe.Errorf(scribe.ErrorCode(err), "The note could not be read; retry.")
	}
}

// exportRequest is the body of an export. Author and Email are accepted
// for old scripts and ignored: the author is who is asking (docs/export.md).
// Rev, when set, is the revision the person previewed: the export is
// refused (409) when the note changed since.
type exportRequest struct {
	Author string           `json:"author"`
	Email  string           `json:"email"`
	Rev    *scribe.Revision `json:"rev"`
}

// handleExport commits the note to the team's repository: POST
// /api/notes/{id}/export. Everyone in the note hears of the commit.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	var body exportRequest
	id, req, ok := s.exportRequest(w, r, &body)
	if !ok {
		return
	}
	if body.Rev != nil {
		if *body.Rev <= 0 {
			s.writeError(w, r, invalid("rev is the revision of the preview, a positive number."))
			return
		}
		req.Rev = *body.Rev
	}
	res, err := s.exporter.Export(r.Context(), id, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("note exported", "path", res.Path, "commit", res.Commit, "unchanged", res.Unchanged, "pushed", res.Pushed)
	s.announceExport(r.Context(), id, person(r), res)
	writeJSON(w, http.StatusOK, res)
}

// handleExportPreview answers what an export would commit now, committing
// nothing: POST /api/notes/{id}/export/preview. The person commits it with
// POST .../export {"rev": <its revision>}.
func (s *Server) handleExportPreview(w http.ResponseWriter, r *http.Request) {
	var body exportRequest
	id, req, ok := s.exportRequest(w, r, &body)
	if !ok {
		return
	}
	p, err := s.exporter.Preview(r.Context(), id, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// exportRequest checks an export or preview (the permission, the body,
// that export is configured, that the person is known) and builds what
// the exporter is asked; on false it has answered.
func (s *Server) exportRequest(w http.ResponseWriter, r *http.Request, body *exportRequest) (scribe.NoteID, scribe.ExportRequest, bool) {
	n, err := s.note(r, scribe.ActExport)
	if err != nil {
		s.writeError(w, r, err)
		return "", scribe.ExportRequest{}, false
	}
	if err := s.readJSON(w, r, body); err != nil {
		s.writeError(w, r, err)
		return "", scribe.ExportRequest{}, false
	}
	if s.exporter == nil {
		s.writeError(w, r, scribe.Errorf(scribe.EUNAVAILABLE, "This Scribe does not save notes to a repository, so there is nothing to export to. You can still download the note as Markdown or HTML."))
		return "", scribe.ExportRequest{}, false
	}
	p := person(r)
	if p.Name == "" && p.Email == "" {
		s.writeError(w, r, invalid("The server does not know your name and email: the operator sets --local-name and --local-email (or git config user.name/user.email in the export repository)."))
		return "", scribe.ExportRequest{}, false
	}
	// The file and message link to the note's export share, never to the
	// edit link: everyone who reads the repository would edit the note.
	sh, err := scribe.ExportShare(r.Context(), s.store, n.ID, p)
	if err != nil {
		s.writeError(w, r, err)
		return "", scribe.ExportRequest{}, false
	}
	return n.ID, scribe.ExportRequest{
		Author: editorName(p), Email: p.Email, URL: s.baseURL(r) + "/s/" + string(sh.Token),
		Template: s.templates.Body(n.Template),
	}, true
}

// handleDownloadMarkdown downloads the note as a .md file.
func (s *Server) handleDownloadMarkdown(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActEdit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.store.LoadNote(r.Context(), n.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeMarkdown(w, d, attachment(d.Title, d.CreatedAt, ".md"))
}

// handleDownloadHTML downloads the note rendered as a standalone HTML page.
func (s *Server) handleDownloadHTML(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActEdit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.store.LoadNote(r.Context(), n.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Past the render limits the page holds the note as plain text.
	page, rerr := s.renderer.Page(d.Title, d.Text)
	s.logRenderFallback(rerr)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Scribe-Revision", strconv.FormatInt(int64(d.Revision), 10))
	w.Header().Set("Content-Disposition", attachment(d.Title, d.CreatedAt, ".html"))
	// The downloaded page is opened from disk later; keep it inert here.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:")
	_, _ = w.Write(page)
}

// fileName makes a safe download file name from a note's title: the
// note's creation date and scribe.Slug of the title, the same slug export
// names the note's file with: 2026-11-24-standup.md, 2026-11-24-日本語の会議.md.
// Nothing from the title can add a path, a quote or a control character.
func fileName(title string, created time.Time, ext string) string {
	slug := scribe.Slug(title)
	if created.IsZero() {
		return slug + ext
	}
	return created.UTC().Format("2006-01-02") + "-" + slug + ext
}

// attachment is the Content-Disposition of a note's download. A file name
// that is not all ASCII goes in filename* (RFC 6266, RFC 8187), which
// browsers prefer, and filename carries the ASCII part of the slug for
// older clients: 2026-11-24-note.md for a title all in Japanese.
func attachment(title string, created time.Time, ext string) string {
	name := fileName(title, created, ext)
	ascii := fileName(scribe.SlugASCII(title), created, ext)
	if name == ascii {
		return `attachment; filename="` + name + `"`
	}
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + url.PathEscape(name)
}

// handleNoteWS upgrades to the websocket protocol with edit rights:
// GET /api/notes/{id}/ws.
func (s *Server) handleNoteWS(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActEdit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.serveWS(w, r, n.ID, false, "")
}

// handleShareWS upgrades to the websocket protocol read-only:
// GET /api/shares/{token}/ws.
func (s *Server) handleShareWS(w http.ResponseWriter, r *http.Request) {
	sh, err := s.resolve(r)
	if err == nil && !shareRole(r).Can(scribe.ActWatch) {
		err = s.refusal(r, shareRole(r), scribe.ActWatch)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.serveWS(w, r, sh.NoteID, true, sh.Token)
}

// apiAuthor is who an API edit is recorded as: a member's (or a token's)
// name and email from sign-in; else the "author" the request gives (a
// guest's, the local API's), else "API".
func apiAuthor(r *http.Request, requested string) (author, email string, err error) {
	author = strings.TrimSpace(requested)
	email = signedIn(person(r))
	if email != "" {
		author = editorName(person(r))
	}
	if author == "" {
		author = "API"
	}
	if author, err = protocol.CleanName(author); err != nil {
		return "", "", invalid("\"author\" may have at most %d characters and no control characters.", maxAuthorRunes)
	}
	return author, email, nil
}

// editorName is how a person is named on their edits and exports: their
// name, else their email.
func editorName(p scribe.Person) string {
	if p.Name != "" {
		return p.Name
	}
	return p.Email
}
