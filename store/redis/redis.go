// Package redis is Scribe's Redis store: a scribe.Store kept in one Redis
// server or a Redis Cluster, so that several Scribe nodes share notes, agree
// on one order of edits for each note, and hear each other's commits.
//
// # Key layout
//
// Every key of one note carries the note's id as a hash tag, so in a Redis
// Cluster all of them live in one slot and the atomic append is one Lua
// script on one node (P is Options.Prefix, "scribe:" by default):
//
//	P note:{id}:meta      hash: title, template, created, updated, rev, len, guest ("1": guest editing on),
//	                      history (bytes of log and cold), logbase (see cold),
//	                      snaprev (snap's revision, for append.lua; absent in a
//	                      note not snapshotted since it was added)
//	P note:{id}:snap      hash: rev, text (the text at a recent revision)
//	P note:{id}:log       list: element i is the change of revision logbase+1+i
//	P note:{id}:cold      list: revisions 1..logbase, compacted (compact.go)
//	P note:{id}:seqrevs:<session>  list: first seq f, then the revisions
//	                      of seqs f, f+1, ... (a session's submissions, compactly;
//	                      "f:R" once compaction trimmed it, see append.lua)
//	P note:{id}:dedup     hash: "<seq>:<session>" -> revision, for the
//	                      submissions that do not continue their session's list
//	P note:{id}:sessions  hash: session -> "<seq>:<revision>" of its highest seq
//	P note:{id}:shares    sorted set: the note's share tokens by creation time
//	P note:{id}:events    sharded pub/sub channel: commits and messages
//	P share:{token}       string: the share (its note id and creation time)
//	P notes:byupdated     sorted set: note ids by the time of their last edit
//	P apitoken:{apitokens}:<id>         hash: a personal API token (see tokens.go)
//	P apitokens:{apitokens}:owner:<o>   sorted set: an owner's token ids
//
// notes:byupdated is the one global key. On a single Redis server the
// append script updates it too (ZADD GT, so it never moves backwards). In a
// Cluster it lives in its own slot, so it cannot join the note's atomic
// append: it is updated right after, with a second round trip. If a node
// dies between the two, the note keeps its previous position in ListNotes
// until its next edit; ListNotes sorts what it reads by the metadata's
// updated time, which is always exact.
//
// # Snapshots
//
// Lua cannot apply operations, so snapshots are computed in Go: when an
// append crosses a multiple of the snapshot interval k (Options.SnapshotEvery,
// K, or n/256 changes for a text of n UTF-16 units when that is more), a
// background worker stores the note's text, taken from the Store's cached
// copy (see below) or else computed from the latest snapshot and the
// changes since, with a compare (only if newer). Any node may do so; racing
// nodes write the same text for the same revision. If the stored snapshot
// lags by 2k, Append writes one before it returns, and LoadNote writes one
// when it finds the stored one lagging by k or more, so a load applies at
// most about 2k changes whatever the writers' pace.
//
// # Checking operations
//
// Every operation Append commits must apply to the text it is based on, so
// the log always replays. The append script checks the chain of base
// lengths against the stored length; each Store also keeps the text of the
// notes it recently edited as ot.Documents (Options.CacheBytes) and applies
// every new operation to it first, which catches what lengths cannot (a
// boundary inside a surrogate pair). A copy that is behind catches up from
// the log; one whose length disagrees with the stored length is reloaded.
//
// # Durability
//
// Append returns once Redis has executed the script, which makes the
// changes as durable as the server's persistence settings make them: see
// docs/operations.md (appendonly and appendfsync).
package redis

import (
	"cmp"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
)

// Defaults for Options.
const (
	DefaultPrefix        = "scribe:"
	DefaultSnapshotEvery = 100
)

// Limits. An Append beyond them fails with ETOOLARGE and writes nothing.
const (
	// MaxBatch is the largest number of changes one Append accepts.
	MaxBatch = 10000
	// maxSessionLen bounds a change's Session; the protocol allows 64.
	maxSessionLen = 256
	// maxAuthorLen bounds a change's Author; the protocol allows 64 characters.
	maxAuthorLen = 1024
	// maxListNotes bounds ListNotes' limit.
	maxListNotes = 10000
)

