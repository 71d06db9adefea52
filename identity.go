package scribe

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
	"unicode"
)

// Via says how Scribe came to know who a person is.
type Via string

const (
	ViaNone   Via = ""       // nobody: a stranger
	ViaSignIn Via = "signin" // signed in with OpenID Connect (session cookie)
	ViaProxy  Via = "proxy"  // named by a trusted reverse proxy's headers
	ViaLocal  Via = "local"  // the person at the machine, in local mode
	ViaToken  Via = "token"  // a personal API token (a bot acting for its owner)
	ViaGuest  Via = "guest"  // a name a guest gave; never verified
)

// Person is who is asking. The zero Person is a stranger. Email is set,
// lowercased, only when it was verified (by the identity provider, the
// trusted proxy, or the local configuration); Name is for display.
type Person struct {
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	Via   Via    `json:"via,omitempty"`
}

// Known reports whether p is someone Scribe knows from sign-in, a trusted
// proxy, a token or local mode: a member (or the local person). Guests and
// strangers are not known.
func (p Person) Known() bool {
	switch p.Via {
	case ViaSignIn, ViaProxy, ViaLocal, ViaToken:
		return true
	}
	return false
}

// NameFixed reports whether p's name comes from an identity (sign-in, a
// trusted proxy, a token) and so cannot be changed on the page. The local
// person is known but names themselves: every tab on the machine is the
// same person, and a name typed on the page is theirs to choose.
func (p Person) NameFixed() bool { return p.Known() && p.Via != ViaLocal }

// Role is what a request may do. Viewer and Guest are roles on one note,
// granted by holding its read-only link or its edit link; Member and Local
// are roles on the whole server.
type Role int

const (
	Stranger Role = iota // nothing but public pages and sign-in
	Viewer               // holds a read-only link: watches that note live
	Guest                // holds an edit link with guest editing on: edits that note live
	Member               // signed in (or a member's token): the team's notes
	Local                // local mode: the person at the machine, the only member
)

var roleNames = [...]string{"stranger", "viewer", "guest", "member", "local"}

func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return "role(?)"
	}
	return roleNames[r]
}

// Action is something a request asks to do. The table in Can is the model of
// docs/security.md ("who can do what"); the server checks every route
// against it.
type Action string

const (
	ActList        Action = "list"         // list the team's notes, search them
	ActCreate      Action = "create"       // create a note
	ActEdit        Action = "edit"         // open one note for editing (ws edit, text, append)
	ActWatch       Action = "watch"        // watch one note live, read-only
	ActRename      Action = "rename"       // rename a note
	ActExport      Action = "export"       // export a note to the repository
	ActShare       Action = "share"        // make, list and revoke read-only links; toggle guest editing
	ActManageToken Action = "manage-token" // create, list and revoke one's own API tokens
	ActHistory     Action = "history"      // read a note's revisions, texts and diffs; name checkpoints; restore
	ActArchive     Action = "archive"      // archive and unarchive a note
	ActDelete      Action = "delete"       // delete a note for good
	ActActions     Action = "actions"      // list action items and decisions across the team's notes
)

// Actions lists every action, in the order of docs/security.md's table.
var Actions = []Action{ActList, ActCreate, ActEdit, ActWatch, ActRename, ActExport, ActShare, ActManageToken, ActHistory, ActArchive, ActDelete, ActActions}

// Roles lists every role, in the order of docs/security.md's table.
var Roles = []Role{Stranger, Viewer, Guest, Member, Local}

var permissions = map[Role][]Action{
	Stranger: nil,
	Viewer:   {ActWatch},
	Guest:    {ActEdit, ActWatch},
	Member:   {ActList, ActCreate, ActEdit, ActWatch, ActRename, ActExport, ActShare, ActManageToken, ActHistory, ActArchive, ActDelete, ActActions},
	Local:    {ActList, ActCreate, ActEdit, ActWatch, ActRename, ActExport, ActShare, ActHistory, ActArchive, ActDelete, ActActions}, // no tokens: local mode's API needs none
}

// Can reports whether role r may do a. For Viewer and Guest the answer is
// about the one note whose link the request holds, never any other.
func (r Role) Can(a Action) bool {
	for _, x := range permissions[r] {
		if x == a {
			return true
		}
	}
	return false
}

// NormalizeEmail returns an email address as Scribe compares and stores it:
// trimmed and lowercased.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// APIToken is a personal API token as stored: never the secret itself, only
// its SHA-256. A bot presents the secret as "Authorization: Bearer <secret>"
// and acts as the token's owner.
type APIToken struct {
	// ID names the token in lists and in revocation. It is derived from the
	// hash (see APITokenID), so it reveals nothing that would let anyone use
	// the token.
	ID string `json:"id"`
	// Hash is the SHA-256 of the secret.
	Hash []byte `json:"-"`
	// Owner is the email of the member who created it; Name their display
	// name at that time.
	Owner     string    `json:"owner"`
	Name      string    `json:"name,omitempty"`
	Label     string    `json:"label,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// LastUsed is when the token was last accepted (to about a minute), or
	// zero if never.
	LastUsed time.Time `json:"lastUsed,omitzero"`
}

// Limits on what a token record holds.
const (
	MaxTokenLabel = 100 // bytes
	MaxEmail      = 254 // bytes, as RFC 5321 allows
)

// HashAPIToken returns the SHA-256 of a token's secret, as stored.
func HashAPIToken(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// APITokenID returns the public id of the token with the given hash: the
// first 128 bits of the hash in base64url (22 characters, a URLSafe string).
func APITokenID(hash []byte) string {
	if len(hash) < 16 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(hash[:16])
}

// ValidAPITokenID reports whether id has the form of a token id.
func ValidAPITokenID(id string) bool { return URLSafe(id, idLen, idLen) }

// Validate checks a token record as TokenStore.CreateAPIToken requires,
// giving EINVALID with a readable message.
func (t APIToken) Validate() error {
	switch {
	case len(t.Hash) != sha256.Size:
		return Errorf(EINVALID, "A token hash must be a SHA-256.")
	case t.ID != APITokenID(t.Hash):
		return Errorf(EINVALID, "A token id must be derived from its hash.")
	case t.Owner == "" || len(t.Owner) > MaxEmail || strings.ContainsFunc(t.Owner, unicode.IsControl):
		return Errorf(EINVALID, "A token needs its owner's email (at most %d bytes, no control characters).", MaxEmail)
	case len(t.Label) > MaxTokenLabel:
		return Errorf(EINVALID, "A token label has at most %d bytes.", MaxTokenLabel)
	case len(t.Name) > MaxTokenLabel:
		return Errorf(EINVALID, "A token owner's name has at most %d bytes.", MaxTokenLabel)
	}
	return nil
}
