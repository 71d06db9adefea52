// Package server is Scribe's HTTP and websocket server: the pages, the JSON
// API for scripts and bots (docs/api.md), and the websocket transport of
// the protocol (docs/protocol.md, package protocol) through which browsers
// edit notes together.
//
// Each note open on this node has one room (package room): a goroutine that
// owns the note's live document, commits edits in batches and fans them out.
// A websocket connection is a room.Member: it has one read pump, which hands
// the room what the client sends through its room.Seat, and one write pump,
// which sends what the room delivered to its outbox.
//
// The package depends on the root contract (scribe.Store, scribe.Exporter),
// never on a concrete store; cmd/scribe wires one in.
package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
	"github.com/scribe-notes/scribe/markdown"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/room"
	"github.com/scribe-notes/scribe/search"
	"github.com/scribe-notes/scribe/web"
)

// Limits are the configurable limits the server enforces. A zero field takes
// its default.
type Limits struct {
	// MaxMessageBytes bounds one websocket frame from a client and the body of
	// an API request (default room.MessageBytesFor(MaxNoteBytes), 2 MiB +
	// 64 KiB for the default note limit: an edit that fills a note fits in
	// one message).
	MaxMessageBytes int
	// MaxNoteBytes bounds a note's text, in UTF-8 bytes (default 1 MiB). An
	// edit that would grow a note beyond it is refused; edits that shrink it
	// are always accepted.
	MaxNoteBytes int
	// OpsPerSecond is the sustained rate of operations one connection may
	// send (default 60); it may burst to the same number at once. Presence
	// may come twice as fast; excess presence is dropped.
	OpsPerSecond float64
	// SendQueueBytes bounds what may wait to be sent to one client
	// (default 4 MiB); a client that falls further behind is disconnected
	// with close code 4000.
	SendQueueBytes int

	// NotesPerMinute, SharesPerMinute and AppendsPerMinute are the
	// sustained rates at which one person may create notes, create
	// read-only links and append through the API (defaults 30, 30, 600);
	// each may burst to a minute's worth at once. Past one, the request is
	// answered 429 ERATELIMIT with Retry-After. A request with no person
	// (a guest, the local person) counts against its peer address, at
	// PeerFactor times the rate (default 10): a meeting room behind one NAT
	// is many people. A negative rate turns that limit off.
	NotesPerMinute   float64
	SharesPerMinute  float64
	AppendsPerMinute float64
	PeerFactor       float64
	// MaxSharesPerNote bounds a note's live read-only links (default 100;
	// negative: no limit). A further one is refused with ETOOLARGE until
	// one is revoked.
	MaxSharesPerNote int
}

// Default limits.
const (
	DefaultMaxMessageBytes = room.DefaultMaxMessageBytes
	DefaultMaxNoteBytes    = room.DefaultMaxNoteBytes
	DefaultOpsPerSecond    = room.DefaultOpsPerSecond
	DefaultSendQueueBytes  = 4 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxNoteBytes <= 0 {
		l.MaxNoteBytes = DefaultMaxNoteBytes
	}
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = room.MessageBytesFor(l.MaxNoteBytes)
	}
	if l.OpsPerSecond <= 0 {
		l.OpsPerSecond = DefaultOpsPerSecond
	}
	if l.SendQueueBytes <= 0 {
		l.SendQueueBytes = DefaultSendQueueBytes
	}
	for _, r := range []struct {
		v   *float64
		def float64
	}{{&l.NotesPerMinute, DefaultNotesPerMinute}, {&l.SharesPerMinute, DefaultSharesPerMinute},
		{&l.AppendsPerMinute, DefaultAppendsPerMinute}, {&l.PeerFactor, DefaultPeerFactor}} {
		if *r.v == 0 {
			*r.v = r.def
		}
	}
	if l.PeerFactor < 1 {
		l.PeerFactor = 1
	}
	if l.MaxSharesPerNote == 0 {
		l.MaxSharesPerNote = DefaultMaxSharesPerNote
	}
	return l
}

