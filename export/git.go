package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/scribe-notes/scribe"
)

// maxFrontMatterBlob is the largest file export reads when it looks for a
// note's earlier export; larger files are not Scribe exports.
const maxFrontMatterBlob = 8 << 20

// initialFetchTimeout bounds the fetch New makes into a new repository.
const initialFetchTimeout = 30 * time.Second

// lockFileName is the file in the git directory that serialises exports
// across processes (scribe serve and scribe export on one repository).
const lockFileName = "scribe-export.lock"

// repository is the export repository: its configuration, the locks that
// serialise exports, and a cache of which note each exported blob belongs to.
type repository struct {
	cfg        Config
	branch     plumbing.ReferenceName
	gitDir     string
	bare       bool
	remoteName string // the configured remote to push to; "" for none
	auth       transport.AuthMethod

	sem   chan struct{} // one export at a time in this process
	keys  map[plumbing.Hash]string
	index map[plumbing.Hash]indexEntry // the decision log's view of each blob
}

// openRepository opens cfg.RepoPath, creating it when missing, and checks
// that exports can go to cfg.Branch.
func openRepository(cfg Config) (*repository, error) {
	r := &repository{
		cfg:    cfg,
		branch: plumbing.NewBranchReferenceName(cfg.Branch),
		sem:    make(chan struct{}, 1),
		keys:   map[plumbing.Hash]string{},
		index:  map[plumbing.Hash]indexEntry{},
	}
	created := false
	repo, err := git.PlainOpen(cfg.RepoPath)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		if !emptyOrMissing(cfg.RepoPath) {
			return nil, scribe.Errorf(scribe.EINVALID, "The export repository %s exists but is not a git repository.", cfg.RepoPath)
		}
		if err := os.MkdirAll(cfg.RepoPath, 0o755); err != nil {
			return nil, fmt.Errorf("create export repository: %w", err)
		}
		repo, err = git.PlainInitWithOptions(cfg.RepoPath, &git.PlainInitOptions{
			InitOptions: git.InitOptions{DefaultBranch: r.branch},
		})
		created = true
	}
	if err != nil {
		return nil, fmt.Errorf("open export repository: %w", err)
	}
	if _, err := repo.Worktree(); errors.Is(err, git.ErrIsBareRepository) {
		r.bare = true
	}
	r.gitDir = cfg.RepoPath
	if fi, err := os.Stat(filepath.Join(cfg.RepoPath, ".git")); err == nil && fi.IsDir() {
		r.gitDir = filepath.Join(cfg.RepoPath, ".git")
	}
	if cfg.Remote != "" {
		if r.remoteName, err = ensureRemote(repo, cfg.Remote); err != nil {
			return nil, err
		}
		if r.auth, err = remoteAuth(repo, r.remoteName, cfg); err != nil {
			return nil, err
		}
	}
	if created && r.remoteName != "" {
		// Start from the remote branch, so the first export is a child of it
		// rather than an unrelated history. An unreachable remote is not an
		// error here: the first push will fetch and rebase.
		ctx, cancel := context.WithTimeout(context.Background(), initialFetchTimeout)
		_ = r.fetch(ctx, repo)
		cancel()
	}
	if err := r.checkBranch(repo); err != nil {
		return nil, err
	}
	return r, nil
}

func emptyOrMissing(dir string) bool {
	entries, err := os.ReadDir(dir)
	return errors.Is(err, os.ErrNotExist) || err == nil && len(entries) == 0
}

// ensureRemote returns the name of the remote to push to: remote itself if
// it names a configured remote, else the remote whose URL it is, else a new
// remote "origin" (or "scribe" if origin is taken) with remote as its URL.
func ensureRemote(repo *git.Repository, remote string) (string, error) {
	remotes, err := repo.Remotes()
	if err != nil {
		return "", fmt.Errorf("list remotes: %w", err)
	}
	for _, rm := range remotes {
		if rm.Config().Name == remote {
			return remote, nil
		}
	}
	for _, rm := range remotes {
		for _, u := range rm.Config().URLs {
			if u == remote {
				return rm.Config().Name, nil
			}
		}
	}
	name := "origin"
	if _, err := repo.Remote(name); err == nil {
		name = "scribe"
		if err := repo.DeleteRemote(name); err != nil && !errors.Is(err, git.ErrRemoteNotFound) {
			return "", fmt.Errorf("replace remote scribe: %w", err)
		}
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: name, URLs: []string{remote}}); err != nil {
		return "", scribe.Errorf(scribe.EINVALID, "The export remote %q cannot be used: %s.", redact(remote), redact(err.Error()))
	}
	return name, nil
}

