package export

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// gitEnv isolates the git binary from the machine's configuration.
var gitEnv = append(os.Environ(),
	"GIT_CONFIG_NOSYSTEM=1",
	"GIT_CONFIG_GLOBAL=/dev/null",
	"GIT_AUTHOR_NAME=Test Human", "GIT_AUTHOR_EMAIL=human@example.com",
	"GIT_COMMITTER_NAME=Test Human", "GIT_COMMITTER_EMAIL=human@example.com",
	"LC_ALL=C",
)

// git runs the real git binary in dir and returns its trimmed output.
func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gitErr(dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func gitErr(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// fsck checks that the repository (or bare repository) at dir is sound.
func fsck(t *testing.T, dir string) {
	t.Helper()
	if out := runGit(t, dir, "fsck", "--strict", "--no-dangling"); out != "" {
		t.Errorf("git fsck --strict in %s reports:\n%s", dir, out)
	}
}

// bareRepo creates an empty bare repository to push to.
func bareRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "remote.git")
	runGit(t, t.TempDir(), "init", "--bare", "--initial-branch=main", dir)
	return dir
}

func newExporter(t *testing.T, cfg Config) *Exporter {
	t.Helper()
	if cfg.RepoPath == "" {
		cfg.RepoPath = filepath.Join(t.TempDir(), "repo")
	}
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func mustWrite(t *testing.T, e *Exporter, s Snapshot, author string) scribe.ExportResult {
	t.Helper()
	res, err := e.Write(context.Background(), s, scribe.ExportRequest{Author: author})
	if err != nil {
		t.Fatalf("Write(%q): %v", s.Title, err)
	}
	return res
}

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

const weeklyText = `# Weekly sync: "Q4" planning

## Attendees
- Ada Lovelace
- Grace Hopper (facilitator)

## Notes
We looked at the *roadmap* and the [dashboard](https://example.com/d).

| Area | Owner |
|------|-------|
| API  | Ada   |

## Decisions
- Ship v2 on Friday
- Keep ~~Redis~~ the embedded store as the default

## Action items
- [ ] Write the release notes @grace due 2026-12-01
- [x] Book the room @ada
- [ ] Ask legal about the licence by 2026-11-30
`

func weeklySnapshot(t *testing.T) Snapshot {
	return Snapshot{
		ID:        "AAAAAAAAAAAAAAAAAAAAAA",
		Title:     "Weekly sync",
		Text:      weeklyText,
		Revision:  42,
		CreatedAt: time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC), // Nov 24 in Berlin
		// Members (an email from sign-in) and guests (a name only), with
		// an empty name, a repeat, a bad email and a forged trailer.
		Editors: []Person{
			{Name: "Ada Lovelace", Email: "ada@example.com"}, {Name: "Linus", Email: "linus@example.com"}, {Name: ""},
			{Name: "ada lovelace"}, {Name: "José Müller"}, {Name: "Grace", Email: "grace@example.com>\nSigned-off-by: x"},
			{Name: "Eve <evil@x>\nSigned-off-by: Mallory"}, {Name: "Linus", Email: "linus@example.com"},
		},
	}
}

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestWriteFileAndCommit(t *testing.T) {
	e := newExporter(t, Config{Location: berlin(t), PublicURL: "https://scribe.example.com/"})
	repo := e.cfg.RepoPath
	res, err := e.Write(context.Background(), weeklySnapshot(t), scribe.ExportRequest{Author: "Ada Lovelace", URL: "https://scribe.example.com/s/ROtokenROtokenROtokenR"})
	if err != nil {
		t.Fatal(err)
	}

	wantPath := "docs/meetings/2026-11-24-weekly-sync-q4-planning.md"
	if res.Path != wantPath || res.Unchanged || res.Pushed || res.PushError != "" {
		t.Fatalf("result = %+v, want path %s, a new commit, no push", res, wantPath)
	}
	if head := runGit(t, repo, "rev-parse", "HEAD"); head != res.Commit {
		t.Errorf("HEAD = %s, result commit = %s", head, res.Commit)
	}
	golden(t, "weekly-sync.md", runGit(t, repo, "show", "HEAD:"+wantPath)+"\n")
	golden(t, "weekly-sync.commit.txt", runGit(t, repo, "log", "-1", "--format=%B")+"\n")

	if got := runGit(t, repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>"); got != "Ada Lovelace <ada-lovelace@users.noreply.scribe.invalid>|Ada Lovelace <ada-lovelace@users.noreply.scribe.invalid>" {
		t.Errorf("author|committer = %q", got)
	}
	if got := runGit(t, repo, "log", "-1", "--format=%ad", "--date=iso-strict"); !strings.HasSuffix(got, "+01:00") {
		t.Errorf("commit date %q is not in Europe/Berlin", got)
	}
	trailers := runGit(t, repo, "log", "-1", "--format=%(trailers:key=Co-authored-by,valueonly)")
	// Trailers only for editors whose email is known from sign-in; guests
	// (and an editor with a malformed email) are named in the body.
	wantTrailers := "Linus <linus@example.com>"
	if trailers != wantTrailers {
		t.Errorf("Co-authored-by trailers:\n%s\nwant\n%s", trailers, wantTrailers)
	}
	if body := runGit(t, repo, "log", "-1", "--format=%B"); !strings.Contains(body, "\nGuest editors (names not verified): José Müller, Grace, Eve evil@x Signed-off-by: Mallory.\n") {
		t.Errorf("guests are not named in the body:\n%s", body)
	}
	if got := runGit(t, repo, "log", "-1", "--format=%(trailers:key=Signed-off-by)"); got != "" {
		t.Errorf("an editor's name forged a trailer: %q", got)
	}
	if got := runGit(t, repo, "status", "--porcelain"); got != "" {
		t.Errorf("worktree not clean after export:\n%s", got)
	}
	if got := runGit(t, repo, "ls-files"); got != wantPath+"\ndocs/meetings/README.md" {
		t.Errorf("tracked files = %q", got)
	}
	if got := runGit(t, repo, "symbolic-ref", "HEAD"); got != "refs/heads/main" {
		t.Errorf("HEAD = %q, want refs/heads/main", got)
	}
	fsck(t, repo)
}

