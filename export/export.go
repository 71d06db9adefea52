// Package export turns a finished note into a commit in the team's git
// repository: a markdown file under docs/meetings with YAML front matter
// (title, date, attendees, decisions, action items), committed with go-git
// by the person who exported it, with every other editor as a
// Co-authored-by trailer, and optionally pushed to a remote. The same
// commit rewrites the export folder's decision log (README.md). The file
// links to the note's read-only export share, never to its edit link, and
// notes with nothing in them are refused rather than committed.
//
// Extract finds a note's title, attendees, decisions and action items in the
// tree parsed by package markdown, the same parser the read-only page and
// download.html render with.
//
// docs/export.md describes the behaviour a user sees; this package comment
// and the doc comments below state the guarantees.
package export

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/mail"
	"path"
	"strings"
	"time"

	"github.com/scribe-notes/scribe"
)

// Defaults for Config.
const (
	DefaultDir         = "docs/meetings"
	DefaultBranch      = "main"
	DefaultEmailDomain = "users.noreply.scribe.invalid"
	DefaultPushTimeout = time.Minute
)

// Config says where and how notes are exported.
type Config struct {
	// RepoPath is the local repository (a clone, or a plain directory).
	// It is created with `git init` semantics, on Branch, if it does not
	// exist or is an empty directory. Required.
	RepoPath string
	// Dir is the folder inside the repository that exports go to, relative,
	// slash-separated and clean: no "..", no ".git", not absolute.
	// Default "docs/meetings".
	Dir string
	// Remote is where exports are pushed: the name of a remote configured in
	// the repository ("origin"), or a URL or path, which is added to the
	// repository as the remote "origin" (or "scribe" if "origin" is taken).
	// Empty means exports stay local.
	Remote string
	// Branch receives the export commits, whichever branch the repository's
	// worktree has checked out. Default "main".
	Branch string
	// Location is the team's time zone: the file name's date, the front
	// matter's date and the commit times are in it. Default UTC.
	Location *time.Location
	// EmailDomain derives email addresses for people who give none:
	// "Ada Lovelace" becomes ada-lovelace@<EmailDomain>. Default
	// "users.noreply.scribe.invalid" (the .invalid TLD never resolves).
	EmailDomain string
	// AuthorName and AuthorEmail, when AuthorName is set, make every export
	// commit's author and committer this fixed identity (a bot account the
	// remote trusts); the person who exported is then named in the message
	// and, if they edited, gets a Co-authored-by trailer like everyone else.
	AuthorName  string
	AuthorEmail string
	// PublicURL is the server's external base URL ("https://scribe.example.com").
	// When a request to Export gives no URL, the note's export share
	// (scribe.ExportShare) is looked up or made, and PublicURL + "/s/" +
	// its token is recorded. The edit link is never recorded.
	PublicURL string
	// OmitURL leaves the note's read-only link out of the front matter and
	// the commit message.
	OmitURL bool
	// Token authenticates pushes and fetches to an http(s) remote (a
	// personal access token or app password), sent with HTTP basic auth
	// under the URL's user name, or "scribe" if the URL names none. Unlike
	// a token written into the remote URL, it is not stored in the
	// repository's .git/config.
	Token string
	// SSHKeyPath is a private key file for ssh remotes (a deploy key);
	// SSHKeyPassphrase unlocks it if it is encrypted. Without it, ssh
	// remotes use the SSH agent (SSH_AUTH_SOCK). Host keys are checked
	// against SSH_KNOWN_HOSTS or ~/.ssh/known_hosts.
	SSHKeyPath       string
	SSHKeyPassphrase string
	// Logger receives warnings that do not fail an export: a worktree file
	// left alone because it was edited by hand, a worktree that could not
	// be updated after the commit landed. Nil means slog.Default().
	Logger *slog.Logger
	// PushTimeout bounds one push, including a fetch and rebase when the
	// remote moved ahead. Default 1 minute.
	PushTimeout time.Duration
	// OnExport, when set, is called after each export that made a commit,
	// with what a chat notification shows. It must not block: the export
	// holds the repository lock while it runs (package notify queues).
	OnExport func(scribe.ExportEvent)
}