// remoteAuth returns how to authenticate to the remote: basic auth with
// cfg.Token for http(s) URLs, cfg.SSHKeyPath for ssh URLs, else nil (go-git's
// defaults: credentials in the URL, the SSH agent).
func remoteAuth(repo *git.Repository, name string, cfg Config) (transport.AuthMethod, error) {
	rm, err := repo.Remote(name)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", name, err)
	}
	urls := rm.Config().URLs
	if len(urls) == 0 {
		return nil, scribe.Errorf(scribe.EINVALID, "The export remote %s has no URL.", name)
	}
	ep, err := transport.NewEndpoint(urls[len(urls)-1])
	if err != nil {
		return nil, scribe.Errorf(scribe.EINVALID, "The export remote %s has an invalid URL: %s.", name, redact(err.Error()))
	}
	switch ep.Protocol {
	case "http", "https":
		if cfg.Token == "" {
			return nil, nil
		}
		user := ep.User
		if user == "" {
			user = "scribe"
		}
		return &githttp.BasicAuth{Username: user, Password: cfg.Token}, nil
	case "ssh":
		if cfg.SSHKeyPath == "" {
			return nil, nil
		}
		user := ep.User
		if user == "" {
			user = "git"
		}
		keys, err := gitssh.NewPublicKeysFromFile(user, cfg.SSHKeyPath, cfg.SSHKeyPassphrase)
		if err != nil {
			return nil, scribe.Errorf(scribe.EINVALID, "The export SSH key %s cannot be used: %s.", cfg.SSHKeyPath, err.Error())
		}
		return keys, nil
	}
	return nil, nil
}

// checkBranch makes sure the export branch exists or can be created
// without surprising anyone: it exists, or it exists on the remote (it is
// then created from there), or the repository has no commits at all.
func (r *repository) checkBranch(repo *git.Repository) error {
	if _, err := repo.Reference(r.branch, false); err == nil {
		return nil
	}
	if r.remoteName != "" {
		if ref, err := repo.Reference(r.remoteBranch(), true); err == nil {
			if err := repo.Storer.SetReference(plumbing.NewHashReference(r.branch, ref.Hash())); err != nil {
				return fmt.Errorf("create export branch: %w", err)
			}
			return r.checkoutIfCurrent(repo, ref.Hash())
		}
	}
	branches, err := repo.Branches()
	if err != nil {
		return fmt.Errorf("list branches: %w", err)
	}
	var names []string
	_ = branches.ForEach(func(ref *plumbing.Reference) error {
		names = append(names, ref.Name().Short())
		return nil
	})
	if len(names) == 0 {
		return nil
	}
	return scribe.Errorf(scribe.EINVALID, "The export repository %s has no branch %q; set the export branch to one of: %s.",
		r.cfg.RepoPath, r.cfg.Branch, strings.Join(names, ", "))
}

// checkoutIfCurrent fills the worktree of a repository that has no commits
// checked out yet with the commit h, when HEAD names the export branch.
func (r *repository) checkoutIfCurrent(repo *git.Repository, h plumbing.Hash) error {
	if r.bare || !r.headIsBranch(repo) {
		return nil
	}
	wt, err := repo.Worktree()
	if err != nil {
		return fmt.Errorf("worktree: %w", err)
	}
	if err := wt.Reset(&git.ResetOptions{Commit: h, Mode: git.HardReset}); err != nil {
		return fmt.Errorf("check out export branch: %w", err)
	}
	return nil
}

