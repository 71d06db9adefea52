package export

import (
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"gopkg.in/yaml.v3"
)

// IndexName is the decision log's file name in the export folder.
const IndexName = "README.md"

// indexEntry is what the decision log shows of one exported meeting.
type indexEntry struct {
	Path      string // relative to the export folder
	Title     string
	Date      string // YYYY-MM-DD
	Decisions []string
}

// indexFrontMatter is what the decision log reads from an exported file.
type indexFrontMatter struct {
	Key       string   `yaml:"scribe_note"`
	Title     string   `yaml:"title"`
	Date      string   `yaml:"date"`
	Decisions []string `yaml:"decisions"`
}

// withIndex returns the hash of a tree equal to the tree h with the export
// folder's decision log (<Dir>/README.md) rebuilt from the exported files
// in it. It is rebuilt from the tree, never appended to, so it is right
// whichever exports raced to make the tree: each export runs it under the
// repository lock on the tree it commits, and a rebase runs it again on
// the tree it replays onto. Parsed files are cached per blob.
func (r *repository) withIndex(s storer.EncodedObjectStorer, h plumbing.Hash) (plumbing.Hash, error) {
	tree, err := object.GetTree(s, h)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read tree: %w", err)
	}
	dir, err := tree.Tree(r.cfg.Dir)
	if err != nil {
		return h, nil // no export folder: nothing to index
	}
	var entries []indexEntry
	walker := object.NewTreeWalker(dir, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("walk export folder: %w", err)
		}
		if entry.Mode != filemode.Regular || !strings.HasSuffix(name, ".md") || name == IndexName {
			continue
		}
		ie, ok := r.index[entry.Hash]
		if !ok {
			content, err := readBlob(s, entry.Hash, maxFrontMatterBlob)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			ie = parseIndexEntry(content)
			r.index[entry.Hash] = ie
		}
		if ie.Date == "" {
			continue // not a Scribe export
		}
		ie.Path = name
		entries = append(entries, ie)
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].Date != entries[j].Date {
			return entries[i].Date > entries[j].Date
		}
		return entries[i].Path > entries[j].Path
	})
	blob, err := writeBlob(s, renderIndex(entries))
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return putPath(s, tree, r.cfg.Dir+"/"+IndexName, &object.TreeEntry{Mode: filemode.Regular, Hash: blob})
}

// parseIndexEntry reads an exported file's title, date and decisions; the
// Date is "" when the file is not a Scribe export.
func parseIndexEntry(content []byte) indexEntry {
	block, ok := splitFrontMatter(content)
	if !ok {
		return indexEntry{}
	}
	var fm indexFrontMatter
	if err := yaml.Unmarshal(block, &fm); err != nil || fm.Key == "" || len(fm.Date) < len("2006-01-02") {
		return indexEntry{}
	}
	return indexEntry{Title: fm.Title, Date: fm.Date[:len("2006-01-02")], Decisions: fm.Decisions}
}

// renderIndex writes the decision log: every exported meeting, newest
// first, with its title linking to its file and its decisions.
func renderIndex(entries []indexEntry) []byte {
	var b strings.Builder
	b.WriteString("# Meeting notes and decisions\n\n")
	b.WriteString("Every meeting exported from Scribe, newest first, with the decisions it recorded.\n")
	b.WriteString("Scribe rebuilds this file from the notes beside it on every export; edits to it are overwritten.\n")
	if len(entries) == 0 {
		b.WriteString("\nNo meetings have been exported yet.\n")
	}
	for _, e := range entries {
		title := e.Title
		if strings.TrimSpace(title) == "" {
			title = "Untitled notes"
		}
		fmt.Fprintf(&b, "\n## %s: [%s](%s)\n\n", e.Date, escapeMarkdown(oneLine(title)), linkPath(e.Path))
		if len(e.Decisions) == 0 {
			b.WriteString("No decisions recorded.\n")
			continue
		}
		for _, d := range e.Decisions {
			fmt.Fprintf(&b, "- %s\n", escapeMarkdown(oneLine(d)))
		}
	}
	return []byte(b.String())
}

// oneLine folds whitespace runs, line breaks included, into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// escapeMarkdown backslash-escapes the characters that would turn text into
// markup (links, emphasis, HTML, code) in the decision log.
func escapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>|~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// linkPath is a relative link to a file in the export folder, each
// segment escaped so spaces and parentheses cannot break the link.
func linkPath(p string) string {
	parts := strings.Split(path.Clean(p), "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
