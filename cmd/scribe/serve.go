package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
	"github.com/scribe-notes/scribe/history"
	"github.com/scribe-notes/scribe/markdown"
	"github.com/scribe-notes/scribe/notify"
	"github.com/scribe-notes/scribe/search"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/redis"
	"github.com/scribe-notes/scribe/web"
)

// shutdownTimeout bounds a graceful shutdown: committing what is queued,
// closing connections with 1001, and closing the store.
const shutdownTimeout = 20 * time.Second

// serveConfig is everything `scribe serve` is configured with.
type serveConfig struct {
	addr         string
	store        storeConfig
	publicURL    string
	templatesDir string
	logLevel     string
	logFormat    string
	debugAddr    string
	limits       server.Limits
	render       markdown.Options
	httpLimits   server.HTTPLimits
	export       *exportConfig // the export flags (cmd/scribe/export.go), incl. --timezone
	metricsAddr  string
	searchDir    string
	auth         authFlags
	// notifyWebhooks and commitURL configure the chat notifications sent
	// on export (package notify).
	notifyWebhooks listFlag
	commitURL      string
	// historyHotAge is how old history gets before the sweeper folds it
	// (0: never), historyBudget how many changes one step folds.
	historyHotAge time.Duration
	historyBudget int
}

// listFlag is a repeatable flag; one value may also hold several,
// comma-separated (as its SCRIBE_* variable does).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// authFlags are the sign-in flags of docs/security.md.
type authFlags struct {
	mode                     string
	allowedHosts             string
	localName, localEmail    string
	oidcIssuer, oidcClientID string
	oidcSecretFile           string
	oidcDomains, oidcEmails  string
	emailHeader, nameHeader  string
	trustedProxies           string
	sessionKeyFile           string
	sessionLifetime          time.Duration
}

func addAuthFlags(fs *flag.FlagSet, c *authFlags) {
	fs.StringVar(&c.mode, "auth", "none", "how people sign in: none (local mode: only the person at this machine, on localhost), oidc or proxy")
	fs.StringVar(&c.allowedHosts, "allowed-hosts", "", "further host names requests may name, comma-separated (besides --public-url's host and localhost)")
	fs.StringVar(&c.localName, "local-name", "", "local mode: your name on exports (default: git config user.name of the export repository)")
	fs.StringVar(&c.localEmail, "local-email", "", "local mode: your email on exports (default: git config user.email of the export repository)")
	fs.StringVar(&c.oidcIssuer, "oidc-issuer", "", "oidc: the OpenID Provider's issuer URL")
	fs.StringVar(&c.oidcClientID, "oidc-client-id", "", "oidc: this Scribe's client id at the provider")
	fs.StringVar(&c.oidcSecretFile, "oidc-client-secret-file", "", "oidc: a file holding the client secret")
	fs.StringVar(&c.oidcDomains, "oidc-allowed-domains", "", "oidc: email domains whose verified addresses become members, comma-separated")
	fs.StringVar(&c.oidcEmails, "oidc-allowed-emails", "", "oidc: single addresses that become members, comma-separated")
	fs.StringVar(&c.emailHeader, "auth-email-header", auth.DefaultEmailHeader, "proxy: the header holding the person's email")
	fs.StringVar(&c.nameHeader, "auth-name-header", auth.DefaultNameHeader, "proxy: the header holding the person's display name")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "proxy (required): CIDRs or addresses the proxy connects from, comma-separated")
	fs.StringVar(&c.sessionKeyFile, "session-key-file", "", "oidc: the session cookies' HMAC key (default: <data-dir>/session.key, generated); share it between nodes")
	fs.DurationVar(&c.sessionLifetime, "session-lifetime", auth.DefaultSessionLifetime, "oidc: how long a sign-in lasts")
}