func (r *repository) remoteBranch() plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName(r.remoteName, r.cfg.Branch)
}

// headIsBranch reports whether HEAD names the export branch, i.e. the
// worktree shows it.
func (r *repository) headIsBranch(repo *git.Repository) bool {
	head, err := repo.Storer.Reference(plumbing.HEAD)
	return err == nil && head.Type() == plumbing.SymbolicReference && head.Target() == r.branch
}

// lock waits until this process's other exports and other processes'
// exports of the same repository are done, or ctx ends.
func (r *repository) lock(ctx context.Context) (unlock func(), err error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", errNoLock, ctx.Err())
	}
	release, err := lockFile(ctx, filepath.Join(r.gitDir, lockFileName))
	if err != nil {
		<-r.sem
		return nil, err
	}
	return func() { release(); <-r.sem }, nil
}

// branchHead returns the export branch's commit, or nil if the branch has
// no commits yet.
func (r *repository) branchHead(repo *git.Repository) (*object.Commit, error) {
	ref, err := repo.Storer.Reference(r.branch)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read export branch: %w", err)
	}
	c, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return nil, fmt.Errorf("read export branch head: %w", err)
	}
	return c, nil
}

// setBranch moves the export branch from old (nil: it did not exist) to
// the commit h, failing if someone else moved it meanwhile, and brings the
// worktree along when the branch is checked out.
func (r *repository) setBranch(repo *git.Repository, old *object.Commit, h plumbing.Hash) error {
	var oldRef *plumbing.Reference
	var oldTree *object.Tree
	if old != nil {
		oldRef = plumbing.NewHashReference(r.branch, old.Hash)
		t, err := old.Tree()
		if err != nil {
			return fmt.Errorf("read tree: %w", err)
		}
		oldTree = t
	}
	if err := repo.Storer.CheckAndSetReference(plumbing.NewHashReference(r.branch, h), oldRef); err != nil {
		return fmt.Errorf("move export branch: %w", err)
	}
	// The commit has landed; from here on a failure only leaves the
	// checked-out files behind, which the next export or a `git checkout`
	// repairs, so it is logged rather than returned.
	c, err := repo.CommitObject(h)
	if err == nil {
		var newTree *object.Tree
		if newTree, err = c.Tree(); err == nil {
			err = r.syncWorktree(repo, oldTree, newTree)
		}
	}
	if err != nil {
		r.cfg.Logger.Warn("export: commit made, but the worktree was not updated", "repo", r.cfg.RepoPath, "err", err)
	}
	return nil
}

// syncWorktree updates the checked-out files (and their index entries) that
// differ between oldTree and newTree, so `git status` in the export
// repository stays clean. A file that was changed by hand (its content is
// not oldTree's) or that sits below a symbolic link is left alone.
func (r *repository) syncWorktree(repo *git.Repository, oldTree, newTree *object.Tree) error {
	if r.bare || !r.headIsBranch(repo) {
		return nil
	}
	wt, err := repo.Worktree()
	if err != nil {
		return fmt.Errorf("worktree: %w", err)
	}
	changes, err := object.DiffTree(oldTree, newTree)
	if err != nil {
		return fmt.Errorf("diff trees: %w", err)
	}
	root := wt.Filesystem.Root()
	for _, ch := range changes {
		p := ch.To.Name
		if p == "" {
			p = ch.From.Name
		}
		full, ok := safeJoin(root, p)
		if !ok {
			continue
		}
		var oldHash plumbing.Hash
		if ch.From.Name != "" {
			oldHash = ch.From.TreeEntry.Hash
		}
		current, err := os.ReadFile(full)
		switch {
		case err == nil:
			if plumbing.ComputeHash(plumbing.BlobObject, current) != oldHash {
				r.cfg.Logger.Warn("export: worktree file changed by hand, left alone", "repo", r.cfg.RepoPath, "path", p)
				continue
			}
		case errors.Is(err, os.ErrNotExist):
			if !oldHash.IsZero() {
				r.cfg.Logger.Warn("export: worktree file deleted by hand, left alone", "repo", r.cfg.RepoPath, "path", p)
				continue
			}
		default:
			continue
		}
		if ch.To.Name == "" {
			if err := os.Remove(full); err != nil {
				return fmt.Errorf("remove %s: %w", p, err)
			}
		} else {
			mode := ch.To.TreeEntry.Mode
			if mode != filemode.Regular && mode != filemode.Executable {
				continue
			}
			blob, err := readBlob(repo.Storer, ch.To.TreeEntry.Hash, -1)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				return fmt.Errorf("create folder for %s: %w", p, err)
			}
			perm := os.FileMode(0o644)
			if mode == filemode.Executable {
				perm = 0o755
			}
			if err := os.WriteFile(full, blob, perm); err != nil {
				return fmt.Errorf("write %s: %w", p, err)
			}
		}
		if err := wt.AddWithOptions(&git.AddOptions{Path: p, SkipStatus: true}); err != nil {
			return fmt.Errorf("update index for %s: %w", p, err)
		}
	}
	return nil
}