// Exporter writes notes into a git repository. It implements
// scribe.Exporter and is safe for concurrent use: exports are serialised per
// Exporter, and across processes by a lock file in the repository's git
// directory, so concurrent exports of different notes all land, one commit
// after the other.
type Exporter struct {
	cfg   Config
	store scribe.Store
	repo  *repository
}

var _ scribe.Exporter = (*Exporter)(nil)

// New checks cfg, opens the repository (creating it if needed, and fetching
// the remote branch into a new repository when a remote is configured and
// reachable), and returns an Exporter that loads notes from store. A store
// may be nil when only Write is used. An invalid configuration gives EINVALID.
func New(cfg Config, store scribe.Store) (*Exporter, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	repo, err := openRepository(cfg)
	if err != nil {
		return nil, err
	}
	return &Exporter{cfg: cfg, store: store, repo: repo}, nil
}

func (c *Config) setDefaults() error {
	if c.RepoPath == "" {
		return scribe.Errorf(scribe.EINVALID, "The export repository path is required.")
	}
	if c.Dir == "" {
		c.Dir = DefaultDir
	}
	if err := validDir(c.Dir); err != nil {
		return err
	}
	if c.Branch == "" {
		c.Branch = DefaultBranch
	}
	if !validBranch(c.Branch) {
		return scribe.Errorf(scribe.EINVALID, "The export branch %q is not a valid branch name.", c.Branch)
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.EmailDomain == "" {
		c.EmailDomain = DefaultEmailDomain
	}
	if !validDomain(c.EmailDomain) {
		return scribe.Errorf(scribe.EINVALID, "The export email domain %q is not a domain name.", c.EmailDomain)
	}
	if c.AuthorName != "" {
		if cleanName(c.AuthorName) != c.AuthorName {
			return scribe.Errorf(scribe.EINVALID, "The export author name %q contains characters a commit cannot hold.", c.AuthorName)
		}
		if c.AuthorEmail == "" {
			c.AuthorEmail = emailFor(c.AuthorName, c.EmailDomain)
		}
		if !validEmail(c.AuthorEmail) {
			return scribe.Errorf(scribe.EINVALID, "The export author email %q is not an email address.", c.AuthorEmail)
		}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.PushTimeout <= 0 {
		c.PushTimeout = DefaultPushTimeout
	}
	return nil
}

// validDir reports whether dir is a clean relative folder path that stays
// inside the repository and out of .git.
func validDir(dir string) error {
	bad := func(why string) error {
		return scribe.Errorf(scribe.EINVALID, "The export directory %q is not allowed: %s.", dir, why)
	}
	if strings.ContainsAny(dir, "\\:") || strings.ContainsFunc(dir, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return bad("it must be a slash-separated path without backslashes, colons or control characters")
	}
	if path.IsAbs(dir) || path.Clean(dir) != dir || dir == "." {
		return bad("it must be a clean path relative to the repository root, like docs/meetings")
	}
	for _, part := range strings.Split(dir, "/") {
		if part == ".." || strings.EqualFold(part, ".git") || strings.HasPrefix(part, "-") {
			return bad(`it must not contain "..", ".git" or a name starting with "-"`)
		}
	}
	return nil
}

func validBranch(b string) bool {
	if b == "" || strings.HasPrefix(b, "-") || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") ||
		strings.HasSuffix(b, ".lock") || strings.HasSuffix(b, ".") || strings.Contains(b, "..") ||
		strings.Contains(b, "//") || strings.Contains(b, "@{") || b == "@" {
		return false
	}
	return !strings.ContainsFunc(b, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune("~^:?*[\\", r)
	})
}

func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func validEmail(e string) bool {
	if len(e) > 254 || strings.ContainsAny(e, "<>\r\n\x00") {
		return false
	}
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e && a.Name == ""
}

// maxNameRunes bounds a person's name in a commit.
const maxNameRunes = 100

// cleanName makes a display name safe for a commit's author line and
// trailers: scribe.CleanText (one line, no control or format characters,
// at most 100 characters) with angle brackets, which would end the e-mail
// part of an identity, turned into spaces. It returns "" for a name with
// nothing left.
func cleanName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '<' || r == '>' {
			return ' '
		}
		return r
	}, name)
	return scribe.CleanText(name, maxNameRunes)
}

