package server

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scribe-notes/scribe"
)

// Defaults of the limits per person (see Limits).
const (
	DefaultNotesPerMinute   = 30
	DefaultSharesPerMinute  = 30
	DefaultAppendsPerMinute = 600
	DefaultPeerFactor       = 10
	DefaultMaxSharesPerNote = 100

	// maxRateKeys bounds the buckets one rateLimiter keeps. Past it, the
	// buckets that have refilled (their holder has been quiet) are dropped
	// first, then any: a holder dropped starts again with a full bucket.
	maxRateKeys = 1 << 16
)

// rateLimiter is a set of token buckets, one per key (a person or a peer
// address), each holding up to a minute's worth of requests and refilling
// at perMinute a minute. It is safe for concurrent use.
type rateLimiter struct {
	what      string  // "notes created", for the error message
	perMinute float64 // <= 0: no limit
	mu        sync.Mutex
	buckets   map[string]*keyBucket
}

type keyBucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(what string, perMinute float64) *rateLimiter {
	return &rateLimiter{what: what, perMinute: perMinute, buckets: make(map[string]*keyBucket)}
}

// allow takes one request from key's bucket, whose rate and size are
// factor times the limiter's. It returns nil, or an ERATELIMIT error and
// how long until a request would be allowed.
func (l *rateLimiter) allow(key string, factor float64, now time.Time) (time.Duration, error) {
	if l == nil || l.perMinute <= 0 {
		return 0, nil
	}
	perMinute := l.perMinute * factor
	rate := perMinute / 60 // per second
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxRateKeys {
			l.prune(now)
		}
		b = &keyBucket{tokens: perMinute, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(perMinute, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, nil
	}
	wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
	return wait, scribe.Errorf(scribe.ERATELIMIT, "More than %g %s a minute from you; retry in %d s.", perMinute, l.what, retrySeconds(wait))
}

// prune drops the buckets that have refilled, then, if that freed less
// than a quarter of the map, any. The caller holds mu.
func (l *rateLimiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.perMinute/60 >= l.perMinute {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < maxRateKeys*3/4 {
			break
		}
		delete(l.buckets, k)
	}
}

func retrySeconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

// rateKey is whom a request's limits count against: the person, when the
// request names one (a member by email; an API token by its owner's email,
// in a bucket apart from the owner's browser), else the peer address, whose
// limits are PeerFactor times larger (a meeting room behind one NAT is
// many people). The local person (local mode) is counted by address.
func (s *Server) rateKey(r *http.Request) (string, float64) {
	p := person(r)
	if p.Known() && p.Via != scribe.ViaLocal && p.Email != "" {
		kind := "member:"
		if p.Via == scribe.ViaToken {
			kind = "token:"
		}
		return kind + strings.ToLower(p.Email), 1
	}
	peer := r.RemoteAddr
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		peer = ap.Addr().Unmap().String()
	}
	return "addr:" + peer, s.limits.PeerFactor
}

// limit counts a request against l for whoever makes it. When the limit is
// reached it answers 429 ERATELIMIT with Retry-After and returns false.
func (s *Server) limit(w http.ResponseWriter, r *http.Request, l *rateLimiter) bool {
	key, factor := s.rateKey(r)
	wait, err := l.allow(key, factor, time.Now())
	if err == nil {
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(wait)))
	s.writeError(w, r, err)
	return false
}