// list splits a comma-separated flag value.
func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// checkExposure refuses what would put notes on a network without sign-in:
// a non-loopback --addr in local mode, and a sign-in mode without
// --public-url.
func checkExposure(cfg serveConfig) error {
	mode := auth.Mode(cfg.auth.mode)
	if mode == "" || mode == auth.ModeNone {
		host, _, err := net.SplitHostPort(cfg.addr)
		if err != nil {
			return fmt.Errorf("serve: --addr %q: %w", cfg.addr, err)
		}
		ip, _ := netip.ParseAddr(strings.Trim(host, "[]"))
		if host != "localhost" && !(ip.IsValid() && ip.IsLoopback()) {
			return fmt.Errorf("serve: --addr %s would let anyone on the network read and edit every note: local mode (--auth none) serves only localhost. "+
				"Listen on 127.0.0.1, or turn sign-in on: --auth oidc with --public-url, --oidc-issuer, --oidc-client-id, --oidc-client-secret-file and --oidc-allowed-domains; "+
				"or --auth proxy with --public-url and --trusted-proxies behind oauth2-proxy (docs/operations.md)", cfg.addr)
		}
		return nil
	}
	if cfg.publicURL == "" {
		return fmt.Errorf("serve: --auth %s needs --public-url, the URL people reach Scribe at (e.g. https://notes.example.com): links and exports are built from it", mode)
	}
	return nil
}