// emailFor derives an address for a person who gave none: the ASCII slug
// of the name at domain, or user-<hash> when the name has no ASCII letters.
func emailFor(name, domain string) string {
	local := scribe.SlugASCII(name)
	if local == "" {
		h := fnv.New32a()
		h.Write([]byte(name))
		local = fmt.Sprintf("user-%08x", h.Sum32())
	}
	if len(local) > 64 {
		local = strings.TrimRight(local[:64], "-")
	}
	return local + "@" + domain
}

// changesPage is how many changes Export reads from the log at a time (a
// variable for the tests).
var changesPage scribe.Revision = 1000

// Person is a commit identity.
type Person struct {
	Name  string
	Email string
}

// Snapshot is a note as Write exports it: what Export loads from the store.
type Snapshot struct {
	ID        scribe.NoteID
	Title     string // the note's title; the first level-1 heading wins
	Text      string // the note's markdown at Revision
	Revision  scribe.Revision
	CreatedAt time.Time // the meeting's date; zero means now
	// Editors are everyone who edited, in order of first edit: a name, and
	// an email only when it is known from sign-in (scribe.Change.Email).
	// Those with an email get Co-authored-by: trailers; the others are
	// guests, named in the message body. Duplicates and empty names are
	// ignored.
	Editors []Person
	// Edits are the note's stretches of editing, in order: what a re-export's
	// commit message counts ("12 edits by Ana and Bo since the last export").
	// Nil when not known; the message then only dates the last export.
	Edits []Edit
}

// editGap is the pause after which a person's next change starts a new edit.
const editGap = 10 * time.Minute

// Edit is one stretch of editing by one person: their changes with no
// pause longer than editGap between two of them. A revision counts a
// keystroke; an edit is what a reader would call one.
type Edit struct {
	Author string
	Last   scribe.Revision // the revision of the edit's last change
}

// edits groups changes into Edits as they are read from the log.
type edits struct {
	list []Edit
	open map[string]editRun // by author: their current edit
}

type editRun struct {
	i    int
	last time.Time
}

func (x *edits) add(c scribe.Change) {
	if x.open == nil {
		x.open = map[string]editRun{}
	}
	r, ok := x.open[c.Author]
	if !ok || c.Time.Sub(r.last) > editGap {
		x.list = append(x.list, Edit{Author: c.Author})
		r = editRun{i: len(x.list) - 1}
	}
	x.list[r.i].Last = c.Revision
	r.last = c.Time
	x.open[c.Author] = r
}

// Export loads the note and its editors from the store and writes it with
// Write. An unknown or malformed id gives ENOTFOUND; a request without an
// author name gives EINVALID; a req.Rev that is not the note's head gives
// ECONFLICT and commits nothing.
func (e *Exporter) Export(ctx context.Context, id scribe.NoteID, req scribe.ExportRequest) (scribe.ExportResult, error) {
	s, req, err := e.load(ctx, id, req)
	if err != nil {
		return scribe.ExportResult{}, err
	}
	if req.Rev != 0 && req.Rev != s.Revision {
		return scribe.ExportResult{}, scribe.Errorf(scribe.ECONFLICT,
			"The note changed since your preview (revision %d, now %d): nothing was committed. Look at the new preview, then commit it.", req.Rev, s.Revision)
	}
	res, err := e.Write(ctx, s, req)
	if err == nil {
		res.Revision = s.Revision // the history's "exported as <commit>" checkpoint goes here
	}
	return res, err
}

// Preview loads the note as Export does and returns what Export would
// commit now (see preview), writing nothing to the repository.
func (e *Exporter) Preview(ctx context.Context, id scribe.NoteID, req scribe.ExportRequest) (scribe.ExportPreview, error) {
	s, req, err := e.load(ctx, id, req)
	if err != nil {
		return scribe.ExportPreview{}, err
	}
	return e.preview(ctx, s, req)
}

