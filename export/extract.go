package export

import (
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/markdown"
)

// Summary is what Extract finds in a note: the parts of a meeting that a
// reader of the repository looks for first.
type Summary struct {
	// Title is the plain text of the first level-1 heading, or "" if the
	// note has none.
	Title string
	// Attendees are the names listed under an "Attendees" heading (or an
	// "Attendees:" paragraph), in order, without duplicates, with a leading
	// "@" and a trailing "(role)" removed.
	Attendees []string
	// Decisions are the list items (at any depth) and paragraphs under a
	// "Decisions" heading or after a "Decisions:" paragraph, in order.
	Decisions []string
	// ActionItems are every task-list item in the note ("- [ ] ..."), plus the
	// plain list items under an "Action items" heading, in order.
	ActionItems []ActionItem
}

// ActionItem is one thing someone agreed to do.
type ActionItem struct {
	// Text is the item's plain text without its due date and without the
	// @owner mentions at its end.
	Text string `yaml:"text"`
	// Owner is the first @mention in the item, without the "@"; "" if none.
	Owner string `yaml:"owner,omitempty"`
	// Due is the item's due date, YYYY-MM-DD, written as "due 2026-12-01",
	// "due: 2026-12-01", "by 2026-12-01" or "📅 2026-12-01"; "" if none.
	Due string `yaml:"due,omitempty"`
	// Done reports whether the task box is checked.
	Done bool `yaml:"done"`
	// Task reports that the item is a task-list item ("- [ ] ..."), which
	// can be ticked; a plain list item under an "Action items" heading is
	// not.
	Task bool `yaml:"-"`
	// Line is the 1-based line of the note on which the item starts.
	Line int `yaml:"-"`
}

// section is the kind of content Extract is collecting.
type section int

const (
	sectionOther section = iota
	sectionAttendees
	sectionDecisions
	sectionActions
)

// sectionNames maps a normalised heading or label ("action items") to the
// section it opens.
var sectionNames = map[string]section{
	"attendees":      sectionAttendees,
	"attendee":       sectionAttendees,
	"attendance":     sectionAttendees,
	"participants":   sectionAttendees,
	"present":        sectionAttendees,
	"decisions":      sectionDecisions,
	"decision":       sectionDecisions,
	"decisions made": sectionDecisions,
	"key decisions":  sectionDecisions,
	"decided":        sectionDecisions,
	"action items":   sectionActions,
	"action item":    sectionActions,
	"action points":  sectionActions,
	"actions":        sectionActions,
	"next steps":     sectionActions,
	"todo":           sectionActions,
	"todos":          sectionActions,
	"to do":          sectionActions,
	"to-do":          sectionActions,
	"tasks":          sectionActions,
}

// Extract parses a note's markdown and returns its title, attendees,
// decisions and action items. It never fails: text that fits no pattern is
// simply not extracted.
//
// Sections: a heading whose text is one of the known names (case-insensitive,
// ignoring a trailing colon and leading emoji or punctuation: "## Attendees",
// "### 👥 Participants:", "# DECISIONS") opens a section that lasts until the
// next heading of the same or a higher level. A paragraph that is just a
// label ("Attendees:") opens a section for the list right after it; a label
// followed by text ("Attendees: Ada, Bob and Carol") lists names inline.
//
// The note is parsed within markdown.DefaultLimits' size limits: a note past
// them (a huge table, thousands of unclosed links or nested quotes, a parse
// slower than extractTimeout) yields an empty Summary, and the export is
// written with the note's own title and no extracted sections. A busy node
// is not such a case: export has its own parser slot and waits for it, so
// the pages' renders never cost an export its decisions.
func Extract(md string) Summary {
	source := []byte(md)
	doc, err := extractParser.Parse(source) // the renderers' own parser, bounded
	if err != nil {
		return Summary{}
	}
	x := extractor{source: source, seenAttendee: map[string]bool{}}
	x.walk(doc)
	return x.sum
}

// extractParser is export's own bounded parser: one export parses at a time
// (exports of one repository are serialised anyway), waiting as long as an
// export may take for the slot, with a longer time budget than a page view.
var extractParser = markdown.NewRenderer(markdown.Options{
	Limits:      extractLimits(),
	Concurrency: 1,
	Wait:        extractTimeout,
})

