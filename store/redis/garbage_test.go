package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
)

// TestGarbageNeverPanics overwrites each of a note's keys with garbage,
// of the right Redis type and of a wrong one, and calls every method on
// the note. Nothing may panic (a panic in a method or in the background
// snapshot worker fails the test binary), and every error must carry a
// scribe code: stored bytes never crash the server.
func TestGarbageNeverPanics(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b, Options{SnapshotEvery: 2})
		rng := rand.New(rand.NewPCG(1, 2))
		values := []string{
			"", "x", "-1", "99999999999999999999999", "1e400", "NaN", "{", "[]", `{"r":1}`,
			`{"r":1,"t":1,"o":[1],"s":"s","q":1}`, `{"r":2,"t":-5,"o":["\ud800"],"s":"","q":0}`,
			`{"n":"../../x","c":"now"}`, string([]byte{0xff, 0xfe, 0}),
		}
		for i := 0; i < 5; i++ {
			buf := make([]byte, rng.IntN(64))
			for j := range buf {
				buf[j] = byte(rng.UintN(256))
			}
			values = append(values, string(buf))
		}
		type breaker struct {
			name string
			fn   func(n scribe.Note, sh scribe.Share, v string) error
		}
		hashField := func(part, field string) breaker {
			return breaker{part + "." + field, func(n scribe.Note, _ scribe.Share, v string) error {
				return s.client.HSet(ctx, s.noteKey(n.ID, part), field, v).Err()
			}}
		}
		wrongType := func(key func(n scribe.Note, sh scribe.Share) string) func(n scribe.Note, sh scribe.Share, v string) error {
			return func(n scribe.Note, sh scribe.Share, v string) error {
				k := key(n, sh)
				// One transaction: the snapshot worker may write the key
				// between a DEL and an RPUSH.
				_, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
					p.Del(ctx, k)
					p.RPush(ctx, k, v) // a list where something else belongs
					return nil
				})
				return err
			}
		}
		breakers := []breaker{
			hashField("meta", "rev"), hashField("meta", "len"), hashField("meta", "created"),
			hashField("meta", "updated"), hashField("snap", "rev"), hashField("snap", "text"),
			hashField("sessions", "s"), hashField("dedup", "1:s"), hashField("meta", "logbase"),
			{"cold entry", func(n scribe.Note, _ scribe.Share, v string) error {
				// A compacted list that claims revision 1.
				if err := s.client.RPush(ctx, s.noteKey(n.ID, "cold"), v).Err(); err != nil {
					return err
				}
				return s.client.HSet(ctx, s.noteKey(n.ID, "meta"), "logbase", "1").Err()
			}},
			{"cold type", wrongType(func(n scribe.Note, _ scribe.Share) string { return s.noteKey(n.ID, "cold") })},
			{"seqrevs first seq", func(n scribe.Note, _ scribe.Share, v string) error {
				return s.client.LSet(ctx, s.noteKey(n.ID, "seqrevs:s"), 0, v).Err()
			}},
			{"seqrevs revision", func(n scribe.Note, _ scribe.Share, v string) error {
				return s.client.LSet(ctx, s.noteKey(n.ID, "seqrevs:s"), 1, v).Err()
			}},
			{"seqrevs type", wrongType(func(n scribe.Note, _ scribe.Share) string { return s.noteKey(n.ID, "seqrevs:s") })},
			{"seqrevs string", func(n scribe.Note, _ scribe.Share, v string) error {
				return s.client.Set(ctx, s.noteKey(n.ID, "seqrevs:s"), v, 0).Err()
			}},
			{"log entry", func(n scribe.Note, _ scribe.Share, v string) error {
				return s.client.LSet(ctx, s.noteKey(n.ID, "log"), 1, v).Err()
			}},
			{"log extra", func(n scribe.Note, _ scribe.Share, v string) error {
				return s.client.RPush(ctx, s.noteKey(n.ID, "log"), v).Err()
			}},
			{"share", func(_ scribe.Note, sh scribe.Share, v string) error {
				return s.client.Set(ctx, s.shareKey(sh.Token), v, 0).Err()
			}},
			{"shares set", func(n scribe.Note, _ scribe.Share, v string) error {
				return s.client.ZAdd(ctx, s.noteKey(n.ID, "shares"), goredisZ(v)).Err()
			}},
			{"index", func(n scribe.Note, _ scribe.Share, v string) error {
				return s.client.ZAdd(ctx, s.byUpdatedKey(), goredisZ(v)).Err()
			}},
			{"meta type", wrongType(func(n scribe.Note, _ scribe.Share) string { return s.noteKey(n.ID, "meta") })},
			{"snap type", wrongType(func(n scribe.Note, _ scribe.Share) string { return s.noteKey(n.ID, "snap") })},
			{"dedup type", wrongType(func(n scribe.Note, _ scribe.Share) string { return s.noteKey(n.ID, "dedup") })},
			{"sessions type", wrongType(func(n scribe.Note, _ scribe.Share) string { return s.noteKey(n.ID, "sessions") })},
			{"shares type", wrongType(func(n scribe.Note, _ scribe.Share) string { return s.noteKey(n.ID, "shares") })},
			{"share type", wrongType(func(_ scribe.Note, sh scribe.Share) string { return s.shareKey(sh.Token) })},
		}
		for _, br := range breakers {
			for vi, v := range values {
				n := mustCreate(t, s, "ab")
				appendText(t, s, n.ID, 0, 2, "s", 3)
				sh, err := s.CreateShare(ctx, n.ID)
				if err != nil {
					t.Fatal(err)
				}
				if err := br.fn(n, sh, v); err != nil {
					t.Fatalf("%s: break: %v", br.name, err)
				}
				s.cache.clear() // forget the good text
				for _, call := range everyCall(s, n, sh) {
					// The note and the share exist: garbage may make a call
					// fail (EINTERNAL), never claim they do not. (A snapshot
					// garbage replaced took the history before it along: the
					// answer that it is not kept is true.)
					err := call.fn()
					var w wrongAnswer
					gone := strings.Contains(scribe.ErrorMessage(err), "older than the history kept")
					if errors.As(err, &w) || scribe.ErrorCode(err) == scribe.ENOTFOUND && call.name != "RevokeShare" && !gone {
						t.Errorf("%s=%q: %s: %v", br.name, values[vi], call.name, err)
					}
				}
			}
		}
	})
}

