package room

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
)

// Titles follow the heading. A note's title follows its first level-1
// heading ("# Weekly sync") while the title equals that heading (or is
// empty): when a commit changes the heading, the room that committed it
// stores the new title (Store.UpdateNote, which the search index hears
// through the change feed), sends its members a title message, and tells
// the other nodes, which send theirs. A title set to anything else (PATCH
// /api/notes/{id}) no longer equals the heading, so it stays until it is
// set back to the heading's text. A heading emptied while being retyped
// ("# ") changes nothing: the title follows the next non-empty heading.
//
// Cost: only the first headScan UTF-16 units of the text are read, and
// only after an op that changes something inside them, so typing further
// down a 1 MB note costs nothing here. A heading that starts beyond them
// is not seen.

// headScan is how much of a note's beginning is searched for its heading.
const headScan = 4096

// nodeMsg kinds for titles.
const (
	kindTitle  = "title"  // a room followed the heading: other nodes adopt the title
	kindRename = "rename" // a title was set explicitly: every room, this node's too, adopts it
)

// touchesHead reports whether op changes anything in the first headScan
// units of the document it applies to.
func touchesHead(op ot.Operation) bool {
	// An op that starts with an insert or a delete has Retain 0 first.
	return !op.IsNoop() && op.Components()[0].Retain < headScan
}

// headingOf returns the text of the first level-1 ATX heading in the
// document's first headScan units, cleaned to a valid title, or "".
func headingOf(doc *ot.Document) string {
	n := min(doc.Len(), headScan)
	head, err := doc.Slice(0, n)
	if err != nil && n > 0 {
		head, err = doc.Slice(0, n-1) // n split a surrogate pair
	}
	if err != nil {
		return ""
	}
	if n < doc.Len() {
		// The last line may be cut short: leave it out.
		i := strings.LastIndexByte(head, '\n')
		head = head[:max(i, 0)]
	}
	return Heading(head)
}

// Heading returns the cleaned text of the first level-1 ATX heading of
// markdown text ("# Title", up to three spaces before it, a closing
// sequence of #s dropped, fenced code skipped), or "" if there is none.
func Heading(text string) string {
	fence := ""
	for len(text) > 0 {
		line, rest, _ := strings.Cut(text, "\n")
		text = rest
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimLeft(line, " ")
		if len(line)-len(trimmed) > 3 {
			continue
		}
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		if !strings.HasPrefix(trimmed, "#") {
			continue
		}
		body := trimmed[1:]
		if body != "" && body[0] != ' ' && body[0] != '\t' {
			continue // "#tag" or "##": not a level-1 heading
		}
		body = strings.TrimSpace(body)
		// A closing sequence: "# Title ##".
		if t := strings.TrimRight(body, "#"); t != body && (t == "" || strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\t")) {
			body = strings.TrimSpace(t)
		}
		return cleanTitle(body)
	}
	return ""
}

// cleanTitle makes s a valid title (scribe.NoteUpdate.Validate): control
// characters become spaces, runs of spaces one, and it is cut to
// scribe.MaxTitle bytes at a character boundary.
func cleanTitle(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if len(s) > scribe.MaxTitle {
		cut := scribe.MaxTitle
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut])
	}
	return s
}

// followHeading runs after ops that touched the note's beginning were
// applied: it notes the heading, and, when ours (this room committed the
// ops) and the title followed the old heading, makes the new heading the
// title: at once for the members here and on other nodes (title
// messages), and in the store at most once per Timing.TitleSave
// (saveTitle), so typing in the heading costs one UpdateNote a second,
// not one a keystroke.
func (rm *Room) followHeading(ours bool) {
	h := headingOf(rm.doc)
	if h == "" || h == rm.heading {
		return
	}
	old := rm.heading
	rm.heading = h
	if !ours || rm.title == h || (rm.title != old && rm.title != "") {
		return
	}
	rm.adoptTitle(h)
	rm.titleDue = true
	rm.pub.send(nodeMsg{Kind: kindTitle, Title: h})
}

// saveTitle stores the title that followed the heading, if it has not been
// stored yet. The room's loop calls it Timing.TitleSave after the first
// change it has not stored, and once more as the room closes, so the last
// title typed is always the one stored. A store that fails keeps it due:
// the next tick tries again.
func (rm *Room) saveTitle() {
	if !rm.titleDue {
		return
	}
	t := rm.title
	if _, err := rm.cfg.Store.UpdateNote(rm.ctx, rm.id, scribe.NoteUpdate{Title: &t}); err != nil {
		if code := scribe.ErrorCode(err); code == scribe.ENOTFOUND || code == scribe.EINVALID {
			rm.titleDue = false // nothing to store it in, or nothing to store
		}
		rm.cfg.Logger.Warn("store the title", "note", rm.ref, "err", err)
		return
	}
	rm.titleDue = false
}

// trustStoredTitle reports whether the store's title may replace the
// room's (verify): not while the room has a title to store, nor shortly
// after another node's room sent one it may not have stored yet.
func (rm *Room) trustStoredTitle() bool {
	return !rm.titleDue && time.Since(rm.titleHeard) > 2*rm.cfg.Timing.TitleSave
}

// adoptTitle makes t the room's title and tells its members, if it is new.
func (rm *Room) adoptTitle(t string) {
	if t == rm.title {
		return
	}
	rm.title = t
	rm.broadcast(protocol.EncodeTitle(t), nil)
}

// adoptPeerTitle adopts a title another room (or the API) sent, unless it
// is not a valid title.
func (rm *Room) adoptPeerTitle(t string) {
	if (scribe.NoteUpdate{Title: &t}).Validate() == nil {
		rm.adoptTitle(t)
	}
}

// Retitle tells every node's room of the note that its title was set to t
// explicitly (the caller has stored it with Store.UpdateNote): their
// members see it at once. Should the message be lost, rooms read the
// title again with their periodic check.
func (h *Hub) Retitle(ctx context.Context, id scribe.NoteID, t string) error {
	msg, _ := json.Marshal(nodeMsg{V: 1, Node: h.cfg.NodeID, Kind: kindRename, Title: t})
	return h.cfg.Store.Publish(ctx, id, msg)
}