// extractTimeout bounds one parse for export, and the wait for its slot.
const extractTimeout = 10 * time.Second

func extractLimits() markdown.Limits {
	l := markdown.DefaultLimits
	l.Timeout = extractTimeout
	return l
}

type extractor struct {
	source       []byte
	lineStarts   []int // byte offset of each line's start, made on first use
	sum          Summary
	seenAttendee map[string]bool

	// The section opened by the last heading, and that heading's level.
	headingSection section
	headingLevel   int
	// The section opened by a label paragraph ("Decisions:"); it applies to
	// the next block only.
	labelSection section
}

func (x *extractor) walk(doc ast.Node) {
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		x.block(n)
	}
}

// block handles one top-level block.
func (x *extractor) block(n ast.Node) {
	label := x.labelSection
	x.labelSection = sectionOther
	current := x.headingSection
	if label != sectionOther {
		current = label
	}

	switch n := n.(type) {
	case *ast.Heading:
		t := plainText(n, x.source)
		if n.Level == 1 && x.sum.Title == "" && t != "" {
			x.sum.Title = t
		}
		s := sectionNames[normaliseLabel(t)]
		if s != sectionOther {
			x.headingSection, x.headingLevel = s, n.Level
		} else if x.headingSection != sectionOther && n.Level <= x.headingLevel {
			x.headingSection, x.headingLevel = sectionOther, 0
		}
		return
	case *ast.Paragraph:
		t := plainText(n, x.source)
		if name, rest, ok := strings.Cut(t, ":"); ok {
			if s := sectionNames[normaliseLabel(name)]; s != sectionOther {
				rest = strings.TrimSpace(rest)
				if rest == "" {
					x.labelSection = s
					return
				}
				x.paragraph(s, rest)
				return
			}
		}
		x.paragraph(current, t)
		return
	case *ast.List:
		x.list(n, current)
		return
	}
	// Block quotes, tables and the like: still look for task items inside.
	x.tasksIn(n)
}

// paragraph handles a paragraph's text inside section s.
func (x *extractor) paragraph(s section, t string) {
	switch s {
	case sectionAttendees:
		for _, name := range splitNames(t) {
			x.attendee(name)
		}
	case sectionDecisions:
		if t != "" {
			x.sum.Decisions = append(x.sum.Decisions, t)
		}
	}
}

// list handles a list and its nested lists inside section s.
func (x *extractor) list(l *ast.List, s section) {
	for it := l.FirstChild(); it != nil; it = it.NextSibling() {
		item, ok := it.(*ast.ListItem)
		if !ok {
			continue
		}
		var own string // the item's own text (its first text block)
		var line int   // the line it starts on
		var checkbox *east.TaskCheckBox
		var nested []*ast.List
		for c := item.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.TextBlock, *ast.Paragraph:
				if own == "" {
					own = plainText(c, x.source)
					if c.Lines().Len() > 0 {
						line = x.lineOf(c.Lines().At(0).Start)
					}
					if cb, ok := c.FirstChild().(*east.TaskCheckBox); ok {
						checkbox = cb
					}
				}
			case *ast.List:
				nested = append(nested, c)
			default:
				x.tasksIn(c)
			}
		}
		switch {
		case checkbox != nil:
			x.action(own, line, checkbox.IsChecked, true)
		case s == sectionAttendees:
			// An item with a nested list is a group label ("Team A:"), not a person.
			if len(nested) == 0 {
				for _, name := range splitNames(own) {
					x.attendee(name)
				}
			}
		case s == sectionDecisions:
			if own != "" {
				x.sum.Decisions = append(x.sum.Decisions, own)
			}
		case s == sectionActions:
			if own != "" {
				x.action(own, line, false, false)
			}
		}
		for _, l := range nested {
			x.list(l, s)
		}
	}
}

// tasksIn collects the task-list items anywhere below n (block quotes,
// list items' other blocks), outside of any section.
func (x *extractor) tasksIn(n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if l, ok := c.(*ast.List); ok {
			x.list(l, sectionOther)
			continue
		}
		if c.Type() == ast.TypeBlock {
			x.tasksIn(c)
		}
	}
}