// Timeouts. go-redis's defaults (5 s to dial, 3 s per read, 3 retries,
// context deadlines ignored on sockets) let a hung Redis hold a call for 10 s
// or more; these make a Redis that does not answer a store that failed,
// with EUNAVAILABLE, in about CallTimeout. Redis answers every command the
// store sends in milliseconds (the largest, an append of 1 MiB, in a few),
// so each value is far above a healthy answer and below what a person
// typing notices. A URL option (dial_timeout, read_timeout, write_timeout,
// pool_timeout, max_retries) overrides the value it names. docs/operations.md
// explains each.
const (
	// CallTimeout bounds every store call's Redis commands, retries
	// included: a deadline on the call's context (a go-redis hook).
	CallTimeout = 1500 * time.Millisecond
	// DialTimeout bounds opening a connection: a reachable Redis accepts in
	// under a millisecond on a LAN.
	DialTimeout = time.Second
	// ReadTimeout and WriteTimeout bound one socket read or write.
	ReadTimeout  = time.Second
	WriteTimeout = time.Second
	// PoolTimeout bounds the wait for a free connection when all are busy
	// (all of them stuck on a hung Redis, typically).
	PoolTimeout = time.Second
	// MaxRetries is how often a command failed by a network error is tried
	// again: once, for a connection that broke between commands. More only
	// multiply the wait on a hung Redis. The append script is never tried
	// again (see runOnce): Redis may have run it.
	MaxRetries = 1
)

// snapshotQueueLen bounds the pending snapshot jobs. When it is full a job is
// dropped; the next append that crosses a multiple of K, or the next
// LoadNote, schedules it again.
const snapshotQueueLen = 1024

// Options configures a Store.
type Options struct {
	// Prefix starts every key and channel the store uses, so several
	// deployments (or test runs) can share one Redis. It must not contain
	// '{' or '}', which would change the keys' hash slots. Empty means
	// DefaultPrefix.
	Prefix string

	// SnapshotEvery is K: a snapshot is written every K operations, or
	// every n/256 for a text of n UTF-16 units when that is more (see
	// unitsPerSnapshotOp). Zero means DefaultSnapshotEvery.
	SnapshotEvery int

	// HistoryEvery is how many revisions apart, at least, the snapshots
	// kept for history are (see history.go). Zero means scribe.HistoryEvery.
	HistoryEvery int

	// CacheBytes bounds the texts of recently edited notes the store keeps
	// in memory to check each appended operation against the text it
	// applies to (about 2 bytes per UTF-16 code unit). Zero means
	// DefaultCacheBytes. A note whose text is not cached is read from Redis
	// on its next append.
	CacheBytes int

	// FeedLength is about how many events the change feed stream keeps
	// (see feed.go). Zero means DefaultFeedLength.
	FeedLength int

	// Logger receives internal errors from background work (snapshots,
	// subscriptions). Nil means slog.Default().
	Logger *slog.Logger

	// MaxHistoryBytes is each note's history budget: the bytes of every
	// change entry in its log and in its compacted history (compaction
	// takes off what it frees, see compact.go). An append that would pass
	// it is refused whole with ETOOLARGE. Notes written before the budget
	// existed count from the first append after it. Zero means
	// DefaultMaxHistoryBytes; negative turns it off.
	MaxHistoryBytes int64

	// clock, when set, stamps committed changes and new notes instead of
	// the time of day (the compaction suite writes history "days ago").
	clock func() time.Time

	// CallTimeout bounds every store call's Redis commands, as the
	// package's CallTimeout does when it is zero (scribe serve leaves it
	// zero). The tests set it: a race-instrumented client on a loaded
	// machine encodes and decodes a call's commands up to ten times slower
	// (an Append of 2500 changes: ~80 ms without -race, up to ~1 s with
	// it), and their shared Redis answers late under load.
	CallTimeout time.Duration
}

// DefaultMaxHistoryBytes is a note's history budget (64 MiB), the same as
// the embedded store's.
const DefaultMaxHistoryBytes = 64 << 20

