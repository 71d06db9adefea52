package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/scribe-notes/scribe"
)

// maxSubjectTitleRunes keeps a commit subject readable in `git log --oneline`.
const maxSubjectTitleRunes = 60

// maxPathSuffix bounds the "-2", "-3", ... suffixes tried when another note
// already has a file name.
const maxPathSuffix = 1000

// Write exports a note that has already been loaded: it writes the file,
// commits it on the export branch and, with a remote configured, pushes.
//
// Guarantees:
//   - The file is <Dir>/YYYY-MM-DD-<slug>.md, the date being the note's
//     creation date in the configured zone and the slug built only by scribe.Slug;
//     nothing is written outside Dir. A name another note already uses gets
//     a "-2", "-3", ... suffix.
//   - A note exported before is found again by the key in its file's front
//     matter (wherever under Dir the file now lives) and updated in place.
//   - When the file would not change apart from the revision number, no
//     commit is made: the result has Unchanged set and the commit that last
//     wrote the file.
//   - History is only ever added to: the branch moves from its head to a
//     child of it, and pushes are never forced.
//   - A push failure leaves the local commit in place; the result then has
//     Pushed false and PushError saying why, and the next export pushes
//     both. A returned error means nothing was committed.
//
// Bad input (no author, an invalid email or note id) gives EINVALID.
func (e *Exporter) Write(ctx context.Context, s Snapshot, req scribe.ExportRequest) (scribe.ExportResult, error) {
	d, err := e.draft(s, req)
	if err != nil {
		return scribe.ExportResult{}, err
	}
	unlock, err := e.repo.lock(ctx)
	if err != nil {
		return scribe.ExportResult{}, errBusy
	}
	defer unlock()
	repo, err := git.PlainOpen(e.cfg.RepoPath)
	if err != nil {
		return scribe.ExportResult{}, fmt.Errorf("open export repository: %w", err)
	}
	pl, err := e.plan(repo, d)
	if err != nil {
		return scribe.ExportResult{}, err
	}
	if pl.unchanged {
		return e.unchanged(ctx, repo, pl.head, pl.path)
	}

	blob, err := writeBlob(repo.Storer, pl.content)
	if err != nil {
		return scribe.ExportResult{}, err
	}
	treeHash, err := putPath(repo.Storer, pl.tree, pl.path, &object.TreeEntry{Mode: filemode.Regular, Hash: blob})
	var nd errNotADirectory
	if errors.As(err, &nd) {
		return scribe.ExportResult{}, scribe.Errorf(scribe.EUNAVAILABLE, "Cannot export: %s.", nd.Error())
	} else if err != nil {
		return scribe.ExportResult{}, fmt.Errorf("build tree: %w", err)
	}
	// The decision log goes in the same commit, rebuilt from this tree.
	if treeHash, err = e.repo.withIndex(repo.Storer, treeHash); err != nil {
		return scribe.ExportResult{}, fmt.Errorf("build decision log: %w", err)
	}
	author := e.author(d.by)
	author.When = time.Now().In(e.cfg.Location).Truncate(time.Second)
	c := &object.Commit{
		Author:    author,
		Committer: author,
		Message:   pl.message,
		TreeHash:  treeHash,
	}
	if pl.head != nil {
		c.ParentHashes = []plumbing.Hash{pl.head.Hash}
	}
	commit, err := writeCommit(repo.Storer, c)
	if err != nil {
		return scribe.ExportResult{}, err
	}
	if err := e.repo.setBranch(repo, pl.head, commit); err != nil {
		return scribe.ExportResult{}, err
	}
	res := scribe.ExportResult{Path: pl.path, Commit: commit.String()}
	e.pushInto(ctx, repo, &res)
	if e.cfg.OnExport != nil {
		ev := scribe.ExportEvent{
			Title: d.title, Date: d.date, By: d.by.Name, URL: d.fm.URL, Path: res.Path, Commit: res.Commit,
			Pushed: res.Pushed, Decisions: d.sum.Decisions,
		}
		for _, a := range d.sum.ActionItems {
			ev.ActionItems = append(ev.ActionItems, scribe.ExportActionItem{Text: a.Text, Owner: a.Owner, Due: a.Due, Done: a.Done})
		}
		e.cfg.OnExport(ev)
	}
	return res, nil
}

