package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"time"

	"github.com/scribe-notes/scribe"
)

//go:embed pages/*.html
var pagesFS embed.FS

// HomeData is what the home page shows: the first page of the note list
// (most recently edited first, as Store.QueryNotes returns it; Next
// continues it) and the templates to create from.
type HomeData struct {
	Notes     []scribe.Note
	Next      scribe.NoteCursor
	Templates []TemplateInfo
	// CanList: the team's notes are shown (members, the local person);
	// otherwise the page lists the notes this browser opened, which the
	// script keeps in localStorage. CanCreate shows the create form.
	CanList, CanCreate bool
	// Me is who is asking (zero: a stranger); SignIn, when set, is the
	// sign-in link to offer a stranger; Tokens shows the API token panel.
	Me     scribe.Person
	SignIn string
	Tokens bool
	// MyItems is how many open action items Me owns, for the link to
	// /actions?owner=me; -1 (or 0 for a stranger) shows no count.
	MyItems int
}

// ActionsData is what the action items page at /actions needs; the items
// themselves come from GET /api/actions.
type ActionsData struct {
	Me scribe.Person
	// Available: the server keeps action items (it has a search index).
	Available bool
	Today     string // YYYY-MM-DD in the team's time zone
}

// EditorData is what the editor page at /n/{id} needs.
type EditorData struct {
	Note scribe.Note
	// Me is who is editing. When Me.NameFixed(), the name comes from sign-in
	// and cannot be changed on the page; a guest is asked for one.
	Me scribe.Person
	// CanShare shows the links panel and the guest-editing switch;
	// CanExport the export button; CanHistory the link to the history page
	// and the "Show authors" toggle with its legend (who wrote what is the
	// note's history); CanNext the "Next meeting" button; CanList the
	// link to the note's series in the note list.
	CanShare, CanExport, CanHistory, CanNext, CanList bool
	// CommitURL makes export commits links ("{sha}" replaced by the
	// hash; scribe.CommitLink); empty: no links.
	CommitURL string
}

// HistoryData is what the history page at /n/{id}/history needs.
type HistoryData struct {
	Note scribe.Note
	// CommitURL links an exported commit: "{sha}" is replaced by the commit
	// id the checkpoint names (--export-commit-url); empty: no links.
	CommitURL string
}

// ReadOnlyData is what the read-only page at /s/{token} needs. It holds no
// note id on purpose: the page must not reveal the edit link.
type ReadOnlyData struct {
	Token    scribe.Token
	Title    string
	Revision scribe.Revision
	HTML     template.HTML // RenderMarkdown of the text at Revision
	// CommitURL makes export commits links, as EditorData's.
	CommitURL string
}

// ErrorData is what an error page shows.
type ErrorData struct {
	Status  int    // HTTP status, e.g. 404
	Code    string // a scribe error code, e.g. ENOTFOUND
	Message string // a sentence safe to show (scribe.ErrorMessage)
}

// Pages renders Scribe's HTML pages. It is immutable after NewPages and safe
// for concurrent use. Every page links /static/app.css and /static/app.js
// with a ?v= query that changes whenever the bundle does, so the server may
// serve /static/ with long cache lifetimes.
type Pages struct {
	home, editor, history, readOnly, errorPage, actions *template.Template
	version                                             string
	bundleOK                                            bool
}

// layoutData is what every page's template receives.
type layoutData struct {
	Version   string
	BundleOK  bool
	PageTitle string
	Data      any
}

// NewPages parses the embedded page templates and hashes the bundle.
func NewPages() (*Pages, error) {
	version, ok := bundleVersion(Static())
	p := &Pages{version: version, bundleOK: ok}
	funcs := template.FuncMap{
		"isoTime":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"shortTime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"statusText": func(code int) string {
			if s := http.StatusText(code); s != "" {
				return s
			}
			return "Error"
		},
	}
	for _, pg := range []struct {
		dst  **template.Template
		file string
	}{
		{&p.home, "pages/home.html"},
		{&p.editor, "pages/editor.html"},
		{&p.history, "pages/history.html"},
		{&p.readOnly, "pages/readonly.html"},
		{&p.errorPage, "pages/error.html"},
		{&p.actions, "pages/actions.html"},
	} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(pagesFS, "pages/layout.html", pg.file)
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", pg.file, err)
		}
		*pg.dst = t
	}
	return p, nil
}

// BundleOK reports whether the JavaScript bundle was embedded at build time.
func (p *Pages) BundleOK() bool { return p.bundleOK }

// Home writes the home page.
func (p *Pages) Home(w io.Writer, d HomeData) error {
	return p.render(w, p.home, "Scribe", d)
}

// Actions writes the action items page.
func (p *Pages) Actions(w io.Writer, d ActionsData) error {
	return p.render(w, p.actions, "Action items · Scribe", d)
}

// Editor writes the editor page for one note. The note id is in the page
// (data-note-id) for the client to connect with.
func (p *Pages) Editor(w io.Writer, d EditorData) error {
	return p.render(w, p.editor, titleOr(d.Note.Title)+" · Scribe", d)
}

// History writes the history page of one note: the timeslider, the
// checkpoints, diffs and restore, all drawn by the script from the history
// API (docs/api.md "History").
func (p *Pages) History(w io.Writer, d HistoryData) error {
	return p.render(w, p.history, "History of "+titleOr(d.Note.Title)+" · Scribe", d)
}

// ReadOnly writes the read-only page for a share token, with the note
// rendered for the first paint; the client keeps it up to date.
func (p *Pages) ReadOnly(w io.Writer, d ReadOnlyData) error {
	return p.render(w, p.readOnly, titleOr(d.Title)+" · Scribe (read-only)", d)
}

// Error writes an error page. The caller sets the HTTP status.
func (p *Pages) Error(w io.Writer, d ErrorData) error {
	if d.Status == 0 {
		d.Status = http.StatusInternalServerError
	}
	if d.Message == "" {
		d.Message = "Something went wrong."
	}
	return p.render(w, p.errorPage, http.StatusText(d.Status)+" · Scribe", d)
}

// render executes into a buffer first, so a template error never leaves a
// half-written page on the wire.
func (p *Pages) render(w io.Writer, t *template.Template, title string, d any) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, layoutData{Version: p.version, BundleOK: p.bundleOK, PageTitle: title, Data: d}); err != nil {
		return fmt.Errorf("render page: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write page: %w", err)
	}
	return nil
}

func titleOr(s string) string {
	if s == "" {
		return "Untitled note"
	}
	return s
}
