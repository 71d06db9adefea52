package ot

import "fmt"

// Error codes. They are spelled as, and mean the same as, the root package's
// scribe.EINVALID and scribe.ETOOLARGE.
const (
	EINVALID  = "EINVALID"  // malformed, or does not fit the document
	ETOOLARGE = "ETOOLARGE" // a length would exceed MaxLength
)

// Error is the error every function of the package returns. Code is EINVALID
// or ETOOLARGE; Message is a sentence safe to show to any client.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return "ot: " + e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) *Error { return errorf(EINVALID, format, args...) }