// errBusy answers an export or preview whose context ended while another
// export held the repository.
var errBusy = scribe.Errorf(scribe.EUNAVAILABLE, "Another export is still running; try again.")

// preview computes what Write would commit for s now, by the same code
// (draft and plan), and writes nothing: no object, no reference. Its
// errors are Write's.
func (e *Exporter) preview(ctx context.Context, s Snapshot, req scribe.ExportRequest) (scribe.ExportPreview, error) {
	d, err := e.draft(s, req)
	if err != nil {
		return scribe.ExportPreview{}, err
	}
	// The lock gives a consistent view of the branch (and guards the
	// repository's caches), like an export's.
	unlock, err := e.repo.lock(ctx)
	if err != nil {
		return scribe.ExportPreview{}, errBusy
	}
	defer unlock()
	repo, err := git.PlainOpen(e.cfg.RepoPath)
	if err != nil {
		return scribe.ExportPreview{}, fmt.Errorf("open export repository: %w", err)
	}
	pl, err := e.plan(repo, d)
	if err != nil {
		return scribe.ExportPreview{}, err
	}
	p := scribe.ExportPreview{Path: pl.path, Content: string(pl.content), Message: pl.message, Revision: s.Revision, Unchanged: pl.unchanged}
	if pl.unchanged {
		last, err := lastCommitTouching(pl.head, pl.path)
		if err != nil {
			return scribe.ExportPreview{}, err
		}
		p.Commit = last.Hash.String()
	}
	return p, nil
}

// draft is what an export is made of that needs no repository: who
// exports, the front matter and body, the note's summary. It refuses
// what would be a junk commit.
type draft struct {
	by          Person
	fm          frontMatter
	body        string
	sum         Summary
	title, date string
	editors     []Person
	attendees   []string
	edits       []Edit
}

func (e *Exporter) draft(s Snapshot, req scribe.ExportRequest) (draft, error) {
	if !s.ID.Valid() {
		return draft{}, scribe.Errorf(scribe.EINVALID, "The note id is not valid.")
	}
	by, err := exporterIdentity(req, e.cfg.EmailDomain)
	if err != nil {
		return draft{}, err
	}
	if isEmptyNote(s.Text) {
		return draft{}, errEmpty
	}
	if matchesTemplate(s.Text, req.Template) {
		return draft{}, errUntouched
	}
	sum := Extract(s.Text)
	title := scribe.CleanText(sum.Title, 0)
	if title == "" {
		title = scribe.CleanText(s.Title, 0)
	}
	if title == "" {
		title = "Untitled notes"
	}
	created := s.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	created = created.In(e.cfg.Location).Truncate(time.Second)
	url := req.URL
	if e.cfg.OmitURL {
		url = ""
	}
	editors := people(s.Editors)
	attendees := mergeNames(sum.Attendees, editors)
	return draft{
		by: by, body: cleanBody(s.Text), sum: sum, title: title, date: created.Format(time.DateOnly),
		editors: editors, attendees: attendees, edits: s.Edits,
		fm: frontMatter{
			Title:       title,
			Date:        created,
			Attendees:   attendees,
			Decisions:   sum.Decisions,
			ActionItems: sum.ActionItems,
			URL:         url,
			Revision:    s.Revision,
			Key:         noteKey(s.ID),
		},
	}, nil
}

// plan is what an export commits, as Write commits it and Preview shows it.
type plan struct {
	head      *object.Commit // the export branch's head; nil before the first export
	tree      *object.Tree   // head's tree; nil with head
	path      string         // the note's file
	content   []byte         // the file's new content
	message   string         // the commit message
	unchanged bool           // the file would not change: no commit
}

