package protocol

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
)

// seq and rev are capped at 2^53 − 1, the largest integer a JavaScript
// number holds exactly: a larger one is refused with EINVALID, by the fast
// op decoder and by encoding/json alike (issue 12, item 7).
func TestSeqRevCap(t *testing.T) {
	for _, tc := range []struct {
		frame string
		ok    bool
	}{
		{fmt.Sprintf(`{"type":"op","rev":%d,"seq":%d,"op":[1]}`, MaxRev, MaxSeq), true},
		{fmt.Sprintf(`{"type":"op","rev":0,"seq":%d,"op":[1]}`, MaxSeq+1), false},
		{`{"type":"op","rev":0,"seq":18446744073709551615,"op":[1]}`, false},
		{fmt.Sprintf(`{"type":"op","rev":%d,"seq":1,"op":[1]}`, MaxRev+1), false},
		{fmt.Sprintf(`{ "type": "op", "rev": 0, "seq": %d, "op": [1] }`, MaxSeq+1), false}, // encoding/json's path
		{fmt.Sprintf(`{ "type": "op", "rev": %d, "seq": 1, "op": [1] }`, MaxRev+1), false},
		{fmt.Sprintf(`{"type":"presence","rev":%d,"sel":[]}`, MaxRev+1), false},
		{fmt.Sprintf(`{"type":"hello","protocol":1,"session":"abcdefgh","rev":%d}`, MaxRev+1), false},
		{fmt.Sprintf(`{"type":"hello","protocol":1,"session":"abcdefgh","rev":%d}`, MaxRev), true},
	} {
		m, err := DecodeClientMsg([]byte(tc.frame))
		if err == nil {
			switch m.Type {
			case "op":
				_, err = m.OpMsg()
			case "presence":
				_, err = m.Presence()
			case "hello":
				_, err = m.Hello()
			}
		}
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.frame, err, tc.ok)
			continue
		}
		if err != nil && (scribe.ErrorCode(err) != scribe.EINVALID || !strings.Contains(err.Error(), "9007199254740991")) {
			t.Errorf("%s: %v, want EINVALID naming the cap", tc.frame, err)
		}
	}
}
