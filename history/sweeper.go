package history

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scribe-notes/scribe"
)

// Defaults of the Sweeper.
const (
	// DefaultSweepEvery is how often the sweeper takes a compaction step.
	DefaultSweepEvery = 10 * time.Second
	// DefaultSweepBudget is how many changes one step folds at most: a
	// step of a thousand holds the embedded store's writer for a few
	// milliseconds (docs/operations.md), and at one step every ten
	// seconds the sweeper folds up to 8.6 million changes a day.
	DefaultSweepBudget = 1000
)

// SweeperConfig configures a Sweeper.
type SweeperConfig struct {
	Compactor scribe.Compactor
	// HotAge is how old history gets before it is folded; it must be
	// above 0 (a deployment that never compacts starts no sweeper).
	HotAge time.Duration
	// Budget is the most changes one step folds; DefaultSweepBudget when 0.
	Budget int
	// Every is the time between steps; DefaultSweepEvery when 0.
	Every time.Duration
	// Logger receives a line per failed step; slog.Default() when nil.
	Logger *slog.Logger
}

// Sweeper compacts a store's old history in the background: one bounded
// CompactStep every Every, with the clock's time. Its lifecycle is
// NewSweeper, Open, Close. Its counts are Prometheus collectors
// (Collectors): changes folded, bytes freed, notes behind.
type Sweeper struct {
	cfg    SweeperConfig
	cancel context.CancelFunc
	wg     sync.WaitGroup

	folded prometheus.Counter
	freed  prometheus.Counter
	behind prometheus.Gauge
	failed prometheus.Counter
}

// NewSweeper returns a sweeper for cfg. It does nothing until Open.
func NewSweeper(cfg SweeperConfig) (*Sweeper, error) {
	if cfg.Compactor == nil || cfg.HotAge <= 0 {
		return nil, errors.New("history: a sweeper needs a store that compacts and a hot age above 0")
	}
	if cfg.Budget <= 0 {
		cfg.Budget = DefaultSweepBudget
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultSweepEvery
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Sweeper{
		cfg: cfg,
		folded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scribe_history_folded_changes_total", Help: "Changes history compaction merged into folds on this node.",
		}),
		freed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scribe_history_freed_bytes_total", Help: "History bytes (op, session, author of each change) compaction freed on this node.",
		}),
		behind: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "scribe_history_notes_behind", Help: "Notes the latest compaction step left with cold history still to fold (0: caught up).",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scribe_history_compaction_failures_total", Help: "Compaction steps that failed (logged).",
		}),
	}, nil
}

// Collectors are the sweeper's metrics, for /metrics.
func (s *Sweeper) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.folded, s.freed, s.behind, s.failed}
}

// Open starts the sweeping goroutine.
func (s *Sweeper) Open(ctx context.Context) error {
	ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.cfg.Every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				_, _ = s.Step(ctx, now)
			}
		}
	}()
	return nil
}

// Close stops the sweeper and waits for a step under way.
func (s *Sweeper) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	return nil
}

// Step takes one compaction step with now as the clock and counts it.
// The goroutine Open starts calls it on every tick; tests call it with
// the time they choose.
func (s *Sweeper) Step(ctx context.Context, now time.Time) (scribe.CompactStats, error) {
	st, err := s.cfg.Compactor.CompactStep(ctx, now, s.cfg.HotAge, s.cfg.Budget)
	if err != nil {
		if ctx.Err() == nil {
			s.failed.Inc()
			s.cfg.Logger.Error("history compaction", "err", err)
		}
		return st, err
	}
	s.folded.Add(float64(st.Changes))
	s.freed.Add(float64(max(st.Bytes, 0)))
	s.behind.Set(float64(st.Behind))
	return st, nil
}