// lineOf returns the 1-based line of the byte at offset.
func (x *extractor) lineOf(offset int) int {
	if x.lineStarts == nil {
		x.lineStarts = []int{0}
		for i, c := range x.source {
			if c == '\n' {
				x.lineStarts = append(x.lineStarts, i+1)
			}
		}
	}
	return sort.SearchInts(x.lineStarts, offset+1)
}

func (x *extractor) attendee(name string) {
	name = strings.TrimSpace(name)
	name = strings.TrimPrefix(name, "@")
	if i := strings.LastIndex(name, " ("); i > 0 && strings.HasSuffix(name, ")") {
		name = name[:i]
	}
	name = strings.TrimSpace(strings.TrimRight(name, ".,;"))
	if name == "" {
		return
	}
	key := strings.ToLower(name)
	if x.seenAttendee[key] {
		return
	}
	x.seenAttendee[key] = true
	x.sum.Attendees = append(x.sum.Attendees, name)
}

func (x *extractor) action(t string, line int, done, task bool) {
	a := parseAction(t)
	if a.Text == "" && a.Owner == "" {
		return
	}
	a.Done, a.Task, a.Line = done, task, line
	x.sum.ActionItems = append(x.sum.ActionItems, a)
}

var (
	// dueRe matches a due date written in one of the accepted forms, with
	// optional parentheses around it.
	dueRe = regexp.MustCompile(`(?i)\(?\s*(?:\bdue(?:\s+on|\s+by)?\s*:?|\bby|📅|🗓️?)\s*(\d{4}-\d{2}-\d{2})\b\s*\)?`)
	// mentionRe matches an @mention that is not part of an email address.
	mentionRe = regexp.MustCompile(`(?:^|[\s(\[,;])@([\p{L}\p{N}_][\p{L}\p{N}_.\-]*)`)
	// trailingMentionsRe matches the @mentions (and separators) ending a text.
	trailingMentionsRe = regexp.MustCompile(`(?:[\s,;:(\[\-–—]*@[\p{L}\p{N}_][\p{L}\p{N}_.\-]*[)\]]?)+\s*$`)
)

// parseAction splits an action item's text into the task, its owner and its
// due date.
func parseAction(t string) ActionItem {
	var a ActionItem
	if m := mentionRe.FindStringSubmatch(t); m != nil {
		a.Owner = strings.TrimRight(m[1], ".-")
	}
	if m := dueRe.FindStringSubmatchIndex(t); m != nil {
		d := t[m[2]:m[3]]
		if _, err := time.Parse(time.DateOnly, d); err == nil {
			a.Due = d
			t = t[:m[0]] + " " + t[m[1]:]
		}
	}
	if a.Owner != "" {
		if rest := trailingMentionsRe.ReplaceAllString(t, ""); strings.TrimSpace(rest) != "" {
			t = rest
		}
	}
	t = strings.Join(strings.Fields(t), " ")
	a.Text = strings.TrimSpace(strings.TrimRight(t, " ,;:-–—"))
	return a
}

// splitNames splits "Ada, Bob and Carol" into names.
func splitNames(t string) []string {
	t = strings.ReplaceAll(t, " and ", ",")
	t = strings.ReplaceAll(t, " & ", ",")
	return strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == ';' })
}

// normaliseLabel turns a heading or label into the form sectionNames uses:
// lower case, single spaces, no trailing colon, no leading emoji, numbers or
// punctuation ("1. Decisions:" -> "decisions").
func normaliseLabel(t string) string {
	t = strings.TrimLeftFunc(t, func(r rune) bool { return !unicode.IsLetter(r) })
	t = strings.TrimRightFunc(t, func(r rune) bool { return !unicode.IsLetter(r) })
	return strings.ToLower(strings.Join(strings.Fields(t), " "))
}

// plainText returns the text of n's inline content without markup, on one
// line: emphasis, links and code spans give their text, line breaks give a
// space, raw HTML and struck-through text give nothing.
func plainText(n ast.Node, source []byte) string {
	var b strings.Builder
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				b.Write(c.Value(source))
				if c.SoftLineBreak() || c.HardLineBreak() {
					b.WriteByte(' ')
				}
			case *ast.String:
				b.Write(c.Value)
			case *ast.AutoLink:
				b.Write(c.Label(source))
			case *ast.RawHTML, *east.TaskCheckBox, *east.Strikethrough:
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return scribe.CleanText(b.String(), 0)
}