// safeJoin joins a repository path to the worktree root, refusing paths
// that leave it and paths below a symbolic link.
func safeJoin(root, p string) (string, bool) {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." {
		return "", false
	}
	parts := strings.Split(p, "/")
	dir := root
	for _, part := range parts[:len(parts)-1] {
		if part == ".." || strings.EqualFold(part, ".git") {
			return "", false
		}
		dir = filepath.Join(dir, part)
		fi, err := os.Lstat(dir)
		if err == nil && !fi.IsDir() {
			return "", false // a symbolic link or a file where a folder should be
		}
	}
	full := filepath.Join(dir, parts[len(parts)-1])
	if fi, err := os.Lstat(full); err == nil && !fi.Mode().IsRegular() {
		return "", false
	}
	return full, true
}

// readBlob returns a blob's content; a blob larger than limit (when limit
// is not negative) gives nil and no error.
func readBlob(s storer.EncodedObjectStorer, h plumbing.Hash, limit int64) ([]byte, error) {
	b, err := object.GetBlob(s, h)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	if limit >= 0 && b.Size > limit {
		return nil, nil
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	return data, nil
}

func writeBlob(s storer.EncodedObjectStorer, content []byte) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	if _, err := w.Write(content); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	return s.SetEncodedObject(obj)
}

func writeCommit(s storer.EncodedObjectStorer, c *object.Commit) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode commit: %w", err)
	}
	return s.SetEncodedObject(obj)
}

// errNotADirectory reports a repository path whose folder part is a file.
type errNotADirectory struct{ path string }

func (e errNotADirectory) Error() string {
	return fmt.Sprintf("%s is not a folder in the export repository", e.path)
}

// putPath returns the hash of a tree that equals tree (nil: empty) with
// the entry at the slash-separated path p replaced by leaf, or removed when
// leaf is nil. Folders on the way are created or, when emptied, removed.
func putPath(s storer.EncodedObjectStorer, tree *object.Tree, p string, leaf *object.TreeEntry) (plumbing.Hash, error) {
	h, _, err := putParts(s, tree, strings.Split(p, "/"), leaf, "")
	return h, err
}

