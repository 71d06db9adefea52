package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	gitconfig "github.com/go-git/go-git/v5/config"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/export"
	"github.com/scribe-notes/scribe/store/redis"
)

// exportConfig holds the flags that configure exports, shared by
// `scribe serve` (the editor's Export button and POST /api/notes/{id}/export)
// and `scribe export`.
type exportConfig struct {
	repo        string
	dir         string
	remote      string
	branch      string
	timezone    string
	emailDomain string
	authorName  string
	authorEmail string
	omitURL     bool
	tokenFile   string
	sshKey      string
	// log receives the exporter's warnings; nil is slog.Default(). serve
	// sets it to its own logger before calling newExporter.
	log *slog.Logger
	// onExport is told of each export commit (serve's notifier); nil: none.
	onExport func(scribe.ExportEvent)
}

// addExportFlags registers the export flags on fs, --timezone included
// (templates share it). Like every flag, each is also read from its SCRIBE_*
// environment variable (--export-repo: SCRIBE_EXPORT_REPO) by flagsFromEnv.
func addExportFlags(fs *flag.FlagSet) *exportConfig {
	c := &exportConfig{}
	fs.StringVar(&c.repo, "export-repo", "",
		"local git repository that exports are committed to, created if missing; empty disables export (SCRIBE_EXPORT_REPO)")
	fs.StringVar(&c.dir, "export-dir", export.DefaultDir,
		"folder inside the export repository for exported notes (SCRIBE_EXPORT_DIR)")
	fs.StringVar(&c.remote, "export-remote", "",
		"remote name, URL or path that exports are pushed to, never forced; empty keeps them local (SCRIBE_EXPORT_REMOTE)")
	fs.StringVar(&c.branch, "export-branch", export.DefaultBranch,
		"branch that receives export commits (SCRIBE_EXPORT_BRANCH)")
	fs.StringVar(&c.timezone, "timezone", "UTC",
		"the team's time zone (IANA name, e.g. Europe/Berlin) for dates in templates and exports (SCRIBE_TIMEZONE)")
	fs.StringVar(&c.emailDomain, "export-email-domain", export.DefaultEmailDomain,
		"domain of the email addresses derived from names: Ada Lovelace -> ada-lovelace@DOMAIN (SCRIBE_EXPORT_EMAIL_DOMAIN)")
	fs.StringVar(&c.authorName, "export-author", "",
		"fixed commit author for every export, e.g. a bot account; the person who exported is then named in the message (SCRIBE_EXPORT_AUTHOR)")
	fs.StringVar(&c.authorEmail, "export-author-email", "",
		"email address of --export-author (SCRIBE_EXPORT_AUTHOR_EMAIL)")
	fs.BoolVar(&c.omitURL, "export-omit-url", false,
		"leave the note's edit link out of exported files and commit messages (SCRIBE_EXPORT_OMIT_URL)")
	fs.StringVar(&c.tokenFile, "export-token-file", "",
		"file holding the access token for an https remote; or set the token itself in SCRIBE_EXPORT_TOKEN (SCRIBE_EXPORT_TOKEN_FILE)")
	fs.StringVar(&c.sshKey, "export-ssh-key", "",
		"private key file (a deploy key) for an ssh remote, passphrase in SCRIBE_EXPORT_SSH_KEY_PASSPHRASE; default the SSH agent (SCRIBE_EXPORT_SSH_KEY)")
	return c
}

// newExporter returns the exporter for these flags, or nil (and no error)
// when --export-repo is empty or c is nil: export is then disabled and the
// server answers POST /api/notes/{id}/export with EUNAVAILABLE. An invalid
// configuration is an error at startup, not at the first export.
func (c *exportConfig) newExporter(store scribe.Store, publicURL string) (scribe.Exporter, error) {
	if c == nil || c.repo == "" {
		return nil, nil
	}
	loc, err := time.LoadLocation(c.timezone)
	if err != nil {
		return nil, fmt.Errorf("export: --timezone %q is not a time zone name like UTC or Europe/Berlin", c.timezone)
	}
	token := os.Getenv("SCRIBE_EXPORT_TOKEN")
	if c.tokenFile != "" {
		b, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("export: read --export-token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	e, err := export.New(export.Config{
		RepoPath:         c.repo,
		Dir:              c.dir,
		Remote:           c.remote,
		Branch:           c.branch,
		Location:         loc,
		EmailDomain:      c.emailDomain,
		AuthorName:       c.authorName,
		AuthorEmail:      c.authorEmail,
		PublicURL:        publicURL,
		OmitURL:          c.omitURL,
		Token:            token,
		SSHKeyPath:       c.sshKey,
		SSHKeyPassphrase: os.Getenv("SCRIBE_EXPORT_SSH_KEY_PASSPHRASE"),
		Logger:           c.log,
		OnExport:         c.onExport,
	}, store)
	if err != nil {
		return nil, fmt.Errorf("export: %s", describeError(err))
	}
	return e, nil
}

