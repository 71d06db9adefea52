package redis

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
)

// History (scribe.HistoryStore). Three more keys per note, in its slot:
//
//	P note:{id}:hist      hash: rev -> text at rev (history snapshots)
//	P note:{id}:histrevs  sorted set: the revisions in hist, scored by revision
//	P note:{id}:marks     sorted set: named checkpoints (JSON), scored by revision
//
// History snapshots cost no extra text: when the snapshot worker replaces
// the note's latest snapshot (every K changes or so), the one it replaces
// moves to hist instead of being overwritten, if it is the note's first
// (revision 0) or at least HistoryEvery revisions after the newest one in
// hist (lua/histsnap.lua). So TextAt replays at most about HistoryEvery +
// 2K changes, read in one round trip (lua/textat.lua).

var (
	//go:embed lua/histsnap.lua
	histSnapLua string
	//go:embed lua/textat.lua
	textAtLua string
	//go:embed lua/checkpoint.lua
	checkpointLua string

	histSnapshotScript = goredis.NewScript(histSnapLua)
	textAtScript       = goredis.NewScript(coldLua + textAtLua)
	checkpointScript   = goredis.NewScript(coldLua + checkpointLua)
)

// TextAt returns the note's text at rev; see scribe.HistoryStore.
func (s *Store) TextAt(ctx context.Context, id scribe.NoteID, rev scribe.Revision) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if !id.Valid() {
		return "", notFound()
	}
	if rev < 0 {
		return "", scribe.Errorf(scribe.EINVALID, "Revision %d is not a revision.", rev)
	}
	keys := []string{s.noteKey(id, "meta"), s.noteKey(id, "snap"), s.noteKey(id, "hist"), s.noteKey(id, "histrevs"), s.noteKey(id, "log"), s.noteKey(id, "cold")}
	res, err := textAtScript.Run(ctx, s.client, keys, int64(rev)).Slice()
	if err != nil {
		return "", s.wrapAt(ctx, "text at revision", id, rev, err)
	}
	if len(res) != 3 {
		return "", fmt.Errorf("text at revision: script returned %d values", len(res))
	}
	if res[0] == nil {
		return "", scribe.Errorf(scribe.ENOTFOUND, "Revision %d is older than the history kept for this note.", rev)
	}
	baseStr, ok1 := res[0].(string)
	text, ok2 := res[1].(string)
	entries, ok3 := res[2].([]any)
	if !ok1 || !ok2 || !ok3 {
		return "", corrupt("history snapshot", id, errors.New("missing"))
	}
	base, err := strconv.ParseInt(baseStr, 10, 64)
	if err != nil || base < 0 || base > int64(rev) {
		return "", corrupt("history snapshot", id, fmt.Errorf("bad revision %q", baseStr))
	}
	changes, err := chainTo(id, entries, scribe.Revision(base), rev)
	if err != nil {
		return "", err
	}
	return replay(id, text, changes)
}

// AddCheckpoint records a named checkpoint; see scribe.HistoryStore.
func (s *Store) AddCheckpoint(ctx context.Context, id scribe.NoteID, c scribe.Checkpoint) (scribe.Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return c, err
	}
	if !id.Valid() {
		return c, notFound()
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	c.Time = c.Time.UTC().Round(0)
	v, err := json.Marshal(c)
	if err != nil {
		return c, fmt.Errorf("encode checkpoint: %w", err)
	}
	keys := []string{s.noteKey(id, "meta"), s.noteKey(id, "marks"), s.noteKey(id, "cold")}
	if err := checkpointScript.Run(ctx, s.client, keys, int64(c.Rev), v).Err(); err != nil {
		return c, s.wrapAt(ctx, "add checkpoint", id, c.Rev, err)
	}
	return c, nil
}

// Checkpoints returns named checkpoints below before, newest first.
func (s *Store) Checkpoints(ctx context.Context, id scribe.NoteID, before scribe.Revision, limit int) ([]scribe.Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !id.Valid() {
		return nil, notFound()
	}
	if limit < 1 || limit > scribe.MaxCheckpointPage {
		return nil, scribe.Errorf(scribe.EINVALID, "A page of checkpoints has 1 to %d entries.", scribe.MaxCheckpointPage)
	}
	max := "+inf"
	if before > 0 {
		max = "(" + strconv.FormatInt(int64(before), 10)
	}
	pipe := s.client.Pipeline()
	exists := pipe.Exists(ctx, s.noteKey(id, "meta"))
	marks := pipe.ZRevRangeByScore(ctx, s.noteKey(id, "marks"), &goredis.ZRangeBy{Max: max, Min: "-inf", Count: int64(limit)})
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, s.wrap(ctx, "checkpoints", err)
	}
	if exists.Val() == 0 {
		return nil, notFound()
	}
	out := make([]scribe.Checkpoint, 0, len(marks.Val()))
	for _, m := range marks.Val() {
		var c scribe.Checkpoint
		if err := json.Unmarshal([]byte(m), &c); err != nil {
			return nil, corrupt("checkpoint", id, err)
		}
		out = append(out, c)
	}
	return out, nil
}