func putParts(s storer.EncodedObjectStorer, tree *object.Tree, parts []string, leaf *object.TreeEntry, prefix string) (plumbing.Hash, bool, error) {
	var entries []object.TreeEntry
	if tree != nil {
		entries = append(entries, tree.Entries...)
	}
	name := parts[0]
	i := -1
	for j := range entries {
		if entries[j].Name == name {
			i = j
			break
		}
	}
	var next *object.TreeEntry
	if len(parts) == 1 {
		if i >= 0 && entries[i].Mode == filemode.Dir {
			return plumbing.ZeroHash, false, errNotADirectory{path: prefix + name + " (a folder where a file should go)"}
		}
		if leaf != nil {
			next = &object.TreeEntry{Name: name, Mode: leaf.Mode, Hash: leaf.Hash}
		}
	} else {
		var sub *object.Tree
		if i >= 0 {
			if entries[i].Mode != filemode.Dir {
				return plumbing.ZeroHash, false, errNotADirectory{path: prefix + name}
			}
			t, err := object.GetTree(s, entries[i].Hash)
			if err != nil {
				return plumbing.ZeroHash, false, fmt.Errorf("read tree %s: %w", prefix+name, err)
			}
			sub = t
		}
		h, empty, err := putParts(s, sub, parts[1:], leaf, prefix+name+"/")
		if err != nil {
			return plumbing.ZeroHash, false, err
		}
		if !empty {
			next = &object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
		}
	}
	switch {
	case i >= 0 && next != nil:
		entries[i] = *next
	case i >= 0:
		entries = append(entries[:i], entries[i+1:]...)
	case next != nil:
		entries = append(entries, *next)
	}
	if len(entries) == 0 && prefix != "" {
		return plumbing.ZeroHash, true, nil
	}
	sortTreeEntries(entries)
	obj := s.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("encode tree: %w", err)
	}
	h, err := s.SetEncodedObject(obj)
	return h, false, err
}

// sortTreeEntries sorts entries the way git requires: by name, comparing a
// folder's name as if it ended in "/".
func sortTreeEntries(entries []object.TreeEntry) {
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
}

// entryAt returns the entry at path p in tree, or nil.
func entryAt(tree *object.Tree, p string) *object.TreeEntry {
	if tree == nil {
		return nil
	}
	e, err := tree.FindEntry(p)
	if err != nil {
		return nil
	}
	return e
}

// findNote returns the path of the file under the export folder whose
// front matter names the note key, and that front matter.
func (r *repository) findNote(repo *git.Repository, tree *object.Tree, key string) (string, storedFrontMatter, bool, error) {
	if tree == nil {
		return "", storedFrontMatter{}, false, nil
	}
	dir, err := tree.Tree(r.cfg.Dir)
	if err != nil {
		return "", storedFrontMatter{}, false, nil // no export folder yet
	}
	walker := object.NewTreeWalker(dir, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if err == io.EOF {
			return "", storedFrontMatter{}, false, nil
		} else if err != nil {
			return "", storedFrontMatter{}, false, fmt.Errorf("walk export folder: %w", err)
		}
		if entry.Mode != filemode.Regular || !strings.HasSuffix(name, ".md") {
			continue
		}
		if k, ok := r.keys[entry.Hash]; ok && k != key {
			continue
		}
		content, err := readBlob(repo.Storer, entry.Hash, maxFrontMatterBlob)
		if err != nil {
			return "", storedFrontMatter{}, false, err
		}
		fm, _ := readFrontMatter(content)
		r.keys[entry.Hash] = fm.Key
		if fm.Key == key {
			return r.cfg.Dir + "/" + name, fm, true, nil
		}
	}
}

// lastCommitTouching returns the newest commit, following first parents
// from head, that set path to its current content.
func lastCommitTouching(head *object.Commit, p string) (*object.Commit, error) {
	c := head
	for i := 0; i < 100000; i++ {
		tree, err := c.Tree()
		if err != nil {
			return nil, fmt.Errorf("read tree: %w", err)
		}
		cur := entryAt(tree, p)
		if c.NumParents() == 0 {
			return c, nil
		}
		parent, err := c.Parent(0)
		if err != nil {
			return nil, fmt.Errorf("read parent: %w", err)
		}
		ptree, err := parent.Tree()
		if err != nil {
			return nil, fmt.Errorf("read tree: %w", err)
		}
		prev := entryAt(ptree, p)
		if cur == nil || prev == nil || cur.Hash != prev.Hash {
			return c, nil
		}
		c = parent
	}
	return head, nil
}

// fetch updates the remote-tracking branch from the remote.
func (r *repository) fetch(ctx context.Context, repo *git.Repository) error {
	err := repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: r.remoteName,
		Auth:       r.auth,
		RefSpecs:   []config.RefSpec{config.RefSpec("+" + r.branch.String() + ":" + r.remoteBranch().String())},
	})
	if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	if errors.Is(err, transport.ErrEmptyRemoteRepository) || isMissingRef(err) {
		return nil
	}
	return err
}

