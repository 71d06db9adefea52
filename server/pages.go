package server

import (
	"bytes"
	"net/http"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/web"
)

// Pages are rendered into a buffer first, so a failure never leaves half a
// page on the wire, and are never cached: they show live state.

func (s *Server) writePage(w http.ResponseWriter, r *http.Request, render func(*bytes.Buffer) error) {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		s.writePageError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// handleHome shows recent notes and the templates to start one from.
// Members and the local person see the team's notes; anyone else the
// notes this browser opened (kept by the page's script) and the create form
// only where they may create.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	role := serverRole(r)
	d := web.HomeData{Templates: s.templates.List(), CanList: role.Can(scribe.ActList), CanCreate: role.Can(scribe.ActCreate),
		Me: person(r), Tokens: role.Can(scribe.ActManageToken) && person(r).Via != scribe.ViaToken}
	if role == scribe.Stranger {
		d.SignIn = s.signInURL(r)
	}
	if d.CanList {
		page, err := s.store.QueryNotes(r.Context(), scribe.NoteQuery{Limit: defaultListLimit})
		if err != nil {
			s.writePageError(w, r, err)
			return
		}
		d.Notes, d.Next = page.Notes, page.Next
	}
	if role.Can(scribe.ActActions) {
		d.MyItems = s.myOpenItems(person(r))
	}
	s.writePage(w, r, func(b *bytes.Buffer) error { return s.pages.Home(b, d) })
}

// handleEditorPage serves the editor for a note: GET /n/{id}.
func (s *Server) handleEditorPage(w http.ResponseWriter, r *http.Request) {
	id, err := noteID(r)
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	n, err := s.store.GetNote(r.Context(), id)
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	role := noteRole(r, n)
	if !role.Can(scribe.ActEdit) {
		// Guest editing is off: the edit link needs sign-in.
		if u := s.signInURL(r); u != "" {
			http.Redirect(w, r, u, http.StatusSeeOther)
			return
		}
		s.writePageError(w, r, s.refusal(r, role, scribe.ActEdit))
		return
	}
	s.writePage(w, r, func(b *bytes.Buffer) error {
		return s.pages.Editor(b, web.EditorData{Note: n, Me: person(r), CanShare: role.Can(scribe.ActShare),
			CanExport: role.Can(scribe.ActExport) && s.exporter != nil, CanHistory: role.Can(scribe.ActHistory), CommitURL: s.commitURL,
			CanNext: role.Can(scribe.ActCreate), CanList: role.Can(scribe.ActList)})
	})
}

// handleHistoryPage serves a note's history: GET /n/{id}/history, for
// those who may read it through the API (scribe.ActHistory: members and
// the local person). The page draws everything from the history API.
func (s *Server) handleHistoryPage(w http.ResponseWriter, r *http.Request) {
	n, err := s.note(r, scribe.ActHistory)
	if err != nil {
		if u := s.signInURL(r); u != "" && serverRole(r) == scribe.Stranger && scribe.ErrorCode(err) == scribe.EFORBIDDEN {
			http.Redirect(w, r, u, http.StatusSeeOther)
			return
		}
		s.writePageError(w, r, err)
		return
	}
	s.writePage(w, r, func(b *bytes.Buffer) error {
		return s.pages.History(b, web.HistoryData{Note: n, CommitURL: s.commitURL})
	})
}

// handleReadOnlyPage serves a read-only link: GET /s/{token}. The note is
// rendered on the server for the first paint; the client then follows it
// live. Nothing on the page reveals the note's id.
func (s *Server) handleReadOnlyPage(w http.ResponseWriter, r *http.Request) {
	sh, err := s.resolve(r)
	if err != nil {
		s.writePageError(w, r, err)
		return
	}
	d, err := s.store.LoadNote(r.Context(), sh.NoteID)
	if err != nil {
		s.writePageError(w, r, hideID(err))
		return
	}
	body, rerr := s.renderer.Render(d.Text)
	s.logRenderFallback(rerr)
	s.writePage(w, r, func(b *bytes.Buffer) error {
		return s.pages.ReadOnly(b, web.ReadOnlyData{
			Token: sh.Token, Title: d.Title, Revision: d.Revision,
			HTML: web.HTML(body, rerr), CommitURL: s.commitURL,
		})
	})
}

// logRenderFallback notes that a page showed a note as plain text, and why
// (the reason names a limit, never the note: its id is a secret).
func (s *Server) logRenderFallback(err error) {
	if err != nil {
		s.log.Info("markdown shown as plain text", "reason", err.Error())
	}
}
