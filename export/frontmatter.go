package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scribe-notes/scribe"
)

// frontMatter is the YAML block at the top of an exported file.
type frontMatter struct {
	Title       string
	Date        time.Time // the note's creation time, in the configured zone
	Attendees   []string
	Decisions   []string
	ActionItems []ActionItem
	URL         string // "" leaves the key out
	Revision    scribe.Revision
	Key         string // noteKey of the note
}

// storedFrontMatter is what export reads back from a file it wrote.
type storedFrontMatter struct {
	Key      string `yaml:"scribe_note"`
	Revision int64  `yaml:"revision"`
}

// noteKey identifies a note in the files export writes, so a later export
// of the same note finds its file. It is a hash of the note id, not the id:
// the id grants editing, and the key must identify the note even when the
// URL is left out of the front matter (Config.OmitURL) or the server's
// public URL changes.
func noteKey(id scribe.NoteID) string {
	sum := sha256.Sum256([]byte("scribe-note-export:" + string(id)))
	return hex.EncodeToString(sum[:16])
}

// renderFile returns the exported file: the front matter between "---"
// lines, then the note's markdown, ending in a newline.
//
// Every string is a double-quoted YAML scalar with escapes, so titles with
// quotes, colons, "---", newlines or control characters stay valid YAML and
// cannot add keys.
func renderFile(fm frontMatter, body string) ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, value *yaml.Node) {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, value)
	}
	add("title", quoted(fm.Title))
	// An unquoted RFC 3339 timestamp, which YAML, Jekyll and Hugo read as a
	// date with its offset.
	add("date", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!timestamp", Value: fm.Date.Format(time.RFC3339)})
	add("timezone", quoted(fm.Date.Location().String()))
	add("attendees", quotedList(fm.Attendees))
	add("decisions", quotedList(fm.Decisions))
	items := &yaml.Node{Kind: yaml.SequenceNode}
	if len(fm.ActionItems) == 0 {
		items.Style = yaml.FlowStyle
	}
	for _, a := range fm.ActionItems {
		m := &yaml.Node{Kind: yaml.MappingNode}
		kv := func(k string, v *yaml.Node) {
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v)
		}
		kv("text", quoted(a.Text))
		if a.Owner != "" {
			kv("owner", quoted(a.Owner))
		}
		if a.Due != "" {
			kv("due", quoted(a.Due))
		}
		kv("done", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(a.Done)})
		items.Content = append(items.Content, m)
	}
	add("action_items", items)
	if fm.URL != "" {
		add("url", quoted(fm.URL))
	}
	add("revision", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(int64(fm.Revision), 10)})
	add("scribe_note", quoted(fm.Key))

	var buf bytes.Buffer
	buf.WriteString("---\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode front matter: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode front matter: %w", err)
	}
	buf.WriteString("---\n\n")
	buf.WriteString(strings.TrimLeft(body, "\n"))
	if !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

func quoted(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: strings.ToValidUTF8(s, "\uFFFD")}
}

func quotedList(list []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	if len(list) == 0 {
		n.Style = yaml.FlowStyle // "[]"
	}
	for _, s := range list {
		n.Content = append(n.Content, quoted(s))
	}
	return n
}

// splitFrontMatter returns the YAML between the leading "---" line and the
// next "---" line, and whether there was such a block.
func splitFrontMatter(content []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(content, []byte("---\n"))
	if !ok {
		return nil, false
	}
	if bytes.HasPrefix(rest, []byte("---\n")) {
		return nil, true
	}
	i := bytes.Index(rest, []byte("\n---\n"))
	if i < 0 {
		return nil, false
	}
	return rest[:i+1], true
}

// readFrontMatter reads the fields export needs from a file's front matter.
// ok is false when the file has no front matter export can read.
func readFrontMatter(content []byte) (storedFrontMatter, bool) {
	var fm storedFrontMatter
	block, ok := splitFrontMatter(content)
	if !ok || !bytes.Contains(block, []byte("scribe_note")) {
		return fm, false
	}
	if err := yaml.Unmarshal(block, &fm); err != nil || fm.Key == "" {
		return storedFrontMatter{}, false
	}
	return fm, true
}