func (l Limits) wire() protocol.Limits {
	return protocol.Limits{MaxMessageBytes: l.MaxMessageBytes, MaxNoteBytes: l.MaxNoteBytes, OpsPerSecond: l.OpsPerSecond}
}

// Config configures a Server. Store is required; everything else has a
// default.
type Config struct {
	Store scribe.Store
	// Exporter writes notes to the team's repository; nil disables export
	// (POST /api/notes/{id}/export answers 503 EUNAVAILABLE).
	Exporter scribe.Exporter
	// CommitURL links export commits on the pages (the export notice in
	// the editor and the read-only page, the history page's checkpoints):
	// "{sha}" is replaced by the
	// commit's hash (scribe.ValidCommitURL). Empty: commits are not links.
	CommitURL string
	// Templates are the note templates; nil means the built-ins.
	Templates *web.Templates
	// PublicURL is the server's external base URL (e.g.
	// https://scribe.example.com) for the links the API returns and exports
	// record. Links are built from it only, never from a request's Host;
	// empty means http://localhost (local mode).
	PublicURL string
	// Auth says who is asking and guards hosts (package auth). Nil means
	// local mode with no configuration: the person at the machine is the
	// only member.
	Auth *auth.Auth

	// Location is the team's time zone, for filling in templates; nil is UTC.
	Location *time.Location
	// Logger receives structured logs; nil is slog.Default().
	Logger *slog.Logger
	Limits Limits
	// Timing of the rooms; zero fields take room.DefaultTiming's.
	Timing room.Timing
	// Renderer renders notes for the read-only page and download.html,
	// within its limits and concurrency; nil is markdown.Default().
	Renderer *markdown.Renderer
	// Metrics are further collectors served on /metrics (the export
	// notifier's counters).
	Metrics []prometheus.Collector
	// Search answers GET /api/search; nil disables search (503
	// EUNAVAILABLE). Its owner (cmd/scribe) opens and closes it, and keeps
	// it in step with the store (search.Indexer).
	Search search.Index
	// Ledger answers GET /api/actions, /api/decisions and the /actions
	// page; nil disables them (503 EUNAVAILABLE). Its owner keeps it with
	// the search index (search.IndexerOptions.Ledger).
	Ledger *search.Ledger
}

// Server serves Scribe. Its lifecycle is New, Open, then Close; Handler
// serves requests between Open and Close. It is safe for concurrent use.
type Server struct {
	store     scribe.Store
	exporter  scribe.Exporter
	commitURL string
	templates *web.Templates
	pages     *web.Pages
	publicURL *url.URL // nil when not configured
	auth      *auth.Auth
	loc       *time.Location
	log       *slog.Logger
	limits    Limits
	renderer  *markdown.Renderer
	search    search.Index
	ledger    *search.Ledger

	// Limits per person (or peer address): see Limits.
	createLimit, shareLimit, appendLimit *rateLimiter

	rooms    *room.Hub
	metrics  *metrics
	upgrader websocket.Upgrader
	handler  http.Handler

	mu      sync.Mutex
	closing bool
	connWG  sync.WaitGroup // live websocket connections
}