// plan finds where the note goes on the export branch and writes its file
// and commit message, in memory. It is called with the repository locked.
func (e *Exporter) plan(repo *git.Repository, d draft) (plan, error) {
	var pl plan
	head, err := e.repo.branchHead(repo)
	if err != nil {
		return pl, err
	}
	pl.head = head
	if head != nil {
		if pl.tree, err = head.Tree(); err != nil {
			return pl, fmt.Errorf("read export branch tree: %w", err)
		}
	}
	p, old, found, err := e.repo.findNote(repo, pl.tree, d.fm.Key)
	if err != nil {
		return pl, err
	}
	if found {
		// Unchanged apart from the revision number is unchanged: an edit and
		// its undo do not deserve a commit.
		same := d.fm
		same.Revision = scribe.Revision(old.Revision)
		prev, err := renderFile(same, d.body)
		if err != nil {
			return pl, err
		}
		if entry := entryAt(pl.tree, p); entry != nil {
			cur, err := readBlob(repo.Storer, entry.Hash, -1)
			if err != nil {
				return pl, err
			}
			if bytes.Equal(cur, prev) {
				pl.path, pl.content, pl.unchanged = p, cur, true
				return pl, nil
			}
		}
	} else if p, err = freePath(pl.tree, e.cfg.Dir, d.date, scribe.Slug(d.title)); err != nil {
		return pl, err
	}
	pl.path = p
	if pl.content, err = renderFile(d.fm, d.body); err != nil {
		return pl, err
	}

	author := e.author(d.by)
	// Co-authored-by: only for editors whose email is known from sign-in;
	// guests gave a name nobody checked, and are named in the body.
	var coauthors []Person
	var guests []string
	for _, ed := range d.editors {
		switch {
		case ed.Email == "":
			if !strings.EqualFold(ed.Name, d.by.Name) {
				guests = append(guests, ed.Name)
			}
		case !strings.EqualFold(ed.Email, author.Email) && !strings.EqualFold(ed.Email, d.by.Email) && !strings.EqualFold(ed.Name, d.by.Name):
			coauthors = append(coauthors, ed)
		}
	}
	in := messageInput{
		Title: d.title, Date: d.date, By: d.by.Name,
		URL: d.fm.URL, Attendees: d.attendees, Summary: d.sum, CoAuthors: coauthors, Guests: guests,
	}
	if found && head != nil {
		if last, err := lastCommitTouching(head, p); err == nil {
			in.Since = sinceLastExport(d.edits, scribe.Revision(old.Revision), last.Author.When.In(e.cfg.Location))
		}
		if in.Since == "" {
			in.Since = "since the last export"
		}
	}
	pl.message = commitMessage(in)
	return pl, nil
}

// author is the commit's author (and committer), without a time: the
// person who exports, or the configured fixed identity.
func (e *Exporter) author(by Person) object.Signature {
	if e.cfg.AuthorName != "" {
		return object.Signature{Name: e.cfg.AuthorName, Email: e.cfg.AuthorEmail}
	}
	return object.Signature{Name: by.Name, Email: by.Email}
}

// unchanged answers an export that would not change the file: the commit
// that last wrote it, and a push if earlier ones are still local.
func (e *Exporter) unchanged(ctx context.Context, repo *git.Repository, head *object.Commit, p string) (scribe.ExportResult, error) {
	last, err := lastCommitTouching(head, p)
	if err != nil {
		return scribe.ExportResult{}, err
	}
	res := scribe.ExportResult{Path: p, Commit: last.Hash.String(), Unchanged: true}
	e.pushInto(ctx, repo, &res)
	return res, nil
}