// wrongAnswer is a call that succeeded with a wrong result.
type wrongAnswer string

func (w wrongAnswer) Error() string { return string(w) }

type namedCall struct {
	name string
	fn   func() error
}

// everyCall returns a call of every Store method on the note and share.
func everyCall(s *Store, n scribe.Note, sh scribe.Share) []namedCall {
	ctx := context.Background()
	op := json.RawMessage(`[5,"z"]`)
	return []namedCall{
		{"GetNote", func() error { _, err := s.GetNote(ctx, n.ID); return err }},
		{"LoadNote", func() error { _, err := s.LoadNote(ctx, n.ID); return err }},
		{"ListNotes", func() error { _, err := s.ListNotes(ctx, 100); return err }},
		{"Append dup", func() error {
			revs, err := s.Append(ctx, n.ID, 3, []scribe.Change{{Op: op, Session: "s", Seq: 1}})
			if err == nil && revs[0] != 1 {
				return wrongAnswer(fmt.Sprintf("duplicate got revision %d, want 1", revs[0]))
			}
			return err
		}},
		{"Append", func() error {
			revs, err := s.Append(ctx, n.ID, 3, []scribe.Change{{Op: op, Session: "s", Seq: 4}})
			if err == nil && revs[0] != 4 {
				return wrongAnswer(fmt.Sprintf("appended as revision %d, want 4", revs[0]))
			}
			return err
		}},
		{"Changes", func() error { _, err := s.Changes(ctx, n.ID, 0, 10); return err }},
		{"LastSeq", func() error { _, _, err := s.LastSeq(ctx, n.ID, "s"); return err }},
		{"Publish", func() error { return s.Publish(ctx, n.ID, []byte("x")) }},
		{"Subscribe", func() error {
			sub, err := s.Subscribe(ctx, n.ID)
			if sub != nil {
				sub.Close()
			}
			return err
		}},
		{"ResolveShare", func() error { _, err := s.ResolveShare(ctx, sh.Token); return err }},
		{"ListShares", func() error { _, err := s.ListShares(ctx, n.ID); return err }},
		{"CreateShare", func() error { _, err := s.CreateShare(ctx, n.ID); return err }},
		{"RevokeShare", func() error { return s.RevokeShare(ctx, sh.Token) }},
		{"snapshot", func() error { return s.snapshot(ctx, n.ID) }},
		{"TextAt", func() error { _, err := s.TextAt(ctx, n.ID, 2); return err }},
		{"AuthorsAt", func() error { _, err := s.AuthorsAt(ctx, n.ID, 2); return err }},
		{"AddCheckpoint", func() error {
			_, err := s.AddCheckpoint(ctx, n.ID, scribe.Checkpoint{Rev: 1, Name: "x"})
			return err
		}},
		{"CompactStep", func() error {
			// Every change is cold a month on: the step reads the note.
			_, err := s.CompactStep(ctx, time.Now().Add(30*24*time.Hour), time.Minute, 100)
			return err
		}},
	}
}

func goredisZ(member string) goredis.Z { return goredis.Z{Score: 1, Member: fmt.Sprint(member)} }
