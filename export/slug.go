package export

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSlugBytes bounds a slug so that "YYYY-MM-DD-<slug>-NNN.md" stays far
// below the 255-byte file name limit of common file systems, even when every
// character takes four bytes in UTF-8.
const maxSlugBytes = 80

// fallbackSlug names a note whose title has no letters or digits at all
// (empty, only emoji, only punctuation).
const fallbackSlug = "meeting-notes"

// Slug returns a file-name-safe form of title: lower-case letters and digits
// (of any script), with every run of anything else (spaces, punctuation,
// slashes, dots, control characters, emoji) turned into one hyphen, no
// hyphen at either end, at most 80 bytes, cut at a character boundary.
// Latin letters with diacritics are folded to ASCII ("Café" -> "cafe").
//
// The result holds only letters, digits and single inner hyphens: never
// "/", "\\", ".", a space or a control character. It is never empty: a
// title without letters or digits gives "meeting-notes". Slug is the only
// input to an export's file name besides the date, which is how export
// guarantees it never writes outside its directory.
func Slug(title string) string {
	if s := slug(title); s != "" {
		return s
	}
	return fallbackSlug
}

// slug is Slug without the fallback: "" when title has no letters or digits.
func slug(title string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range title {
		var repl string
		if f, ok := latinFold[r]; ok {
			repl = f
		} else if unicode.IsLetter(r) || unicode.IsDigit(r) {
			repl = string(unicode.ToLower(r))
		}
		// A letter whose lower case is not itself a letter would be
		// surprising; treat anything odd as a separator.
		if r2, _ := utf8.DecodeRuneInString(repl); repl != "" && !(unicode.IsLetter(r2) || unicode.IsDigit(r2)) {
			repl = ""
		}
		if repl == "" {
			hyphen = b.Len() > 0
			continue
		}
		if hyphen {
			if b.Len()+1+len(repl) > maxSlugBytes {
				break
			}
			b.WriteByte('-')
			hyphen = false
		}
		if b.Len()+len(repl) > maxSlugBytes {
			break
		}
		b.WriteString(repl)
	}
	return b.String()
}

// latinFold maps the Latin letters with diacritics common in names and
// titles to ASCII, so that slugs of European titles read naturally.
// Letters not listed keep their lower-case form.
var latinFold = func() map[rune]string {
	m := map[rune]string{
		'ß': "ss", 'ẞ': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe",
		'ø': "o", 'Ø': "o", 'đ': "d", 'Đ': "d", 'ð': "d", 'Ð': "d",
		'þ': "th", 'Þ': "th", 'ł': "l", 'Ł': "l", 'ı': "i", 'ħ': "h", 'Ħ': "h",
	}
	groups := map[string]string{
		"a": "àáâãäåāăąǎÀÁÂÃÄÅĀĂĄǍ",
		"c": "çćĉċčÇĆĈĊČ",
		"d": "ďĎ",
		"e": "èéêëēĕėęěÈÉÊËĒĔĖĘĚ",
		"g": "ĝğġģĜĞĠĢ",
		"h": "ĥĤ",
		"i": "ìíîïĩīĭįİÌÍÎÏĨĪĬĮ",
		"j": "ĵĴ",
		"k": "ķĶ",
		"l": "ĺļľŀĹĻĽĿ",
		"n": "ñńņňÑŃŅŇ",
		"o": "òóôõöōŏőǒÒÓÔÕÖŌŎŐǑ",
		"r": "ŕŗřŔŖŘ",
		"s": "śŝşšșŚŜŞŠȘ",
		"t": "ţťțŢŤȚ",
		"u": "ùúûüũūŭůűųǔÙÚÛÜŨŪŬŮŰŲǓ",
		"w": "ŵŴ",
		"y": "ýÿŷÝŸŶ",
		"z": "źżžŹŻŽ",
	}
	for ascii, letters := range groups {
		for _, r := range letters {
			m[r] = ascii
		}
	}
	return m
}()