// load reads what Export and Preview export: the note at its head, with
// its editors and edits, and the request completed with the note's
// export share when it names no link.
func (e *Exporter) load(ctx context.Context, id scribe.NoteID, req scribe.ExportRequest) (Snapshot, scribe.ExportRequest, error) {
	if !id.Valid() {
		return Snapshot{}, req, scribe.Errorf(scribe.ENOTFOUND, "Note not found.")
	}
	if _, err := exporterIdentity(req, e.cfg.EmailDomain); err != nil {
		return Snapshot{}, req, err
	}
	if e.store == nil {
		return Snapshot{}, req, scribe.Errorf(scribe.EUNAVAILABLE, "Export has no store to load notes from.")
	}
	doc, err := e.store.LoadNote(ctx, id)
	if err != nil {
		return Snapshot{}, req, fmt.Errorf("load note: %w", err)
	}
	if doc.Revision == 0 {
		return Snapshot{}, req, errUntouched
	}
	// Everyone who edited, in order of first edit. The log is read in pages
	// so a long history never sits in memory at once.
	editors := make([]Person, 0, 8)
	seen := map[Person]bool{}
	var stretches edits
	for from := scribe.Revision(0); from < doc.Revision; {
		to := min(from+changesPage, doc.Revision)
		changes, err := e.store.Changes(ctx, id, from, to)
		if f, ok := scribe.AsFolded(err); ok && f.Rev == to {
			// The page ends inside a fold of compacted history: read to
			// the fold's end (from is always a change's end, so never
			// inside one).
			changes, err = e.store.Changes(ctx, id, from, f.Above)
		}
		if err != nil {
			return Snapshot{}, req, fmt.Errorf("load changes: %w", err)
		}
		if len(changes) == 0 {
			break
		}
		for _, c := range changes {
			stretches.add(c)
			p := Person{Name: c.Author, Email: c.Email}
			if !seen[p] {
				seen[p] = true
				editors = append(editors, p)
			}
		}
		from = changes[len(changes)-1].Revision
	}
	if req.URL == "" && e.cfg.PublicURL != "" && !e.cfg.OmitURL {
		// scribe export without a server: the same export share the server
		// would record.
		sh, err := scribe.ExportShare(ctx, e.store, id, scribe.Person{Name: cleanName(req.Author), Email: req.Email})
		if err != nil {
			return Snapshot{}, req, fmt.Errorf("export share: %w", err)
		}
		req.URL = e.cfg.PublicURL + "/s/" + string(sh.Token)
	}
	return Snapshot{
		ID:        id,
		Title:     doc.Title,
		Text:      doc.Text,
		Revision:  doc.Revision,
		CreatedAt: doc.CreatedAt,
		Editors:   editors,
		Edits:     stretches.list,
	}, req, nil
}

// exporterIdentity checks the request and returns the person who exports.
func exporterIdentity(req scribe.ExportRequest, domain string) (Person, error) {
	name := cleanName(req.Author)
	if name == "" {
		return Person{}, scribe.Errorf(scribe.EINVALID, "Say who is exporting: the author name is required.")
	}
	email := strings.TrimSpace(req.Email)
	if email == "" {
		email = emailFor(name, domain)
	} else if !validEmail(email) {
		return Person{}, scribe.Errorf(scribe.EINVALID, "The email address %q is not valid.", req.Email)
	}
	return Person{Name: name, Email: email}, nil
}

// errUntouched and errEmpty refuse notes that would make junk commits.
var (
	errUntouched = scribe.Errorf(scribe.EINVALID, "Nothing to export yet: this note is still its template. Write the meeting's notes, then export.")
	errEmpty     = scribe.Errorf(scribe.EINVALID, "Nothing to export: this note has no text besides its headings. Write the meeting's notes, then export.")
)

// errNoLock is returned when ctx ends while waiting for another export.
var errNoLock = errors.New("wait for another export")