func TestReexport(t *testing.T) {
	e := newExporter(t, Config{})
	repo := e.cfg.RepoPath
	s := weeklySnapshot(t)
	first := mustWrite(t, e, s, "Ada Lovelace")

	// Same note, nothing changed: no commit, the same commit reported.
	again := mustWrite(t, e, s, "Grace Hopper")
	if !again.Unchanged || again.Commit != first.Commit || again.Path != first.Path {
		t.Errorf("re-export of an unchanged note = %+v, want Unchanged at %s", again, first.Commit)
	}
	// An edit and its undo move the revision but not the text: still unchanged.
	s.Revision = 44
	if res := mustWrite(t, e, s, "Ada Lovelace"); !res.Unchanged {
		t.Errorf("revision-only change made a commit: %+v", res)
	}
	if n := runGit(t, repo, "rev-list", "--count", "HEAD"); n != "1" {
		t.Fatalf("%s commits after unchanged re-exports, want 1", n)
	}

	// Another note's export in between; then a real change to the first
	// note, with a new title: the same file is updated in a new commit.
	other := Snapshot{ID: "BBBBBBBBBBBBBBBBBBBBBB", Title: "Retro", Text: "# Retro\nWent well.\n", CreatedAt: s.CreatedAt}
	otherRes := mustWrite(t, e, other, "Grace Hopper")
	s.Revision = 57
	s.Text = strings.Replace(s.Text, "# Weekly sync", "# Renamed sync", 1) + "- [ ] One more thing @linus\n"
	changed := mustWrite(t, e, s, "Grace Hopper")
	if changed.Unchanged || changed.Path != first.Path || changed.Commit == first.Commit {
		t.Fatalf("re-export after an edit = %+v, want a new commit to %s", changed, first.Path)
	}
	if got := runGit(t, repo, "rev-parse", "HEAD~1"); got != otherRes.Commit {
		t.Errorf("the update is not a child of the previous head")
	}
	if n := runGit(t, repo, "rev-list", "--count", "HEAD", "--", first.Path); n != "2" {
		t.Errorf("%s commits touch %s, want 2", n, first.Path)
	}
	file := runGit(t, repo, "show", "HEAD:"+first.Path)
	if !strings.Contains(file, "revision: 57") || !strings.Contains(file, `title: "Renamed sync: \"Q4\" planning"`) {
		t.Errorf("updated file lacks the new revision or title:\n%s", file)
	}
	msg := runGit(t, repo, "log", "-1", "--format=%B")
	if !strings.Contains(msg, "Updated from Scribe by Grace Hopper: since the last export on "+time.Now().UTC().Format(time.DateOnly)+".") ||
		!strings.Contains(msg, "- [ ] One more thing (@linus)") {
		t.Errorf("update message:\n%s", msg)
	}
	// Unchanged again now reports the update's commit, not HEAD's parent.
	if res := mustWrite(t, e, s, "Ada Lovelace"); !res.Unchanged || res.Commit != changed.Commit {
		t.Errorf("unchanged after update = %+v, want commit %s", res, changed.Commit)
	}
	// The file survives being moved by hand into a subfolder: it is found
	// there and updated in place.
	if err := os.MkdirAll(filepath.Join(repo, "docs/meetings/2026"), 0o755); err != nil {
		t.Fatal(err)
	}
	runGit(t, repo, "mv", first.Path, "docs/meetings/2026/")
	runGit(t, repo, "commit", "-q", "-m", "Archive 2026 meetings")
	s.Text += "More.\n"
	s.Revision++
	moved := mustWrite(t, e, s, "Ada Lovelace")
	if moved.Path != "docs/meetings/2026/"+filepath.Base(first.Path) {
		t.Errorf("moved file exported to %s", moved.Path)
	}
	fsck(t, repo)
	if got := runGit(t, repo, "status", "--porcelain"); got != "" {
		t.Errorf("worktree not clean:\n%s", got)
	}
}