var (
	//go:embed lua/append.lua
	appendLua string
	//go:embed lua/load.lua
	loadLua string
	//go:embed lua/update.lua
	updateLua string
	//go:embed lua/create.lua
	createLua string
	//go:embed lua/changes.lua
	changesLua string
	//go:embed lua/publish.lua
	publishLua string
	//go:embed lua/delete.lua
	deleteLua string

	appendScript  = goredis.NewScript(appendLua)
	loadScript    = goredis.NewScript(coldLua + loadLua)
	createScript  = goredis.NewScript(createLua)
	updateScript  = goredis.NewScript(updateLua)
	changesScript = goredis.NewScript(coldLua + changesLua)
	publishScript = goredis.NewScript(publishLua)
	deleteScript  = goredis.NewScript(deleteLua)
)

// Store is a scribe.Store kept in Redis or a Redis Cluster. It is safe for
// concurrent use by many goroutines and by many processes sharing one Redis.
//
// Its lifecycle is New (or NewWithClient), Open, then Close.
type Store struct {
	client     goredis.UniversalClient
	ownsClient bool
	// oneNode is true when every key lives on one Redis server, so the
	// scripts may update the global notes:byupdated index themselves.
	oneNode       bool
	prefix        string
	k             int64
	histEvery     int64 // Options.HistoryEvery
	log           *slog.Logger
	feedLen       int64 // the change feed's approximate cap
	historyBudget int64 // Options.MaxHistoryBytes; 0: no budget

	// The change feed's queue (feed.go): events wait here for runFeed.
	feedMu      sync.Mutex
	feedPending []feedEvent
	feedWake    chan struct{}
	feedFlushMu sync.Mutex // serialises flushes, so the stream keeps commit order

	ctx    context.Context // cancelled by Close; background work runs under it
	cancel context.CancelFunc
	wg     sync.WaitGroup

	snapQueue chan scribe.NoteID
	snapMu    sync.Mutex
	snapWant  map[scribe.NoteID]bool // queued or running, to coalesce jobs

	lastReplayed atomic.Int64 // changes the latest LoadNote applied to its snapshot

	cache *docCache // texts of recently used notes, to check appended ops

	subsMu sync.Mutex
	subs   map[*subscription]struct{}
	closed bool

	// Compaction (compact.go): one step at a time, resuming at compactPos
	// in notes:byupdated.
	compactMu      sync.Mutex
	compactPos     int64
	compactStarted bool

	clock func() time.Time // when changes are committed: Options.clock, else now
}

var _ scribe.Store = (*Store)(nil)

// New returns a Store for the Redis at rawURL. It does no I/O; call Open.
//
// rawURL is one of:
//
//	redis://[user:password@]host:port[/db][?options]   one Redis server
//	rediss://...                                       the same over TLS
//	redis+cluster://[user:password@]host:port,host:port[?options]
//	rediss+cluster://...                               a Redis Cluster (TLS)
//	host:port                                          one Redis server
//	host:port,host:port,...                            a Redis Cluster
//
// Options are go-redis's URL options (dial_timeout, pool_size, ...). A
// cluster is found from any of its nodes; listing several helps when one is
// down at start.
func New(rawURL string, opts Options) (*Store, error) {
	client, err := NewClient(rawURL)
	if err != nil {
		return nil, err
	}
	s, err := newStore(client, opts)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	s.ownsClient = true
	return s, nil
}

// NewWithClient returns a Store that uses client, which may be a
// *goredis.Client or a *goredis.ClusterClient. Close does not close client.
func NewWithClient(client goredis.UniversalClient, opts Options) (*Store, error) {
	return newStore(client, opts)
}

