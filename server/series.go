package server

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/export"
	"github.com/scribe-notes/scribe/room"
	"github.com/scribe-notes/scribe/search"
)

// Meeting series: "Next meeting" (POST /api/notes/{id}/next) creates the
// next note of a note's series, from the same template, titled with the
// new date, with a section "Open action items from <previous date>" that
// lists the previous note's unticked items, each linking back to its line.
// The previous note's items are then marked "(carried over to <date>)" by
// one edit of that note: they are open in the new note only, so
// GET /api/actions lists each once (search.CarriedMarker). Ticking a
// carried item in the new note does not tick the old one, which keeps
// saying where it went.

// fromRe finds the link back that a carried item got in the meeting it
// was carried into, so that it is not repeated when carried again.
var fromRe = regexp.MustCompile(`\s*\(from \[[^\]]*\]\([^)]*\)\)\s*$`)

// dateRe finds a date in a title.
var dateRe = regexp.MustCompile(`\s*[-–—:,·]?\s*\d{4}-\d{2}-\d{2}`)

// seriesName is a note's series: its own, else its title without a date.
func seriesName(n scribe.Note) string {
	if n.Series != "" {
		return n.Series
	}
	return strings.TrimSpace(dateRe.ReplaceAllString(n.Title, ""))
}

// carriedItem is an open item of the previous meeting.
type carriedItem struct {
	line   int
	source string // its line in the previous note
	rest   string // the line after its box: "@ana fix the build due 2026-12-10"
}

// openItems returns the unticked, not yet carried task items of text.
func openItems(text string) []carriedItem {
	lines := strings.Split(text, "\n")
	var out []carriedItem
	for _, a := range export.Extract(text).ActionItems {
		if !a.Task || a.Done || a.Line < 1 || a.Line > len(lines) {
			continue
		}
		src := strings.TrimSuffix(lines[a.Line-1], "\r")
		if strings.Contains(strings.ToLower(src), search.CarriedMarker) {
			continue
		}
		task, _ := search.TaskState(src)
		if !task {
			continue
		}
		_, rest, _ := strings.Cut(src, "]")
		rest = fromRe.ReplaceAllString(rest, "")
		out = append(out, carriedItem{line: a.Line, source: src, rest: strings.TrimSpace(rest)})
	}
	return out
}

// handleNextMeeting is POST /api/notes/{id}/next: the "edit" right on the
// previous note and "create".
func (s *Server) handleNextMeeting(w http.ResponseWriter, r *http.Request) {
	prev, err := s.note(r, scribe.ActEdit)
	if err == nil {
		err = s.may(r, scribe.ActCreate)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.limit(w, r, s.createLimit) {
		return
	}
	d, err := s.store.LoadNote(r.Context(), prev.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	series := seriesName(prev)
	if series == "" {
		series = "Meeting"
	}
	today := s.today()
	prevDate := prev.CreatedAt.In(s.loc).Format(time.DateOnly)
	title := series + " " + today
	if dateRe.MatchString(prev.Title) {
		title = strings.Replace(prev.Title, prevDate, today, 1)
		if title == prev.Title {
			title = series + " " + today
		}
	}
	items := openItems(d.Text)
	var more string
	if len(items) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "## Open action items from %s\n\n", prevDate)
		for _, it := range items {
			fmt.Fprintf(&b, "- [ ] %s (from [%s](/n/%s#L%d))\n", it.rest, prevDate, prev.ID, it.line)
		}
		more = b.String()
	}
	n, err := s.createNote(r.Context(), createNoteRequest{Title: title, Template: prev.Template, Series: series}, more)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if prev.Series == "" {
		if _, err := s.store.UpdateNote(r.Context(), prev.ID, scribe.NoteUpdate{Series: &series}); err != nil {
			s.log.Error("next meeting: series of the previous note", "err", err)
		}
	}
	marked := 0
	if len(items) > 0 {
		marked, err = s.markCarried(r, prev.ID, items, fmt.Sprintf(" (%s [%s](/n/%s))", search.CarriedMarker, today, n.ID))
		if err != nil {
			// The new note stands: its items are there; the old ones
			// simply stay open (and listed twice) until ticked.
			s.log.Error("next meeting: mark carried items", "err", err)
		}
	}
	w.Header().Set("Location", "/api/notes/"+string(n.ID))
	out := s.noteJSON(r, n)
	writeJSON(w, http.StatusCreated, map[string]any{"note": out, "carried": len(items), "marked": marked})
}

// markCarried appends mark to each carried item's line in the previous
// note, with one edit at the head (items found by their text, as a tick
// finds them; one changed meanwhile is left as it is), and returns how
// many it marked.
func (s *Server) markCarried(r *http.Request, id scribe.NoteID, items []carriedItem, mark string) (int, error) {
	author, email, err := apiAuthor(r, "")
	if err != nil {
		return 0, err
	}
	marked := 0
	ctx, cancel := context.WithTimeout(r.Context(), appendWait)
	defer cancel()
	_, err = s.rooms.Rewrite(ctx, id, room.Rewrite{
		Session: scribe.APISession(randomString(22)), Author: author, Email: email,
		Edit: func(text string) (string, error) {
			lines := strings.Split(text, "\n")
			marked = 0
			for _, it := range items {
				at := -1
				for i, l := range lines {
					if l == it.source && (at < 0 || abs(i+1-it.line) < abs(at+1-it.line)) {
						at = i
					}
				}
				if at >= 0 {
					lines[at] += mark
					marked++
				}
			}
			return strings.Join(lines, "\n"), nil
		},
	})
	return marked, err
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