// safeName is every file name an export may produce.
var safeName = regexp.MustCompile(`^docs/meetings/\d{4}-\d{2}-\d{2}-[\p{L}\p{Nd}]+(-[\p{L}\p{Nd}]+)*\.md$`)

func TestHostileTitles(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	e := newExporter(t, Config{RepoPath: repo})
	titles := []string{
		"../../etc/passwd",
		"/etc/passwd",
		"..",
		".git/config",
		`C:\Windows\system32`,
		"a/../../b",
		"ctrl\x00\x01\x1b[31m\r\nchars\u202egnp.exe",
		"🎉🎉🎉",
		"",
		"   ",
		strings.Repeat("x", 10000),
		strings.Repeat("日本語", 3000),
		"--force",
		"CON",
		"~/.ssh/id_rsa",
		"name.md\x00.txt",
		"Café ÜBER straße",
	}
	day := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	paths := map[string]bool{}
	for i, title := range titles {
		id := scribe.NoteID(fmt.Sprintf("hostile%015d", i))
		// The title comes both from the metadata and from the first heading.
		for j, text := range []string{"no heading\n", "# " + title + "\nNotes.\n"} {
			s := Snapshot{ID: id, Title: title, Text: text, CreatedAt: day}
			if j == 1 {
				s.ID = scribe.NoteID(fmt.Sprintf("hostileH%014d", i))
			}
			res := mustWrite(t, e, s, "Ada")
			if !safeName.MatchString(res.Path) || len(filepath.Base(res.Path)) > 120 {
				t.Errorf("title %q gave path %q", title, res.Path)
			}
			if paths[res.Path] {
				t.Errorf("title %q reused path %q of another note", title, res.Path)
			}
			paths[res.Path] = true
		}
	}
	if got := runGit(t, repo, "ls-files", "-z"); strings.Count(got, "\x00") != len(paths)+1 {
		t.Errorf("repository tracks %d files, want %d and the decision log", strings.Count(got, "\x00"), len(paths))
	}
	for _, f := range strings.Split(runGit(t, repo, "ls-files", "-z"), "\x00") {
		if f != "" && !safeName.MatchString(f) && f != "docs/meetings/README.md" {
			t.Errorf("tracked file %q outside the safe names", f)
		}
	}
	entries, err := os.ReadDir(root)
	if err != nil || len(entries) != 1 {
		t.Errorf("export wrote next to the repository: %v %v", entries, err)
	}
	if _, err := os.Stat(filepath.Join(repo, "etc")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an etc folder appeared in the repository")
	}
	if got := scribe.Slug("🎉🎉🎉"); got != "note" {
		t.Errorf("Slug(emoji) = %q", got)
	}
	if got := scribe.Slug("Café ÜBER straße"); got != "cafe-uber-strasse" {
		t.Errorf("Slug(Café ÜBER straße) = %q", got)
	}
	fsck(t, repo)
	if got := runGit(t, repo, "status", "--porcelain"); got != "" {
		t.Errorf("worktree not clean:\n%s", got)
	}
}

func TestSameTitleSameDay(t *testing.T) {
	e := newExporter(t, Config{})
	day := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	a := mustWrite(t, e, Snapshot{ID: "AAAAAAAAAAAAAAAAAAAAAA", Text: "# Standup\nA\n", CreatedAt: day}, "Ada")
	b := mustWrite(t, e, Snapshot{ID: "BBBBBBBBBBBBBBBBBBBBBB", Text: "# Standup\nB\n", CreatedAt: day}, "Ada")
	if a.Path != "docs/meetings/2026-11-24-standup.md" || b.Path != "docs/meetings/2026-11-24-standup-2.md" {
		t.Errorf("paths %s and %s", a.Path, b.Path)
	}
	// Re-exporting the second finds its own file, not the first.
	c := mustWrite(t, e, Snapshot{ID: "BBBBBBBBBBBBBBBBBBBBBB", Text: "# Standup\nB2\n", CreatedAt: day, Revision: 1}, "Ada")
	if c.Path != b.Path {
		t.Errorf("re-export went to %s, want %s", c.Path, b.Path)
	}
	if got := runGit(t, e.cfg.RepoPath, "show", "HEAD:"+a.Path); !strings.HasSuffix(got, "# Standup\nA") {
		t.Errorf("the first note's file changed:\n%s", got)
	}
}

