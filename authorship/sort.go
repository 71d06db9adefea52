package authorship

import (
	"slices"
	"unicode/utf16"
)

// sortUTF16 sorts keys as JavaScript's Array.prototype.sort does: by UTF-16
// code units (which differs from Go's byte order above U+FFFF).
func sortUTF16(keys []string) {
	slices.SortFunc(keys, func(a, b string) int {
		return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
	})
}