// New returns a Server for cfg. It does no I/O; call Open.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: a store is required")
	}
	s := &Server{
		store:     cfg.Store,
		exporter:  cfg.Exporter,
		commitURL: cfg.CommitURL,
		templates: cfg.Templates,
		loc:       cfg.Location,
		log:       cfg.Logger,
		limits:    cfg.Limits.withDefaults(),
		renderer:  cfg.Renderer,
		search:    cfg.Search,
		ledger:    cfg.Ledger,
	}
	if s.renderer == nil {
		s.renderer = markdown.Default()
	}
	if err := scribe.ValidCommitURL(s.commitURL); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.createLimit = newRateLimiter("notes created", s.limits.NotesPerMinute)
	s.shareLimit = newRateLimiter("read-only links created", s.limits.SharesPerMinute)
	s.appendLimit = newRateLimiter("appends", s.limits.AppendsPerMinute)
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(strings.TrimRight(cfg.PublicURL, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("server: public URL %q must be http(s)://host[:port][/path]", cfg.PublicURL)
		}
		s.publicURL = u
	}
	if s.templates == nil {
		t, err := web.LoadTemplates("")
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		s.templates = t
	}
	pages, err := web.NewPages()
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.pages = pages
	s.auth = cfg.Auth
	if s.auth == nil {
		a, err := auth.New(context.Background(), auth.Config{PublicURL: cfg.PublicURL})
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		s.auth = a
	}
	s.metrics = newMetrics(s)
	for _, c := range cfg.Metrics {
		if err := s.metrics.reg.Register(c); err != nil {
			return nil, fmt.Errorf("server: metrics: %w", err)
		}
	}
	s.rooms, err = room.New(room.Config{
		Store:   s.store,
		Logger:  s.log,
		Metrics: roomMetrics{s.metrics},
		Limits:  s.limits.wire(),
		NodeID:  "n_" + randomString(8),
		Timing:  cfg.Timing,
		// A catch-up waits in the client's queue like everything else.
		CatchupBytes: s.limits.SendQueueBytes,
		// A room's viewers share their frames (viewercast.go).
		NewAudience: func() room.Audience { return newAudience(viewerWindow, s.metrics) },
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.upgrader = websocket.Upgrader{
		// The pool lends a write buffer only while a frame is written: an
		// idle connection (most of them, in a meeting) holds none. The
		// read buffer (readBufferSize) is serveWS's hijacker's, not the
		// upgrader's, so that a parked connection can lend it back too
		// (park.go); it is small: a keystroke's message fits, a longer
		// one is read through it.
		WriteBufferPool: &sync.Pool{},
		// A frame of 500 ops (a commit at 1,000 typists, ~50 KB) in one
		// write; with 16 KiB it took two or three (docs/benchmarks.md).
		WriteBufferSize: 64 << 10,
		CheckOrigin:     s.auth.Hosts().OriginAllowed,
	}
	s.handler = s.routes()
	return s, nil
}

// Open checks that the store is reachable, so a misconfigured node fails at
// start rather than on its first request. It does not listen: serve Handler
// with an http.Server.
func (s *Server) Open(ctx context.Context) error {
	if err := s.rooms.Open(ctx); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.log.Info("scribe server ready", "node", s.rooms.NodeID(),
		"maxMessageBytes", s.limits.MaxMessageBytes, "maxNoteBytes", s.limits.MaxNoteBytes,
		"opsPerSecond", s.limits.OpsPerSecond, "export", s.exporter != nil)
	return nil
}

// MetricsHandler serves the Prometheus metrics, for a listener of their
// own (--metrics-addr); on Handler, /metrics answers only local requests.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// NodeID returns this node's id, as it appears in logs.
func (s *Server) NodeID() string { return s.rooms.NodeID() }

// Close shuts the server down gracefully within 15 seconds; see Shutdown.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return s.Shutdown(ctx)
}

// Shutdown refuses new websocket connections, lets every room commit
// what is queued, sends each client what is committed and closes it with
// 1001 (going away) so it reconnects, possibly to another node; then waits
// for the connections and background work to end, or for ctx. Stop the
// http.Server first (http.Server.Shutdown) so no new requests arrive; the
// Store is closed after Shutdown returns.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	err := s.rooms.Shutdown(ctx)
	done := make(chan struct{})
	go func() {
		s.connWG.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("server shutdown: %w", err)
	}
	return nil
}

// trackConn registers a websocket connection, or reports false when the
// server is shutting down.
func (s *Server) trackConn() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.connWG.Add(1)
	return true
}

// baseURL is the external base URL links are built from: --public-url,
// never the request's Host (a DNS-rebinding page chooses that). Without a
// public URL (local mode) links name localhost on the port the request
// came to, which the Hosts guard has already checked is a loopback name.
func (s *Server) baseURL(r *http.Request) string {
	if s.publicURL != nil {
		return s.publicURL.String()
	}
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, ""
	}
	switch host {
	case "localhost", "127.0.0.1", "[::1]", "::1":
	default:
		host = "localhost"
	}
	if port != "" {
		return "http://" + net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	return "http://" + host
}

func randomString(n int) string {
	b := make([]byte, (n*6+7)/8)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
