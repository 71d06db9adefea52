package scribe_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

func TestURLSafe(t *testing.T) {
	tests := []struct {
		s        string
		min, max int
		want     bool
	}{
		{"", 0, 0, true},
		{"", 1, 10, false},
		{"abc", 3, 3, true},
		{"abc", 4, 10, false},   // too short
		{"abcd", 1, 3, false},   // too long
		{"aZ09-_", 1, 10, true}, // every allowed class
		{"a b", 1, 10, false},
		{"a.b", 1, 10, false},
		{"a/b", 1, 10, false},
		{"a+b", 1, 10, false}, // standard base64, not URL-safe
		{"a=", 1, 10, false},  // padding
		{"a%2F", 1, 10, false},
		{"é", 1, 10, false}, // non-ASCII, 2 bytes
		{"ab\x00", 1, 10, false},
		{"ab\n", 1, 10, false},
	}
	for _, tt := range tests {
		if got := scribe.URLSafe(tt.s, tt.min, tt.max); got != tt.want {
			t.Errorf("URLSafe(%q, %d, %d) = %v, want %v", tt.s, tt.min, tt.max, got, tt.want)
		}
	}
}

func TestNoteIDAndTokenValid(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"AAAAAAAAAAAAAAAAAAAAAA", true}, // 22 characters
		{"abcdefghij-_0123456789", true},
		{"AAAAAAAAAAAAAAAAAAAAA", false},   // 21
		{"AAAAAAAAAAAAAAAAAAAAAAA", false}, // 23
		{"", false},
		{"AAAAAAAAAAAAAAAAAAAAA=", false},
		{"AAAAAAAAAA/AAAAAAAAAAA", false},
		{"AAAAAAAAAA AAAAAAAAAAA", false},
		{"../../../../etc/passwd", false},
	}
	for _, tt := range tests {
		if got := scribe.NoteID(tt.s).Valid(); got != tt.want {
			t.Errorf("NoteID(%q).Valid() = %v, want %v", tt.s, got, tt.want)
		}
		if got := scribe.Token(tt.s).Valid(); got != tt.want {
			t.Errorf("Token(%q).Valid() = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestNewIDsAreValidAndDistinct(t *testing.T) {
	const n = 1000
	seen := make(map[string]bool, 2*n)
	for range n {
		id, tok := scribe.NewNoteID(), scribe.NewToken()
		if !id.Valid() {
			t.Fatalf("NewNoteID() = %q is not Valid", id)
		}
		if !tok.Valid() {
			t.Fatalf("NewToken() = %q is not Valid", tok)
		}
		for _, s := range []string{string(id), string(tok)} {
			if seen[s] {
				t.Fatalf("%q generated twice", s)
			}
			seen[s] = true
		}
	}
}

func TestValidSession(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{strings.Repeat("a", scribe.MinSessionLen-1), false},
		{strings.Repeat("a", scribe.MinSessionLen), true},
		{strings.Repeat("a", scribe.MaxSessionLen), true},
		{strings.Repeat("a", scribe.MaxSessionLen+1), false},
		{"session-1_AB", true},
		{"session 1AB", false},
		{"session.1AB", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := scribe.ValidSession(tt.s); got != tt.want {
			t.Errorf("ValidSession(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// The JSON names below are the API's and the stores' format
// (docs/api.md, docs/protocol.md); renaming a field breaks clients and
// data already stored.
func TestJSONFieldNames(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		v    any
		want string
	}{
		{
			"note without template",
			scribe.Note{ID: "AAAAAAAAAAAAAAAAAAAAAA", Title: "Standup", CreatedAt: at, UpdatedAt: at, Revision: 3},
			`{"id":"AAAAAAAAAAAAAAAAAAAAAA","title":"Standup","createdAt":"2026-11-24T09:30:00Z","updatedAt":"2026-11-24T09:30:00Z","revision":3}`,
		},
		{
			"document embeds its note",
			scribe.Document{Note: scribe.Note{ID: "AAAAAAAAAAAAAAAAAAAAAA", Template: "retro", CreatedAt: at, UpdatedAt: at}, Text: "# Retro\n"},
			`{"id":"AAAAAAAAAAAAAAAAAAAAAA","title":"","template":"retro","createdAt":"2026-11-24T09:30:00Z","updatedAt":"2026-11-24T09:30:00Z","revision":0,"text":"# Retro\n"}`,
		},
		{
			"change",
			scribe.Change{Revision: 7, Op: json.RawMessage(`[3,"a"]`), Session: "sessionAB", Seq: 2, Author: "Ada", Time: at},
			`{"rev":7,"op":[3,"a"],"session":"sessionAB","seq":2,"author":"Ada","time":"2026-11-24T09:30:00Z"}`,
		},
		{
			"change without author",
			scribe.Change{Revision: 1, Op: json.RawMessage(`["x"]`), Session: "sessionAB", Seq: 1, Time: at},
			`{"rev":1,"op":["x"],"session":"sessionAB","seq":1,"time":"2026-11-24T09:30:00Z"}`,
		},
		{
			// A share never reveals the note's edit id.
			"share hides the note id",
			scribe.Share{Token: "BBBBBBBBBBBBBBBBBBBBBB", NoteID: "AAAAAAAAAAAAAAAAAAAAAA", CreatedAt: at},
			`{"token":"BBBBBBBBBBBBBBBBBBBBBB","createdAt":"2026-11-24T09:30:00Z"}`,
		},
		{
			// The export URL carries the edit id: never serialised either.
			"export request hides the URL",
			scribe.ExportRequest{Author: "Ada Lovelace", URL: "https://scribe.example.com/n/AAAAAAAAAAAAAAAAAAAAAA"},
			`{"author":"Ada Lovelace"}`,
		},
		{
			"export result",
			scribe.ExportResult{Path: "docs/meetings/2026-11-24-standup.md", Commit: "abc123", PushError: "rejected"},
			`{"path":"docs/meetings/2026-11-24-standup.md","commit":"abc123","unchanged":false,"pushed":false,"pushError":"rejected"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}
