package loadtest

import (
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<22; v += 1 + v/97 {
		i := bucketOf(v)
		if i < prev {
			t.Fatalf("bucketOf(%d) = %d, below the previous %d", v, i, prev)
		}
		prev = i
		if lo, hi := bucketLow(i), bucketLow(i+1); v < lo || v >= hi {
			t.Fatalf("%d is outside its bucket %d [%d, %d)", v, i, lo, hi)
		}
		if hi, lo := bucketLow(i+1), bucketLow(i); v >= 64 && float64(hi-lo)/float64(lo) > 0.032 {
			t.Fatalf("bucket %d [%d, %d) is wider than 3.2%%", i, lo, hi)
		}
	}
}

func TestQuantiles(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, 1000 * time.Millisecond}} {
		got := h.quantile(tt.q)
		if r := float64(got) / float64(tt.want); r < 0.97 || r > 1.03 {
			t.Errorf("quantile(%v) = %v, want %v within 3%%", tt.q, got, tt.want)
		}
	}
	var other hist
	other.record(5 * time.Second)
	h.merge(&other)
	if s := h.summary(); s.Samples != 1001 || s.Max != 5000 {
		t.Errorf("after merge: %+v", s)
	}
}
