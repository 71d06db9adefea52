package scribe

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSlug(t *testing.T) {
	cases := []struct{ title, want string }{
		{"Standup", "standup"},
		{"Release 1.4 — Go/No-go!", "release-1-4-go-no-go"},
		{"Café Øresund", "cafe-oresund"},
		{"Café ÜBER straße", "cafe-uber-strasse"},
		{"Æsir Łódź Þing İstanbul", "aesir-lodz-thing-istanbul"},
		{"Cafe\u0301 decomposed", "cafe-decomposed"}, // e + combining acute
		{"日本語の会議", "日本語の会議"},
		{"がぎぐ", "がぎぐ"},               // kana voiced marks are not accents to remove
		{"बैठक नोट्स", "बैठक-नोट्स"}, // Devanagari vowel signs and virama stay
		{"Ελληνικά Σημειώσεις", "ελληνικά-σημειώσεις"},
		{"Встреча 2026", "встреча-2026"},
		{"../../etc/passwd", "etc-passwd"},
		{`C:\Windows\system32`, "c-windows-system32"},
		{".hidden", "hidden"},
		{"..", "note"},
		{"--force", "force"},
		{"ctrl\x00\x01\x1b[31m\r\nchars\u202egnp.exe", "ctrl-31m-chars-gnp-exe"},
		{"name.md\x00.txt", "name-md-txt"},
		{"bad \xff utf-8", "bad-utf-8"},
		{"😀😀", "note"},
		{"🎉🎉🎉", "note"},
		{"", "note"},
		{"   ", "note"},
		{strings.Repeat("abcdefghij", 9), strings.Repeat("abcdefghij", 8)},
		{strings.Repeat("日", 100), strings.Repeat("日", 26)}, // 78 bytes; a 27th would make 81
		{strings.Repeat("ab ", 40), strings.TrimSuffix(strings.Repeat("ab-", 27), "-")},
	}
	for _, tc := range cases {
		if got := Slug(tc.title); got != tc.want {
			t.Errorf("Slug(%q) = %q, want %q", tc.title, got, tc.want)
		}
	}
}

func TestSlugASCII(t *testing.T) {
	cases := map[string]string{
		"Ada Lovelace":  "ada-lovelace",
		"José Müller":   "jose-muller",
		"李 Wei":         "wei",
		"日本語":           "",
		"Ørjan 日本 Berg": "orjan-berg",
	}
	for in, want := range cases {
		if got := SlugASCII(in); got != want {
			t.Errorf("SlugASCII(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSlug(f *testing.F) {
	for _, s := range []string{"", "../../etc/passwd", "🎉", "Café ÜBER", "a/b\\c.d", "\x00\xff", strings.Repeat("日", 100),
		"CON", "-x-", "が", "a\u3099", "-\u0301a", "बैठक", "İ", "ǅ", "\u212b", "ᄀ\u1161"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, title string) {
		s := Slug(title)
		if s == "" || len(s) > MaxSlugBytes || !utf8.ValidString(s) {
			t.Fatalf("Slug(%q) = %q", title, s)
		}
		if strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") || strings.Contains(s, "--") {
			t.Fatalf("Slug(%q) = %q has stray hyphens", title, s)
		}
		for _, r := range s {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.In(r, unicode.Mn, unicode.Mc) {
				t.Fatalf("Slug(%q) = %q contains %q", title, s, r)
			}
		}
		if again := Slug(s); again != s {
			t.Fatalf("Slug is not idempotent: Slug(%q) = %q, Slug(%q) = %q", title, s, s, again)
		}
	})
}

func TestCleanText(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"  Design review  ", 0, "Design review"},
		{"a\nb\r\n# c\x00d", 0, "a b # cd"},
		{"tab\there\u2028line\u2029para\u00a0nbsp", 0, "tab here line para nbsp"},
		{"chars\u202egnp.exe", 0, "charsgnp.exe"}, // bidi override
		{"zero\u200bwidth soft\u00adhyphen\ufeff", 0, "zerowidth softhyphen"},
		{"bad \xff\xfe utf-8 \ufffd", 0, "bad utf-8"},
		{"\x1b[31mred", 0, "[31mred"},
		{"👩\u200d💻 coder", 0, "👩\u200d💻 coder"}, // the joiner holds the emoji together
		{"\u200d lone joiner", 0, "lone joiner"},
		{"می\u200cخواهم", 0, "می\u200cخواهم"}, // Persian keeps its non-joiner
		{"\x00\x01\u200b", 0, ""},
		{strings.Repeat("é", 500), 200, strings.Repeat("é", 200)},
		{"abc def", 4, "abc"},   // no trailing space after the cut
		{"abc def", 5, "abc d"}, // cut at a rune boundary
		{"日本語の会議", 3, "日本語"},
	}
	for _, tc := range cases {
		got := CleanText(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("CleanText(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", " a  b ", "a\x00b", "\xff", "👩\u200d💻", "\u2028", strings.Repeat("é ", 60)} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max % 300
		c := CleanText(s, max)
		if !utf8.ValidString(c) || strings.TrimSpace(c) != c || strings.Contains(c, "  ") {
			t.Fatalf("CleanText(%q, %d) = %q", s, max, c)
		}
		if max > 0 && utf8.RuneCountInString(c) > max {
			t.Fatalf("CleanText(%q, %d) = %q is longer than %d", s, max, c, max)
		}
		for _, r := range c {
			if IsControl(r) || (unicode.IsSpace(r) && r != ' ') {
				t.Fatalf("CleanText(%q, %d) = %q contains %q", s, max, c, r)
			}
		}
		if again := CleanText(c, max); again != c {
			t.Fatalf("CleanText is not idempotent: %q -> %q -> %q", s, c, again)
		}
	})
}
