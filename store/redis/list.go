package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
)

// listBatch is how many index entries QueryNotes reads per round trip
// after the first (which reads one page's worth).
const listBatch = 200

// QueryNotes returns one page of the note list by walking notes:byupdated
// from the highest score down, after q.After, reading at most
// scribe.MaxNoteScan notes' metadata. Equal scores are ordered by id,
// descending, as ZREVRANGEBYSCORE returns them. The cursor is
// "<score>:<id>" of the last entry examined.
func (s *Store) QueryNotes(ctx context.Context, q scribe.NoteQuery) (scribe.NotePage, error) {
	if err := ctx.Err(); err != nil {
		return scribe.NotePage{}, err
	}
	if err := q.Validate(); err != nil {
		return scribe.NotePage{}, err
	}
	max, afterID := "+inf", ""
	var maxScore float64
	if q.After != "" {
		score, id, ok := strings.Cut(string(q.After), ":")
		f, err := strconv.ParseFloat(score, 64)
		if err != nil || !ok || !scribe.NoteID(id).Valid() {
			return scribe.NotePage{}, scribe.Errorf(scribe.EINVALID, "The list's cursor is not one this server made.")
		}
		max, maxScore, afterID = score, f, id
	}
	page := scribe.NotePage{Notes: []scribe.Note{}}
	var skip int64 // entries at the cursor's score, at or before it, to pass over
	for scanned := 0; scanned < scribe.MaxNoteScan; {
		count := int64(min(listBatch, scribe.MaxNoteScan-scanned))
		if scanned == 0 && skip == 0 && !narrow(q) {
			// Without a filter (bar the few archived notes) the first
			// round reads one page and one more entry (to tell whether a
			// next page exists): the common page costs its own notes, not
			// a whole batch. A filtered page reads whole batches, which
			// saves round trips.
			count = min(count, int64(q.Limit)+1)
		}
		entries, err := s.client.ZRevRangeByScoreWithScores(ctx, s.byUpdatedKey(), &goredis.ZRangeBy{
			Max: max, Min: "-inf", Offset: skip, Count: count,
		}).Result()
		if err != nil {
			return scribe.NotePage{}, s.wrap(ctx, "query notes", err)
		}
		// Entries at the cursor's score that are at or before it come first.
		fresh := entries
		for len(fresh) > 0 && afterID != "" && fresh[0].Score == maxScore && fresh[0].Member.(string) >= afterID {
			fresh = fresh[1:]
		}
		if len(fresh) == 0 {
			if int64(len(entries)) < count {
				return page, nil
			}
			skip += int64(len(entries))
			continue
		}
		ids := make([]scribe.NoteID, len(fresh))
		for i, e := range fresh {
			ids[i] = scribe.NoteID(e.Member.(string))
		}
		notes, err := s.notesMeta(ctx, ids)
		if err != nil {
			return scribe.NotePage{}, err
		}
		more := int64(len(entries)) == count
		for i, id := range ids {
			scanned++
			if n, ok := notes[id]; ok && q.Match(n) {
				page.Notes = append(page.Notes, n)
			}
			max = strconv.FormatFloat(fresh[i].Score, 'g', -1, 64)
			maxScore, afterID = fresh[i].Score, string(id)
			if len(page.Notes) == q.Limit || scanned == scribe.MaxNoteScan {
				if i < len(ids)-1 || more {
					page.Next = scribe.NoteCursor(max + ":" + afterID)
				}
				return page, nil
			}
		}
		if !more {
			return page, nil
		}
		skip = 0
	}
	return page, nil
}

// narrow reports whether q filters out more than the few archived notes.
func narrow(q scribe.NoteQuery) bool {
	return q.Template != "" || q.Series != "" || strings.TrimSpace(q.Person) != "" || !q.From.IsZero() || !q.To.IsZero() || q.Archived
}

// notesMeta reads the metadata of ids in one round trip; a note that is
// indexed but no longer stored is left out.
func (s *Store) notesMeta(ctx context.Context, ids []scribe.NoteID) (map[scribe.NoteID]scribe.Note, error) {
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	if _, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			if !id.Valid() {
				return corrupt("note index", "", errors.New("a member is not a note id"))
			}
			cmds[i] = p.HGetAll(ctx, s.noteKey(id, "meta"))
		}
		return nil
	}); err != nil {
		return nil, s.wrap(ctx, "query notes", err)
	}
	out := make(map[scribe.NoteID]scribe.Note, len(ids))
	for i, id := range ids {
		if m := cmds[i].Val(); len(m) > 0 {
			md, err := decodeMeta(id, m)
			if err != nil {
				return nil, err
			}
			out[id] = md.note
		}
	}
	return out, nil
}

// deleteTries bounds how often DeleteNote retries when a new session
// commits to the note while it deletes.
const deleteTries = 5

// DeleteNote deletes the note's share tokens, then all of the note's keys
// in one script, then its entry in notes:byupdated, then publishes a feed
// event.
func (s *Store) DeleteNote(ctx context.Context, id scribe.NoteID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !id.Valid() {
		return notFound()
	}
	if _, err := s.GetNote(ctx, id); err != nil {
		return err
	}
	tokens, err := s.client.ZRange(ctx, s.noteKey(id, "shares"), 0, -1).Result()
	if err != nil {
		return s.wrap(ctx, "delete note", err)
	}
	for _, t := range tokens {
		// One DEL per token: each share key has its own slot.
		if err := s.client.Del(ctx, s.shareKey(scribe.Token(t))).Err(); err != nil {
			return s.wrap(ctx, "delete note", err)
		}
	}
	for try := 1; ; try++ {
		sessions, err := s.client.HKeys(ctx, s.noteKey(id, "sessions")).Result()
		if err != nil {
			return s.wrap(ctx, "delete note", err)
		}
		keys := []string{s.noteKey(id, "meta"), s.noteKey(id, "sessions")}
		for _, part := range []string{"snap", "log", "cold", "dedup", "hist", "histrevs", "marks", "shares", "authors"} {
			keys = append(keys, s.noteKey(id, part))
		}
		for _, session := range sessions {
			keys = append(keys, s.noteKey(id, "seqrevs:"+session))
		}
		err = deleteScript.Run(ctx, s.client, keys, len(sessions)).Err()
		if err == nil {
			break
		}
		// The note was there a moment ago (GetNote above): ENOTFOUND now
		// means it is deleted, by a concurrent DeleteNote or by this
		// call's own first run, which go-redis sends again when its
		// answer was read late (MaxRetries). Either way the rest (its
		// index entry, the feed event) is still to do.
		if strings.HasPrefix(err.Error(), "ENOTFOUND") {
			break
		}
		if !strings.HasPrefix(err.Error(), "ERETRY") || try == deleteTries {
			return s.wrap(ctx, "delete note", err)
		}
	}
	if err := s.client.ZRem(ctx, s.byUpdatedKey(), string(id)).Err(); err != nil {
		return s.wrap(ctx, "delete note", err)
	}
	s.publishChange(ctx, id, 0)
	return nil
}
