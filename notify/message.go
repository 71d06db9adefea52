package notify

import (
	"fmt"
	"strings"

	"github.com/scribe-notes/scribe"
)

// Body is a Slack incoming-webhook message: Text is the whole message in
// mrkdwn (the notification text, and all that Mattermost and Rocket.Chat
// show); Blocks lay it out in Slack.
type Body struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

// Block is a Slack layout block (header, section or context).
type Block struct {
	Type     string  `json:"type"`
	Text     *Text   `json:"text,omitempty"`
	Elements []*Text `json:"elements,omitempty"`
}

// Text is a Slack text object.
type Text struct {
	Type string `json:"type"` // plain_text or mrkdwn
	Text string `json:"text"`
}

// maxItems bounds the decisions and action items listed in one message;
// the rest are counted ("and 3 more").
const maxItems = 20

// Message builds the webhook body for an export. commitURL, when set, has
// "{sha}" replaced by the commit's hash to link it.
func Message(ev scribe.ExportEvent, commitURL string) Body {
	title := scribe.CleanText(ev.Title, 100) // a Slack header holds 150 characters
	heading := fmt.Sprintf("%s (%s)", title, ev.Date)

	var decisions []string
	for _, d := range ev.Decisions {
		decisions = append(decisions, esc(d))
	}
	var open []string
	for _, a := range ev.ActionItems {
		if a.Done {
			continue
		}
		line := esc(a.Text)
		var extra []string
		if a.Owner != "" && !strings.Contains(strings.ToLower(a.Text), "@"+strings.ToLower(a.Owner)) {
			extra = append(extra, "@"+esc(a.Owner))
		}
		if a.Due != "" {
			extra = append(extra, "due "+a.Due)
		}
		if len(extra) > 0 {
			line += " (" + strings.Join(extra, ", ") + ")"
		}
		open = append(open, line)
	}

	short := ev.Commit
	if len(short) > 12 {
		short = short[:12]
	}
	commit := "`" + short + "`"
	if link := scribe.CommitLink(commitURL, ev.Commit); link != "" {
		commit = "<" + esc(link) + "|" + short + ">"
	}
	var links []string
	links = append(links, "Exported by "+esc(ev.By)+" in commit "+commit)
	if ev.URL != "" {
		links = append(links, "<"+esc(ev.URL)+"|Read-only note>")
	}
	footer := strings.Join(links, " · ")

	decisionsText := "*Decisions*\n" + bullets(decisions, "No decisions recorded.")
	actionsText := "*Open action items*\n" + bullets(open, "No open action items.")

	return Body{
		Text: "*Meeting notes: " + esc(heading) + "*\n" + decisionsText + "\n" + actionsText + "\n" + footer,
		Blocks: []Block{
			{Type: "header", Text: &Text{Type: "plain_text", Text: "Meeting notes: " + heading}},
			{Type: "section", Text: &Text{Type: "mrkdwn", Text: decisionsText}},
			{Type: "section", Text: &Text{Type: "mrkdwn", Text: actionsText}},
			{Type: "context", Elements: []*Text{{Type: "mrkdwn", Text: footer}}},
		},
	}
}

func bullets(items []string, none string) string {
	if len(items) == 0 {
		return "_" + none + "_"
	}
	var b strings.Builder
	for i, it := range items {
		if i == maxItems {
			fmt.Fprintf(&b, "…and %d more\n", len(items)-maxItems)
			break
		}
		b.WriteString("• " + it + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// esc escapes the three characters Slack's mrkdwn reserves, so a note's
// text cannot make links or mentions (<!channel>).
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(scribe.CleanText(s, 500))
}
