// Package notify tells a team's chat that meeting notes were exported: on
// each export commit it POSTs a Slack-compatible incoming-webhook message
// (text plus blocks; Mattermost and Rocket.Chat accept the same body) to
// every configured webhook, with the meeting's title and date, its
// decisions, its open action items with owners, and links to the
// read-only note and the commit.
//
// Delivery never blocks an export: Notify only queues. One goroutine
// delivers, retrying with backoff; what it gives up on is logged and
// counted (scribe_notify_failures_total).
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scribe-notes/scribe"
)

// Defaults for Config.
const (
	DefaultQueue    = 100
	DefaultAttempts = 5
	DefaultBackoff  = time.Second
	DefaultTimeout  = 10 * time.Second
	maxBackoff      = time.Minute
)

// Config says where notifications go.
type Config struct {
	// Webhooks are the incoming-webhook URLs (http or https) to POST to.
	// They are secrets: logs name only their host.
	Webhooks []string
	// CommitURL turns a commit id into a link: "{sha}" is replaced by the
	// full hash (https://git.example.com/team/notes/commit/{sha}). Empty:
	// the message shows the short hash without a link.
	CommitURL string
	// Queue bounds the notifications waiting for delivery; when it is
	// full, a new one is dropped (and counted). Default 100.
	Queue int
	// Attempts per webhook and notification; Backoff is the wait after the
	// first failure, doubled after each (at most a minute); Timeout bounds
	// one POST. Defaults 5, 1s, 10s.
	Attempts int
	Backoff  time.Duration
	Timeout  time.Duration
	// Client sends the requests; nil is a client with Timeout.
	Client *http.Client
	// Logger receives delivery failures; nil is slog.Default().
	Logger *slog.Logger
}

// Notifier delivers export notifications. Its lifecycle is New, Open, then
// Close; Notify is safe for concurrent use and never blocks.
type Notifier struct {
	cfg    Config
	queue  chan delivery
	cancel context.CancelFunc
	wg     sync.WaitGroup

	sent, failed prometheus.Counter
}

// delivery is one message for one webhook.
type delivery struct {
	url  string
	body []byte
}

// New checks cfg. A webhook or commit URL that is not an absolute http(s)
// URL, or a commit URL without "{sha}", gives EINVALID.
func New(cfg Config) (*Notifier, error) {
	for _, w := range cfg.Webhooks {
		if !httpURL(w) {
			return nil, scribe.Errorf(scribe.EINVALID, "The notification webhook %q is not an http(s) URL.", redact(w))
		}
	}
	if err := scribe.CheckCommitURL(cfg.CommitURL); err != nil {
		return nil, err
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Notifier{
		cfg:   cfg,
		queue: make(chan delivery, cfg.Queue),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scribe_notify_sent_total", Help: "Export notifications a chat webhook accepted.",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scribe_notify_failures_total", Help: "Export notifications given up on: every attempt failed, or the queue was full.",
		}),
	}, nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// redact shows a webhook by its host only: its path is its secret.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(not a URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// Collectors are the notifier's metrics, for the server's /metrics.
func (n *Notifier) Collectors() []prometheus.Collector {
	return []prometheus.Collector{n.sent, n.failed}
}

// Open starts the delivery goroutine.
func (n *Notifier) Open(ctx context.Context) error {
	ctx, n.cancel = context.WithCancel(ctx)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.run(ctx)
	}()
	return nil
}

// Close stops delivery and waits for the goroutine: a notification being
// retried, or still queued, is dropped.
func (n *Notifier) Close() error {
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	return nil
}

// Notify queues the event for every webhook and returns at once. When the
// queue is full the notification is dropped, logged and counted.
func (n *Notifier) Notify(ev scribe.ExportEvent) {
	body, err := json.Marshal(Message(ev, n.cfg.CommitURL))
	if err != nil {
		n.cfg.Logger.Error("notify: encode message", "err", err)
		return
	}
	for _, w := range n.cfg.Webhooks {
		select {
		case n.queue <- delivery{url: w, body: body}:
		default:
			n.failed.Inc()
			n.cfg.Logger.Warn("notify: queue full, notification dropped", "webhook", redact(w), "commit", ev.Commit)
		}
	}
}

func (n *Notifier) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-n.queue:
			n.deliver(ctx, d)
		}
	}
}

// deliver POSTs one message, retrying network errors, 429 and 5xx answers
// with backoff. Another 4xx answer is final: the same body would get it again.
func (n *Notifier) deliver(ctx context.Context, d delivery) {
	wait := n.cfg.Backoff
	var err error
	for attempt := 1; attempt <= n.cfg.Attempts; attempt++ {
		var retry bool
		if retry, err = n.post(ctx, d); err == nil {
			n.sent.Inc()
			return
		}
		if ctx.Err() != nil {
			return // closing: not a delivery failure
		}
		if !retry || attempt == n.cfg.Attempts {
			break
		}
		n.cfg.Logger.Info("notify: webhook failed, retrying", "webhook", redact(d.url), "attempt", attempt, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, maxBackoff)
	}
	n.failed.Inc()
	n.cfg.Logger.Warn("notify: webhook failed, notification dropped", "webhook", redact(d.url), "err", err)
}

func (n *Notifier) post(ctx context.Context, d delivery) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is a secret
		}
		return true, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	retry = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	return retry, fmt.Errorf("answered %s", resp.Status)
}