func TestConcurrentExports(t *testing.T) {
	remote := bareRepo(t)
	e := newExporter(t, Config{Remote: remote})
	// A second Exporter on the same repository stands in for another
	// process (scribe export next to scribe serve): the lock file
	// serialises them.
	e2, err := New(e.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 12
	var wg sync.WaitGroup
	results := make([]scribe.ExportResult, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ex := e
			if i%2 == 1 {
				ex = e2
			}
			results[i], errs[i] = ex.Write(context.Background(), Snapshot{
				ID:        scribe.NoteID(fmt.Sprintf("concurrent%012d", i)),
				Text:      fmt.Sprintf("# Meeting %d\n\n- [ ] task %d\n", i, i),
				CreatedAt: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
			}, scribe.ExportRequest{Author: fmt.Sprintf("Person %d", i)})
		}()
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil || !results[i].Pushed || results[i].Unchanged {
			t.Errorf("export %d: %+v, %v", i, results[i], errs[i])
		}
	}
	repo := e.cfg.RepoPath
	if got := runGit(t, repo, "rev-list", "--count", "HEAD"); got != fmt.Sprint(n) {
		t.Errorf("%s commits, want %d", got, n)
	}
	if got := runGit(t, repo, "rev-list", "--merges", "HEAD"); got != "" {
		t.Errorf("history has merges: %s", got)
	}
	files := strings.Split(runGit(t, repo, "ls-files"), "\n")
	if len(files) != n+1 {
		t.Errorf("%d files, want %d and the decision log: %v", len(files), n, files)
	}
	// Every commit's decision log lists exactly the meetings in its tree,
	// whichever export won the race to the lock.
	for i := 0; i < n; i++ {
		rev := fmt.Sprintf("HEAD~%d", i)
		index := runGit(t, repo, "show", rev+":docs/meetings/README.md")
		inTree := strings.Count(runGit(t, repo, "ls-tree", "--name-only", rev+":docs/meetings"), "\n")
		if got := strings.Count(index, "\n## "); got != inTree || got != n-i {
			t.Errorf("%s: the decision log lists %d meetings, the tree holds %d, want %d:\n%s", rev, got, inTree, n-i, index)
		}
	}
	if local, pushed := runGit(t, repo, "rev-parse", "main"), runGit(t, remote, "rev-parse", "main"); local != pushed {
		t.Errorf("remote main %s, local main %s", pushed, local)
	}
	fsck(t, repo)
	fsck(t, remote)
	if got := runGit(t, repo, "status", "--porcelain"); got != "" {
		t.Errorf("worktree not clean:\n%s", got)
	}
}

func TestPushToBareRemote(t *testing.T) {
	remote := bareRepo(t)
	e := newExporter(t, Config{Remote: remote})
	res := mustWrite(t, e, weeklySnapshot(t), "Ada Lovelace")
	if !res.Pushed || res.PushError != "" {
		t.Fatalf("result = %+v, want pushed", res)
	}
	if got := runGit(t, remote, "rev-parse", "main"); got != res.Commit {
		t.Errorf("remote main = %s, want %s", got, res.Commit)
	}
	if got := runGit(t, e.cfg.RepoPath, "remote", "get-url", "origin"); got != remote {
		t.Errorf("origin = %q, want %q", got, remote)
	}
	// Unchanged re-export: nothing to push, still reported as pushed.
	if again := mustWrite(t, e, weeklySnapshot(t), "Ada Lovelace"); !again.Unchanged || !again.Pushed {
		t.Errorf("unchanged re-export = %+v", again)
	}
	fsck(t, remote)
}

