package ot

import "unicode/utf16"

// Diff returns an operation that turns a into b: it keeps their common
// prefix and suffix and replaces what lies between (never splitting a
// surrogate pair), as web/src/ot.js's diff does. Clients use it to rebase
// their unconfirmed edits onto a text the server sent whole.
func Diff(a, b string) Operation {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	start, m := 0, min(len(ua), len(ub))
	for start < m && ua[start] == ub[start] {
		start++
	}
	if start > 0 && utf16.IsSurrogate(rune(ua[start-1])) && ua[start-1] < 0xDC00 {
		start--
	}
	endA, endB := len(ua), len(ub)
	for endA > start && endB > start && ua[endA-1] == ub[endB-1] {
		endA--
		endB--
	}
	if endA < len(ua) && ua[endA] >= 0xDC00 && ua[endA] <= 0xDFFF {
		endA++
		endB++
	}
	var bld Builder
	if start > 0 {
		bld.Retain(start)
	}
	if endB > start {
		bld.Insert(string(utf16.Decode(ub[start:endB])))
	}
	if endA > start {
		bld.Delete(endA - start)
	}
	if len(ua) > endA {
		bld.Retain(len(ua) - endA)
	}
	op, err := bld.Build()
	if err != nil {
		panic("ot: diff: " + err.Error()) // cannot happen: the pieces fit a by construction
	}
	return op
}
