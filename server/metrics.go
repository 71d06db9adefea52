package server

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scribe-notes/scribe/room"
)

// metrics are the server's Prometheus metrics, in a registry of its own so
// that several servers (in tests) do not collide.
type metrics struct {
	reg           *prometheus.Registry
	connections   *prometheus.GaugeVec
	notesOpen     prometheus.Gauge
	opsCommitted  prometheus.Counter
	remoteOps     prometheus.Counter
	commitSeconds prometheus.Histogram
	opSeconds     prometheus.Histogram
	batchSize     prometheus.Histogram
	conflicts     prometheus.Counter
	errors        *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	sharedFrames  *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "scribe_connections", Help: "Open websocket connections, by kind (edit, readonly).",
		}, []string{"kind"}),
		notesOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "scribe_notes_open", Help: "Notes with a live session on this node.",
		}),
		opsCommitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scribe_ops_committed_total", Help: "Operations this node committed to the store.",
		}),
		remoteOps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scribe_ops_remote_total", Help: "Operations committed by other nodes that this node applied.",
		}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "scribe_commit_seconds", Help: "Latency of one Store.Append (a group commit).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		opSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "scribe_op_seconds", Help: "Time from reading an op (or an API append) to queuing its ack: queueing, transform and commit on the server.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "scribe_commit_batch_ops", Help: "Operations per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "scribe_commit_conflicts_total", Help: "Appends that lost to another node (ECONFLICT) and were retried.",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scribe_errors_total", Help: "Errors answered to clients and API callers, by code.",
		}, []string{"code"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scribe_clients_dropped_total", Help: "Websocket clients disconnected by the server, by reason.",
		}, []string{"reason"}),
		sharedFrames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scribe_viewer_shared_frames_total",
			Help: "Frames the rooms' shared writers wrote to caught-up viewers, by result: whole, or part (the viewer's own write pump wrote the rest).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.connections, m.notesOpen, m.opsCommitted, m.remoteOps, m.commitSeconds, m.opSeconds,
		m.batchSize, m.conflicts, m.errors, m.dropped, m.sharedFrames,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// roomMetrics tells the Prometheus metrics what the rooms do.
type roomMetrics struct{ m *metrics }

var _ room.Metrics = roomMetrics{}

func (r roomMetrics) RoomsOpen(delta int)          { r.m.notesOpen.Add(float64(delta)) }
func (r roomMetrics) Append(took time.Duration)    { r.m.commitSeconds.Observe(took.Seconds()) }
func (r roomMetrics) Conflict()                    { r.m.conflicts.Inc() }
func (r roomMetrics) OpLatency(took time.Duration) { r.m.opSeconds.Observe(took.Seconds()) }
func (r roomMetrics) RemoteOp()                    { r.m.remoteOps.Inc() }
func (r roomMetrics) Error(code string)            { r.m.errors.WithLabelValues(code).Inc() }
func (r roomMetrics) Committed(ops int) {
	r.m.opsCommitted.Add(float64(ops))
	r.m.batchSize.Observe(float64(ops))
}