// pushInto pushes the export branch, when a remote is configured, and
// records the outcome in res. A rebase changes commit hashes, so res.Commit
// is looked up again afterwards. The push outlives ctx's cancellation (the
// commit is made; a person closing the tab should not leave it half
// pushed) but not Config.PushTimeout.
func (e *Exporter) pushInto(ctx context.Context, repo *git.Repository, res *scribe.ExportResult) {
	if e.repo.remoteName == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.PushTimeout)
	defer cancel()
	before, _ := e.repo.branchHead(repo)
	headHash, err := e.repo.push(ctx, repo)
	if err != nil {
		msg := redact(err.Error())
		if e.cfg.Token != "" {
			msg = strings.ReplaceAll(msg, e.cfg.Token, "***")
		}
		msg = strings.TrimRight(scribe.CleanText(msg, 0), ".")
		res.PushError = fmt.Sprintf("The export is committed locally but was not pushed to %s: %s. The next export will push it again.",
			e.repo.remoteName, msg)
		return
	}
	res.Pushed = true
	if before != nil && headHash != before.Hash {
		if h, err := repo.CommitObject(headHash); err == nil {
			if last, err := lastCommitTouching(h, res.Path); err == nil {
				res.Commit = last.Hash.String()
			}
		}
	}
}

// freePath returns <dir>/<date>-<slug>.md, or the first of -2, -3, ...
// that no file or folder in tree uses yet.
func freePath(tree *object.Tree, dir, date, slug string) (string, error) {
	base := dir + "/" + date + "-" + slug
	for n := 1; n <= maxPathSuffix; n++ {
		p := base + ".md"
		if n > 1 {
			p = fmt.Sprintf("%s-%d.md", base, n)
		}
		if entryAt(tree, p) == nil {
			return p, nil
		}
	}
	return "", scribe.Errorf(scribe.ECONFLICT, "Too many notes named %q on %s.", slug, date)
}