const exportUsage = `usage: scribe export [flags] <note-id or edit link>

Commits the note as markdown into the export repository (docs/meetings by
default), as the editor's Export button does, and prints where it landed.

Two ways to reach the note:
  --server URL   ask a running scribe server to export it. Use this while
                 scribe serve runs on the embedded store, which one process
                 at a time can open. The server's export settings apply.
  otherwise      open the store directly (--data-dir, or --redis) and export
                 with the --export-* flags below; --export-repo is required.

The commit author is --author (default: git's user.name) with --email
(default: git's user.email, else derived from the name). Every flag can also
be set with its SCRIBE_* environment variable (--export-repo:
SCRIBE_EXPORT_REPO). The exit status is 1 when the export failed or was
committed but not pushed.

Flags:
`

// runExport is `scribe export [flags] <note-id>`.
func runExport(ctx context.Context, args []string) error {
	return runExportTo(ctx, args, os.Stdout)
}

// runExportTo is runExport printing its result to out.
func runExportTo(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), exportUsage)
		fs.PrintDefaults()
	}
	ec := addExportFlags(fs)
	gitName, gitEmail := gitIdentity()
	var sc storeConfig
	var publicURL string
	server := fs.String("server", "", "base URL of a running scribe server to export through, e.g. http://127.0.0.1:8080 (SCRIBE_SERVER)")
	author := fs.String("author", gitName, "your name, the commit author (SCRIBE_AUTHOR; default: git's user.name)")
	email := fs.String("email", gitEmail, "your email address (SCRIBE_EMAIL; default: git's user.email, else derived from --author)")
	fs.StringVar(&sc.dataDir, "data-dir", "./data", "directory of the embedded store, used unless --redis is set (SCRIBE_DATA_DIR)")
	fs.StringVar(&sc.redisURL, "redis", "", "read the note from Redis instead, as scribe serve --redis does (SCRIBE_REDIS)")
	fs.StringVar(&sc.redisPrefix, "redis-prefix", redis.DefaultPrefix, "prefix of every Redis key (SCRIBE_REDIS_PREFIX)")
	fs.StringVar(&publicURL, "public-url", "", "the server's external base URL, for the note's link in the front matter (SCRIBE_PUBLIC_URL)")
	asJSON := fs.Bool("json", false, "print the result as JSON")

	// Flags may come before or after the note id. A note id may itself
	// begin with "-" (base64url), so ids are taken out before flag parsing.
	var positional []string
	args = takeNoteIDs(fs, args, &positional)
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	if err := flagsFromEnv(fs); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if len(positional) != 1 {
		return errors.New("export: give exactly one note id (scribe export -h explains the flags)")
	}
	id := noteIDFromArg(positional[0])
	if !id.Valid() {
		return fmt.Errorf("export: %q is not a note id (22 characters, or an edit link ending in /n/<id>)", positional[0])
	}
	if strings.TrimSpace(*author) == "" {
		return errors.New("export: say who is exporting with --author \"Your Name\" (or set git's user.name)")
	}
	req := scribe.ExportRequest{Author: *author, Email: *email}

	var res scribe.ExportResult
	var err error
	if *server != "" {
		res, err = exportThroughServer(ctx, *server, id, req)
	} else {
		res, err = exportDirectly(ctx, ec, sc, publicURL, id, req)
	}
	if err != nil {
		return fmt.Errorf("export: %s", describeError(err))
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printExportResult(out, res)
	}
	if res.PushError != "" {
		return fmt.Errorf("export: %s", res.PushError)
	}
	return nil
}

// takeNoteIDs moves the arguments that are note ids starting with "-"
// (which the flag package would take for flags) from args to positional,
// unless they are the value of the flag before them, and returns the rest.
// Everything after "--" is positional too.
func takeNoteIDs(fs *flag.FlagSet, args []string, positional *[]string) []string {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			*positional = append(*positional, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && scribe.NoteID(a).Valid() && fs.Lookup(strings.TrimLeft(a, "-")) == nil &&
			(i == 0 || !flagTakesValue(fs, args[i-1])) {
			*positional = append(*positional, a)
			continue
		}
		rest = append(rest, a)
	}
	return rest
}