// serveFlags registers serve's own flags on fs, with their defaults. The
// export flags, and --timezone which templates share with exports, are
// registered by addExportFlags.
func serveFlags(fs *flag.FlagSet, c *serveConfig) {
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.store.dataDir, "data-dir", "./data", "directory of the embedded store (used unless --redis is set)")
	fs.StringVar(&c.store.redisURL, "redis", "", "keep notes in Redis instead: redis://host:port/db, host:port, or host:port,host:port for a Redis Cluster; every node sharing it serves the same notes")
	fs.StringVar(&c.store.redisPrefix, "redis-prefix", redis.DefaultPrefix, "prefix of every Redis key, so several deployments can share one Redis")
	fs.StringVar(&c.publicURL, "public-url", "", "the URL people reach Scribe at, e.g. https://scribe.example.com; links and exports are built from it only (required with --auth oidc|proxy; default: http://localhost)")
	fs.StringVar(&c.searchDir, "search-dir", "", "directory of this node's search index (default: <data-dir>/search with the embedded store; in memory, rebuilt from the store at each start, with --redis)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve /metrics on this separate address, e.g. 127.0.0.1:9090 (default: /metrics on --addr answers only localhost)")
	addAuthFlags(fs, &c.auth)
	fs.Var(&c.notifyWebhooks, "notify-webhook", "incoming-webhook URL (Slack, Mattermost, Rocket.Chat) told of every export; repeatable, or comma-separated in SCRIBE_NOTIFY_WEBHOOK")
	fs.StringVar(&c.commitURL, "export-commit-url", "", "link for an export commit in the note, on the history page and in notifications, {sha} replaced by its hash, e.g. https://git.example.com/team/notes/commit/{sha}")
	fs.StringVar(&c.templatesDir, "templates-dir", "", "directory of extra note templates (*.md); they override built-ins of the same name")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json")
	fs.StringVar(&c.debugAddr, "debug-addr", "", "serve Go's /debug/pprof profiles on this separate address, e.g. 127.0.0.1:6060 (default: off; never expose it publicly)")
	fs.IntVar(&c.limits.MaxMessageBytes, "max-message-bytes", 0, "largest websocket message or API request body, in bytes (default 2 × --max-note-bytes + 64 KiB: an edit that fills a note fits in one message)")
	fs.IntVar(&c.limits.MaxNoteBytes, "max-note-bytes", server.DefaultMaxNoteBytes, "largest note, in bytes of UTF-8 text")
	fs.Float64Var(&c.limits.OpsPerSecond, "ops-per-second", server.DefaultOpsPerSecond, "operations per second one connection may send")
	fs.IntVar(&c.limits.SendQueueBytes, "send-queue-bytes", server.DefaultSendQueueBytes, "bytes that may wait to be sent to one client before it is disconnected as too slow")
	fs.Float64Var(&c.limits.NotesPerMinute, "notes-per-minute", server.DefaultNotesPerMinute, "notes one person may create a minute, and at once (-1: no limit); see --peer-limit-factor")
	fs.Float64Var(&c.limits.SharesPerMinute, "shares-per-minute", server.DefaultSharesPerMinute, "read-only links one person may create a minute, and at once (-1: no limit)")
	fs.Float64Var(&c.limits.AppendsPerMinute, "appends-per-minute", server.DefaultAppendsPerMinute, "API appends one person (or API token) may make a minute, and at once (-1: no limit)")
	fs.Float64Var(&c.limits.PeerFactor, "peer-limit-factor", server.DefaultPeerFactor, "requests with no signed-in person (guests, local mode) count per IP address, at this many times a person's limits: one NAT is many people")
	fs.IntVar(&c.limits.MaxSharesPerNote, "max-shares-per-note", server.DefaultMaxSharesPerNote, "live read-only links one note may have (-1: no cap)")
	fs.Int64Var(&c.store.maxHistoryBytes, "max-history-bytes", bolt.DefaultMaxHistoryBytes, "bytes of changes one note may store over its life; an edit past it is refused with ETOOLARGE (-1: no budget)")
	fs.DurationVar(&c.historyHotAge, "history-hot-age", scribe.DefaultHistoryHotAge, "history older than this is compacted: each person's edits of one minute become one step of the history (0: never compact)")
	fs.IntVar(&c.historyBudget, "history-sweep-budget", history.DefaultSweepBudget, "changes one compaction step folds at most (one step every 10 s; 0: the default)")
	fs.Int64Var(&c.store.minFreeBytes, "min-free-bytes", bolt.DefaultMinFreeBytes, "embedded store: free space the data directory's disk must keep; below it, writes are refused with EUNAVAILABLE (-1: no check)")
	d := markdown.DefaultLimits
	fs.IntVar(&c.render.Limits.MaxTableCells, "render-max-table-cells", d.MaxTableCells, "table cells (rows × columns) a note may render; past them it is shown as plain text")
	fs.IntVar(&c.render.Limits.MaxDepth, "render-max-depth", d.MaxDepth, "levels of quotes and lists a note may nest; past them it is shown as plain text")
	fs.IntVar(&c.render.Limits.MaxLinkScan, "render-max-link-scan", d.MaxLinkScan, "bytes of link destinations the markdown parser may scan in a note; past them it is shown as plain text")
	fs.IntVar(&c.render.Limits.MaxOutput, "render-max-output", d.MaxOutput, "bytes of HTML one note may render to; past them it is shown as plain text")
	fs.DurationVar(&c.render.Limits.Timeout, "render-timeout", d.Timeout, "time one markdown render may take before the page shows the note as plain text")
	fs.IntVar(&c.render.Concurrency, "render-concurrency", markdown.DefaultConcurrency, "markdown renders that may run at once")
	fs.DurationVar(&c.render.Wait, "render-wait", markdown.DefaultWait, "time a render waits for a free slot before the page shows the note as plain text")
	fs.IntVar(&c.render.CacheBytes, "render-cache-bytes", markdown.DefaultCacheBytes, "bytes of rendered HTML kept in memory")
	fs.DurationVar(&c.httpLimits.ReadHeaderTimeout, "read-header-timeout", server.DefaultReadHeaderTimeout, "longest time a request's headers may take to arrive")
	fs.DurationVar(&c.httpLimits.ReadTimeout, "read-timeout", server.DefaultReadTimeout, "longest time a whole request, body included, may take to arrive (websockets set their own deadlines once upgraded)")
	fs.IntVar(&c.httpLimits.MaxConnsPerPeer, "max-conns-per-peer", server.DefaultMaxConnsPerPeer, "connections one IP address may hold open at once, loopback included (-1: no cap, e.g. behind a reverse proxy)")
}

