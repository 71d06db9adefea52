package scribe_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/scribe-notes/scribe"
)

func TestErrorCodeAndMessage(t *testing.T) {
	notFound := scribe.Errorf(scribe.ENOTFOUND, "note %q not found", "abc")
	tests := []struct {
		name        string
		err         error
		wantCode    string
		wantMessage string
	}{
		{"nil", nil, "", ""},
		{"scribe error", notFound, scribe.ENOTFOUND, `note "abc" not found`},
		{"wrapped once", fmt.Errorf("load: %w", notFound), scribe.ENOTFOUND, `note "abc" not found`},
		{"wrapped twice", fmt.Errorf("session: %w", fmt.Errorf("load: %w", notFound)), scribe.ENOTFOUND, `note "abc" not found`},
		{"joined", errors.Join(io.EOF, scribe.Errorf(scribe.ECONFLICT, "moved on")), scribe.ECONFLICT, "moved on"},
		{"struct literal", &scribe.Error{Code: scribe.ETOOLARGE, Message: "too big"}, scribe.ETOOLARGE, "too big"},
		// Anything that is not a *scribe.Error is an internal error, and its
		// text must never reach the caller.
		{"plain error", errors.New("redis: connection refused at 10.0.0.7"), scribe.EINTERNAL, "Internal error."},
		{"context canceled", context.Canceled, scribe.EINTERNAL, "Internal error."},
		{"wrapped plain", fmt.Errorf("append: %w", io.ErrUnexpectedEOF), scribe.EINTERNAL, "Internal error."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scribe.ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
			if got := scribe.ErrorMessage(tt.err); got != tt.wantMessage {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.wantMessage)
			}
		})
	}
}

func TestErrorf(t *testing.T) {
	tests := []struct {
		code, format string
		args         []any
		wantMessage  string
		wantError    string
	}{
		{scribe.EINVALID, "bad revision %d", []any{-1}, "bad revision -1", "scribe error: code=EINVALID message=bad revision -1"},
		{scribe.ERATELIMIT, "slow down", nil, "slow down", "scribe error: code=ERATELIMIT message=slow down"},
		{scribe.EFORBIDDEN, "%s is read-only", []any{"this link"}, "this link is read-only", "scribe error: code=EFORBIDDEN message=this link is read-only"},
		// A message containing a verb is not re-interpreted.
		{scribe.EINVALID, "%s", []any{"100%d"}, "100%d", "scribe error: code=EINVALID message=100%d"},
	}
	for _, tt := range tests {
		e := scribe.Errorf(tt.code, tt.format, tt.args...)
		if e.Code != tt.code || e.Message != tt.wantMessage {
			t.Errorf("Errorf(%q, %q) = {%q, %q}, want {%q, %q}", tt.code, tt.format, e.Code, e.Message, tt.code, tt.wantMessage)
		}
		if got := e.Error(); got != tt.wantError {
			t.Errorf("Error() = %q, want %q", got, tt.wantError)
		}
	}
}

// The codes are part of the wire protocol (docs/protocol.md) and the API:
// each constant's value is its own name, and no two are equal.
func TestErrorCodesAreTheirNames(t *testing.T) {
	codes := map[string]string{
		"ECONFLICT":    scribe.ECONFLICT,
		"EFORBIDDEN":   scribe.EFORBIDDEN,
		"EINTERNAL":    scribe.EINTERNAL,
		"EINVALID":     scribe.EINVALID,
		"ENOTFOUND":    scribe.ENOTFOUND,
		"ERATELIMIT":   scribe.ERATELIMIT,
		"ETOOLARGE":    scribe.ETOOLARGE,
		"EUNAVAILABLE": scribe.EUNAVAILABLE,
	}
	seen := map[string]bool{}
	for name, code := range codes {
		if code != name {
			t.Errorf("%s = %q", name, code)
		}
		if seen[code] {
			t.Errorf("%q used twice", code)
		}
		seen[code] = true
	}
}
