package export

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// benchRepo returns an Exporter whose repository already holds n exported
// notes, as a team's repository does after a few years of meetings.
func benchRepo(b *testing.B, n int) *Exporter {
	b.Helper()
	e, err := New(Config{RepoPath: filepath.Join(b.TempDir(), "repo")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	day := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		s := Snapshot{
			ID:        scribe.NoteID(fmt.Sprintf("existing%014d", i)),
			Text:      fmt.Sprintf("# Standup %d\n\n## Decisions\n- Decision %d\n\n- [ ] Task @ada due 2026-12-01\n", i, i) + weeklyText,
			CreatedAt: day.Add(time.Duration(i) * 24 * time.Hour),
			Editors:   []Person{{Name: "Ada", Email: "ada@example.com"}, {Name: "Bob"}},
		}
		if _, err := e.Write(context.Background(), s, scribe.ExportRequest{Author: "Ada"}); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

// BenchmarkExport measures one export into a repository that holds 0 or
// 500 earlier exports: a new note (scan, blob, trees, commit, worktree),
// an unchanged re-export (scan and compare only), and the first export
// after a restart (the scan reads every file's front matter).
func BenchmarkExport(b *testing.B) {
	for _, n := range []int{0, 500} {
		e := benchRepo(b, n)
		ctx := context.Background()
		req := scribe.ExportRequest{Author: "Grace"}
		b.Run(fmt.Sprintf("new/files=%d", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				s := weeklySnapshot(nil)
				s.ID = scribe.NoteID(fmt.Sprintf("bench%d-%015d", n%10, i))
				if _, err := e.Write(ctx, s, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("unchanged/files=%d", n), func(b *testing.B) {
			s := weeklySnapshot(nil)
			if _, err := e.Write(ctx, s, req); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				res, err := e.Write(ctx, s, req)
				if err != nil || !res.Unchanged {
					b.Fatal(res, err)
				}
			}
		})
		b.Run(fmt.Sprintf("after-restart/files=%d", n), func(b *testing.B) {
			s := weeklySnapshot(nil)
			for b.Loop() {
				fresh, err := New(e.cfg, nil)
				if err != nil {
					b.Fatal(err)
				}
				res, err := fresh.Write(ctx, s, req)
				if err != nil || !res.Unchanged {
					b.Fatal(res, err)
				}
			}
		})
	}
}
