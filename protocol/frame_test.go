package protocol

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseFrame(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  []Msg
	}{
		{"ack", `[{"type":"ack","seq":4,"rev":13}]`,
			[]Msg{{Type: "ack", Seq: 4, HasSeq: true, Rev: 13}}},
		{"single object", `{"type":"leave","client":"c_1a"}`,
			[]Msg{{Type: "leave", Client: "c_1a"}}},
		{"batch with spaces and unknown keys", ` [ {"type" : "op", "rev":14, "op":[10,-1,"x\"]",5], "client":"c_1a", "extra":{"a":[1,{"b":"}"}]}},
			{"type":"presence","client":"c_2","name":"Gr\u00e2ce \ud83d\ude00","color":"#1971c2","readonly":true,"rev":14,"sel":[{"anchor":1,"head":2}]} ] `,
			[]Msg{
				{Type: "op", Rev: 14, Op: []byte(`[10,-1,"x\"]",5]`), Client: "c_1a"},
				{Type: "presence", Client: "c_2", ReadOnly: true, Rev: 14, Sel: []byte(`[{"anchor":1,"head":2}]`)},
			}},
		{"welcome", `[{"type":"welcome","protocol":1,"client":"c_8","rev":12,"text":"# A\nb","title":"A","readonly":false,"lastSeq":3,"color":"#d","peers":[],"limits":{"opsPerSecond":60.5},"catchup":false}]`,
			[]Msg{{Type: "welcome", Protocol: 1, Client: "c_8", Rev: 12, Text: "# A\nb", HasText: true, Title: "A", LastSeq: 3, Peers: []byte(`[]`), Limits: []byte(`{"opsPerSecond":60.5}`)}}},
		{"viewers", `[{"type":"viewers","viewers":4950},{"type":"welcome","client":"c_9","rev":1,"color":"#d","viewers":2,"peers":[]}]`,
			[]Msg{{Type: "viewers", Viewers: 4950}, {Type: "welcome", Client: "c_9", Rev: 1, Viewers: 2, Peers: []byte(`[]`)}}},
		{"error with null seq", `[{"type":"error","code":"EINVALID","message":"no","seq":null}]`,
			[]Msg{{Type: "error", Code: "EINVALID", Message: "no", HasSeq: true}}},
		{"empty", `[]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFrame([]byte(tt.frame), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tt.want)
			if string(gj) != string(wj) {
				t.Errorf("ParseFrame(%s)\n got %s\nwant %s", tt.frame, gj, wj)
			}
			for _, m := range got {
				switch m.Type {
				case "presence":
					if m.Name() != "Grâce 😀" || m.Color() != "#1971c2" || !SameStr(m.NameRaw, "Grâce 😀") || SameStr(m.NameRaw, "Grace") {
						t.Errorf("presence name %q color %q", m.Name(), m.Color())
					}
				case "welcome":
					if m.Color() != "#d" || m.Name() != "" {
						t.Errorf("welcome color %q name %q", m.Color(), m.Name())
					}
				}
			}
		})
	}
}

func TestParseFrameRejectsMalformed(t *testing.T) {
	for _, frame := range []string{``, `[`, `[{]`, `[{"type":"op"}`, `[{"type":"op"} x]`, `"op"`, `[{"rev":"x"}]`, `[{"type":"op","op":[1,2}]`, `[{"type":"op","text":"abc}]`, `[1]`, `[{"readonly":maybe}]`, `[{"rev":1.5}]`, `[{"rev":1e3}]`, `[{"rev":99999999999999999999}]`, `[{"rev":-}]`, `[{"rev":01}]`} {
		if _, err := ParseFrame([]byte(frame), nil, nil); err == nil {
			t.Errorf("ParseFrame(%q) succeeded, want an error", frame)
		}
	}
}

func FuzzParseFrame(f *testing.F) {
	f.Add([]byte(`[{"type":"op","rev":14,"op":[10,-1,5],"client":"c_1a"}]`))
	f.Add([]byte(`[{"type":"welcome","text":"a\u00e9\"","peers":[{"sel":[{"anchor":1,"head":1}]}]}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := ParseFrame(b, nil, nil)
		if err == nil && !json.Valid(b) {
			// The scanner may be more lenient than JSON for values it skips,
			// but it must never accept a frame without a structure.
			if len(msgs) == 0 && len(b) > 0 && b[0] != '[' {
				t.Errorf("accepted %q", b)
			}
		}
	})
}

func TestParseSel(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{`[{"anchor":1,"head":2}]`, `[{"anchor":1,"head":2}]`, true},
		{` [ {"head" : 5 , "anchor":3, "x":[1]} , {"anchor":0,"head":0} ] `, `[{"anchor":3,"head":5},{"anchor":0,"head":0}]`, true},
		{`[]`, `[]`, true},
		{`null`, `null`, true},
		{`[{"anchor":"1"}]`, ``, false},
		{`[1]`, ``, false},
		{`[{"anchor":1}`, ``, false},
		{`{}`, ``, false},
	} {
		sel, err := ParseSel([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("ParseSel(%s): err %v", tt.in, err)
			continue
		}
		if got, _ := json.Marshal(sel); tt.ok && string(got) != tt.want {
			t.Errorf("ParseSel(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseFrameLean(t *testing.T) {
	frame := []byte(`[{"type":"op","rev":-0,"op":[1,"x"],"client":"c_1a","sel":[{"anchor":2,"head":2}]},{"type":"ack","seq":9223372036854775807,"rev":3}]`)
	msgs, err := ParseFrameLean(frame, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Client != "" || string(msgs[0].ClientRaw) != `"c_1a"` || string(msgs[0].Op) != `[1,"x"]` || msgs[1].Seq != 1<<63-1 || msgs[1].Rev != 3 {
		t.Fatalf("lean parse: %+v", msgs)
	}
}

// BenchmarkParseFrameLean parses a frame of 50 ops as a busy note's server
// sends them (what the load tool's bots read).
func BenchmarkParseFrameLean(b *testing.B) {
	var sb strings.Builder
	sb.WriteByte('[')
	for i := range 50 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"type":"op","rev":%d,"op":[%d,"x",%d],"client":"c_Ab%dCdEf","sel":[{"anchor":%d,"head":%d}]}`, 100000+i, 1000+7*i, 90000-7*i, i, 1001+7*i, 1001+7*i)
	}
	sb.WriteByte(']')
	frame := []byte(sb.String())
	var msgs []Msg
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		var err error
		if msgs, err = ParseFrameLean(frame, msgs[:0]); err != nil || len(msgs) != 50 {
			b.Fatal(err)
		}
	}
}

// TestExportedRoundTrip: the exported message and a welcome's export, as
// the server encodes them, parse back to the same export; a welcome
// without one has none.
func TestExportedRoundTrip(t *testing.T) {
	e := Export{By: "Ana \"A\" Ló", Commit: "0123456789abcdef0123456789abcdef01234567", Time: time.Date(2026, 12, 4, 14, 5, 0, 0, time.UTC), Rev: 42}
	text := "x"
	frame := "[" + string(EncodeExported(e)) + "," + string(EncodeWelcome(Welcome{Client: "c_1", Text: &text, Export: &e})) + "," +
		string(EncodeWelcome(Welcome{Client: "c_2", Text: &text})) + "]"
	msgs, err := ParseFrame([]byte(frame), nil, nil)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("ParseFrame(%s) = %+v, %v", frame, msgs, err)
	}
	if msgs[0].Type != "exported" || msgs[1].Type != "welcome" {
		t.Fatalf("types %q, %q", msgs[0].Type, msgs[1].Type)
	}
	for _, m := range msgs[:2] {
		got, err := ParseExport(m.Export)
		if err != nil || got != e {
			t.Errorf("%s export = %+v, %v; want %+v", m.Type, got, err, e)
		}
	}
	if msgs[2].Export != nil {
		t.Errorf("a welcome without an export has %s", msgs[2].Export)
	}
	if want := `{"type":"exported","export":{"by":"Ana \"A\" Ló","commit":"0123456789abcdef0123456789abcdef01234567","time":"2026-12-04T14:05:00Z","rev":42}}`; string(EncodeExported(e)) != want {
		t.Errorf("EncodeExported = %s\nwant %s", EncodeExported(e), want)
	}
}
