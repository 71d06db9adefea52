package protocol

import (
	"encoding/json"
	"reflect"
	"testing"
)

// decodeSlow is decodeClientMsg without the fast path.
func decodeSlow(data []byte) (OpMsg, error) {
	var m ClientMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return OpMsg{}, err
	}
	return m.OpMsg()
}

func TestDecodeOpFast(t *testing.T) {
	for _, tc := range []struct {
		frame string
		fast  bool
	}{
		{`{"type":"op","rev":12,"seq":4,"op":[3,"x",20],"sel":[{"anchor":4,"head":4}]}`, true},
		{`{"type":"op","seq":4,"rev":0,"op":[1,"😀\"]",-2,"\ud83d\ude00"]}`, true},
		{`{"type":"op","rev":1,"seq":1,"op":[1],"sel":[]}`, true},
		{`{"type":"op","rev":1,"seq":1,"op":[1],"sel":[{"head":2,"anchor":1},{"anchor":0,"head":0}]}`, true},
		{`{"type":"op", "rev":1,"seq":1,"op":[1]}`, false},          // a space
		{`{"type":"op","rev":1,"seq":1,"op":[1],"extra":1}`, false}, // an unknown key
		{`{"type":"op","rev":1,"rev":2,"seq":1,"op":[1]}`, false},   // a repeated key
		{`{"type":"op","rev":1.0,"seq":1,"op":[1]}`, false},         // not an integer
		{`{"type":"op","rev":01,"seq":1,"op":[1]}`, false},          // a leading zero
		{`{"type":"op","rev":1,"seq":0,"op":[1]}`, false},           // seq 0
		{`{"type":"op","rev":1,"op":[1]}`, false},                   // no seq
		{`{"type":"op","rev":1,"seq":1,"op":[1,"\ud83d"]}`, false},  // a lone surrogate
		{`{"type":"op","rev":1,"seq":1,"op":[1],"sel":[{"anchor":-1,"head":0}]}`, false},
		{`{"type":"op","rev":1,"seq":1,"op":[1],"sel":null}`, false},
		{`{"type":"op","rev":1,"seq":1,"op":[1]}x`, false},
		{`{"type":"presence","rev":1,"sel":[]}`, false},
	} {
		m, ok := decodeOpFast([]byte(tc.frame))
		if ok != tc.fast {
			t.Errorf("decodeOpFast(%s) ok = %v, want %v", tc.frame, ok, tc.fast)
			continue
		}
		if !ok {
			continue
		}
		want, err := decodeSlow([]byte(tc.frame))
		if err != nil {
			t.Errorf("%s: fast path accepted what encoding/json refuses: %v", tc.frame, err)
			continue
		}
		if got := *m.op; !sameOpMsg(got, want) || *m.Seq != want.Seq || *m.Rev != int64(want.Rev) {
			t.Errorf("%s: fast %+v, slow %+v", tc.frame, got, want)
		}
	}
}

func sameOpMsg(a, b OpMsg) bool {
	return a.Rev == b.Rev && a.Seq == b.Seq && a.Op.Equal(b.Op) && reflect.DeepEqual(a.Sel, b.Sel)
}

// Whenever the fast path accepts a frame, encoding/json accepts it too and
// decodes the same message.
func FuzzOpFast(f *testing.F) {
	for _, s := range []string{
		`{"type":"op","rev":12,"seq":4,"op":[3,"x",20],"sel":[{"anchor":4,"head":4}]}`,
		`{"type":"op","seq":4,"rev":0,"op":[1,"😀\"]",-2,"\ud83d\ude00"]}`,
		`{"type":"op","rev":1,"seq":1,"op":[1],"sel":[{"head":2,"anchor":1},{"anchor":0,"head":0}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		m, ok := decodeOpFast(data)
		if !ok {
			return
		}
		want, err := decodeSlow(data)
		if err != nil {
			t.Fatalf("%q: fast path accepted what encoding/json refuses: %v", data, err)
		}
		if !sameOpMsg(*m.op, want) {
			t.Fatalf("%q: fast %+v, slow %+v", data, *m.op, want)
		}
	})
}
