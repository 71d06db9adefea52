package markdown

import (
	"bytes"
	"testing"
)

// BenchmarkPathological renders issue 12's inputs with the bounded
// Renderer (a fresh one each time, so nothing is cached): the pre-scan
// refuses them and the fallback is written in linear time.
func BenchmarkPathological(b *testing.B) {
	for _, tc := range pathological {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				_, _ = NewRenderer(Options{}).Render(tc.src)
			}
		})
	}
}

// BenchmarkPathologicalUnbounded is goldmark alone on the same inputs: the
// "before". It takes minutes; run it with -benchtime 1x.
func BenchmarkPathologicalUnbounded(b *testing.B) {
	for _, tc := range pathological {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var buf bytes.Buffer
				_ = md.Convert([]byte(tc.src), &buf)
				b.ReportMetric(float64(buf.Len()), "html-bytes")
			}
		})
	}
}
