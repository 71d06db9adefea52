package loadtest

import (
	"math/bits"
	"sync"
	"time"
)

// hist is a log-linear latency histogram in microseconds: exact below 64 µs,
// then 32 buckets per power of two, so a quantile is off by at most ~3%.
// Recording is O(1) with no allocation; it is safe for concurrent use.
type hist struct {
	mu     sync.Mutex
	counts [64 + 64*32]uint64
	n      uint64
	max    uint64
}

func bucketOf(v uint64) int {
	if v < 64 {
		return int(v)
	}
	e := bits.Len64(v) - 6 // v>>e is in [32, 64)
	return 64 + (e-1)*32 + int(v>>e) - 32
}

// bucketLow returns the smallest value of bucket i, bucketLow(i+1) bounding it above.
func bucketLow(i int) uint64 {
	if i < 64 {
		return uint64(i)
	}
	e := (i-64)/32 + 1
	m := uint64((i-64)%32 + 32)
	return m << e
}

func (h *hist) record(d time.Duration) {
	v := uint64(max(d.Microseconds(), 0))
	i := min(bucketOf(v), len(h.counts)-1)
	h.mu.Lock()
	h.counts[i]++
	h.n++
	h.max = max(h.max, v)
	h.mu.Unlock()
}

// recordAll records the k-th duration (in nanoseconds) of each of ds under
// one lock: a frame's worth of broadcast latencies.
func (h *hist) recordAll(ds [][2]int64, k int) {
	if len(ds) == 0 {
		return
	}
	h.mu.Lock()
	for _, d := range ds {
		v := uint64(max(d[k]/1000, 0))
		h.counts[min(bucketOf(v), len(h.counts)-1)]++
		h.n++
		h.max = max(h.max, v)
	}
	h.mu.Unlock()
}

func (h *hist) merge(o *hist) {
	o.mu.Lock()
	defer o.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0 < q <= 1) as the middle of its bucket.
func (h *hist) quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketLow(i), bucketLow(i+1)
			if i < 64 {
				return time.Duration(lo) * time.Microsecond
			}
			return time.Duration(min((lo+hi)/2, h.max)) * time.Microsecond
		}
	}
	return time.Duration(h.max) * time.Microsecond
}

// Latency summarises a histogram, in milliseconds.
type Latency struct {
	Samples uint64  `json:"samples"`
	P50     float64 `json:"p50_ms"`
	P90     float64 `json:"p90_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
}

func (h *hist) summary() Latency {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	h.mu.Lock()
	n, mx := h.n, h.max
	h.mu.Unlock()
	return Latency{Samples: n, P50: ms(h.quantile(0.5)), P90: ms(h.quantile(0.9)), P99: ms(h.quantile(0.99)), Max: float64(mx) / 1000}
}