func newStore(client goredis.UniversalClient, opts Options) (*Store, error) {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, fmt.Errorf("redis store: prefix %q must not contain '{' or '}'", opts.Prefix)
	}
	if opts.SnapshotEvery == 0 {
		opts.SnapshotEvery = DefaultSnapshotEvery
	}
	if opts.SnapshotEvery < 0 {
		return nil, fmt.Errorf("redis store: snapshot interval %d must be positive", opts.SnapshotEvery)
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = DefaultCacheBytes
	}
	if opts.CacheBytes < 0 {
		return nil, fmt.Errorf("redis store: cache size %d must be positive", opts.CacheBytes)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FeedLength == 0 {
		opts.FeedLength = DefaultFeedLength
	}
	if opts.MaxHistoryBytes == 0 {
		opts.MaxHistoryBytes = DefaultMaxHistoryBytes
	}
	if opts.FeedLength < 0 {
		return nil, fmt.Errorf("redis store: feed length %d must be positive", opts.FeedLength)
	}
	clock := opts.clock
	if clock == nil {
		clock = now
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = CallTimeout
	}
	client.AddHook(deadlineHook{opts.CallTimeout})
	ctx, cancel := context.WithCancel(context.Background())
	_, oneNode := client.(*goredis.Client)
	return &Store{
		client:        client,
		oneNode:       oneNode,
		prefix:        opts.Prefix,
		k:             int64(opts.SnapshotEvery),
		histEvery:     int64(cmp.Or(opts.HistoryEvery, scribe.HistoryEvery)),
		historyBudget: max(0, opts.MaxHistoryBytes),
		feedLen:       int64(opts.FeedLength),
		feedWake:      make(chan struct{}, 1),
		log:           opts.Logger.With("component", "redis-store"),
		ctx:           ctx,
		cancel:        cancel,
		snapQueue:     make(chan scribe.NoteID, snapshotQueueLen),
		snapWant:      make(map[scribe.NoteID]bool),
		cache:         newDocCache(opts.CacheBytes),
		subs:          make(map[*subscription]struct{}),
		clock:         clock,
	}, nil
}

// NewClient returns a go-redis client for rawURL (see New): a *Client for
// one server, a *ClusterClient for a cluster.
func NewClient(rawURL string) (goredis.UniversalClient, error) {
	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		return nil, errors.New("redis url: empty")
	}
	scheme, rest, hasScheme := strings.Cut(rawURL, "://")
	if !hasScheme {
		// Bare addresses: one is a server, several are a cluster.
		addrs := strings.Split(rawURL, ",")
		for _, a := range addrs {
			if a == "" || strings.ContainsAny(a, "/?@") {
				return nil, fmt.Errorf("redis url: %q is neither a URL nor a list of host:port", rawURL)
			}
		}
		if len(addrs) == 1 {
			return goredis.NewClient(tune(&goredis.Options{Addr: addrs[0]})), nil
		}
		return goredis.NewClusterClient(tuneCluster(&goredis.ClusterOptions{Addrs: addrs})), nil
	}
	switch scheme {
	case "redis", "rediss":
		o, err := goredis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		return goredis.NewClient(tune(o)), nil
	case "redis+cluster", "rediss+cluster":
		base := strings.TrimSuffix(scheme, "+cluster")
		// Split "user:pass@h1:p1,h2:p2/?opts" into its parts by hand: the
		// comma-separated host list is not a valid URL host.
		hostEnd := strings.IndexAny(rest, "/?")
		hostPart, tail := rest, ""
		if hostEnd >= 0 {
			hostPart, tail = rest[:hostEnd], rest[hostEnd:]
		}
		userinfo := ""
		if at := strings.LastIndex(hostPart, "@"); at >= 0 {
			userinfo, hostPart = hostPart[:at+1], hostPart[at+1:]
		}
		hosts := strings.Split(hostPart, ",")
		for _, h := range hosts {
			if h == "" {
				return nil, fmt.Errorf("redis url: empty host in %q", rawURL)
			}
		}
		path, query, _ := strings.Cut(tail, "?")
		if path != "" && path != "/" && path != "/0" {
			return nil, fmt.Errorf("redis url: a cluster has only database 0, not %q", path)
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		for _, h := range hosts[1:] {
			q.Add("addr", h)
		}
		u := base + "://" + userinfo + hosts[0]
		if enc := q.Encode(); enc != "" {
			u += "?" + enc
		}
		o, err := goredis.ParseClusterURL(u)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		return goredis.NewClusterClient(tuneCluster(o)), nil
	default:
		return nil, fmt.Errorf("redis url: unknown scheme %q (want redis, rediss, redis+cluster or rediss+cluster)", scheme)
	}
}