func TestRemoteMovedAhead(t *testing.T) {
	remote := bareRepo(t)
	e := newExporter(t, Config{Remote: remote, Location: berlin(t)})
	first := mustWrite(t, e, weeklySnapshot(t), "Ada Lovelace")
	if !first.Pushed {
		t.Fatalf("first export not pushed: %+v", first)
	}

	// Someone else pushes a commit of their own.
	human := filepath.Join(t.TempDir(), "human")
	runGit(t, t.TempDir(), "clone", "-q", remote, human)
	if err := os.WriteFile(filepath.Join(human, "README.md"), []byte("# Team docs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, human, "add", "README.md")
	runGit(t, human, "commit", "-q", "-m", "Add a README")
	runGit(t, human, "push", "-q", "origin", "main")
	theirs := runGit(t, human, "rev-parse", "HEAD")

	res := mustWrite(t, e, Snapshot{ID: "CCCCCCCCCCCCCCCCCCCCCC", Text: "# Retro\n\n## Decisions\n- Fewer meetings\n", CreatedAt: time.Now()}, "Grace Hopper")
	if !res.Pushed || res.PushError != "" {
		t.Fatalf("export after the remote moved = %+v", res)
	}
	if got := runGit(t, remote, "rev-parse", "main"); got != res.Commit {
		t.Errorf("remote main = %s, want the export %s", got, res.Commit)
	}
	if got := runGit(t, remote, "rev-parse", "main~1"); got != theirs {
		t.Errorf("the export is not rebased onto the other commit: parent %s, want %s", got, theirs)
	}
	if got := runGit(t, remote, "rev-list", "--count", "main"); got != "3" {
		t.Errorf("%s commits on the remote, want 3", got)
	}
	if got := runGit(t, remote, "log", "-1", "--format=%an|%s", "main"); got != "Grace Hopper|Meeting notes: Retro ("+time.Now().In(berlin(t)).Format(time.DateOnly)+")" {
		t.Errorf("rebased commit = %q", got)
	}
	// The local clone now has the other person's file, checked out.
	if b, err := os.ReadFile(filepath.Join(e.cfg.RepoPath, "README.md")); err != nil || string(b) != "# Team docs\n" {
		t.Errorf("README not in the export repository's worktree: %q %v", b, err)
	}
	if got := runGit(t, e.cfg.RepoPath, "status", "--porcelain"); got != "" {
		t.Errorf("worktree not clean:\n%s", got)
	}
	fsck(t, remote)
	fsck(t, e.cfg.RepoPath)
}

func TestUnreachableRemote(t *testing.T) {
	remote := filepath.Join(t.TempDir(), "not-yet", "remote.git")
	e := newExporter(t, Config{Remote: remote})
	res := mustWrite(t, e, weeklySnapshot(t), "Ada Lovelace")
	if res.Pushed || !strings.Contains(res.PushError, "committed locally") || res.Commit == "" {
		t.Fatalf("result = %+v, want a local commit and a push error", res)
	}
	if got := runGit(t, e.cfg.RepoPath, "rev-parse", "HEAD"); got != res.Commit {
		t.Errorf("local commit missing: HEAD %s, result %s", got, res.Commit)
	}
	t.Logf("push error: %s", res.PushError)

	// Once the remote is there, the next export pushes the earlier commit too.
	if err := os.MkdirAll(filepath.Dir(remote), 0o755); err != nil {
		t.Fatal(err)
	}
	runGit(t, t.TempDir(), "init", "-q", "--bare", "--initial-branch=main", remote)
	again := mustWrite(t, e, weeklySnapshot(t), "Ada Lovelace")
	if !again.Unchanged || !again.Pushed {
		t.Fatalf("retry = %+v, want unchanged and pushed", again)
	}
	if got := runGit(t, remote, "rev-parse", "main"); got != res.Commit {
		t.Errorf("remote main = %s, want %s", got, res.Commit)
	}
}

func TestRedactCredentials(t *testing.T) {
	got := redact(`push https://user:s3cret@example.com/x.git: authentication required`)
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "https://***@example.com/x.git") {
		t.Errorf("redact = %q", got)
	}
}

func TestNewRepositoryStartsFromRemote(t *testing.T) {
	remote := bareRepo(t)
	human := filepath.Join(t.TempDir(), "human")
	runGit(t, t.TempDir(), "clone", "-q", remote, human)
	if err := os.MkdirAll(filepath.Join(human, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(human, "docs", "index.md"), []byte("# Docs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, human, "add", ".")
	runGit(t, human, "commit", "-q", "-m", "Start the docs")
	runGit(t, human, "push", "-q", "origin", "main")
	theirs := runGit(t, human, "rev-parse", "HEAD")

	e := newExporter(t, Config{Remote: remote})
	if b, err := os.ReadFile(filepath.Join(e.cfg.RepoPath, "docs", "index.md")); err != nil || string(b) != "# Docs\n" {
		t.Errorf("new export repository did not start from the remote: %q %v", b, err)
	}
	res := mustWrite(t, e, weeklySnapshot(t), "Ada")
	if !res.Pushed {
		t.Fatalf("result = %+v", res)
	}
	if got := runGit(t, remote, "rev-parse", "main~1"); got != theirs {
		t.Errorf("first export's parent = %s, want %s", got, theirs)
	}
}

func TestExportBranchNotCheckedOut(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	runGit(t, t.TempDir(), "init", "-q", "--initial-branch=main", repo)
	runGit(t, repo, "commit", "-q", "--allow-empty", "-m", "Initial commit")
	runGit(t, repo, "checkout", "-q", "-b", "feature")
	if err := os.WriteFile(filepath.Join(repo, "wip.txt"), []byte("work in progress\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, repo, "add", "wip.txt") // staged by a human: must stay staged, uncommitted
	e := newExporter(t, Config{RepoPath: repo})
	res := mustWrite(t, e, weeklySnapshot(t), "Ada")
	if got := runGit(t, repo, "rev-parse", "main"); got != res.Commit {
		t.Errorf("main = %s, want the export %s", got, res.Commit)
	}
	if got := runGit(t, repo, "symbolic-ref", "--short", "HEAD"); got != "feature" {
		t.Errorf("HEAD moved to %s", got)
	}
	if got := runGit(t, repo, "status", "--porcelain"); got != "A  wip.txt" {
		t.Errorf("status = %q, want only the staged wip.txt", got)
	}
	if _, err := os.Stat(filepath.Join(repo, res.Path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the export was written into another branch's worktree")
	}
	if got := runGit(t, repo, "ls-tree", "-r", "--name-only", "main"); got != res.Path+"\ndocs/meetings/README.md" {
		t.Errorf("main holds %q", got)
	}
	fsck(t, repo)
}

func TestDirtyWorktreeIsLeftAlone(t *testing.T) {
	e := newExporter(t, Config{})
	repo := e.cfg.RepoPath
	s := weeklySnapshot(t)
	res := mustWrite(t, e, s, "Ada")
	// Someone edits the checked-out file by hand without committing.
	full := filepath.Join(repo, res.Path)
	if err := os.WriteFile(full, []byte("hand edit\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Text += "\nMore notes.\n"
	s.Revision++
	again := mustWrite(t, e, s, "Ada")
	if again.Unchanged {
		t.Fatal("edit not exported")
	}
	if b, _ := os.ReadFile(full); string(b) != "hand edit\n" {
		t.Errorf("the hand edit was overwritten: %q", b)
	}
	if got := runGit(t, repo, "show", "HEAD:"+res.Path); !strings.Contains(got, "More notes.") {
		t.Errorf("commit lacks the edit")
	}
}

func TestFixedAuthor(t *testing.T) {
	e := newExporter(t, Config{AuthorName: "Scribe Bot", AuthorEmail: "bot@example.com", EmailDomain: "example.com", OmitURL: true, PublicURL: "https://x"})
	res, err := e.Write(context.Background(), weeklySnapshot(t), scribe.ExportRequest{Author: "Grace Hopper", Email: "grace@navy.example", URL: "https://scribe/n/secret"})
	if err != nil {
		t.Fatal(err)
	}
	repo := e.cfg.RepoPath
	if got := runGit(t, repo, "log", "-1", "--format=%an <%ae>"); got != "Scribe Bot <bot@example.com>" {
		t.Errorf("author = %q", got)
	}
	msg := runGit(t, repo, "log", "-1", "--format=%B")
	if !strings.Contains(msg, "Exported from Scribe by Grace Hopper") || !strings.Contains(msg, "Co-authored-by: Ada Lovelace <ada@example.com>") {
		t.Errorf("message:\n%s", msg)
	}
	if file := runGit(t, repo, "show", "HEAD:"+res.Path); strings.Contains(file, "url:") || strings.Contains(msg+file, "secret") {
		t.Errorf("OmitURL still records the URL:\n%s\n%s", file, msg)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newExporter(t, Config{})
	s := weeklySnapshot(t)
	for _, req := range []scribe.ExportRequest{
		{Author: ""},
		{Author: " \n\t "},
		{Author: "Ada", Email: "not an email"},
		{Author: "Ada", Email: "ada@example.com>\nInjected: x"},
		{Author: "Ada", Email: "Ada <ada@example.com>"},
	} {
		_, err := e.Write(context.Background(), s, req)
		if scribe.ErrorCode(err) != scribe.EINVALID {
			t.Errorf("Write(%+v) error = %v, want EINVALID", req, err)
		}
	}
	bad := s
	bad.ID = "../../etc/passwd"
	if _, err := e.Write(context.Background(), bad, scribe.ExportRequest{Author: "Ada"}); scribe.ErrorCode(err) != scribe.EINVALID {
		t.Errorf("bad id error = %v", err)
	}
	if out, err := gitErr(e.cfg.RepoPath, "rev-parse", "--verify", "-q", "HEAD"); err == nil {
		t.Errorf("a commit was made: %s", out)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []Config{
		{},
		{RepoPath: "x", Dir: "../docs"},
		{RepoPath: "x", Dir: "/docs"},
		{RepoPath: "x", Dir: "docs/../../x"},
		{RepoPath: "x", Dir: "docs/"},
		{RepoPath: "x", Dir: "./docs"},
		{RepoPath: "x", Dir: "."},
		{RepoPath: "x", Dir: ".git/hooks"},
		{RepoPath: "x", Dir: "docs/.GIT"},
		{RepoPath: "x", Dir: `docs\meetings`},
		{RepoPath: "x", Dir: "C:/docs"},
		{RepoPath: "x", Dir: "docs\nmeetings"},
		{RepoPath: "x", Branch: "main..x"},
		{RepoPath: "x", Branch: "-f"},
		{RepoPath: "x", Branch: "a b"},
		{RepoPath: "x", EmailDomain: "not a domain"},
		{RepoPath: "x", AuthorName: "Bot <x>"},
		{RepoPath: "x", AuthorName: "Bot", AuthorEmail: "nope"},
	} {
		if err := c.setDefaults(); scribe.ErrorCode(err) != scribe.EINVALID {
			t.Errorf("Config %+v: error %v, want EINVALID", c, err)
		}
	}
	ok := Config{RepoPath: "x", Dir: "docs/meeting-notes/2026"}
	if err := ok.setDefaults(); err != nil || ok.Branch != "main" || ok.Location != time.UTC {
		t.Errorf("valid config: %v %+v", err, ok)
	}
}

func TestOpenExistingRepository(t *testing.T) {
	// A repository whose only branch is master: exporting to main would
	// start an unrelated history, so New refuses and names the branches.
	repo := filepath.Join(t.TempDir(), "repo")
	runGit(t, t.TempDir(), "init", "-q", "--initial-branch=master", repo)
	runGit(t, repo, "commit", "-q", "--allow-empty", "-m", "Initial commit")
	_, err := New(Config{RepoPath: repo}, nil)
	if scribe.ErrorCode(err) != scribe.EINVALID || !strings.Contains(scribe.ErrorMessage(err), "master") {
		t.Errorf("New on a master-only repository: %v", err)
	}
	e := newExporter(t, Config{RepoPath: repo, Branch: "master"})
	res := mustWrite(t, e, weeklySnapshot(t), "Ada")
	if got := runGit(t, repo, "rev-parse", "master~1"); got == res.Commit {
		t.Errorf("export did not build on master")
	}

	// A folder that is not a repository and not empty is refused.
	notRepo := t.TempDir()
	if err := os.WriteFile(filepath.Join(notRepo, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{RepoPath: notRepo}, nil); scribe.ErrorCode(err) != scribe.EINVALID {
		t.Errorf("New on a non-repository: %v", err)
	}
}

func TestExportDirIsAFile(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	runGit(t, t.TempDir(), "init", "-q", "--initial-branch=main", repo)
	if err := os.WriteFile(filepath.Join(repo, "docs"), []byte("a file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, repo, "add", "docs")
	runGit(t, repo, "commit", "-q", "-m", "docs is a file")
	e := newExporter(t, Config{RepoPath: repo})
	_, err := e.Write(context.Background(), weeklySnapshot(t), scribe.ExportRequest{Author: "Ada"})
	if scribe.ErrorCode(err) != scribe.EUNAVAILABLE || !strings.Contains(scribe.ErrorMessage(err), "docs is not a folder") {
		t.Errorf("error = %v", err)
	}
	if got := runGit(t, repo, "rev-list", "--count", "HEAD"); got != "1" {
		t.Errorf("a commit was made")
	}
}

func TestRemoteEditedTheExportedFile(t *testing.T) {
	remote := bareRepo(t)
	e := newExporter(t, Config{Remote: remote})
	s := weeklySnapshot(t)
	first := mustWrite(t, e, s, "Ada Lovelace")

	// A person fixes a typo in the exported file on the remote, keeping its
	// front matter: it is still this note's export.
	human := filepath.Join(t.TempDir(), "human")
	runGit(t, t.TempDir(), "clone", "-q", remote, human)
	full := filepath.Join(human, first.Path)
	b, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(strings.Replace(string(b), "dashboard", "dashbaord", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, human, "commit", "-q", "-am", "Fix a typo")
	runGit(t, human, "push", "-q", "origin", "main")

	// The next export of the note wins over the hand edit (the export is
	// the authority for its file; the edit stays in history).
	s.Text += "- [ ] Follow up @ada\n"
	s.Revision++
	res := mustWrite(t, e, s, "Ada Lovelace")
	if !res.Pushed {
		t.Fatalf("export over a hand edit of the same note = %+v", res)
	}
	if got := runGit(t, remote, "log", "--format=%s", "-3", "main"); !strings.Contains(got, "Fix a typo") {
		t.Errorf("the hand edit left history:\n%s", got)
	}

	// Now the file on the remote stops being an export (its front matter is
	// gone): replaying onto it would destroy someone's work, so the push
	// stops and the local commit stays.
	runGit(t, human, "pull", "-q", "--rebase=false")
	if err := os.WriteFile(full, []byte("# Rewritten by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, human, "commit", "-q", "-am", "Rewrite the notes by hand")
	runGit(t, human, "push", "-q", "origin", "main")
	theirs := runGit(t, human, "rev-parse", "HEAD")
	s.Text += "More.\n"
	s.Revision++
	conflict := mustWrite(t, e, s, "Ada Lovelace")
	if conflict.Pushed || !strings.Contains(conflict.PushError, "changed both here and on the remote") {
		t.Fatalf("conflicting export = %+v", conflict)
	}
	if got := runGit(t, remote, "rev-parse", "main"); got != theirs {
		t.Errorf("the remote moved: %s, want %s", got, theirs)
	}
	if got := runGit(t, e.cfg.RepoPath, "rev-parse", "main"); got != conflict.Commit {
		t.Errorf("local commit lost: main %s, result %s", got, conflict.Commit)
	}
	fsck(t, e.cfg.RepoPath)
}

// TestRebaseSeveralLocalCommits: exports made while the remote was
// unreachable pile up locally; once it is back and has moved ahead, all
// of them are replayed onto it in order and pushed.
func TestRebaseSeveralLocalCommits(t *testing.T) {
	remote := bareRepo(t)
	e := newExporter(t, Config{Remote: remote})
	day := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	note := func(i int) Snapshot {
		return Snapshot{ID: scribe.NoteID(fmt.Sprintf("offline%015d", i)), Text: fmt.Sprintf("# Meeting %d\nNotes.\n", i), CreatedAt: day}
	}
	if res := mustWrite(t, e, note(1), "Ada"); !res.Pushed {
		t.Fatalf("first export not pushed: %+v", res)
	}

	// The remote goes away; two exports stay local.
	away := remote + ".away"
	if err := os.Rename(remote, away); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 3; i++ {
		if res := mustWrite(t, e, note(i), "Ada"); res.Pushed || res.PushError == "" {
			t.Fatalf("export %d while the remote is away = %+v", i, res)
		}
	}
	if err := os.Rename(away, remote); err != nil {
		t.Fatal(err)
	}

	// Meanwhile someone pushed.
	human := filepath.Join(t.TempDir(), "human")
	runGit(t, t.TempDir(), "clone", "-q", remote, human)
	if err := os.WriteFile(filepath.Join(human, "CONTRIBUTING.md"), []byte("Be kind.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, human, "add", ".")
	runGit(t, human, "commit", "-q", "-m", "Add CONTRIBUTING")
	runGit(t, human, "push", "-q", "origin", "main")
	theirs := runGit(t, human, "rev-parse", "HEAD")

	res := mustWrite(t, e, note(4), "Ada")
	if !res.Pushed {
		t.Fatalf("export after the remote came back = %+v", res)
	}
	subjects := runGit(t, remote, "log", "--format=%s", "main")
	want := "Meeting notes: Meeting 4 (2026-11-24)\nMeeting notes: Meeting 3 (2026-11-24)\nMeeting notes: Meeting 2 (2026-11-24)\nAdd CONTRIBUTING\nMeeting notes: Meeting 1 (2026-11-24)"
	if subjects != want {
		t.Errorf("remote history:\n%s\nwant\n%s", subjects, want)
	}
	if got := runGit(t, remote, "rev-parse", "main~3"); got != theirs {
		t.Errorf("the local exports are not on top of the other commit")
	}
	if got := runGit(t, remote, "ls-tree", "-r", "--name-only", "main"); strings.Count(got, "\n")+1 != 6 {
		t.Errorf("remote tree:\n%s", got)
	}
	// The decision log was rebuilt on the remote's tree, not replayed.
	if index := runGit(t, remote, "show", "main:docs/meetings/README.md"); strings.Count(index, "\n## ") != 4 {
		t.Errorf("the rebased decision log does not list the 4 meetings:\n%s", index)
	}
	if got := runGit(t, e.cfg.RepoPath, "status", "--porcelain"); got != "" {
		t.Errorf("worktree not clean:\n%s", got)
	}
	fsck(t, remote)
	fsck(t, e.cfg.RepoPath)
}

// TestUnchangedExportFastForwards: when the remote moved ahead and the
// local branch has nothing new, an unchanged re-export fast-forwards the
// local branch (and worktree) to the remote and reports it pushed.
func TestUnchangedExportFastForwards(t *testing.T) {
	remote := bareRepo(t)
	e := newExporter(t, Config{Remote: remote})
	s := weeklySnapshot(t)
	first := mustWrite(t, e, s, "Ada")

	human := filepath.Join(t.TempDir(), "human")
	runGit(t, t.TempDir(), "clone", "-q", remote, human)
	if err := os.WriteFile(filepath.Join(human, "NOTES.md"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, human, "add", ".")
	runGit(t, human, "commit", "-q", "-m", "Add NOTES")
	runGit(t, human, "push", "-q", "origin", "main")
	theirs := runGit(t, human, "rev-parse", "HEAD")

	res := mustWrite(t, e, s, "Ada")
	if !res.Unchanged || !res.Pushed || res.Commit != first.Commit {
		t.Fatalf("unchanged export behind the remote = %+v, want unchanged, pushed, commit %s", res, first.Commit)
	}
	if got := runGit(t, e.cfg.RepoPath, "rev-parse", "main"); got != theirs {
		t.Errorf("local main = %s, want fast-forwarded to %s", got, theirs)
	}
	if _, err := os.Stat(filepath.Join(e.cfg.RepoPath, "NOTES.md")); err != nil {
		t.Errorf("worktree not fast-forwarded: %v", err)
	}
	if got := runGit(t, remote, "rev-parse", "main"); got != theirs {
		t.Errorf("remote main moved: %s", got)
	}
}

// TestUnrelatedHistories: a new export repository whose remote was away at
// startup begins its own history; once the remote is back, the exports are
// replayed onto the remote's history instead of pushing an unrelated one.
func TestUnrelatedHistories(t *testing.T) {
	remote := bareRepo(t)
	human := filepath.Join(t.TempDir(), "human")
	runGit(t, t.TempDir(), "clone", "-q", remote, human)
	if err := os.WriteFile(filepath.Join(human, "README.md"), []byte("# Docs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, human, "add", ".")
	runGit(t, human, "commit", "-q", "-m", "Start the docs")
	runGit(t, human, "push", "-q", "origin", "main")
	theirs := runGit(t, human, "rev-parse", "HEAD")

	away := remote + ".away"
	if err := os.Rename(remote, away); err != nil {
		t.Fatal(err)
	}
	e := newExporter(t, Config{Remote: remote})
	if res := mustWrite(t, e, weeklySnapshot(t), "Ada"); res.Pushed {
		t.Fatalf("pushed to a missing remote: %+v", res)
	}
	if err := os.Rename(away, remote); err != nil {
		t.Fatal(err)
	}
	other := Snapshot{ID: "DDDDDDDDDDDDDDDDDDDDDD", Text: "# Retro\nWent well.\n", CreatedAt: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	res := mustWrite(t, e, other, "Ada")
	if !res.Pushed {
		t.Fatalf("export after the remote came back = %+v", res)
	}
	if got := runGit(t, remote, "rev-parse", "main~2"); got != theirs {
		t.Errorf("exports not replayed onto the remote's history: main~2 = %s, want %s", got, theirs)
	}
	if got := runGit(t, remote, "rev-list", "--count", "main"); got != "3" {
		t.Errorf("%s commits on the remote, want 3", got)
	}
	if b, err := os.ReadFile(filepath.Join(e.cfg.RepoPath, "README.md")); err != nil || string(b) != "# Docs\n" {
		t.Errorf("README missing from the worktree: %q %v", b, err)
	}
	fsck(t, remote)
}
