package server

import (
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

func TestOutboxBudget(t *testing.T) {
	t.Parallel()
	o := newOutbox(10)
	for i := range 2 {
		if !o.push([]byte("12345"), false) {
			t.Fatalf("push %d within budget refused", i)
		}
	}
	if o.isUrgent() {
		t.Fatal("urgent without an urgent message")
	}
	if o.push([]byte("1"), true) {
		t.Fatal("over budget accepted")
	}
	if o.isUrgent() {
		t.Fatal("a refused message made the queue urgent")
	}
	got := o.take(nil)
	if len(got) != 2 {
		t.Fatalf("take = %d messages", len(got))
	}
	if !o.push([]byte("1"), true) || !o.isUrgent() {
		t.Fatal("budget not freed by take, or an urgent message not noted")
	}
	o.pushAll([][]byte{[]byte("0123456789abc")}) // the welcome goes in whatever its size
	if msgs := o.take(got); len(msgs) != 2 || string(msgs[0]) != "1" || o.isUrgent() {
		t.Fatal("pushAll lost messages, or take kept the urgency")
	}
	o.close(true)
	if o.push([]byte("x"), true) || len(o.take(nil)) != 0 {
		t.Fatal("closed outbox accepted or kept messages")
	}
}

// A push wakes the write pump when it is idle or for an urgent message, not
// while it rests after a frame.
func TestOutboxWake(t *testing.T) {
	t.Parallel()
	o := newOutbox(1 << 10)
	woken := func() bool {
		select {
		case <-o.wake:
			return true
		default:
			return false
		}
	}
	if o.rest(true) {
		t.Fatal("empty outbox reports queued messages")
	}
	o.push([]byte("a"), false)
	if !woken() {
		t.Fatal("idle pump not woken")
	}
	o.push([]byte("b"), false)
	if woken() {
		t.Fatal("woken again before it looked at the queue")
	}
	o.take(nil)
	o.rest(false) // resting after a frame
	o.push([]byte("c"), false)
	if woken() {
		t.Fatal("resting pump woken for someone else's op")
	}
	o.push([]byte("d"), true)
	if !woken() || !o.isUrgent() {
		t.Fatal("resting pump not woken for an urgent message")
	}
	if !o.rest(true) {
		t.Fatal("queued messages not reported")
	}
	o.push([]byte("e"), false)
	if woken() {
		t.Fatal("woken though rest saw queued messages (the pump writes them without sleeping)")
	}
}

func TestTokenBucket(t *testing.T) {
	t.Parallel()
	b := newTokenBucket(1, 3)
	for i := range 3 {
		if !b.allow() {
			t.Fatalf("burst token %d refused", i)
		}
	}
	if b.allow() {
		t.Fatal("beyond the burst allowed")
	}
	b.last = b.last.Add(-2 * time.Second) // two seconds pass
	for i := range 2 {
		if !b.allow() {
			t.Fatalf("refilled token %d refused: refill after 2 s at 1/s is not 2 tokens", i)
		}
	}
	if b.allow() {
		t.Fatal("a third token after 2 s at 1/s")
	}
	unlimited := newTokenBucket(0, 0)
	for range 100 {
		if !unlimited.allow() {
			t.Fatal("a zero rate limited")
		}
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC)
	cases := map[string]string{
		"Standup":                       "2026-11-24-standup.md",
		"Release 1.4 — Go/No-go!":       "2026-11-24-release-1-4-go-no-go.md",
		`../../etc/passwd"; x=`:         "2026-11-24-etc-passwd-x.md",
		"😀😀":                            "2026-11-24-note.md",
		"":                              "2026-11-24-note.md",
		strings.Repeat("abcdefghij", 9): "2026-11-24-" + strings.Repeat("abcdefghij", 8) + ".md",
	}
	for title, want := range cases {
		if got := fileName(title, day, ".md"); got != want {
			t.Errorf("fileName(%q) = %q, want %q", title, got, want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		scribe.EINVALID: 400, scribe.EFORBIDDEN: 403, scribe.ENOTFOUND: 404, scribe.ECONFLICT: 409,
		scribe.ETOOLARGE: 413, scribe.ERATELIMIT: 429, scribe.EUNAVAILABLE: 503, scribe.EINTERNAL: 500, "EWHATEVER": 500,
	}
	for code, status := range want {
		if got := statusOf(code); got != status {
			t.Errorf("statusOf(%s) = %d, want %d", code, got, status)
		}
	}
}