// flagTakesValue reports whether arg is a flag that consumes the next
// argument as its value ("--author", not "--json" or "--author=x").
func flagTakesValue(fs *flag.FlagSet, arg string) bool {
	if !strings.HasPrefix(arg, "-") || strings.Contains(arg, "=") {
		return false
	}
	f := fs.Lookup(strings.TrimLeft(arg, "-"))
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

// exportDirectly opens the store the way scribe serve does and exports
// with this process's flags.
func exportDirectly(ctx context.Context, ec *exportConfig, sc storeConfig, publicURL string, id scribe.NoteID, req scribe.ExportRequest) (scribe.ExportResult, error) {
	if ec.repo == "" {
		return scribe.ExportResult{}, scribe.Errorf(scribe.EUNAVAILABLE,
			"Export is not configured: give --export-repo (or SCRIBE_EXPORT_REPO), or --server to export through a running server.")
	}
	// The embedded store can be open in one process only: while scribe
	// serve runs on it, this fails after a short wait and says to use --server.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, _, err := sc.open(ctx, log, false, 2*time.Second)
	if err != nil {
		if sc.redisURL == "" {
			err = fmt.Errorf("%w (give --data-dir; while scribe serve runs on this data directory, export through it with --server)", err)
		}
		return scribe.ExportResult{}, err
	}
	defer store.Close()
	ex, err := ec.newExporter(store, publicURL)
	if err != nil {
		return scribe.ExportResult{}, err
	}
	return ex.Export(ctx, id, req)
}

// exportThroughServer asks a running server to export the note:
// POST <server>/api/notes/<id>/export.
func exportThroughServer(ctx context.Context, server string, id scribe.NoteID, req scribe.ExportRequest) (scribe.ExportResult, error) {
	base, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return scribe.ExportResult{}, scribe.Errorf(scribe.EINVALID, "--server %q is not an http(s) URL", server)
	}
	body, err := json.Marshal(map[string]string{"author": req.Author, "email": req.Email})
	if err != nil {
		return scribe.ExportResult{}, err
	}
	endpoint := base.JoinPath("api", "notes", string(id), "export").String()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return scribe.ExportResult{}, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	client := &http.Client{Timeout: 5 * time.Minute}
	resp, err := client.Do(hreq)
	if err != nil {
		return scribe.ExportResult{}, fmt.Errorf("reach %s: %w", base.Redacted(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return scribe.ExportResult{}, fmt.Errorf("read answer from %s: %w", base.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &e) == nil && e.Code != "" {
			return scribe.ExportResult{}, &scribe.Error{Code: e.Code, Message: e.Message}
		}
		return scribe.ExportResult{}, fmt.Errorf("%s answered %s", base.Redacted(), resp.Status)
	}
	var res scribe.ExportResult
	if err := json.Unmarshal(data, &res); err != nil || res.Commit == "" {
		return scribe.ExportResult{}, fmt.Errorf("%s answered with something that is not an export result", base.Redacted())
	}
	return res, nil
}

// noteIDFromArg accepts a bare note id or an edit link ending in /n/<id>.
func noteIDFromArg(s string) scribe.NoteID {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "/n/"); i >= 0 {
		s = s[i+len("/n/"):]
		s, _, _ = strings.Cut(s, "?")
		s, _, _ = strings.Cut(s, "#")
		s = strings.TrimSuffix(s, "/")
	}
	return scribe.NoteID(s)
}

// describeError gives a person-readable sentence for err: a scribe.Error's
// message with its code, anything else as is (this is a command line tool,
// not a client of the API: internals help the operator).
func describeError(err error) string {
	var se *scribe.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (%s)", strings.TrimSuffix(se.Message, "."), se.Code)
	}
	return err.Error()
}

func printExportResult(w io.Writer, res scribe.ExportResult) {
	short := res.Commit
	if len(short) > 12 {
		short = short[:12]
	}
	if res.Unchanged {
		fmt.Fprintf(w, "Unchanged since the last export: %s (commit %s)\n", res.Path, short)
	} else {
		fmt.Fprintf(w, "Exported to %s in commit %s\n", res.Path, short)
	}
	switch {
	case res.Pushed:
		fmt.Fprintln(w, "Pushed to the remote.")
	case res.PushError != "":
		fmt.Fprintln(w, "NOT pushed:", res.PushError)
	}
}

// gitIdentity returns the user's git user.name and user.email, if set.
func gitIdentity() (name, email string) {
	cfg, err := gitconfig.LoadConfig(gitconfig.GlobalScope)
	if err != nil || cfg == nil {
		return "", ""
	}
	return cfg.User.Name, cfg.User.Email
}