// startSweeper starts the history sweeper (--history-hot-age), unless
// compaction is off; a store that cannot compact is logged and left as it
// is.
func startSweeper(ctx context.Context, cfg serveConfig, store scribe.Store, log *slog.Logger) (*history.Sweeper, error) {
	if cfg.historyHotAge < 0 || cfg.historyBudget < 0 {
		return nil, fmt.Errorf("--history-hot-age must be 0 (never) or more, and --history-sweep-budget at least 1")
	}
	if cfg.historyHotAge == 0 {
		return nil, nil
	}
	c, ok := store.(scribe.Compactor)
	if !ok {
		log.Warn("this store does not compact history: --history-hot-age has no effect")
		return nil, nil
	}
	sw, err := history.NewSweeper(history.SweeperConfig{Compactor: c, HotAge: cfg.historyHotAge, Budget: cfg.historyBudget, Logger: log})
	if err != nil {
		return nil, err
	}
	return sw, sw.Open(ctx)
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// openSearch opens the search index (--search-dir; by default the data
// dir's search/ with the embedded store, memory with Redis, where every
// node keeps its own index) and starts the Indexer that keeps it in step
// with the store's change feed. The caller closes the indexer, then the
// index.
func openSearch(ctx context.Context, cfg serveConfig, store scribe.Store, ledger *search.Ledger, log *slog.Logger) (*search.Bleve, *search.Indexer, error) {
	feed, ok := store.(scribe.NoteFeed)
	if !ok {
		return nil, nil, errors.New("search: the store has no change feed")
	}
	dir := cfg.searchDir
	if dir == "" && cfg.store.redisURL == "" {
		dir = filepath.Join(cfg.store.dataDir, "search")
	}
	idx, err := search.OpenBleve(dir)
	if err != nil {
		return nil, nil, err
	}
	indexer := search.NewIndexer(store, feed, idx, idx.Fresh(), search.IndexerOptions{Logger: log, Ledger: ledger})
	if err := indexer.Open(ctx); err != nil {
		_ = idx.Close()
		return nil, nil, err
	}
	where := dir
	if where == "" {
		where = "memory"
	}
	log.Info("search index open", "dir", where, "rebuilding", idx.Fresh())
	return idx, indexer, nil
}

// runServe is `scribe serve`: it opens the store, starts the server, and on
// SIGINT or SIGTERM shuts down gracefully.
func runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: scribe serve [flags]\n\nRuns the collaboration server. Each flag can also be set with its SCRIBE_*\nenvironment variable (--data-dir: SCRIBE_DATA_DIR).")
		fs.PrintDefaults()
	}
	var cfg serveConfig
	serveFlags(fs, &cfg)
	cfg.export = addExportFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // the usage was printed; asking for it is no failure
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	if err := flagsFromEnv(fs); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return serve(ctx, cfg, nil)
}

