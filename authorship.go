package scribe

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// AuthorshipStore says who wrote each character of a note, at any
// revision. Every Store is one.
//
// It is safe for concurrent use. The stores keep, beside every snapshot of
// the text (the latest one and the history snapshots), who wrote each
// character of it, computed when the snapshot is written (off the append's
// path on Redis, once per snapshot interval inside the append on bolt); so
// AuthorsAt costs what TextAt costs: a snapshot plus the changes since.
type AuthorshipStore interface {
	// AuthorsAt returns who wrote each character of the note's text at rev
	// (0 <= rev <= head, else EINVALID): each change's inserted characters
	// are its author's, what it deletes is gone, the rest keeps its author;
	// the text the note was created with has no author. A revision older
	// than the history the store kept gives ENOTFOUND, and one inside a
	// fold of compacted history a *FoldedError, as TextAt.
	AuthorsAt(ctx context.Context, id NoteID, rev Revision) (Authorship, error)
}

// Authorship says who wrote each character of a note's text at one
// revision, as runs: Runs cover the text exactly, in order, in UTF-16 code
// units; no run is empty and no two neighbours have the same author.
type Authorship struct {
	Rev     Revision
	Runs    []AuthorRun
	Authors []Author // what AuthorRun.Author indexes
}

// AuthorRun is Len UTF-16 code units written by Authors[Author], or by
// nobody (NoAuthor: the text the note was created with).
type AuthorRun struct {
	Len    int
	Author int
}

// NoAuthor is the AuthorRun.Author of text nobody typed: the template a
// note was created from.
const NoAuthor = -1

// Author is one person who wrote some of a note, as anyone who may read the
// note's history may see them: never an email, a session or an edit id.
type Author struct {
	// Key tells people apart, as the browser does (web/src/colors.js
	// personKey): "p:" and the member's person key (PersonKey of the
	// sign-in email) for a member, "n:" and the trimmed, lower-cased name
	// for anyone else (guests, local mode, API edits without sign-in).
	Key string `json:"key"`
	// Name is the name the person wrote under (their latest, when it
	// changed).
	Name string `json:"name"`
}

// AuthorOf is who wrote change c.
func AuthorOf(c Change) Author {
	name := strings.TrimSpace(c.Author)
	if c.Email != "" {
		if name == "" || strings.EqualFold(name, c.Email) {
			// A member without a display name: never show the address.
			name, _, _ = strings.Cut(c.Email, "@")
		}
		return Author{Key: "p:" + PersonKey(c.Email), Name: name}
	}
	if name == "" {
		name = "Anonymous"
		if strings.HasPrefix(c.Session, APISessionPrefix) {
			name = "API"
		}
	}
	return Author{Key: "n:" + strings.ToLower(name), Name: name}
}

// PersonKey is the person key of a member whose sign-in email is email:
// "m" and 16 base64url characters of a SHA-256, the same on every node and
// visit, so that clients can tell one person's tabs and text apart and keep
// their colour without learning the email. "" for no email.
func PersonKey(email string) string {
	if email == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("scribe-person:" + email))
	return "m" + base64.RawURLEncoding.EncodeToString(sum[:12])
}

// CreditRun is Len inserted UTF-16 code units written by Author; a zero
// Author (no Key) is nobody (the template's text, restored).
type CreditRun struct {
	Len int `json:"n"`
	Author
}

// ValidateCredit checks a change's Credit against the UTF-16 units its op
// inserts, as Store.Append does (EINVALID).
func ValidateCredit(credit []CreditRun, inserted int) error {
	if len(credit) == 0 {
		return nil
	}
	total := 0
	for _, c := range credit {
		if c.Len <= 0 || len(c.Key) > MaxEmail+2 || len(c.Name) > MaxTokenLabel || !utf8.ValidString(c.Key) || !utf8.ValidString(c.Name) {
			return Errorf(EINVALID, "A change's credit has runs of 1 or more characters by a key of at most %d bytes and a name of at most %d.", MaxEmail+2, MaxTokenLabel)
		}
		total += c.Len
	}
	if total != inserted {
		return Errorf(EINVALID, "A change's credit covers %d characters; its operation inserts %d.", total, inserted)
	}
	return nil
}