// people cleans the editors: names made safe for a commit, empty names
// dropped, an email that is not a plain address dropped (its editor is a
// guest then). Members are kept once per email, guests once per name
// (case-insensitively); a guest whose name a member also has is dropped,
// the member covers it.
func people(editors []Person) []Person {
	var out []Person
	seen := map[string]bool{}
	for _, p := range editors {
		p.Name = cleanName(p.Name)
		p.Email = strings.TrimSpace(p.Email)
		if p.Email != "" && !validEmail(p.Email) {
			p.Email = ""
		}
		if p.Name == "" {
			continue
		}
		key := "name:" + strings.ToLower(p.Name)
		if p.Email != "" {
			key = "email:" + strings.ToLower(p.Email)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		seen["name:"+strings.ToLower(p.Name)] = true
		out = append(out, p)
	}
	// A guest seen before a member of the same name: the member covers it.
	members := map[string]bool{}
	for _, p := range out {
		if p.Email != "" {
			members[strings.ToLower(p.Name)] = true
		}
	}
	kept := out[:0]
	for _, p := range out {
		if p.Email == "" && members[strings.ToLower(p.Name)] {
			continue
		}
		kept = append(kept, p)
	}
	return kept
}

// mergeNames returns the attendees named in the note followed by the
// editors not among them (case-insensitively).
func mergeNames(named []string, editors []Person) []string {
	out := make([]string, 0, len(named)+len(editors))
	seen := map[string]bool{}
	add := func(n string) {
		n = scribe.CleanText(n, 0)
		if n != "" && !seen[strings.ToLower(n)] {
			seen[strings.ToLower(n)] = true
			out = append(out, n)
		}
	}
	for _, n := range named {
		add(n)
	}
	for _, p := range editors {
		add(p.Name)
	}
	return out
}

// sinceLastExport says what happened to a note since its export at
// revision prev on the day last: "12 edits by Ana and Bo since the last
// export on 2026-11-27". Without edits (not known, or none after prev) it
// only dates the last export.
func sinceLastExport(list []Edit, prev scribe.Revision, last time.Time) string {
	n := 0
	var names []string
	seen := map[string]bool{}
	for _, ed := range list {
		if ed.Last <= prev {
			continue
		}
		n++
		name := cleanName(ed.Author)
		if name != "" && !seen[strings.ToLower(name)] {
			seen[strings.ToLower(name)] = true
			names = append(names, name)
		}
	}
	on := "since the last export on " + last.Format(time.DateOnly)
	if n == 0 {
		return on
	}
	what := "1 edit"
	if n > 1 {
		what = fmt.Sprintf("%d edits", n)
	}
	if len(names) > 0 {
		what += " by " + joinNames(names)
	}
	return what + " " + on
}

// joinNames writes "Ana", "Ana and Bo", "Ana, Bo and Cy".
func joinNames(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

type messageInput struct {
	Title string
	Date  string
	By    string
	// Since says what changed since the previous export ("12 edits by Ana
	// since the last export on 2026-11-27"); "" for a first export.
	Since     string
	URL       string
	Attendees []string
	Summary   Summary
	CoAuthors []Person // editors known from sign-in, as trailers
	Guests    []string // editors who only gave a name, in the body
}

// commitMessage writes the message a developer reads in `git log`:
//
//	Meeting notes: <title> (<date>)
//
//	Exported from Scribe by <name>.
//	(or: Updated from Scribe by <name>: 12 edits by Ana and Bo since the last export on <date>.)
//	Attendees: ...
//	Guest editors (names not verified): ...
//
//	Decisions:
//	- ...
//
//	Action items:
//	- [ ] text (@owner, due YYYY-MM-DD)
//
//	Co-authored-by: Name <email>
func commitMessage(in messageInput) string {
	var b strings.Builder
	title := in.Title
	if utf8.RuneCountInString(title) > maxSubjectTitleRunes {
		title = strings.TrimSpace(string([]rune(title)[:maxSubjectTitleRunes-1])) + "…"
	}
	fmt.Fprintf(&b, "Meeting notes: %s (%s)\n\n", title, in.Date)
	if in.Since == "" {
		fmt.Fprintf(&b, "Exported from Scribe by %s.\n", in.By)
	} else {
		fmt.Fprintf(&b, "Updated from Scribe by %s: %s.\n", in.By, in.Since)
	}
	if in.URL != "" {
		fmt.Fprintf(&b, "Read-only note: %s\n", scribe.CleanText(in.URL, 0))
	}
	if len(in.Attendees) > 0 {
		fmt.Fprintf(&b, "Attendees: %s.\n", strings.Join(in.Attendees, ", "))
	}
	if len(in.Guests) > 0 {
		fmt.Fprintf(&b, "Guest editors (names not verified): %s.\n", strings.Join(in.Guests, ", "))
	}
	if len(in.Summary.Decisions) > 0 {
		b.WriteString("\nDecisions:\n")
		for _, d := range in.Summary.Decisions {
			fmt.Fprintf(&b, "- %s\n", d)
		}
	}
	if len(in.Summary.ActionItems) > 0 {
		b.WriteString("\nAction items:\n")
		for _, a := range in.Summary.ActionItems {
			box := "[ ]"
			if a.Done {
				box = "[x]"
			}
			var extra []string
			if a.Owner != "" && !mentions(a.Text, a.Owner) {
				extra = append(extra, "@"+a.Owner)
			}
			if a.Due != "" {
				extra = append(extra, "due "+a.Due)
			}
			line := fmt.Sprintf("- %s %s", box, a.Text)
			if len(extra) > 0 {
				line += " (" + strings.Join(extra, ", ") + ")"
			}
			b.WriteString(line + "\n")
		}
	}
	if len(in.Summary.Decisions) == 0 && len(in.Summary.ActionItems) == 0 {
		b.WriteString("\nNo decisions or action items were recorded.\n")
	}
	if len(in.CoAuthors) > 0 {
		b.WriteString("\n")
		for _, p := range in.CoAuthors {
			fmt.Fprintf(&b, "Co-authored-by: %s <%s>\n", p.Name, p.Email)
		}
	}
	return b.String()
}

// mentions reports whether text already names owner as an @mention, so
// "@ana fix the build" is not followed by "(@ana)".
func mentions(text, owner string) bool {
	for _, m := range mentionRe.FindAllStringSubmatch(text, -1) {
		if strings.EqualFold(strings.TrimRight(m[1], ".-"), owner) {
			return true
		}
	}
	return false
}