func isMissingRef(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "couldn't find remote ref") || errors.Is(err, git.NoMatchingRefSpecError{}))
}

// maxPushAttempts bounds how often push fetches, rebases and retries when
// the remote keeps moving.
const maxPushAttempts = 4

// push sends the export branch to the remote. When the remote branch has
// commits the local one lacks, it fetches them and replays the local-only
// commits on top (rebase), then pushes again; it never forces. It returns
// the local branch head after any rebase.
func (r *repository) push(ctx context.Context, repo *git.Repository) (plumbing.Hash, error) {
	remote, err := repo.Remote(r.remoteName)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("remote %s: %w", r.remoteName, err)
	}
	for attempt := 0; attempt < maxPushAttempts; attempt++ {
		local, err := r.branchHead(repo)
		if err != nil || local == nil {
			return plumbing.ZeroHash, err
		}
		remoteHead, err := r.remoteHead(ctx, remote)
		if err != nil {
			return local.Hash, err
		}
		if remoteHead == local.Hash {
			return local.Hash, nil
		}
		if !remoteHead.IsZero() && !r.isAncestor(repo, remoteHead, local) {
			if err := r.fetch(ctx, repo); err != nil {
				return local.Hash, fmt.Errorf("fetch: %w", err)
			}
			onto, err := repo.CommitObject(remoteHead)
			if err != nil {
				// The remote moved again between listing and fetching.
				continue
			}
			rebased, err := r.rebase(repo, local, onto)
			if err != nil {
				return local.Hash, err
			}
			if err := r.setBranch(repo, local, rebased); err != nil {
				return local.Hash, err
			}
			local, err = repo.CommitObject(rebased)
			if err != nil {
				return rebased, fmt.Errorf("read rebased commit: %w", err)
			}
		}
		err = remote.PushContext(ctx, &git.PushOptions{
			RemoteName: r.remoteName,
			Auth:       r.auth,
			RefSpecs:   []config.RefSpec{config.RefSpec(r.branch.String() + ":" + r.branch.String())},
		})
		if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
			_ = repo.Storer.SetReference(plumbing.NewHashReference(r.remoteBranch(), local.Hash))
			return local.Hash, nil
		}
		if !strings.Contains(err.Error(), "non-fast-forward") {
			return local.Hash, err
		}
	}
	return plumbing.ZeroHash, errors.New("the remote branch kept moving; gave up after several attempts")
}

// remoteHead returns the remote's export branch commit, zero if the remote
// is empty or lacks the branch.
func (r *repository) remoteHead(ctx context.Context, remote *git.Remote) (plumbing.Hash, error) {
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: r.auth})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return plumbing.ZeroHash, nil
	} else if err != nil {
		return plumbing.ZeroHash, err
	}
	for _, ref := range refs {
		if ref.Name() == r.branch {
			return ref.Hash(), nil
		}
	}
	return plumbing.ZeroHash, nil
}

// isAncestor reports whether the commit h is local or one of its ancestors
// (false when h is not in the local repository at all).
func (r *repository) isAncestor(repo *git.Repository, h plumbing.Hash, local *object.Commit) bool {
	c, err := repo.CommitObject(h)
	if err != nil {
		return false
	}
	ok, err := c.IsAncestor(local)
	return err == nil && ok
}

// errRebaseConflict is returned when a local export commit and the remote
// both changed one file differently and the file is not the same note's
// export.
var errRebaseConflict = errors.New("rebase conflict")

