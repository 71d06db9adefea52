package web

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/scribe-notes/scribe"
)

//go:embed templates/*.md
var builtinFS embed.FS

// builtinOrder is the order the built-in templates are listed in: the blank
// note first, then the kinds of meeting by how often teams hold them.
var builtinOrder = []string{"blank", "meeting", "standup", "retrospective"}

// DefaultTemplate is the template used when a note is created without one.
const DefaultTemplate = "blank"

// MaxTemplateBytes bounds one template file, so a stray large file in the
// operator's folder cannot bloat every note created from it.
const MaxTemplateBytes = 64 << 10

// maxTitleRunes bounds the title substituted into a template.
const maxTitleRunes = 200

// TemplateInfo describes a template for the home page and GET /api/templates.
type TemplateInfo struct {
	Name        string `json:"name"`        // the file name without .md: "meeting"
	Label       string `json:"label"`       // what a person reads: "Meeting"
	Description string `json:"description"` // one sentence, may be empty
}

// noteTemplate is one parsed template: its info and its body without the front matter.
type noteTemplate struct {
	info TemplateInfo
	body string
}

// Templates is the set of note templates: the built-in defaults, overridden
// and extended by the operator's markdown files. It is immutable after
// LoadTemplates and safe for concurrent use.
type Templates struct {
	byName map[string]noteTemplate
	order  []string
}

