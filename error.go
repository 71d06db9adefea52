// Package scribe holds Scribe's domain: note ids, revisions, the Store
// contract every storage backend implements, and the one error type whose
// codes the HTTP API and the websocket protocol both report.
//
// The package imports nothing else from the project. The rooms around it
// (ot, store/..., server, export, web) depend on it; cmd/scribe wires them.
package scribe

import (
	"errors"
	"fmt"
)

// Error codes. They are part of the public API and the websocket protocol:
// clients switch on them, so they never change meaning.
const (
	ECONFLICT    = "ECONFLICT"    // the note moved on: reload or transform, then retry
	EFORBIDDEN   = "EFORBIDDEN"   // the caller may not do this (e.g. edit through a read-only link)
	EINTERNAL    = "EINTERNAL"    // a bug or an unreachable dependency; details are logged, not shown
	EINVALID     = "EINVALID"     // the request is malformed or does not fit the document
	ENOTFOUND    = "ENOTFOUND"    // no such note or share token (or the token was revoked)
	ERATELIMIT   = "ERATELIMIT"   // too many operations; slow down
	ETOOLARGE    = "ETOOLARGE"    // a message or the note would exceed a configured limit
	EUNAVAILABLE = "EUNAVAILABLE" // shutting down or not ready; retry elsewhere or later
	EGONE        = "EGONE"        // the revision was compacted into a fold: read a neighbour (FoldedError)
)

// Error is Scribe's error type. Code is one of the E* constants; Message is
// a sentence a person can read and is safe to show to any client.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("scribe error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic sentence for internal errors, so internals never leak to clients.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// FoldedError is the EGONE error for a revision that history compaction
// folded away (see Compactor): the changes around it were merged into one
// fold, so the text at Rev is no longer kept, and never will be again.
// Below and Above are the nearest addressable revisions, Below < Rev <
// Above: the fold's first revision minus one and its last revision.
//
// ErrorCode of a FoldedError (or of an error wrapping one) is EGONE; use
// errors.As to read the neighbours.
type FoldedError struct {
	Rev, Below, Above Revision
}

// Folded returns the FoldedError for rev inside the fold (below, above].
func Folded(rev, below, above Revision) *FoldedError {
	return &FoldedError{Rev: rev, Below: below, Above: above}
}

func (e *FoldedError) Error() string { return e.Unwrap().Error() }

// Unwrap gives the *Error that ErrorCode and ErrorMessage read.
func (e *FoldedError) Unwrap() error {
	return Errorf(EGONE, "Revision %d is no longer kept: history compaction merged the edits %d to %d into one; the nearest readable revisions are %d and %d.", e.Rev, e.Below+1, e.Above, e.Below, e.Above)
}

// AsFolded returns the FoldedError in err's chain, if there is one.
func AsFolded(err error) (*FoldedError, bool) {
	var f *FoldedError
	ok := errors.As(err, &f)
	return f, ok
}
