package scribe

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// This file is Scribe's one text toolkit: the slug every file name is made
// from and the cleaner every title, name and label goes through. Keeping one
// of each means the download, the export and the pages agree on what a
// title becomes.

// MaxSlugBytes bounds a slug so that "YYYY-MM-DD-<slug>-NNN.html" stays far
// below the 255-byte file name limit of common file systems, even when every
// character takes four bytes in UTF-8.
const MaxSlugBytes = 80

// FallbackSlug is the slug of a title with no letters or digits at all
// (empty, only emoji, only punctuation).
const FallbackSlug = "note"

// Slug returns a file-name-safe form of title, the same for a download and
// for an export:
//
//   - letters and digits of any script in lower case, with the marks that
//     belong to them ("日本語の会議" and "बैठक" stay as they are);
//   - Latin letters folded to ASCII: accents removed by Unicode decomposition
//     ("Café" -> "cafe"), and the letters that do not decompose spelled out
//     ("Ø" -> "o", "ß" -> "ss", "Æ" -> "ae", "Ł" -> "l");
//   - every run of anything else (spaces, punctuation, slashes, dots, control
//     characters, emoji, invalid UTF-8) turned into one hyphen, with no
//     hyphen at either end;
//   - at most MaxSlugBytes bytes, cut at a character boundary.
//
// The result is valid UTF-8 holding only letters, digits, marks and single
// inner hyphens: never "/", "\\", ".", a space or a control character, so it
// cannot name a path, a hidden file or "..". It is never empty: a title
// without letters or digits gives FallbackSlug. Slug(Slug(t)) == Slug(t).
func Slug(title string) string {
	if s := slug(title); s != "" {
		return s
	}
	return FallbackSlug
}

// SlugASCII is Slug(title) when it is all ASCII, and otherwise the ASCII
// parts of it ("" when there are none). Some places need plain ASCII (an
// e-mail's local part, a legacy header); this keeps them consistent with Slug.
func SlugASCII(title string) string {
	var b strings.Builder
	for _, r := range slug(title) {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
		} else if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
			b.WriteByte('-')
		}
	}
	return strings.Trim(strings.ReplaceAll(b.String(), "--", "-"), "-")
}

// slug is Slug without the fallback: "" when title has no letters or digits.
func slug(title string) string {
	var b strings.Builder
	hyphen := false // a separator was seen since the last kept rune
	inWord := false // the last rune kept was a letter, digit or mark
	for _, r := range foldLatin(title) {
		var repl string
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			repl = string(unicode.ToLower(r))
		case inWord && !hyphen && unicode.In(r, unicode.Mn, unicode.Mc):
			// A vowel sign or point of a non-Latin script: part of its letter.
			// (Marks on Latin letters were removed by foldLatin.)
			repl = string(r)
		}
		// A letter whose lower case is not itself a letter would be
		// surprising; treat anything odd as a separator.
		if r2, _ := utf8.DecodeRuneInString(repl); repl != "" && !(unicode.IsLetter(r2) || unicode.IsDigit(r2) || unicode.In(r2, unicode.Mn, unicode.Mc)) {
			repl = ""
		}
		if repl == "" {
			hyphen = b.Len() > 0
			inWord = false
			continue
		}
		if hyphen {
			if b.Len()+1+len(repl) > MaxSlugBytes {
				break
			}
			b.WriteByte('-')
			hyphen = false
		}
		if b.Len()+len(repl) > MaxSlugBytes {
			break
		}
		b.WriteString(repl)
		inWord = true
	}
	return b.String()
}

// foldLatin returns s in NFC with Latin letters folded to ASCII where they
// can be: the runs of Latin letters (with the combining marks after them)
// are decomposed, stripped of their marks and recomposed, and the letters
// that do not decompose are spelled out from latinFold. Other scripts are
// left alone: removing marks there would change the words (が -> か).
// Invalid UTF-8 becomes U+FFFD.
func foldLatin(s string) string {
	s = norm.NFC.String(strings.ToValidUTF8(s, "\uFFFD"))
	var out, run strings.Builder
	flush := func() {
		if run.Len() == 0 {
			return
		}
		t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
		folded, _, err := transform.String(t, run.String())
		if err != nil { // cannot happen for valid UTF-8; keep the text as it was
			folded = run.String()
		}
		out.WriteString(folded)
		run.Reset()
	}
	latin := false // the last rune was a Latin letter or a mark on one
	for _, r := range s {
		if f, ok := latinFold[r]; ok {
			flush()
			out.WriteString(f)
			latin = true
			continue
		}
		if unicode.Is(unicode.Latin, r) || (latin && unicode.Is(unicode.M, r)) {
			run.WriteRune(r)
			latin = true
			continue
		}
		flush()
		out.WriteRune(r)
		latin = false
	}
	flush()
	return out.String()
}

// latinFold spells out the Latin letters that Unicode does not decompose
// into a base letter and marks.
var latinFold = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe",
	'ø': "o", 'Ø': "o", 'đ': "d", 'Đ': "d", 'ð': "d", 'Ð': "d",
	'þ': "th", 'Þ': "th", 'ł': "l", 'Ł': "l", 'ŀ': "l", 'Ŀ': "l",
	'ı': "i", 'ħ': "h", 'Ħ': "h", 'ŧ': "t", 'Ŧ': "t", 'ſ': "s",
	'ƒ': "f", 'ĸ': "k", 'ŉ': "n",
}

// CleanText makes s one line of plain text fit for a title, a person's name
// or a label, the same way everywhere:
//
//   - invalid UTF-8, U+FFFD, and control and format characters (Unicode Cc
//     and Cf: NUL, escapes, bidi overrides, zero-width spaces, soft hyphens,
//     byte order marks) are dropped, except the zero-width joiner and
//     non-joiner, which hold emoji sequences (👩‍💻) and Persian and Indic
//     words together;
//   - whitespace of any kind (spaces, tabs, newlines, U+2028 and U+2029, the
//     no-break space) collapses, run by run, into one space;
//   - the result is trimmed and cut to at most max characters (runes) at a
//     character boundary, then trimmed again; max <= 0 means no limit.
//
// CleanText never fails; a caller that needs an error for an empty or
// changed value checks the result itself (IsControl names what is dropped).
func CleanText(s string, max int) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	n := 0
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				continue // invalid UTF-8
			}
		}
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if IsControl(r) || (r == '\u200c' || r == '\u200d') && (space || b.Len() == 0) {
			continue // a joiner joins nothing at the start of a word
		}
		if max > 0 && n >= max {
			break
		}
		if space && b.Len() > 0 {
			if max > 0 && n+1 >= max {
				break // the space would be the last character
			}
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// IsControl reports whether CleanText drops r: a control or format
// character (other than the zero-width joiner and non-joiner) that is not
// whitespace, or U+FFFD, the mark of bytes that were not UTF-8.
// Whitespace controls (tab, newline) are not dropped but become spaces.
func IsControl(r rune) bool {
	if unicode.IsSpace(r) || r == '\u200c' || r == '\u200d' {
		return false
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}
