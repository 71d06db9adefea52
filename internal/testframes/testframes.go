// Package testframes builds server frames for benchmarks: the Go client's
// and the load tool's measure the same busy note, so they read the same
// frames.
package testframes

import (
	"fmt"
	"strings"
)

// OpFrames returns count frames of batch op messages each, for revisions 1
// onwards of a text of n UTF-16 units, as a typing crowd produces: each op
// inserts "x" at a position spread over the text and carries its author's
// cursor just after it (authors c_00, c_01, ... in each frame).
func OpFrames(count, batch, n int) [][]byte {
	frames := make([][]byte, count)
	rev := 0
	for f := range frames {
		var sb strings.Builder
		sb.WriteByte('[')
		for i := 0; i < batch; i++ {
			rev++
			pos := (rev * 7919) % n
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"type":"op","rev":%d,"op":[%d,"x",%d],"client":"c_%02d","sel":[{"anchor":%d,"head":%d}]}`, rev, pos, n-pos, i, pos+1, pos+1)
			n++
		}
		sb.WriteByte(']')
		frames[f] = []byte(sb.String())
	}
	return frames
}
