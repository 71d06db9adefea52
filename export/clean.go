package export

import (
	"regexp"
	"strings"
)

var (
	// emptyItemRe matches a list item a template left for someone to fill
	// in and nobody did: "- ", "* ", "1. ", "2) ", "- [ ] ", with or without
	// trailing spaces.
	emptyItemRe = regexp.MustCompile(`^\s*(?:[-*+]|\d{1,9}[.)])(?:\s+\[[ xX]?\])?\s*$`)
	// fenceRe matches the line that opens or closes a fenced code block.
	fenceRe = regexp.MustCompile("^\\s{0,3}(```+|~~~+)")
	// headingRe matches an ATX heading line.
	headingRe = regexp.MustCompile(`^\s{0,3}#{1,6}(?:\s|$)`)
	// ruleRe matches a thematic break or a setext underline.
	ruleRe = regexp.MustCompile(`^\s{0,3}(?:(?:[-*_]\s*){3,}|=+|-+)$`)
)

// cleanBody returns the note's markdown as it goes into the exported file:
// the list items a template left empty ("1. ", "- ", "- [ ] ") are left
// out, no line ends in whitespace, and runs of blank lines become one.
// A hard line break written as two trailing spaces becomes a trailing
// backslash, CommonMark's other spelling of it, so the file renders as the
// note does. Inside fenced code only trailing whitespace is removed.
func cleanBody(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	out := make([]string, 0, len(lines))
	var fence string // the open fence's marker, "" outside code
	blank := false
	for i, line := range lines {
		trimmed := strings.TrimRight(line, " \t")
		if fence != "" {
			if m := fenceRe.FindStringSubmatch(trimmed); m != nil && m[1][0] == fence[0] && len(m[1]) >= len(fence) && strings.TrimSpace(trimmed[len(m[0]):]) == "" {
				fence = ""
			}
			out = append(out, trimmed)
			continue
		}
		if m := fenceRe.FindStringSubmatch(trimmed); m != nil {
			fence = m[1]
			out = append(out, trimmed)
			blank = false
			continue
		}
		if emptyItemRe.MatchString(trimmed) {
			continue
		}
		if trimmed == "" {
			if blank || len(out) == 0 {
				continue
			}
			blank = true
			out = append(out, "")
			continue
		}
		blank = false
		if strings.HasSuffix(line, "  ") && strings.TrimSpace(trimmed) != "" && i+1 < len(lines) &&
			strings.TrimSpace(lines[i+1]) != "" && !headingRe.MatchString(trimmed) {
			trimmed += "\\"
		}
		out = append(out, trimmed)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// isEmptyNote reports whether a note's markdown holds nothing worth a
// commit: only headings, rules, empty list items and whitespace. A note
// made from the Blank template and never written in is one.
func isEmptyNote(text string) bool {
	for _, line := range strings.Split(cleanBody(text), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || headingRe.MatchString(t) || ruleRe.MatchString(t) {
			continue
		}
		return false
	}
	return true
}

// placeholderRe matches a template placeholder after regexp.QuoteMeta.
var placeholderRe = regexp.MustCompile(`\\\{\\\{(?:title|date|time|timezone)\\\}\\\}`)

// matchesTemplate reports whether text is still the template it was made
// from: equal to tpl once both are cleaned, with each placeholder
// ({{title}}, {{date}}, {{time}}, {{timezone}}) standing for any text on
// its line. An empty tpl matches nothing.
func matchesTemplate(text, tpl string) bool {
	tpl = strings.TrimSpace(cleanBody(tpl))
	if tpl == "" {
		return false
	}
	pattern := placeholderRe.ReplaceAllString(regexp.QuoteMeta(tpl), `[^\n]*`)
	re, err := regexp.Compile(`^` + pattern + `$`)
	if err != nil {
		return false
	}
	return re.MatchString(strings.TrimSpace(cleanBody(text)))
}
