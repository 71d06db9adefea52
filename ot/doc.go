// Package ot is Scribe's plain-text operational transformation: operations,
// Apply, Compose, Transform, Invert, cursor and selection transformation, and
// Document, the representation the server keeps live notes in.
//
// # The model
//
// An Operation walks a document from start to end as a sequence of three
// kinds of components: retain(n) keeps the next n units, insert(s) inserts s,
// and delete(n) removes the next n units. Its base length (retains plus
// deletes) must equal the length of the document it is applied to; its
// target length (retains plus inserts) is the length of the result.
//
// Lengths and positions count UTF-16 code units, as JavaScript strings and
// CodeMirror do: "a😀b" has length 4. Texts are held as Go strings (UTF-8),
// so an operation whose retain or delete boundary falls between the two
// halves of a surrogate pair, or whose insert would carry a lone surrogate,
// cannot be represented and is rejected.
//
// # Canonical form
//
// Every Operation is canonical: no empty components, neighbours of one kind
// merged, and an insert always placed before an adjacent delete. Two
// operations that make the same edit in the same way are therefore Equal,
// and their JSON is byte-for-byte identical. Builders, JSON decoding and
// every function of the package produce canonical operations; a valid but
// non-canonical input (for example [1,2], [-1,"a"] or an empty string) is
// accepted and canonicalised, exactly as ot.js's fromJSON does.
//
// # Compatibility with ot.js
//
// The JSON form is ot.js's TextOperation wire format, an array of positive
// integers (retain), strings (insert) and negative integers (delete):
// [5,"abc",-2,3]. Transform breaks ties as ot.js does: when both operations
// insert at the same position, the first argument's insert comes first.
// TransformIndex moves an index as ot.js's Selection.transform does.
//
// # Errors and limits
//
// The package is pure: no I/O, no goroutines, no imports from the rest of
// Scribe. No input makes a function panic; every failure is an *Error whose
// Code is EINVALID (the input is malformed or does not fit the document) or
// ETOOLARGE (a length would exceed MaxLength). The codes have the same
// spelling and meaning as scribe.EINVALID and scribe.ETOOLARGE, so a caller
// maps an *Error to a scribe.Error by copying Code and Message.
//
// Operation values are immutable and safe to share between goroutines. A
// Document is not safe for concurrent use.
package ot