// serve runs the server until ctx is done. When ready is not nil, it
// receives the listening address once requests are served.
func serve(ctx context.Context, cfg serveConfig, ready chan<- string) error {
	log, err := newLogger(cfg.logLevel, cfg.logFormat)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if cfg.export == nil {
		cfg.export = &exportConfig{timezone: "UTC"}
	}
	loc, err := time.LoadLocation(cfg.export.timezone)
	if err != nil {
		return fmt.Errorf("serve: --timezone %q is not a time zone name like UTC or Europe/Berlin", cfg.export.timezone)
	}
	templates, err := web.LoadTemplates(cfg.templatesDir)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	if err := checkExposure(cfg); err != nil {
		return err
	}

	store, where, err := cfg.store.open(ctx, log, true, 0)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()

	var collectors []prometheus.Collector
	if sw, err := startSweeper(ctx, cfg, store, log); err != nil {
		return fmt.Errorf("serve: %w", err)
	} else if sw != nil {
		defer sw.Close() // before the store closes (deferred earlier)
		collectors = append(collectors, sw.Collectors()...)
	}
	if len(cfg.notifyWebhooks) > 0 {
		if cfg.export.repo == "" {
			log.Warn("--notify-webhook is set but export is not (--export-repo): no notifications will be sent")
		}
		n, err := notify.New(notify.Config{Webhooks: cfg.notifyWebhooks, CommitURL: cfg.commitURL, Logger: log})
		if err != nil {
			return fmt.Errorf("serve: %s", describeError(err))
		}
		if err := n.Open(ctx); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		defer n.Close()
		cfg.export.onExport = n.Notify
		collectors = append(collectors, n.Collectors()...)
	}
	ledger := search.NewLedger()
	idx, indexer, err := openSearch(ctx, cfg, store, ledger, log)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer func() {
		// After the server (deferred later, so run earlier): the indexer
		// stops following the store before the store closes.
		_ = indexer.Close()
		if err := idx.Close(); err != nil {
			log.Error("close search index", "err", err)
		}
	}()

	cfg.export.log = log
	exporter, err := cfg.export.newExporter(store, cfg.publicURL)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	dataDir := cfg.store.dataDir
	if cfg.store.redisURL != "" {
		dataDir = "" // nodes share Redis: they must share --session-key-file, never generate keys of their own
	}
	a, err := auth.New(ctx, auth.Config{
		Mode: auth.Mode(cfg.auth.mode), PublicURL: cfg.publicURL, AllowedHosts: list(cfg.auth.allowedHosts),
		LocalName: cfg.auth.localName, LocalEmail: cfg.auth.localEmail, LocalGitDir: cfg.export.repo,
		OIDCIssuer: cfg.auth.oidcIssuer, OIDCClientID: cfg.auth.oidcClientID, OIDCClientSecretFile: cfg.auth.oidcSecretFile,
		OIDCAllowedDomains: list(cfg.auth.oidcDomains), OIDCAllowedEmails: list(cfg.auth.oidcEmails),
		EmailHeader: cfg.auth.emailHeader, NameHeader: cfg.auth.nameHeader, TrustedProxies: list(cfg.auth.trustedProxies),
		SessionKeyFile: cfg.auth.sessionKeyFile, DataDir: dataDir, SessionLifetime: cfg.auth.sessionLifetime,
		Tokens: store, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv, err := server.New(server.Config{
		Auth:      a,
		Store:     store,
		Exporter:  exporter,
		CommitURL: cfg.commitURL,
		Templates: templates,
		PublicURL: cfg.publicURL,
		Location:  loc,
		Logger:    log,
		Limits:    cfg.limits,
		Renderer:  markdown.NewRenderer(cfg.render),
		Metrics:   collectors,
		Search:    idx,
		Ledger:    ledger,
	})
	if err != nil {
		return err
	}
	if err := srv.Open(ctx); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("serve: %w", err)
	}
	httpSrv := &http.Server{
		Handler:     srv.Handler(),
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln = server.ConfigureHTTP(httpSrv, ln, cfg.httpLimits)
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	if cfg.debugAddr != "" {
		dln, err := net.Listen("tcp", cfg.debugAddr)
		if err != nil {
			_ = httpSrv.Close()
			_ = srv.Close()
			return fmt.Errorf("serve: --debug-addr: %w", err)
		}
		debugSrv := &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
		defer debugSrv.Close()
		go func() { _ = debugSrv.Serve(dln) }()
		log.Info("profiling listening", "url", "http://"+dln.Addr().String()+"/debug/pprof/")
	}
	if cfg.metricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.metricsAddr)
		if err != nil {
			_ = httpSrv.Close()
			_ = srv.Close()
			return fmt.Errorf("serve: --metrics-addr: %w", err)
		}
		metricsSrv := &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		defer metricsSrv.Close()
		go func() { _ = metricsSrv.Serve(mln) }()
		log.Info("metrics listening", "url", "http://"+mln.Addr().String()+"/metrics")
	}
	addr := ln.Addr().String()
	log.Info("scribe listening", "url", "http://"+addr, "auth", a.Mode(), "store", where, "timezone", loc.String(), "node", srv.NodeID())
	if ready != nil {
		ready <- addr
	}

	select {
	case err := <-errc:
		_ = srv.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	// Stop accepting and let HTTP requests finish while the sessions commit
	// what is queued and close their websockets with 1001 (going away), so
	// clients reconnect, possibly to another node. Then the store closes
	// (deferred above).
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var httpErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		httpErr = httpSrv.Shutdown(shutdownCtx)
	}()
	srvErr := srv.Shutdown(shutdownCtx)
	wg.Wait()
	if err := errors.Join(httpErr, srvErr); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	log.Info("shut down cleanly")
	return nil
}
