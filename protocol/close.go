package protocol

import "github.com/scribe-notes/scribe"

// Websocket close codes (docs/protocol.md). The first four are the RFC 6455
// codes of the same meaning (gorilla/websocket's CloseNormalClosure,
// CloseGoingAway, ClosePolicyViolation, CloseInternalServerErr).
const (
	CloseNormal    = 1000 // the connection ended normally
	CloseGoingAway = 1001 // the node shuts down or cannot serve the note now; reconnect
	ClosePolicy    = 1008 // too many errors, an oversize frame, a refused hello
	CloseInternal  = 1011 // the server failed; reconnect
	CloseTooSlow   = 4000 // the client did not keep up with the broadcast; reconnect
	CloseNotFound  = 4404 // the note or share is gone; do not reconnect
)

// Close reasons the server sends with its close codes.
const (
	CloseReasonSlow    = "You did not keep up with the edits; reconnect."
	CloseReasonAway    = "The server is shutting down; reconnect."
	CloseReasonGone    = "This read-only link was revoked."
	CloseReasonDeleted = "This note was deleted."
	CloseReasonError   = "Too many errors."
	CloseReasonFailed  = "The server failed; reconnect."
)

// maxCloseReason is the longest close reason sent: a close frame is a
// control frame, whose payload (a 2-byte code and the reason) is at most
// 125 bytes.
const maxCloseReason = 120

// CloseCode is the close code for a connection that ends because of err
// (a refused join): ENOTFOUND 4404, EINVALID 1008, EUNAVAILABLE 1001, any
// other 1011.
func CloseCode(err error) int {
	switch scribe.ErrorCode(err) {
	case scribe.ENOTFOUND:
		return CloseNotFound
	case scribe.EINVALID:
		return ClosePolicy
	case scribe.EUNAVAILABLE:
		return CloseGoingAway
	}
	return CloseInternal
}

// CloseReason is the close reason for a connection that ends because of
// err: its message to clients, cut to fit a control frame.
func CloseReason(err error) string {
	msg := scribe.ErrorMessage(err)
	if len(msg) > maxCloseReason {
		msg = msg[:maxCloseReason]
	}
	return msg
}
