package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

func TestDecodeHello(t *testing.T) {
	cases := []struct {
		frame   string
		ok      bool
		name    string
		hasRev  bool
		message string // a part of the error message
	}{
		{`{"type":"hello","protocol":1,"session":"abcdefgh","name":"  Ada  "}`, true, "Ada", false, ""},
		{`{"type":"hello","protocol":1,"session":"abcdefgh"}`, true, "Anonymous", false, ""},
		{`{"type":"hello","protocol":1,"session":"abcdefgh","rev":0}`, true, "Anonymous", true, ""},
		{`{"type":"hello","protocol":2,"session":"abcdefgh"}`, false, "", false, "version 2"},
		{`{"type":"hello","session":"abcdefgh"}`, false, "", false, "protocol"},
		{`{"type":"hello","protocol":1}`, false, "", false, "session"},
		{`{"type":"hello","protocol":1,"session":"short"}`, false, "", false, "8 to 64"},
		{`{"type":"hello","protocol":1,"session":"abc/defgh"}`, false, "", false, "8 to 64"},
		{`{"type":"hello","protocol":1,"session":"` + strings.Repeat("a", 65) + `"}`, false, "", false, "8 to 64"},
		{`{"type":"hello","protocol":1,"session":"abcdefgh","rev":-1}`, false, "", false, "negative"},
		{`{"type":"hello","protocol":1,"session":"abcdefgh","name":"a\u0007b"}`, false, "", false, "control"},
		{`{"type":"hello","protocol":1,"session":"abcdefgh","name":"` + strings.Repeat("é", 65) + `"}`, false, "", false, "64"},
		{`{"type":"hello","protocol":"1","session":"abcdefgh"}`, false, "", false, "protocol"},
	}
	for _, tc := range cases {
		m, err := decodeClientMsg([]byte(tc.frame))
		var h helloMsg
		if err == nil {
			h, err = m.hello()
		}
		if tc.ok {
			if err != nil || h.name != tc.name || h.hasRev != tc.hasRev || h.session != "abcdefgh" {
				t.Errorf("%s: %+v %v", tc.frame, h, err)
			}
			continue
		}
		if scribe.ErrorCode(err) != scribe.EINVALID || !strings.Contains(scribe.ErrorMessage(err), tc.message) {
			t.Errorf("%s: got %v, want EINVALID mentioning %q", tc.frame, err, tc.message)
		}
	}
}

func TestDecodeOp(t *testing.T) {
	m, err := decodeClientMsg([]byte(`{"type":"op","rev":3,"seq":2,"op":[1,"😀",-2],"sel":[{"anchor":3,"head":3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	o, err := m.opMsg()
	if err != nil || o.rev != 3 || o.seq != 2 || o.op.BaseLen() != 3 || o.op.TargetLen() != 3 || len(o.sel) != 1 {
		t.Fatalf("%+v %v", o, err)
	}
	bad := map[string]string{
		`{"type":"op","seq":1,"op":[1]}`:                                        "rev",
		`{"type":"op","rev":0,"op":[1]}`:                                        "seq",
		`{"type":"op","rev":0,"seq":1}`:                                         "op",
		`{"type":"op","rev":0,"seq":1,"op":null}`:                               "op",
		`{"type":"op","rev":0,"seq":1,"op":[1],"sel":[{"anchor":-1,"head":0}]}`: "Selection",
		`{"type":"op","rev":0,"seq":1,"op":[1],"sel":{}}`:                       "sel",
		`{"type":"op","rev":0,"seq":1,"op":["\udc00"]}`:                         "surrogate",
		`{"type":"op","rev":0,"seq":-1,"op":[1]}`:                               "",
		`{"type":"op","rev":0,"seq":1,"op":[1,2.5]}`:                            "",
	}
	for frame, want := range bad {
		m, err := decodeClientMsg([]byte(frame))
		if err == nil {
			_, err = m.opMsg()
		}
		if scribe.ErrorCode(err) != scribe.EINVALID || !strings.Contains(scribe.ErrorMessage(err), want) {
			t.Errorf("%s: got %v, want EINVALID mentioning %q", frame, err, want)
		}
	}
	var many strings.Builder
	many.WriteString(`{"type":"presence","rev":0,"sel":[`)
	for i := range maxSelRanges + 1 {
		if i > 0 {
			many.WriteByte(',')
		}
		many.WriteString(`{"anchor":0,"head":0}`)
	}
	many.WriteString(`]}`)
	m, _ = decodeClientMsg([]byte(many.String()))
	if _, err := m.presence(); scribe.ErrorCode(err) != scribe.EINVALID {
		t.Errorf("too many ranges: %v", err)
	}
}

// No frame makes decoding panic; every refusal is an EINVALID or ETOOLARGE
// error with a message.
func FuzzClientFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","protocol":1,"session":"abcdefgh","name":"Ada","rev":3}`,
		`{"type":"op","rev":3,"seq":2,"op":[1,"😀",-2],"sel":[{"anchor":3,"head":3}]}`,
		`{"type":"presence","rev":0,"sel":[{"anchor":1,"head":2}]}`,
		`{"type":"name","name":"x"}`,
		`[1,2]`, `{`, `{"type":1}`, `{"type":"op","op":["\ud83d"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeClientMsg(data)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		for _, step := range []func() error{
			func() error { _, err := m.hello(); return err },
			func() error { _, err := m.opMsg(); return err },
			func() error { _, err := m.presence(); return err },
		} {
			if err := step(); err != nil {
				checkRefusal(t, err)
			}
		}
	})
}

func checkRefusal(t *testing.T, err error) {
	code := scribe.ErrorCode(err)
	if (code != scribe.EINVALID && code != scribe.ETOOLARGE) || scribe.ErrorMessage(err) == "" {
		t.Fatalf("refusal %v has code %s", err, code)
	}
}

func TestOutboxBudget(t *testing.T) {
	o := newOutbox(10)
	if !o.push([]byte("12345"), false) || !o.push([]byte("12345"), false) {
		t.Fatal("within budget refused")
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

// encodeAck writes what encoding/json would.
func TestEncodeAck(t *testing.T) {
	for _, tc := range []struct {
		seq uint64
		rev scribe.Revision
	}{{1, 1}, {1<<64 - 1, 1<<63 - 1}, {42, 0}} {
		want, _ := json.Marshal(struct {
			Type string          `json:"type"`
			Seq  uint64          `json:"seq"`
			Rev  scribe.Revision `json:"rev"`
		}{"ack", tc.seq, tc.rev})
		if got := encodeAck(tc.seq, tc.rev); string(got) != string(want) {
			t.Errorf("encodeAck(%d, %d) = %s, want %s", tc.seq, tc.rev, got, want)
		}
	}
}

func TestTokenBucket(t *testing.T) {
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
	if !b.allow() || !b.allow() || b.allow() {
		t.Fatal("refill after 2 s at 1/s is not 2 tokens")
	}
	unlimited := newTokenBucket(0, 0)
	for range 100 {
		if !unlimited.allow() {
			t.Fatal("a zero rate limited")
		}
	}
}

func TestFileName(t *testing.T) {
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
