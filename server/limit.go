package server

import "time"

// tokenBucket is a classic token bucket: it holds up to burst tokens and
// refills at rate tokens per second. It is owned by one goroutine (a
// connection's read pump) and not safe for concurrent use.
type tokenBucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate, burst float64) *tokenBucket {
	return &tokenBucket{rate: rate, burst: burst, tokens: burst, last: time.Now()}
}

// allow takes one token and reports whether there was one. A bucket with a
// rate of zero or less never limits.
func (b *tokenBucket) allow() bool {
	if b.rate <= 0 {
		return true
	}
	now := time.Now()
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