// rebase replays the commits on local's first-parent line that onto lacks
// on top of onto, and returns the new head. Each commit's changes are
// applied file by file: export commits only touch their own files, so a
// file the remote also changed is a conflict unless both versions are
// exports of the same note (then the local, newer export wins).
//
// The decision log (<Dir>/README.md) is never replayed: it is rebuilt from
// the replayed tree, so it lists the remote's exports and the local ones.
func (r *repository) rebase(repo *git.Repository, local, onto *object.Commit) (plumbing.Hash, error) {
	indexPath := r.cfg.Dir + "/" + IndexName
	var stop plumbing.Hash
	if bases, err := local.MergeBase(onto); err == nil && len(bases) > 0 {
		stop = bases[0].Hash
	}
	var chain []*object.Commit
	for c := local; c != nil && c.Hash != stop; {
		chain = append(chain, c)
		if c.NumParents() == 0 {
			break
		}
		p, err := c.Parent(0)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read parent: %w", err)
		}
		c = p
	}
	if len(chain) == 0 {
		return onto.Hash, nil // local is behind the remote: fast-forward
	}
	if !stop.IsZero() && chain[len(chain)-1].NumParents() == 0 {
		return plumbing.ZeroHash, fmt.Errorf("%w: the local branch's history is not linear above the remote's; rebase it by hand", errRebaseConflict)
	}
	head := onto
	for i := len(chain) - 1; i >= 0; i-- {
		c := chain[i]
		var parentTree *object.Tree
		if c.NumParents() > 0 {
			p, err := c.Parent(0)
			if err != nil {
				return plumbing.ZeroHash, fmt.Errorf("read parent: %w", err)
			}
			if parentTree, err = p.Tree(); err != nil {
				return plumbing.ZeroHash, fmt.Errorf("read tree: %w", err)
			}
		}
		tree, err := c.Tree()
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree: %w", err)
		}
		baseTree, err := head.Tree()
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree: %w", err)
		}
		changes, err := object.DiffTree(parentTree, tree)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("diff trees: %w", err)
		}
		newTree := baseTree
		reindex := false
		for _, ch := range changes {
			p := ch.To.Name
			if p == "" {
				p = ch.From.Name
			}
			if p == indexPath {
				reindex = true
				continue
			}
			before, after, theirs := entryAt(parentTree, p), entryAt(tree, p), entryAt(baseTree, p)
			if !sameEntry(theirs, before) && !sameEntry(theirs, after) && !sameNote(repo, theirs, after) {
				return plumbing.ZeroHash, fmt.Errorf("%w: %s was changed both here and on the remote", errRebaseConflict, p)
			}
			h, err := putPath(repo.Storer, newTree, p, after)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			if newTree, err = object.GetTree(repo.Storer, h); err != nil {
				return plumbing.ZeroHash, fmt.Errorf("read tree: %w", err)
			}
		}
		if reindex {
			h, err := r.withIndex(repo.Storer, newTree.Hash)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			if newTree, err = object.GetTree(repo.Storer, h); err != nil {
				return plumbing.ZeroHash, fmt.Errorf("read tree: %w", err)
			}
		}
		committer := c.Committer
		committer.When = time.Now().In(c.Committer.When.Location())
		h, err := writeCommit(repo.Storer, &object.Commit{
			Author:       c.Author,
			Committer:    committer,
			Message:      c.Message,
			TreeHash:     newTree.Hash,
			ParentHashes: []plumbing.Hash{head.Hash},
		})
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if head, err = repo.CommitObject(h); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read rebased commit: %w", err)
		}
	}
	return head.Hash, nil
}

func sameEntry(a, b *object.TreeEntry) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Hash == b.Hash && a.Mode == b.Mode
}

// sameNote reports whether two file versions are exports of one note.
func sameNote(repo *git.Repository, a, b *object.TreeEntry) bool {
	if a == nil || b == nil {
		return false
	}
	ca, err := readBlob(repo.Storer, a.Hash, maxFrontMatterBlob)
	if err != nil {
		return false
	}
	cb, err := readBlob(repo.Storer, b.Hash, maxFrontMatterBlob)
	if err != nil {
		return false
	}
	fa, okA := readFrontMatter(ca)
	fb, okB := readFrontMatter(cb)
	return okA && okB && fa.Key == fb.Key
}

var credentialsRe = regexp.MustCompile(`(://)[^/@\s]+@`)

// redact removes credentials from URLs in s, so a push error never shows
// a token embedded in the remote URL.
func redact(s string) string {
	return credentialsRe.ReplaceAllString(s, "${1}***@")
}