// LoadTemplates returns the built-in templates (embedded from web/templates/)
// plus every *.md file directly in dir ("" means built-ins only). An
// operator's file named like a built-in ("meeting.md") replaces it.
//
// A template is markdown with optional YAML front matter giving its label
// and description:
//
//	---
//	label: Design review
//	description: Context, proposal, risks and the decision.
//	---
//	# {{title}}
//
// The placeholders {{title}}, {{date}}, {{time}} and {{timezone}} are
// replaced by plain text; nothing else in a template is interpreted, so an
// operator's template cannot run code or read files.
//
// A file name must be letters, digits, '-' or '_' followed by ".md", and a
// file must be valid UTF-8 of at most MaxTemplateBytes; otherwise
// LoadTemplates fails with an EINVALID error naming the file, so the operator
// learns of the mistake at startup rather than from a missing template.
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{byName: make(map[string]noteTemplate)}
	for _, name := range builtinOrder {
		b, err := builtinFS.ReadFile("templates/" + name + ".md")
		if err != nil {
			return nil, fmt.Errorf("load built-in template %s: %w", name, err)
		}
		tpl, err := parseTemplate(name, b)
		if err != nil {
			return nil, fmt.Errorf("load built-in template %s: %w", name, err)
		}
		t.byName[name] = tpl
		t.order = append(t.order, name)
	}
	if dir == "" {
		return t, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load templates: %w", err)
	}
	var added []string
	for _, e := range entries {
		file := e.Name()
		if !strings.HasSuffix(file, ".md") || strings.HasPrefix(file, ".") {
			continue
		}
		path := filepath.Join(dir, file)
		fi, err := os.Stat(path) // follows a symlink the operator placed on purpose
		if err != nil {
			return nil, fmt.Errorf("load template %s: %w", path, err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		name := strings.TrimSuffix(file, ".md")
		if !scribe.URLSafe(name, 1, 64) {
			return nil, scribe.Errorf(scribe.EINVALID, "template %s: the name must be 1-64 letters, digits, '-' or '_' followed by .md", path)
		}
		if fi.Size() > MaxTemplateBytes {
			return nil, scribe.Errorf(scribe.EINVALID, "template %s: %d bytes is more than the limit of %d", path, fi.Size(), MaxTemplateBytes)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("load template %s: %w", path, err)
		}
		tpl, err := parseTemplate(name, b)
		if err != nil {
			return nil, fmt.Errorf("load template %s: %w", path, err)
		}
		if _, builtin := t.byName[name]; !builtin {
			added = append(added, name)
		}
		t.byName[name] = tpl
	}
	sort.Strings(added)
	t.order = append(t.order, added...)
	return t, nil
}

// List returns every template: the built-ins first in their usual order,
// then the operator's additions sorted by name.
func (t *Templates) List() []TemplateInfo {
	out := make([]TemplateInfo, 0, len(t.order))
	for _, name := range t.order {
		out = append(out, t.byName[name].info)
	}
	return out
}

// Has reports whether a template with that name exists.
func (t *Templates) Has(name string) bool {
	_, ok := t.byName[name]
	return ok
}

// Body returns the named template's markdown ("" means DefaultTemplate)
// with its placeholders as they are, or "" for an unknown name. Export uses
// it to refuse a note that is still its template.
func (t *Templates) Body(name string) string {
	if name == "" {
		name = DefaultTemplate
	}
	return t.byName[name].body
}

// Fill returns the text of a new note made from the named template ("" means
// DefaultTemplate): {{title}} becomes title (trimmed, one line, at most 200
// characters; the template's label when empty), {{date}} the date in loc as
// 2006-01-02, {{time}} the time in loc as 15:04, and {{timezone}} loc's name
// (UTC when loc is nil). Any other text, including other {{...}}, is kept as
// it is. An unknown name gives an ENOTFOUND error.
func (t *Templates) Fill(name, title string, now time.Time, loc *time.Location) (string, error) {
	if name == "" {
		name = DefaultTemplate
	}
	tpl, ok := t.byName[name]
	if !ok {
		return "", scribe.Errorf(scribe.ENOTFOUND, "There is no template named %q.", name)
	}
	if loc == nil {
		loc = time.UTC
	}
	title = CleanTitle(title)
	if title == "" {
		title = tpl.info.Label
	}
	now = now.In(loc)
	r := strings.NewReplacer(
		"{{title}}", title,
		"{{date}}", now.Format("2006-01-02"),
		"{{time}}", now.Format("15:04"),
		"{{timezone}}", loc.String(),
	)
	return r.Replace(tpl.body), nil
}

// CleanTitle makes a title safe to put on one line of markdown and in a page
// title: scribe.CleanText with the 200-character title limit (control and
// format characters and invalid UTF-8 dropped, whitespace runs, newlines
// included, collapsed to one space, trimmed).
func CleanTitle(s string) string { return scribe.CleanText(s, maxTitleRunes) }

// frontMatter is what a template's front matter may say. Other keys are
// ignored, so a template written for another tool still loads.
type frontMatter struct {
	Label       string `yaml:"label"`
	Description string `yaml:"description"`
}

// parseTemplate splits optional YAML front matter (between two "---" lines
// at the very start) from the body and reads it with gopkg.in/yaml.v3, so
// quoting, escapes and comments mean what they mean in YAML:
// `label: "Design review"` is the label Design review. Front matter that is
// not a YAML mapping is an EINVALID error naming the template's file.
func parseTemplate(name string, b []byte) (noteTemplate, error) {
	file := name + ".md"
	if !utf8.Valid(b) {
		return noteTemplate{}, scribe.Errorf(scribe.EINVALID, "template %s is not valid UTF-8", name)
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	text := strings.TrimPrefix(string(b), "\ufeff")
	info := TemplateInfo{Name: name, Label: defaultLabel(name)}
	if rest, ok := strings.CutPrefix(text, "---\n"); ok {
		// The leading newline lets empty front matter close on the next
		// line, and makes YAML's line numbers the file's line numbers.
		front, body, ok := strings.Cut("\n"+rest, "\n---\n")
		if ok {
			var fm frontMatter
			if err := yaml.Unmarshal([]byte(front), &fm); err != nil {
				return noteTemplate{}, scribe.Errorf(scribe.EINVALID, "template %s: the front matter between the --- lines is not valid YAML (%v)", file, err)
			}
			if label := CleanTitle(fm.Label); label != "" {
				info.Label = label
			}
			info.Description = CleanTitle(fm.Description)
			text = body
		}
	}
	return noteTemplate{info: info, body: text}, nil
}

// defaultLabel turns a file name into a label: "design-review" -> "Design review".
func defaultLabel(name string) string {
	s := strings.NewReplacer("-", " ", "_", " ").Replace(name)
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[size:]
}

// builtinTemplates lists the embedded template files, for tests.
func builtinTemplates() ([]string, error) {
	return fs.Glob(builtinFS, "templates/*.md")
}
