// Package loadtest is Scribe's load tool, run as `scribe bench`: it opens
// many real websocket clients against a running server, all on one note,
// and measures what people would feel. The clients are botConns: lean
// protocol clients that share the decoding of each revision (see botConn),
// so that the tool, on the same machine, costs less than the server it
// measures; the final check reads the server's text with a full client.
//
// Modes:
//   - typing: each client types one character every 1/Rate seconds (10 per
//     second by default) at its own cursor, in its own line, now and then a
//     backspace or a new line, like people taking notes together.
//   - flood: each client keeps exactly one operation in flight and sends the
//     next as soon as the previous one is acknowledged: the server's
//     throughput on one note. With one client it is one person editing
//     alone as fast as the server lets them: the cost of the single-op path.
//   - idle: the clients only stay connected: the server's memory per
//     connection. They may be spread over many notes (Notes).
//   - viewers: an all-hands meeting: Clients typists type as in typing mode
//     while Viewers more clients watch the note through a read-only link
//     (created with POST /api/notes/{id}/shares); the broadcast latency to
//     the viewers is reported on its own.
//
// Against a loopback server, the clients dial from many source addresses
// in 127.0.0.0/8, PerSource clients each (sourceAddr): one address has
// only about 28,000 ephemeral ports, and the server lets one address hold
// at most --max-conns-per-peer connections (1,024 by default).
//
// It reports committed operations per second and the keystrokes they carry
// (a client composes what is typed while its op is in flight into its next
// op, so ops fall behind keystrokes as latency grows: the keystrokes are the
// measure of "every keystroke committed"), the ack latency (send to ack),
// the broadcast latency (send to seen by another client: the submitter's
// send time is recorded per revision when the ack names it, every other
// client logs when each frame's ops arrived, and the two are matched into
// latencies after the load window, so that this bookkeeping does not compete
// with the server it measures), whether every
// client converged to the server's text, and the server's peak memory,
// sampled during the run from /proc/<pid>/status (ServerPID) or from its
// Prometheus /metrics. It also reports the CPU time the server used per
// committed op (from /proc/<pid>/stat, or the metrics' process CPU), and,
// given StorePID (e.g. redis-server's), the store process's own: CPU time
// per op depends far less on what else runs on the machine than throughput.
//
// Latency here includes the load tool's own processing, on the same machine;
// every figure is what a client process observed.
//
// Convergence: every client must end at the server's final revision with
// nothing pending and the text's length; every revision must have reached
// every client byte for byte the same (and each author's own op,
// transformed as a client transforms it, must equal what the server
// committed); and those revisions, replayed on the text the clients joined
// with, must give the text a fresh full client reads from the server.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	neturl "net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/client"
	"github.com/scribe-notes/scribe/ot"
)

// Modes.
const (
	Typing  = "typing"
	Flood   = "flood"
	Idle    = "idle"
	Viewers = "viewers"
)

// Config is one load run.
type Config struct {
	URL       string // the server's base URL, e.g. http://127.0.0.1:8080
	Note      string // an existing note's id; empty creates one with POST /api/notes
	Clients   int    // websocket clients to open
	Mode      string // Typing, Flood, Idle or Viewers
	Viewers   int    // viewers: read-only clients besides the Clients typists
	PerSource int    // clients per loopback source address (default 1000; negative: dial from the default address only)
	// ViewerGoroutines reads each viewer from a goroutine of its own, as
	// typists are read, instead of the viewers' epoll loops (viewerPoll):
	// the tool as it was, to measure the difference.
	ViewerGoroutines bool
	Duration         time.Duration // how long the clients type (or stay connected)
	Rate             float64       // typing: keystrokes per second per client (default 10); flood: a cap per client (0: none)
	ServerPID        int           // read the server's memory from /proc/<pid>/status; else from MetricsURL
	StorePID         int           // a store process (redis-server) whose CPU time to count too; 0: none
	MetricsURL       string        // default URL + "/metrics"
	Dialers          int           // connections opened at once (default 64)
	Notes            int           // idle: spread the clients over this many new notes (default 1: all on Note)
	Log              io.Writer     // progress lines; nil discards them
}