// tune sets the timeouts above where the URL set none, and makes go-redis
// honour context deadlines on its sockets.
func tune(o *goredis.Options) *goredis.Options {
	setDur(&o.DialTimeout, DialTimeout)
	setDur(&o.ReadTimeout, ReadTimeout)
	setDur(&o.WriteTimeout, WriteTimeout)
	setDur(&o.PoolTimeout, PoolTimeout)
	if o.MaxRetries == 0 {
		o.MaxRetries = MaxRetries
	}
	o.ContextTimeoutEnabled = true
	return o
}

func tuneCluster(o *goredis.ClusterOptions) *goredis.ClusterOptions {
	setDur(&o.DialTimeout, DialTimeout)
	setDur(&o.ReadTimeout, ReadTimeout)
	setDur(&o.WriteTimeout, WriteTimeout)
	setDur(&o.PoolTimeout, PoolTimeout)
	if o.MaxRetries == 0 {
		o.MaxRetries = MaxRetries
	}
	o.ContextTimeoutEnabled = true
	return o
}

func setDur(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

// deadlineHook puts CallTimeout on every command and pipeline (scripts
// included) whose context has no earlier deadline. Subscriptions are not
// commands and are not bounded.
type deadlineHook struct{ d time.Duration }

func (h deadlineHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h deadlineHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		ctx, cancel := context.WithTimeout(ctx, h.d)
		defer cancel()
		return next(ctx, cmd)
	}
}

func (h deadlineHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		ctx, cancel := context.WithTimeout(ctx, h.d)
		defer cancel()
		return next(ctx, cmds)
	}
}

// Open checks that Redis answers and fits (version 7.0 or later, and a
// Cluster addressed as one: see New), then starts the background snapshot
// worker.
func (s *Store) Open(ctx context.Context) error {
	if err := s.Ping(ctx); err != nil {
		return err
	}
	if err := s.checkServers(ctx); err != nil {
		return err
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.snapshotLoop()
	}()
	go func() {
		defer s.wg.Done()
		s.runFeed()
	}()
	return nil
}

// minMajor is the oldest Redis major version the store works with: 7.0
// brought sharded pub/sub (SPUBLISH, SSUBSCRIBE).
const minMajor = 7

// checkServers checks every server the store talks to: its version, and
// that a server reached as one is not a Cluster node (whose slots a
// single-server client would cross).
func (s *Store) checkServers(ctx context.Context) error {
	check := func(ctx context.Context, c *goredis.Client, wantCluster bool) error {
		info, err := c.Info(ctx, "server", "cluster").Result()
		if err != nil {
			return s.wrap(ctx, "info", err)
		}
		version, cluster := infoField(info, "redis_version"), infoField(info, "cluster_enabled") == "1"
		major, _, _ := strings.Cut(version, ".")
		if n, err := strconv.Atoi(major); err != nil || n < minMajor {
			return fmt.Errorf("redis %s at %s: the store needs Redis %d.0 or later (sharded pub/sub)", version, c.Options().Addr, minMajor)
		}
		if cluster && !wantCluster {
			return fmt.Errorf("redis at %s is a Cluster node: address the cluster as redis+cluster://%s (or list several nodes)", c.Options().Addr, c.Options().Addr)
		}
		return nil
	}
	switch c := s.client.(type) {
	case *goredis.Client:
		return check(ctx, c, false)
	case *goredis.ClusterClient:
		return c.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error { return check(ctx, m, true) })
	}
	return nil
}

// infoField returns the value of field in an INFO reply, or "".
func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}

// Close ends every subscription, stops the snapshot worker (pending
// snapshots are left for a later append or load to schedule again), and
// closes the client if New created it.
func (s *Store) Close() error {
	s.subsMu.Lock()
	if s.closed {
		s.subsMu.Unlock()
		return nil
	}
	s.closed = true
	subs := make([]*subscription, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.subsMu.Unlock()
	for _, sub := range subs {
		_ = sub.Close()
	}
	s.cancel()
	s.wg.Wait()
	if s.ownsClient {
		return s.client.Close()
	}
	return nil
}

// Ping reports whether Redis answers; for a cluster, whether every master does.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	if c, ok := s.client.(*goredis.ClusterClient); ok {
		err = c.ForEachMaster(ctx, func(ctx context.Context, m *goredis.Client) error {
			return m.Ping(ctx).Err()
		})
	} else {
		err = s.client.Ping(ctx).Err()
	}
	if err != nil {
		return s.wrap(ctx, "ping", err)
	}
	return nil
}

