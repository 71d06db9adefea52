package protocol

import (
	"encoding/json"
	"strings"
	"testing"

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
		m, err := DecodeClientMsg([]byte(tc.frame))
		var h Hello
		if err == nil {
			h, err = m.Hello()
		}
		if tc.ok {
			if err != nil || h.Name != tc.name || h.HasRev != tc.hasRev || h.Session != "abcdefgh" {
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
	m, err := DecodeClientMsg([]byte(`{"type":"op","rev":3,"seq":2,"op":[1,"😀",-2],"sel":[{"anchor":3,"head":3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	o, err := m.OpMsg()
	if err != nil || o.Rev != 3 || o.Seq != 2 || o.Op.BaseLen() != 3 || o.Op.TargetLen() != 3 || len(o.Sel) != 1 {
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
		m, err := DecodeClientMsg([]byte(frame))
		if err == nil {
			_, err = m.OpMsg()
		}
		if scribe.ErrorCode(err) != scribe.EINVALID || !strings.Contains(scribe.ErrorMessage(err), want) {
			t.Errorf("%s: got %v, want EINVALID mentioning %q", frame, err, want)
		}
	}
	var many strings.Builder
	many.WriteString(`{"type":"presence","rev":0,"sel":[`)
	for i := range MaxSelRanges + 1 {
		if i > 0 {
			many.WriteByte(',')
		}
		many.WriteString(`{"anchor":0,"head":0}`)
	}
	many.WriteString(`]}`)
	m, _ = DecodeClientMsg([]byte(many.String()))
	if _, err := m.Presence(); scribe.ErrorCode(err) != scribe.EINVALID {
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
		m, err := DecodeClientMsg(data)
		if err != nil {
			checkRefusal(t, err)
			return
		}
		for _, step := range []func() error{
			func() error { _, err := m.Hello(); return err },
			func() error { _, err := m.OpMsg(); return err },
			func() error { _, err := m.Presence(); return err },
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
		if got := EncodeAck(tc.seq, tc.rev); string(got) != string(want) {
			t.Errorf("EncodeAck(%d, %d) = %s, want %s", tc.seq, tc.rev, got, want)
		}
	}
}