// Result is what a run measured. Its JSON form is what `scribe bench` prints.
type Result struct {
	Mode            string  `json:"mode"`
	URL             string  `json:"url"`
	Note            string  `json:"note"`
	Notes           int     `json:"notes"`
	Clients         int     `json:"clients"`
	Viewers         int     `json:"viewers,omitempty"`
	SourceAddrs     int     `json:"source_addresses,omitempty"`
	Connected       int     `json:"connected"`
	ConnectSeconds  float64 `json:"connect_seconds"`
	DurationSeconds float64 `json:"duration_seconds"`

	RatePerClient         float64 `json:"rate_per_client,omitempty"`
	Keystrokes            int64   `json:"keystrokes,omitempty"`
	OfferedPerSecond      float64 `json:"offered_keystrokes_per_s,omitempty"`
	CommittedOps          int64   `json:"committed_ops"`
	CommittedOpsPerSecond float64 `json:"committed_ops_per_s"`
	// CommittedKeystrokes counts the keystrokes in the ops acknowledged in
	// the load window: a client composes the keystrokes typed while an op
	// is in flight into its next op, so ops per second fall below
	// keystrokes per second as the server's latency grows, without any
	// keystroke being lost. Compare it with Keystrokes (offered).
	CommittedKeystrokes          int64   `json:"committed_keystrokes,omitempty"`
	CommittedKeystrokesPerSecond float64 `json:"committed_keystrokes_per_s,omitempty"`
	// UncommittedKeystrokes is how many keystrokes typed were never
	// acknowledged, counted once the run has drained (0 unless a client
	// lost its connection or did not converge).
	UncommittedKeystrokes int64 `json:"uncommitted_keystrokes"`
	// SettleSeconds is the time the tool took, after the load, to turn the
	// arrivals it logged into broadcast latencies (bot.settle): work kept
	// out of the load window, where it would compete with the server.
	SettleSeconds float64 `json:"settle_seconds,omitempty"`

	AckLatency       Latency `json:"ack_latency"`
	BroadcastLatency Latency `json:"broadcast_latency"`
	// KeystrokeLatency is from the keystroke (the first edit composed into
	// the op, which may wait in the buffer while another op is in flight)
	// to seen by another client.
	KeystrokeLatency Latency `json:"keystroke_to_seen_latency"`
	// ViewerLatency is BroadcastLatency as the viewers saw it (viewers
	// mode: the first 100 viewers and one in ten after them, timedViewer);
	// BroadcastLatency is then the typists' view of each other.
	ViewerLatency *Latency `json:"viewer_broadcast_latency,omitempty"`
	// ViewerFrames is how many frames a viewer received per second in
	// the load window, on average (viewers mode): what the fan-out
	// costs in write system calls, whatever the machine's load.
	ViewerFrames float64 `json:"viewer_frames_per_s,omitempty"`
	// TypistFrames is the same for the typing (or flooding) clients: with
	// the ops per second, what each frame costs the tool (a read system
	// call and a goroutine wake-up each) and the server (a write).
	TypistFrames float64 `json:"typist_frames_per_s,omitempty"`

	Converged     bool   `json:"converged"`
	ConvergeNote  string `json:"converge_detail"`
	FinalRevision int64  `json:"final_revision"`
	TextUnits     int    `json:"text_utf16_units"`

	Errors       int64    `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	Disconnects  int64    `json:"disconnects"`
	// DisconnectReasons counts the disconnects by the server's close code
	// and reason ("4000 too slow"), or "no close frame" when the
	// connection just ended.
	DisconnectReasons map[string]int64 `json:"disconnect_reasons,omitempty"`

	ServerOpsPerSecondLimit float64 `json:"server_ops_per_second_limit"`

	Memory           Memory  `json:"server_memory"`
	ServerCPUSeconds float64 `json:"server_cpu_seconds"`
	ServerCPUPercent float64 `json:"server_cpu_percent"`
	ToolCPUSeconds   float64 `json:"tool_cpu_seconds"`
	ToolCPUPercent   float64 `json:"tool_cpu_percent"`
	// ServerCPUPerOp is ServerCPUSeconds per committed op, in microseconds;
	// StoreCPUPerOp the same for the StorePID process (0: not measured).
	ServerCPUPerOp  float64 `json:"server_cpu_us_per_op"`
	StoreCPUSeconds float64 `json:"store_cpu_seconds,omitempty"`
	StoreCPUPerOp   float64 `json:"store_cpu_us_per_op,omitempty"`
}

// Memory is the server's memory during the run.
type Memory struct {
	Source      string `json:"source"`
	Samples     int    `json:"samples"`
	BaselineRSS int64  `json:"baseline_rss_bytes"`
	PeakRSS     int64  `json:"peak_rss_bytes"`
	PeakHWM     int64  `json:"peak_hwm_bytes,omitempty"`
	PeakHeap    int64  `json:"peak_heap_inuse_bytes,omitempty"`
	// PerConnection is (PeakRSS - BaselineRSS) / connections.
	PerConnection int64  `json:"per_connection_bytes"`
	Error         string `json:"error,omitempty"`
}

func (cfg *Config) check() error {
	switch cfg.Mode {
	case Typing, Flood, Idle, Viewers:
	default:
		return fmt.Errorf("unknown mode %q: want typing, flood, idle or viewers", cfg.Mode)
	}
	if cfg.URL == "" {
		return errors.New("no server URL")
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if cfg.Clients < 1 {
		return errors.New("clients must be at least 1")
	}
	if cfg.Mode == Typing && cfg.Clients < 2 {
		return errors.New("typing needs at least 2 clients (one to see the other's edits)")
	}
	if cfg.StorePID < 0 {
		return errors.New("store pid must not be negative")
	}
	if cfg.Mode == Viewers && cfg.Viewers < 1 {
		return errors.New("viewers mode needs at least 1 viewer")
	}
	if cfg.Mode != Viewers && cfg.Viewers != 0 {
		return errors.New("only viewers mode has viewers")
	}
	if cfg.Duration <= 0 {
		return errors.New("duration must be positive")
	}
	if cfg.Rate < 0 {
		return errors.New("rate must not be negative")
	}
	if (cfg.Mode == Typing || cfg.Mode == Viewers) && cfg.Rate == 0 {
		cfg.Rate = 10
	}
	if cfg.Notes <= 0 {
		cfg.Notes = 1
	}
	if cfg.Notes > 1 && cfg.Mode != Idle {
		return errors.New("only idle mode spreads clients over several notes; typing and flood share one")
	}
	if cfg.Dialers <= 0 {
		cfg.Dialers = 64
	}
	if cfg.PerSource == 0 {
		cfg.PerSource = 1000
	}
	if cfg.MetricsURL == "" {
		cfg.MetricsURL = cfg.URL + "/metrics"
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	return nil
}

// run is the shared state of one run.
type run struct {
	cfg     Config
	dialers []*websocket.Dialer // one per source address (newDialers)
	revs    revTable
	log     refLog       // the note's revisions as the bots received them
	t0      atomic.Int64 // unix nanos when the load window opened; 0 before
	t1      atomic.Int64 // unix nanos when it closed; 0 before
	stopped atomic.Bool
	closing atomic.Bool // the run is closing its connections: not disconnects
	poll    *viewerPoll // reads the viewers' sockets (viewers mode, where supported); nil: a goroutine each

	errors      atomic.Int64
	disconnects atomic.Int64
	committed   atomic.Int64
	keystrokes  atomic.Int64
	// The keystrokes carried by acknowledged ops: in the load window, and
	// in the whole run (every keystroke typed, once the run has drained).
	committedKeys atomic.Int64
	ackedKeys     atomic.Int64
	errMu         sync.Mutex
	errSamples    []string
	dropped       map[string]int64 // disconnects by reason (noteDisconnect), under errMu
}

// noteDisconnect counts a lost connection by why it ended.
func (r *run) noteDisconnect(err error) {
	why := "no close frame"
	if ce, ok := errors.AsType[*websocket.CloseError](err); ok {
		why = strings.TrimSpace(fmt.Sprintf("%d %s", ce.Code, ce.Text))
	}
	r.errMu.Lock()
	if r.dropped == nil {
		r.dropped = make(map[string]int64)
	}
	r.dropped[why]++
	r.errMu.Unlock()
}

func (r *run) noteError(err error) {
	r.errors.Add(1)
	r.errMu.Lock()
	if len(r.errSamples) < 8 {
		r.errSamples = append(r.errSamples, err.Error())
	}
	r.errMu.Unlock()
}

func (r *run) inWindow(t time.Time) bool {
	t0 := r.t0.Load()
	if t0 == 0 || t.UnixNano() < t0 {
		return false
	}
	t1 := r.t1.Load()
	return t1 == 0 || t.UnixNano() <= t1
}

// bot is one simulated person.
type bot struct {
	r      *run
	i      int
	c      *botConn
	rnd    *rand.Rand
	viewer bool // a read-only viewer (viewers mode): it never types
	timed  bool // it records the latency of the ops it receives (every typist; viewers: a sample, timedViewer)

	ack, bcast, keys hist

	arrMu    sync.Mutex // guards arrivals
	arrivals []arrival  // runs of ops received, their latencies not yet recorded (settle)

	mu      sync.Mutex // guards the typing state
	line    int        // units typed on the current line
	typed   int        // units this bot typed and did not erase since the last newline
	ins     []byte     // scratch for build
	lastOp  time.Time
	flooded atomic.Bool
}

const phrase = "the quick brown fox jumps over the lazy dog while we decide who owns the action items "

// Run executes one load run and returns what it measured.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	total := cfg.Clients + cfg.Viewers
	if lim, err := raiseFileLimit(uint64(total) + 64); err != nil {
		fmt.Fprintf(cfg.Log, "bench: cannot raise the open-file limit: %v\n", err)
	} else if lim < uint64(total)+64 {
		fmt.Fprintf(cfg.Log, "bench: the open-file limit is %d; %d clients may fail to connect\n", lim, total)
	}
	r := &run{cfg: cfg, dialers: newDialers(cfg, total)}
	res := &Result{Mode: cfg.Mode, URL: cfg.URL, Clients: cfg.Clients, Viewers: cfg.Viewers, RatePerClient: cfg.Rate}
	if len(r.dialers) > 1 {
		res.SourceAddrs = len(r.dialers)
	}

	httpc := &http.Client{Timeout: 10 * time.Second}
	sampler := &memSampler{r: &memReader{pid: cfg.ServerPID, metrics: cfg.MetricsURL, client: httpc}}
	sampler.sample(ctx)
	baseline := sampler.last
	sctx, stopSampler := context.WithCancel(ctx)
	var swg sync.WaitGroup
	swg.Add(1)
	go func() { defer swg.Done(); sampler.run(sctx, 250*time.Millisecond) }()
	defer func() { stopSampler(); swg.Wait() }()

	note := cfg.Note
	if note == "" {
		id, err := createNote(ctx, httpc, cfg.URL)
		if err != nil {
			return nil, err
		}
		note = id
		fmt.Fprintf(cfg.Log, "bench: created note %s\n", note)
	}
	res.Note = note
	wsURL := client.NoteURL(cfg.URL, scribe.NoteID(note))
	urls := []string{wsURL}
	for len(urls) < cfg.Notes {
		id, err := createNote(ctx, httpc, cfg.URL)
		if err != nil {
			return nil, err
		}
		urls = append(urls, client.NoteURL(cfg.URL, scribe.NoteID(id)))
	}
	res.Notes = len(urls)
	if len(urls) > 1 {
		fmt.Fprintf(cfg.Log, "bench: created %d notes; the clients are spread over them\n", len(urls))
	}
	url := func(i int) string { return urls[i%len(urls)] }
	if cfg.Mode == Viewers {
		token, err := createShare(ctx, httpc, cfg.URL, note)
		if err != nil {
			return nil, err
		}
		share := client.ShareURL(cfg.URL, scribe.Token(token))
		url = func(i int) string {
			if i < cfg.Clients {
				return wsURL
			}
			return share
		}
	}

	if cfg.Mode == Viewers && !cfg.ViewerGoroutines {
		var err error
		if r.poll, err = newViewerPoll(runtime.GOMAXPROCS(0)); err != nil {
			fmt.Fprintf(cfg.Log, "bench: the viewers are read by a goroutine each: %v\n", err)
		} else {
			defer r.poll.close() // after the connections' close, deferred below
		}
	}

	// Connect everyone.
	start := time.Now()
	bots, err := r.connect(ctx, total, url)
	defer func() {
		r.closing.Store(true)
		var wg sync.WaitGroup
		for _, b := range bots {
			if b != nil {
				wg.Add(1)
				go func() { defer wg.Done(); _ = b.c.close() }()
			}
		}
		wg.Wait()
	}()
	res.ConnectSeconds = time.Since(start).Seconds()
	for _, b := range bots {
		if b != nil {
			res.Connected++
		}
	}
	fmt.Fprintf(cfg.Log, "bench: %d of %d clients connected in %.1fs\n", res.Connected, total, res.ConnectSeconds)
	if err != nil && res.Connected == 0 {
		return nil, err
	}
	live := make([]*bot, 0, len(bots))
	typists := make([]*bot, 0, cfg.Clients)
	for _, b := range bots {
		if b != nil {
			live = append(live, b)
			if !b.viewer {
				typists = append(typists, b)
			}
		}
	}
	if len(typists) == 0 {
		return nil, err
	}
	res.ServerOpsPerSecondLimit = live[0].c.m.Limits().OpsPerSecond
	if cfg.Mode == Flood && res.ServerOpsPerSecondLimit > 0 {
		fmt.Fprintf(cfg.Log, "bench: the server limits each connection to %g ops/s, which caps flood mode\n", res.ServerOpsPerSecondLimit)
	}

	if cfg.Mode != Idle {
		if err := r.seed(ctx, typists); err != nil {
			return nil, err
		}
		if err := r.awaitCursors(ctx, wsURL, len(typists)); err != nil {
			return nil, err
		}
	}

	frameCounts := func() (n int64, viewers int, t int64, typists int) {
		for _, b := range live {
			if b.viewer {
				n += b.c.frames.Load()
				viewers++
			} else {
				t += b.c.frames.Load()
				typists++
			}
		}
		return n, viewers, t, typists
	}
	frames0, _, tframes0, _ := frameCounts()
	cpu0, scpu0, stcpu0 := cpuTime(), sampler.lastCPU(), procCPU(cfg.StorePID)
	t0 := time.Now()
	r.t0.Store(t0.UnixNano())
	deadline := t0.Add(cfg.Duration)
	switch cfg.Mode {
	case Typing, Viewers:
		r.typing(ctx, typists, deadline)
	case Flood:
		r.flood(ctx, live, deadline)
	case Idle:
		select {
		case <-time.After(cfg.Duration):
		case <-ctx.Done():
		}
	}
	t1 := time.Now()
	r.t1.Store(t1.UnixNano())
	r.stopped.Store(true)
	elapsed := t1.Sub(t0).Seconds()
	res.DurationSeconds = elapsed
	frames1, nv, tframes1, nt := frameCounts()
	if nv > 0 {
		res.ViewerFrames = float64(frames1-frames0) / elapsed / float64(nv)
	}
	if nt > 0 && cfg.Mode != Idle {
		res.TypistFrames = float64(tframes1-tframes0) / elapsed / float64(nt)
	}
	sampler.sample(ctx)
	res.ToolCPUSeconds = cpuTime() - cpu0
	res.ToolCPUPercent = 100 * res.ToolCPUSeconds / elapsed
	if s1 := sampler.lastCPU(); scpu0 >= 0 && s1 >= 0 {
		res.ServerCPUSeconds = s1 - scpu0
		res.ServerCPUPercent = 100 * res.ServerCPUSeconds / elapsed
	}
	if s1 := procCPU(cfg.StorePID); stcpu0 >= 0 && s1 >= 0 {
		res.StoreCPUSeconds = s1 - stcpu0
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	if cfg.Mode != Idle {
		r.converge(ctx, live, wsURL, res)
	} else {
		res.Converged = true
		res.ConvergeNote = "idle: nothing edited"
	}

	settled := time.Now()
	for _, b := range live {
		b.settle()
	}
	res.SettleSeconds = time.Since(settled).Seconds()
	var ack, bcast, keys, viewers hist
	for _, b := range live {
		if b.viewer {
			viewers.merge(&b.bcast)
			continue
		}
		ack.merge(&b.ack)
		bcast.merge(&b.bcast)
		keys.merge(&b.keys)
	}
	res.AckLatency, res.BroadcastLatency, res.KeystrokeLatency = ack.summary(), bcast.summary(), keys.summary()
	if cfg.Mode == Viewers {
		v := viewers.summary()
		res.ViewerLatency = &v
	}
	res.Keystrokes = r.keystrokes.Load()
	res.CommittedOps = r.committed.Load()
	res.CommittedKeystrokes = r.committedKeys.Load()
	res.UncommittedKeystrokes = res.Keystrokes - r.ackedKeys.Load()
	for _, b := range live {
		res.UncommittedKeystrokes -= b.c.voidKeys.Load()
	}
	if cfg.Mode != Idle {
		res.OfferedPerSecond = float64(res.Keystrokes) / elapsed
		res.CommittedOpsPerSecond = float64(res.CommittedOps) / elapsed
		res.CommittedKeystrokesPerSecond = float64(res.CommittedKeystrokes) / elapsed
	}
	if res.CommittedOps > 0 {
		res.ServerCPUPerOp = 1e6 * res.ServerCPUSeconds / float64(res.CommittedOps)
		res.StoreCPUPerOp = 1e6 * res.StoreCPUSeconds / float64(res.CommittedOps)
	}
	res.Errors, res.Disconnects = r.errors.Load(), r.disconnects.Load()
	r.errMu.Lock()
	res.ErrorSamples = append(res.ErrorSamples, r.errSamples...)
	if len(r.dropped) > 0 {
		res.DisconnectReasons = maps.Clone(r.dropped)
	}
	r.errMu.Unlock()

	stopSampler()
	swg.Wait()
	sampler.mu.Lock()
	res.Memory = Memory{
		Source:      sampler.r.source(),
		Samples:     sampler.n,
		BaselineRSS: baseline.rss,
		PeakRSS:     sampler.peakRSS,
		PeakHWM:     sampler.peakHWM,
		PeakHeap:    sampler.peakHp,
	}
	if sampler.err != nil {
		res.Memory.Error = sampler.err.Error()
	}
	sampler.mu.Unlock()
	if res.Connected > 0 && res.Memory.PeakRSS > 0 {
		res.Memory.PerConnection = (res.Memory.PeakRSS - res.Memory.BaselineRSS) / int64(res.Connected)
	}
	return res, nil
}

// connect opens n connections, Dialers at a time, client i to url(i). A
// failed client is nil in the result.
func (r *run) connect(ctx context.Context, n int, url func(i int) string) ([]*bot, error) {
	bots := make([]*bot, n)
	next := atomic.Int64{}
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < min(r.cfg.Dialers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bots) || ctx.Err() != nil {
					return
				}
				b, err := r.dial(ctx, url(i), i)
				if err != nil {
					r.noteError(err)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				bots[i] = b
			}
		}()
	}
	wg.Wait()
	return bots, firstErr
}

func (r *run) dial(ctx context.Context, url string, i int) (*bot, error) {
	b := &bot{r: r, i: i, viewer: r.cfg.Mode == Viewers && i >= r.cfg.Clients, rnd: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
	b.timed = !b.viewer || timedViewer(i-r.cfg.Clients)
	var log *refLog
	if r.cfg.Mode != Idle {
		log = &r.log
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		d := r.dialers[i%len(r.dialers)]
		if b.viewer && r.poll != nil {
			b.c, err = dialRawBot(ctx, netDial(d), url, fmt.Sprintf("bench-%d", i), log)
		} else {
			b.c, err = dialBot(ctx, d, url, fmt.Sprintf("bench-%d", i), log)
		}
		if err == nil {
			break
		}
		if scribe.ErrorCode(err) == scribe.ENOTFOUND || ctx.Err() != nil {
			return nil, fmt.Errorf("client %d: %w", i, err)
		}
		time.Sleep(time.Duration(100*(attempt+1)) * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("client %d: %w", i, err)
	}
	b.c.onAck, b.c.onRemote, b.c.onError, b.c.build = b.onAck, b.onRemoteOps, r.noteError, b.build
	b.c.onClose = func(err error) {
		if !r.closing.Load() {
			r.disconnects.Add(1)
			r.noteDisconnect(err)
		}
	}
	if b.c.raw != nil {
		r.poll.add(b.c)
	} else {
		go b.c.run()
	}
	return b, nil
}

// netDial returns how d dials its TCP connections.
func netDial(d *websocket.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.NetDialContext != nil {
		return d.NetDialContext
	}
	return (&net.Dialer{}).DialContext
}

func (b *bot) onAck(a client.Ack, keys int) {
	r, rev, at, op := b.r, a.Rev, a.Received, a
	b.ack.record(at.Sub(op.SentAt))
	r.ackedKeys.Add(int64(keys))
	if r.inWindow(at) {
		r.committed.Add(1)
		r.committedKeys.Add(int64(keys))
	}
	if t0 := r.t0.Load(); t0 != 0 && op.SentAt.UnixNano() >= t0 {
		r.revs.sent(rev, op.SentAt.UnixNano(), op.EditedAt.UnixNano())
	}
	if r.cfg.Mode == Flood && b.flooded.Load() {
		b.floodNext()
	}
}

// timedViewer reports whether viewer v (0, 1, ...) records its latencies:
// the first 100 and one in ten after them. Recording every op's latency
// in every viewer was 2 million samples a second at 5,000 viewers, a
// large share of the tool's CPU; the viewers all get the same frames at
// the same ticks, in an order the server shuffles each tick (its map of
// viewers), so a sample of them sees the same distribution.
func timedViewer(v int) bool { return v < 100 || v%10 == 0 }

func (b *bot) onRemoteOps(first, last int64, at time.Time) {
	if !b.timed || b.r.t0.Load() == 0 {
		return
	}
	b.arrMu.Lock()
	b.arrivals = append(b.arrivals, arrival{first, last, at.UnixNano()})
	if len(b.arrivals) >= settleAt {
		b.settleLocked(at.UnixNano() - int64(settleAfter))
	}
	b.arrMu.Unlock()
}

// arrival is a run of revisions first..last that reached a bot at at
// (unix nanos): one per frame, whatever the number of ops in it.
type arrival struct{ first, last, at int64 }

// A bot records when each frame's ops arrived and turns them into
// latencies later (settle), once their authors' acks have named their
// send times: at the end of the run, or when settleAt arrivals have
// accumulated (a long run), then the oldest ones whose every revision has
// its send time, and any older than settleAfter (an author that never got
// its ack: those revisions are not counted). Recording each op's latency
// as it arrived cost a lookup, often a parking of the arrival on the
// revision until its author's ack (a shared slice grown under a lock,
// hundreds of times per revision) and two histogram updates per op per
// bot, in the middle of the load: a fifth of the tool's CPU at 1,000
// typists. Deferred, the load window pays 24 bytes per frame.
const (
	settleAt    = 4096
	settleAfter = time.Minute
)

// settleLocked records the latencies of the arrivals that can be settled:
// all of them (before < 0: the run is over, and a revision without a send
// time never gets one), else the oldest ones up to the first that has a
// revision without a send time and arrived after before (unix nanos).
// arrMu is held.
func (b *bot) settleLocked(before int64) {
	revs := &b.r.revs
	var buf [256][2]int64 // broadcast and keystroke latencies (ns), recorded a bufferful at a time
	lat := buf[:0]
	done := 0
	for _, a := range b.arrivals {
		if before >= 0 && a.at > before && !revs.known(a.first, a.last) {
			break
		}
		for rev := a.first; rev <= a.last; rev++ {
			if s, e := revs.get(rev); s != 0 {
				if len(lat) == cap(lat) {
					b.bcast.recordAll(lat, 0)
					b.keys.recordAll(lat, 1)
					lat = lat[:0]
				}
				lat = append(lat, [2]int64{a.at - s, a.at - e})
			}
		}
		done++
	}
	b.bcast.recordAll(lat, 0)
	b.keys.recordAll(lat, 1)
	b.arrivals = b.arrivals[:copy(b.arrivals, b.arrivals[done:])]
}

// settle records the latencies of every arrival (the run is over).
func (b *bot) settle() {
	b.arrMu.Lock()
	b.settleLocked(-1)
	b.arrivals = nil
	b.arrMu.Unlock()
}

// seed gives every bot its own line: the first bot appends one empty line
// per bot to the note, and bot i types at the start of line i of those.
func (r *run) seed(ctx context.Context, bots []*bot) error {
	first := bots[0].c
	var base int
	err := first.edit(func(n, _ int) (ot.Operation, int) {
		base = n
		op, _ := ot.NewBuilder().Retain(n).Insert("\n" + strings.Repeat("\n", len(bots))).Build()
		return op, n
	})
	if err != nil {
		return fmt.Errorf("seed the note: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := first.wait(wctx, func(b *botConn) bool { return !b.m.InFlight() }); err != nil {
		return fmt.Errorf("seed the note: %w", err)
	}
	rev, _, _, _ := first.state()
	for i, b := range bots {
		if err := b.c.wait(wctx, func(c *botConn) bool { return c.m.Revision() >= rev }); err != nil {
			return fmt.Errorf("seed the note: client %d: %w", b.i, err)
		}
		if err := b.c.moveTo(base + 1 + i); err != nil {
			return fmt.Errorf("seed the note: client %d: %w", b.i, err)
		}
	}
	fmt.Fprintf(r.cfg.Log, "bench: seeded %d lines at revision %d\n", len(bots), rev)
	return nil
}

// awaitCursors waits until the server knows every typist's cursor: until
// a fresh client's welcome lists n peers with a selection. Each bot's move
// to its line (seed) is a presence message, and a note's room takes one
// presence update per turn of its loop while the turns commit ops: at
// 1,000 typists, hundreds of the server's read pumps then waited seconds to
// hand theirs over, reading nothing meanwhile, and the ops queued behind
// them arrived based on revisions older than the room's history, which
// closes the connection as too slow (docs/benchmarks.md). The load window
// measures typing, so it opens once the joining has settled.
func (r *run) awaitCursors(ctx context.Context, url string, n int) error {
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		probe, err := client.Dial(wctx, url, client.Options{Name: "bench-probe"})
		if err != nil {
			return fmt.Errorf("await the cursors: %w", err)
		}
		have := 0
		for _, p := range probe.Peers() {
			if len(p.Sel) > 0 && strings.HasPrefix(p.Name, "bench-") && p.Name != "bench-probe" {
				have++
			}
		}
		_ = probe.Close()
		if have >= n {
			fmt.Fprintf(r.cfg.Log, "bench: the server had every cursor %.1fs after the seed\n", time.Since(start).Seconds())
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("await the cursors: the server knew %d of %d after %s", have, n, time.Since(start).Round(time.Second))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// keystroke types one keystroke at the bot's cursor (build), held while
// the bot has an op in flight (botConn.keystroke).
func (b *bot) keystroke() {
	if err := b.c.keystroke(); err != nil && !errors.Is(err, errBotClosed) {
		b.r.noteError(fmt.Errorf("client %d: edit: %w", b.i, err))
		return
	}
	b.r.keystrokes.Add(1)
}

// build returns the op of k keystrokes at the bot's cursor pos in a text of
// n units, and the cursor after it: mostly characters of the phrase, now
// and then a new line or a backspace. A backspace deletes the character
// before the cursor (one the bot typed) when it is the op's only
// keystroke, and else takes back a character typed in the same op (or is a
// character itself when there is none): so the op is always one insert or
// one delete, the shape a server transforms with integer arithmetic, and
// the bot's cheap path (ot.TransformOver) never leaves it.
func (b *bot) build(n, pos, k int) (ot.Operation, int) {
	pos = min(max(pos, 0), n)
	b.mu.Lock()
	defer b.mu.Unlock()
	if k == 1 && b.typed > 0 && pos > 0 && b.rnd.IntN(100) < 8 {
		// Backspace over a character this bot typed (ASCII, one unit).
		b.typed--
		b.line--
		op, _ := ot.NewBuilder().Retain(pos - 1).Delete(1).Retain(n - pos).Build()
		return op, pos - 1
	}
	ins := b.ins[:0]
	for j := 0; j < k; j++ {
		switch {
		case j > 0 && len(ins) > 0 && ins[len(ins)-1] != '\n' && b.rnd.IntN(100) < 8:
			ins = ins[:len(ins)-1]
			b.typed--
			b.line--
		case b.line >= 60 && b.rnd.IntN(8) == 0:
			b.line, b.typed = 0, 0
			ins = append(ins, '\n')
		default:
			ins = append(ins, phrase[(b.i*7+b.line)%len(phrase)])
			b.typed++
			b.line++
		}
	}
	b.ins = ins
	op, _ := ot.NewBuilder().Retain(pos).Insert(string(ins)).Retain(n - pos).Build()
	return op, pos + len(ins)
}

// typing runs every bot's keystrokes until the deadline.
func (r *run) typing(ctx context.Context, bots []*bot, deadline time.Time) {
	interval := time.Duration(float64(time.Second) / r.cfg.Rate)
	var wg sync.WaitGroup
	for _, b := range bots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the bots over one interval so they do not type in step.
			first := time.Duration(b.rnd.Int64N(int64(interval)))
			select {
			case <-time.After(first):
			case <-ctx.Done():
				return
			}
			t := time.NewTicker(interval)
			defer t.Stop()
			for time.Now().Before(deadline) {
				b.keystroke()
				select {
				case <-t.C:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Wait()
}

// flood starts every bot's one-op-in-flight loop and waits for the deadline.
func (r *run) flood(ctx context.Context, bots []*bot, deadline time.Time) {
	for _, b := range bots {
		b.flooded.Store(true)
		b.floodNext()
	}
	select {
	case <-time.After(time.Until(deadline)):
	case <-ctx.Done():
	}
	for _, b := range bots {
		b.flooded.Store(false)
	}
}

// floodNext sends the bot's next op, unless the window has closed. With a
// rate cap it waits out the rest of the interval first (on a timer, never
// in the client's callback).
func (b *bot) floodNext() {
	if b.r.stopped.Load() || time.Now().UnixNano() > b.r.t0.Load()+int64(b.r.cfg.Duration) {
		return
	}
	if rate := b.r.cfg.Rate; rate > 0 {
		interval := time.Duration(float64(time.Second) / rate)
		b.mu.Lock()
		wait := time.Until(b.lastOp.Add(interval))
		b.lastOp = time.Now().Add(max(wait, 0))
		b.mu.Unlock()
		if wait > 0 {
			time.AfterFunc(wait, b.keystroke)
			return
		}
	}
	b.keystroke()
}

// converge waits until every bot has its edits acknowledged, reads the
// server's text through a fresh, full client (client.Client), waits for every
// bot to reach that revision, and checks: each bot at that revision with
// the text's length and no edit pending, no revision received differently
// by two bots, and the shared record replayed from the first welcome giving
// the server's text.
func (r *run) converge(ctx context.Context, bots []*bot, url string, res *Result) {
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	unsynced := 0
	for _, b := range bots {
		if err := b.c.wait(wctx, func(c *botConn) bool { return !c.m.Pending() }); err != nil {
			unsynced++
		}
	}
	if unsynced > 0 {
		res.ConvergeNote = fmt.Sprintf("%d clients still had unacknowledged edits after 60s (or lost their connection)", unsynced)
		return
	}
	probe, err := client.Dial(wctx, url, client.Options{Name: "bench-probe"})
	if err != nil {
		res.ConvergeNote = "cannot read the server's text: " + err.Error()
		return
	}
	want, rev := probe.Text(), probe.Revision()
	_ = probe.Close()
	res.FinalRevision, res.TextUnits = rev, ot.Len16(want)
	same := 0
	for _, b := range bots {
		if err := b.c.wait(wctx, func(c *botConn) bool { return c.m.Revision() >= rev }); err != nil {
			continue
		}
		if brev, pending, dead, n := b.c.state(); brev == rev && !pending && !dead && n == res.TextUnits {
			same++
		}
	}
	text, err := r.log.replay(rev)
	switch {
	case err != nil:
		res.ConvergeNote = fmt.Sprintf("%d of %d clients at the server's revision %d, but: %v", same, len(bots), rev, err)
	case text != want:
		res.ConvergeNote = fmt.Sprintf("the ops the clients received, replayed, give %d units of text, not the server's %d", ot.Len16(text), res.TextUnits)
	default:
		res.Converged = same == len(bots)
		res.ConvergeNote = fmt.Sprintf("%d of %d clients have the server's text at revision %d (every revision received identically by all, its replay equal to the server's text)", same, len(bots), rev)
	}
}

// newDialers returns the run's websocket dialers: one per loopback source
// address, PerSource clients each, when the server is on loopback and
// there are more clients than that; else one, from the default address.
// They share one write buffer pool (a bot holds a write buffer only while
// it writes); idle clients, which only read pings, have small read buffers.
func newDialers(cfg Config, clients int) []*websocket.Dialer {
	base := websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 8192, WriteBufferPool: &sync.Pool{}}
	if cfg.Mode == Idle {
		base.ReadBufferSize = 1024
	}
	n := 1
	if u, err := neturl.Parse(cfg.URL); err == nil && cfg.PerSource > 0 && isLoopback(u.Hostname()) {
		n = (clients + cfg.PerSource - 1) / cfg.PerSource
	}
	if n <= 1 {
		return []*websocket.Dialer{&base}
	}
	ds := make([]*websocket.Dialer, n)
	for k := range ds {
		d := base
		d.NetDialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: sourceAddr(k)}}).DialContext
		ds[k] = &d
	}
	return ds
}

// sourceAddr is the k-th loopback source address: 127.1.0.1, 127.1.0.2...
// (Linux answers on all of 127.0.0.0/8 without configuration.)
func sourceAddr(k int) net.IP {
	k++
	return net.IPv4(127, byte(1+k>>16), byte(k>>8), byte(k))
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// createShare creates a read-only link to note with POST
// /api/notes/{id}/shares and returns its token.
func createShare(ctx context.Context, c *http.Client, base, note string) (string, error) {
	var v struct {
		Token string `json:"token"`
	}
	if err := postJSON(ctx, c, base+"/api/notes/"+note+"/shares", map[string]any{"label": "bench viewers", "fresh": true}, &v); err != nil {
		return "", fmt.Errorf("create a read-only link: %w", err)
	}
	if v.Token == "" {
		return "", errors.New("create a read-only link: no token in the response")
	}
	return v.Token, nil
}

// postJSON posts body as JSON to url and decodes a 2xx response into out.
func postJSON(ctx context.Context, c *http.Client, url string, body, out any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(rb)))
	}
	if err := json.Unmarshal(rb, out); err != nil {
		return fmt.Errorf("bad response: %w", err)
	}
	return nil
}

// createNote creates a note with POST /api/notes and returns its id.
func createNote(ctx context.Context, c *http.Client, base string) (string, error) {
	var v struct {
		ID   string `json:"id"`
		Note struct {
			ID string `json:"id"`
		} `json:"note"`
	}
	if err := postJSON(ctx, c, base+"/api/notes", map[string]string{"title": "Load test " + time.Now().UTC().Format(time.RFC3339)}, &v); err != nil {
		return "", fmt.Errorf("create a note: %w", err)
	}
	if v.ID == "" {
		v.ID = v.Note.ID
	}
	if !scribe.NoteID(v.ID).Valid() {
		return "", fmt.Errorf("create a note: no valid id in the response (%q)", v.ID)
	}
	return v.ID, nil
}

// revTable maps each committed revision to its submitter's send time (and
// the time of the op's first keystroke), set when the ack names the
// revision, so that arrivals at other clients become broadcast latencies
// (bot.settle).
type revTable struct {
	t table[revEntry]
}

type revEntry struct {
	sentAt atomic.Int64 // unix nanos; 0 until the ack
	edited atomic.Int64 // set before sentAt
}

// sent records the submitter's send time of rev.
func (t *revTable) sent(rev, sentAt, edited int64) {
	e := t.t.at(rev)
	e.edited.Store(edited)
	e.sentAt.Store(sentAt)
}

// get returns rev's send time and first keystroke's time; 0 for unknown.
func (t *revTable) get(rev int64) (sentAt, edited int64) {
	e := t.t.at(rev)
	if sentAt = e.sentAt.Load(); sentAt != 0 {
		edited = e.edited.Load()
	}
	return sentAt, edited
}

// known reports whether every revision of first..last has its send time.
func (t *revTable) known(first, last int64) bool {
	for rev := first; rev <= last; rev++ {
		if t.t.at(rev).sentAt.Load() == 0 {
			return false
		}
	}
	return true
}
