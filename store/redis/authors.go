package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/authorship"
)

// Authorship (scribe.AuthorshipStore). One more key per note, in its slot:
//
//	P note:{id}:authors  hash: rev -> who wrote the text at rev (authorship.Encode)
//
// beside every snapshot, the latest and the history ones: the snapshot
// worker computes it (the authorship of the snapshot being replaced plus
// the changes since, off the append's path) and lua/histsnap.lua writes it
// with the snapshot, keeps it when the snapshot moves to hist and deletes
// it when the snapshot is dropped. Revision 0 needs none (its text is
// nobody's). So AuthorsAt costs what TextAt costs, in one round trip
// (lua/authorsat.lua). A note whose snapshots predate authorship replays
// from revision 0 until its next snapshot.

var (
	//go:embed lua/authorsat.lua
	authorsAtLua    string
	authorsAtScript = goredis.NewScript(coldLua + authorsAtLua)
)

// AuthorsAt returns who wrote the note's text at rev; see
// scribe.AuthorshipStore.
func (s *Store) AuthorsAt(ctx context.Context, id scribe.NoteID, rev scribe.Revision) (scribe.Authorship, error) {
	if err := ctx.Err(); err != nil {
		return scribe.Authorship{}, err
	}
	if !id.Valid() {
		return scribe.Authorship{}, notFound()
	}
	if rev < 0 {
		return scribe.Authorship{}, scribe.Errorf(scribe.EINVALID, "Revision %d is not a revision.", rev)
	}
	keys := []string{s.noteKey(id, "meta"), s.noteKey(id, "snap"), s.noteKey(id, "hist"), s.noteKey(id, "authors"), s.noteKey(id, "log"), s.noteKey(id, "cold")}
	res, err := authorsAtScript.Run(ctx, s.client, keys, int64(rev)).Slice()
	if err != nil {
		return scribe.Authorship{}, s.wrapAt(ctx, "authors at revision", id, rev, err)
	}
	if len(res) != 4 {
		return scribe.Authorship{}, fmt.Errorf("authors at revision: script returned %d values", len(res))
	}
	if res[0] == nil {
		return scribe.Authorship{}, scribe.Errorf(scribe.ENOTFOUND, "Revision %d is older than the history kept for this note.", rev)
	}
	baseStr, _ := res[0].(string)
	base, err := strconv.ParseInt(baseStr, 10, 64)
	entries, ok := res[3].([]any)
	if err != nil || base < 0 || base > int64(rev) || !ok {
		return scribe.Authorship{}, corrupt("authorship", id, fmt.Errorf("base %q, %d changes to revision %d", baseStr, len(entries), rev))
	}
	var a scribe.Authorship
	switch v := res[1].(type) {
	case string:
		if a, err = authorship.Decode([]byte(v)); err != nil || int64(a.Rev) != base {
			return a, corrupt("authorship", id, errors.Join(err, fmt.Errorf("at revision %d", base)))
		}
	default:
		text, ok := res[2].(string)
		if !ok {
			return a, corrupt("snapshot", id, errors.New("revision 0 is missing"))
		}
		a = authorship.Start(0, text)
	}
	changes, err := chainTo(id, entries, scribe.Revision(base), rev)
	if err != nil {
		return a, err
	}
	if err := authorship.Replay(&a, changes); err != nil {
		return a, corrupt("log", id, err)
	}
	return a, nil
}

// snapshotAuthors is who wrote the text at rev, encoded for histsnap.lua,
// or "" when it cannot be known (the note's history is gone, or the store
// failed: the snapshot is written without, and authorship is then read
// from an older one).
func (s *Store) snapshotAuthors(ctx context.Context, id scribe.NoteID, rev scribe.Revision) string {
	a, err := s.AuthorsAt(ctx, id, rev)
	if err != nil {
		if scribe.ErrorCode(err) != scribe.ENOTFOUND && ctx.Err() == nil {
			s.log.Warn("snapshot authorship", "note", noteRef(id), "err", err)
		}
		return ""
	}
	return string(authorship.Encode(a))
}