// Key names. The hash tag {id} keeps every key of one note in one slot.

func (s *Store) noteKey(id scribe.NoteID, part string) string {
	return s.prefix + "note:{" + string(id) + "}:" + part
}

func (s *Store) shareKey(t scribe.Token) string { return s.prefix + "share:{" + string(t) + "}" }

func (s *Store) byUpdatedKey() string { return s.prefix + "notes:byupdated" }

// wrap turns a Redis or script error into the error Store returns: the
// context's error when ctx is done, a scribe error for the codes the
// scripts return, else an internal error with short context.
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || isNetTimeout(err)) {
		return ctxErr
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if unavailable(err) {
		return scribe.Errorf(scribe.EUNAVAILABLE, "The store did not answer (%s); retry.", op)
	}
	var rerr goredis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		code, rest, _ := strings.Cut(msg, " ")
		switch code {
		case "ENOTFOUND":
			return scribe.Errorf(scribe.ENOTFOUND, "Note not found.")
		case "EINVALID":
			return scribe.Errorf(scribe.EINVALID, "%s.", strings.TrimSuffix(upperFirst(rest), "."))
		case "ECORRUPT":
			return scribe.Errorf(scribe.EINTERNAL, "Stored data is corrupt: %s.", rest)
		case "EGONE":
			var rev, below, above scribe.Revision
			if n, _ := fmt.Sscan(rest, &rev, &below, &above); n == 3 {
				return scribe.Folded(rev, below, above)
			}
		}
	}
	return fmt.Errorf("redis %s: %w", op, err)
}

// wrapAt is wrap for a call about the text at rev: an EGONE about another
// revision (the snapshot the script started from) is corrupt data, not an
// answer.
func (s *Store) wrapAt(ctx context.Context, op string, id scribe.NoteID, rev scribe.Revision, err error) error {
	err = s.wrap(ctx, op, err)
	if f, ok := scribe.AsFolded(err); ok && f.Rev != rev {
		return corrupt("history snapshot", id, fmt.Errorf("it is inside the fold %d..%d", f.Below+1, f.Above))
	}
	return err
}

// unavailable reports whether err says Redis did not answer in time
// (CallTimeout, a socket timeout, a full pool), as opposed to an answer that
// was an error. A refused or broken connection stays EINTERNAL, as
// error.go defines it ("an unreachable dependency") and as Open reports.
func unavailable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || isNetTimeout(err) || errors.Is(err, goredis.ErrPoolTimeout)
}

func isNetTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// corrupt returns the EINTERNAL error for stored data that cannot be
// decoded. The message, which clients may see, names what is corrupt but not
// the note; the error's text, which the logs see, names it by noteRef (its
// id grants editing and never appears in logs).
func corrupt(what string, id scribe.NoteID, detail error) error {
	msg := fmt.Sprintf("Stored %s is corrupt.", what)
	if detail != nil {
		msg = fmt.Sprintf("Stored %s is corrupt: %v.", what, detail)
	}
	return fmt.Errorf("note %s: %w", noteRef(id), &scribe.Error{Code: scribe.EINTERNAL, Message: msg})
}

// noteRef names a note in errors and logs without revealing its id: a short
// hash, computed as the server's logs compute it, so the two correlate.
func noteRef(id scribe.NoteID) string {
	sum := sha256.Sum256([]byte("scribe-note:" + id))
	return hex.EncodeToString(sum[:6])
}

// tokenRef names a share token in errors and logs without revealing it.
func tokenRef(t scribe.Token) string {
	sum := sha256.Sum256([]byte("scribe-token:" + t))
	return hex.EncodeToString(sum[:6])
}

// now returns the current time for stored timestamps.
func now() time.Time { return time.Now().Round(0) }
