package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/store/redis/clustertest"
	"github.com/scribe-notes/scribe/store/storetest"
)

// These tests cover what is particular to the Redis store: the key layout
// and hash slots, the Lua scripts' checks, snapshots, corrupt data, several
// nodes sharing one Redis, URLs. The behaviour every Store shares is
// covered by store/storetest (conformance_test.go).

func op(t testing.TB, items ...any) json.RawMessage {
	t.Helper()
	o, err := ot.New(items...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := scribe.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

func mustCreate(t testing.TB, s *Store, text string) scribe.Note {
	t.Helper()
	n, err := s.CreateNote(context.Background(), scribe.NewNote{Title: "T", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// appendText appends k single-character inserts at the end of a note whose
// text has length n16 at revision rev, as session/seq 1..k.
func appendText(t testing.TB, s *Store, id scribe.NoteID, rev scribe.Revision, n16 int, session string, k int) {
	t.Helper()
	for i := 0; i < k; i++ {
		items := []any{}
		if n16 > 0 {
			items = append(items, n16)
		}
		items = append(items, string(rune('a'+i%26)))
		_, err := s.Append(context.Background(), id, rev, []scribe.Change{{Op: op(t, items...), Session: session, Seq: uint64(i + 1), Author: "Ada"}})
		if err != nil {
			t.Fatal(err)
		}
		rev++
		n16++
	}
}

func TestAppendLoadRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b, Options{SnapshotEvery: 3})
		n := mustCreate(t, s, "héllo 😀")
		// "héllo 😀" is 8 UTF-16 units.
		revs, err := s.Append(ctx, n.ID, 0, []scribe.Change{
			{Op: op(t, 8, "!"), Session: "s1", Seq: 1, Author: "Ada"},
			{Op: op(t, -1, 8), Session: "s1", Seq: 2, Author: "Ada"},
			{Op: op(t, 8, " ok"), Session: "s2", Seq: 1, Author: "Bob"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(revs) != "[1 2 3]" {
			t.Fatalf("revisions %v, want [1 2 3]", revs)
		}
		doc, err := s.LoadNote(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Text != "éllo 😀! ok" || doc.Revision != 3 {
			t.Fatalf("loaded %q at %d", doc.Text, doc.Revision)
		}
		cs, err := s.Changes(ctx, n.ID, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 || cs[0].Revision != 2 || cs[1].Author != "Bob" || cs[1].Session != "s2" || cs[1].Time.IsZero() {
			t.Fatalf("changes %+v", cs)
		}
		seq, rev, err := s.LastSeq(ctx, n.ID, "s1")
		if err != nil || seq != 2 || rev != 2 {
			t.Fatalf("LastSeq = %d, %d, %v; want 2, 2", seq, rev, err)
		}
	})
}

// TestAppendChecksLengths shows the script refuses an operation whose base
// length does not fit the stored text, and writes nothing of the batch.
func TestAppendChecksLengths(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b, Options{})
		n := mustCreate(t, s, "abc")
		_, err := s.Append(ctx, n.ID, 0, []scribe.Change{
			{Op: op(t, 3, "d"), Session: "s", Seq: 1},
			{Op: op(t, 3, "e"), Session: "s", Seq: 2}, // base 3, but the text is 4 long now
		})
		wantCode(t, err, scribe.EINVALID)
		for _, bad := range []string{`[1,2`, `"x"`, `[0]`, `[3,{}]`, ``} {
			_, err = s.Append(ctx, n.ID, 0, []scribe.Change{{Op: json.RawMessage(bad), Session: "s", Seq: 1}})
			wantCode(t, err, scribe.EINVALID)
		}
		got, err := s.GetNote(ctx, n.ID)
		if err != nil || got.Revision != 0 {
			t.Fatalf("after refused appends: %+v, %v", got, err)
		}
		seq, _, _ := s.LastSeq(ctx, n.ID, "s")
		if seq != 0 {
			t.Fatalf("a refused append recorded seq %d", seq)
		}
	})
}

// TestSnapshots shows snapshots are written every K operations and that
// LoadNote reads only the snapshot and the changes after it: corrupting a
// log entry before the snapshot does not affect it, while Changes over
// that entry reports EINTERNAL.
func TestSnapshots(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		const k = 5
		s := openStore(t, b, Options{SnapshotEvery: k})
		n := mustCreate(t, s, "")
		appendText(t, s, n.ID, 0, 0, "s", 12)
		// The worker snapshots the head it finds, at least revision 10.
		if snapRev := waitSnapshot(t, s, n.ID, 10); snapRev < 10 || snapRev > 12 {
			t.Fatalf("snapshot at %d, want 10..12", snapRev)
		}
		if err := s.client.LSet(ctx, s.noteKey(n.ID, "log"), 1, "garbage").Err(); err != nil {
			t.Fatal(err)
		}
		doc, err := s.LoadNote(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Text != "abcdefghijkl" || doc.Revision != 12 {
			t.Fatalf("loaded %q at %d", doc.Text, doc.Revision)
		}
		_, err = s.Changes(ctx, n.ID, 0, 3)
		wantCode(t, err, scribe.EINTERNAL)
	})
}

// waitSnapshot waits until the note's snapshot reaches at least rev and
// returns its revision. The worker runs in the background; it is polled,
// not timed.
func waitSnapshot(t testing.TB, s *Store, id scribe.NoteID, rev int64) int64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := s.client.HGet(context.Background(), s.noteKey(id, "snap"), "rev").Int64()
		if err != nil {
			t.Fatal(err)
		}
		if got >= rev || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLoadRepairsLaggingSnapshot shows LoadNote writes a snapshot itself when
// the stored one lags by K or more (here: no worker ever ran), and Append
// does when the lag reaches 2K.
func TestLoadRepairsLaggingSnapshot(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		prefix := randomPrefix()
		t.Cleanup(func() { deletePrefix(t, b.url(), prefix) })
		// A store that is never opened has no snapshot worker.
		s, err := New(b.url(), Options{Prefix: prefix, SnapshotEvery: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		n := mustCreate(t, s, "x")
		appendText(t, s, n.ID, 0, 1, "s", 7) // a lag of 7: below 2K
		if got := waitSnapshot(t, s, n.ID, 0); got != 0 {
			t.Fatalf("snapshot at %d before any load", got)
		}
		doc, err := s.LoadNote(ctx, n.ID)
		if err != nil || doc.Text != "xabcdefg" {
			t.Fatalf("loaded %q, %v", doc.Text, err)
		}
		if s.LastLoadReplayed() != 7 {
			t.Fatalf("load replayed %d changes, want 7", s.LastLoadReplayed())
		}
		if got := waitSnapshot(t, s, n.ID, 7); got != 7 {
			t.Fatalf("snapshot at %d after load, want 7", got)
		}
		if _, err := s.LoadNote(ctx, n.ID); err != nil || s.LastLoadReplayed() != 0 {
			t.Fatalf("second load replayed %d, %v; want 0", s.LastLoadReplayed(), err)
		}
		// Eight more changes in one batch: a lag of 8 = 2K, so Append
		// snapshots before it returns.
		var batch []scribe.Change
		for i := range 8 {
			batch = append(batch, scribe.Change{Op: op(t, 8+i, "z"), Session: "t", Seq: uint64(i + 1)})
		}
		if _, err := s.Append(ctx, n.ID, 7, batch); err != nil {
			t.Fatal(err)
		}
		if got := waitSnapshot(t, s, n.ID, 0); got != 15 {
			t.Fatalf("snapshot at %d after a batch of 2K, want 15", got)
		}
	})
}

// TestSnapshotIntervalGrowsWithText shows a large note is snapshotted every
// n/256 changes rather than every K: with K = 4 and 25,600 units the
// interval is 100, so a load replays changes K could never leave, and
// still no more than 2 * 100.
func TestSnapshotIntervalGrowsWithText(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		prefix := randomPrefix()
		t.Cleanup(func() { deletePrefix(t, b.url(), prefix) })
		s, err := New(b.url(), Options{Prefix: prefix, SnapshotEvery: 4}) // no worker: only the synchronous rules
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := s.interval(1000); got != 4 {
			t.Fatalf("interval of a small text %d, want K", got)
		}
		n := mustCreate(t, s, strings.Repeat("x", 100*unitsPerSnapshotOp))
		appendText(t, s, n.ID, 0, 100*unitsPerSnapshotOp, "s", 150)
		if got := waitSnapshot(t, s, n.ID, 0); got != 0 {
			t.Fatalf("snapshot at %d after 150 changes on a note with interval 100", got)
		}
		if _, err := s.LoadNote(ctx, n.ID); err != nil || s.LastLoadReplayed() != 150 {
			t.Fatalf("load replayed %d, %v; want 150", s.LastLoadReplayed(), err)
		}
		// The load found the snapshot lagging by more than the interval
		// and wrote one.
		if got := waitSnapshot(t, s, n.ID, 150); got != 150 {
			t.Fatalf("snapshot at %d after the load, want 150", got)
		}
	})
}

// bulkCallTimeout bounds the Redis commands of a test's store call that
// carries thousands of changes. The production bound, CallTimeout, covers
// encoding the arguments and decoding the answer: for 2500 changes that
// is ~80 ms without the race detector and up to ~1 s with it on a loaded
// CI machine, too close to 1.5 s. It is a failure bound, not a timing
// assertion.
const bulkCallTimeout = 20 * CallTimeout

// openBulkStore is openStore for a test whose calls carry thousands of
// changes (this one, and the conformance suite's long histories): its
// calls are bounded by bulkCallTimeout, and so are its socket reads and
// writes (bulkURL; with ReadTimeout, 1 s, a loaded machine saw go-redis
// time out reading the answer to a committed append and run the script
// again, which then reported ECONFLICT).
func openBulkStore(tb testing.TB, b backend, opts Options) *Store {
	tb.Helper()
	if opts.Prefix == "" {
		opts.Prefix = randomPrefix()
	}
	prefix := opts.Prefix
	tb.Cleanup(func() { deletePrefix(tb, b.url(), prefix) })
	opts.CallTimeout = bulkCallTimeout
	return openStoreAt(tb, bulkURL(b.url()), opts)
}

// bulkURL is url with read_timeout and write_timeout of bulkCallTimeout.
func bulkURL(url string) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "read_timeout=" + bulkCallTimeout.String() + "&write_timeout=" + bulkCallTimeout.String()
}

// TestAppendLargeBatch commits a batch larger than the script's RPUSH chunk
// and reads every change back in order.
func TestAppendLargeBatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openBulkStore(t, b, Options{})
		n := mustCreate(t, s, "")
		var batch []scribe.Change
		for i := range 2500 {
			o := op(t, "a")
			if i > 0 {
				o = op(t, i, "a")
			}
			batch = append(batch, scribe.Change{Op: o, Session: "big", Seq: uint64(i + 1)})
		}
		revs, err := s.Append(ctx, n.ID, 0, batch)
		if err != nil || len(revs) != 2500 || revs[2499] != 2500 {
			t.Fatalf("append: %v, %d revisions", err, len(revs))
		}
		cs, err := s.Changes(ctx, n.ID, 0, 2500)
		if err != nil || len(cs) != 2500 {
			t.Fatalf("changes: %v, %d", err, len(cs))
		}
		for i, c := range cs {
			if c.Revision != scribe.Revision(i+1) || c.Seq != uint64(i+1) {
				t.Fatalf("change %d: revision %d seq %d", i, c.Revision, c.Seq)
			}
		}
		if doc, err := s.LoadNote(ctx, n.ID); err != nil || len(doc.Text) != 2500 {
			t.Fatalf("load: %v, %d characters", err, len(doc.Text))
		}
	})
}

// TestSnapshotNeverMovesBack shows the compare in histsnap.lua: an older
// snapshot (a slow node) never replaces a newer one.
func TestSnapshotNeverMovesBack(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b, Options{SnapshotEvery: 1000})
		n := mustCreate(t, s, "")
		appendText(t, s, n.ID, 0, 0, "s", 3)
		if err := s.writeSnapshot(ctx, n.ID, 3, "abc"); err != nil {
			t.Fatal(err)
		}
		if err := s.writeSnapshot(ctx, n.ID, 2, "ab"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.writeSnapshot(ctx, n.ID, 4, "abcd"), scribe.EINVALID)
		if got := waitSnapshot(t, s, n.ID, 0); got != 3 {
			t.Fatalf("snapshot at %d, want 3", got)
		}
	})
}

// TestCorruptData shows stored bytes that cannot be decoded give EINTERNAL,
// never a panic or a wrong answer.
func TestCorruptData(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b, Options{SnapshotEvery: 1000})
		cases := []struct {
			name    string
			breakIt func(n scribe.Note) error
			check   func(n scribe.Note) error
		}{
			{"meta rev", func(n scribe.Note) error {
				return s.client.HSet(ctx, s.noteKey(n.ID, "meta"), "rev", "x").Err()
			}, func(n scribe.Note) error { _, err := s.GetNote(ctx, n.ID); return err }},
			{"meta rev in append", func(n scribe.Note) error {
				return s.client.HSet(ctx, s.noteKey(n.ID, "meta"), "rev", "x").Err()
			}, func(n scribe.Note) error {
				_, err := s.Append(ctx, n.ID, 0, []scribe.Change{{Op: op(t, 2, "c"), Session: "s", Seq: 9}})
				return err
			}},
			{"meta created", func(n scribe.Note) error {
				return s.client.HSet(ctx, s.noteKey(n.ID, "meta"), "created", "").Err()
			}, func(n scribe.Note) error { _, err := s.LoadNote(ctx, n.ID); return err }},
			{"log entry", func(n scribe.Note) error {
				return s.client.LSet(ctx, s.noteKey(n.ID, "log"), 1, `{"r":"two"}`).Err()
			}, func(n scribe.Note) error { _, err := s.LoadNote(ctx, n.ID); return err }},
			{"log entry op", func(n scribe.Note) error {
				return s.client.LSet(ctx, s.noteKey(n.ID, "log"), 1, `{"r":2,"t":1,"o":[99,"x"],"s":"s","q":2}`).Err()
			}, func(n scribe.Note) error { _, err := s.LoadNote(ctx, n.ID); return err }},
			{"log missing", func(n scribe.Note) error {
				return s.client.Del(ctx, s.noteKey(n.ID, "log")).Err()
			}, func(n scribe.Note) error { _, err := s.LoadNote(ctx, n.ID); return err }},
			{"log missing in range", func(n scribe.Note) error {
				return s.client.Del(ctx, s.noteKey(n.ID, "log")).Err()
			}, func(n scribe.Note) error { _, err := s.Changes(ctx, n.ID, 0, 2); return err }},
			{"snapshot", func(n scribe.Note) error {
				return s.client.Del(ctx, s.noteKey(n.ID, "snap")).Err()
			}, func(n scribe.Note) error { _, err := s.LoadNote(ctx, n.ID); return err }},
			{"session index", func(n scribe.Note) error {
				return s.client.HSet(ctx, s.noteKey(n.ID, "sessions"), "s", "nope").Err()
			}, func(n scribe.Note) error { _, _, err := s.LastSeq(ctx, n.ID, "s"); return err }},
			{"wrong type", func(n scribe.Note) error {
				if err := s.client.Del(ctx, s.noteKey(n.ID, "log")).Err(); err != nil {
					return err
				}
				return s.client.Set(ctx, s.noteKey(n.ID, "log"), "not a list", 0).Err()
			}, func(n scribe.Note) error {
				_, err := s.Append(ctx, n.ID, 2, []scribe.Change{{Op: op(t, 2, "c"), Session: "s", Seq: 9}})
				return err
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				n := mustCreate(t, s, "")
				appendText(t, s, n.ID, 0, 0, "s", 2)
				if err := c.breakIt(n); err != nil {
					t.Fatal(err)
				}
				wantCode(t, c.check(n), scribe.EINTERNAL)
			})
		}
		t.Run("share", func(t *testing.T) {
			n := mustCreate(t, s, "")
			sh, err := s.CreateShare(ctx, n.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.client.Set(ctx, s.shareKey(sh.Token), "{", 0).Err(); err != nil {
				t.Fatal(err)
			}
			_, err = s.ResolveShare(ctx, sh.Token)
			wantCode(t, err, scribe.EINTERNAL)
			_, err = s.ListShares(ctx, n.ID)
			wantCode(t, err, scribe.EINTERNAL)
		})
	})
}

// TestKeysShareOneSlot checks, on the cluster, that every key and the
// channel of a note hash to one slot, so the scripts never cross slots.
func TestKeysShareOneSlot(t *testing.T) {
	s := openStore(t, backends[1], Options{})
	ctx := context.Background()
	n := mustCreate(t, s, "")
	want, err := s.client.ClusterKeySlot(ctx, s.noteKey(n.ID, "meta")).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"snap", "log", "cold", "dedup", "sessions", "shares", "events", "hist", "histrevs", "marks", "authors", "seqrevs:s"} {
		got, err := s.client.ClusterKeySlot(ctx, s.noteKey(n.ID, part)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("key %s is in slot %d, meta in %d", part, got, want)
		}
	}
	if _, err := NewWithClient(s.client, Options{Prefix: "a{b}:"}); err == nil {
		t.Error("a prefix with a hash tag was accepted")
	}
}

// TestTwoNodes runs two Stores over one Redis as two server nodes: they race
// to append at the same revision (exactly one wins each round), hear each
// other's commits, and see each other's revocations at once.
func TestTwoNodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		a := openStore(t, b, Options{SnapshotEvery: 7})
		c := openStoreAt(t, b.url(), Options{Prefix: a.prefix, SnapshotEvery: 7})
		n := mustCreate(t, a, "")
		sub, err := c.Subscribe(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()

		const rounds = 40
		for r := 0; r < rounds; r++ {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, st := range []*Store{a, c} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					items := []any{}
					if r > 0 {
						items = append(items, r)
					}
					items = append(items, string(rune('A'+i)))
					_, errs[i] = st.Append(ctx, n.ID, scribe.Revision(r), []scribe.Change{{Op: op(t, items...), Session: fmt.Sprint("node", i), Seq: uint64(r + 1)}})
				}()
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
				} else if scribe.ErrorCode(err) != scribe.ECONFLICT {
					t.Fatal(err)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d appends won, want 1 (%v)", r, won, errs)
			}
		}
		// The subscriber on node c hears every revision in order (nothing is
		// dropped at this pace: the buffer is larger than the test).
		for want := scribe.Revision(1); want <= rounds; want++ {
			select {
			case ev := <-sub.Events():
				if ev.Change == nil || ev.Change.Revision != want {
					t.Fatalf("event %+v, want revision %d", ev, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no event for revision %d", want)
			}
		}
		da, err := a.LoadNote(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		dc, err := c.LoadNote(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if da.Text != dc.Text || len(da.Text) != rounds || da.Revision != rounds {
			t.Fatalf("nodes disagree: %q@%d vs %q@%d", da.Text, da.Revision, dc.Text, dc.Revision)
		}

		sh, err := a.CreateShare(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.ResolveShare(ctx, sh.Token); err != nil || got.NoteID != n.ID {
			t.Fatalf("resolve on the other node: %+v, %v", got, err)
		}
		if err := c.RevokeShare(ctx, sh.Token); err != nil {
			t.Fatal(err)
		}
		_, err = a.ResolveShare(ctx, sh.Token)
		wantCode(t, err, scribe.ENOTFOUND)
		wantCode(t, a.RevokeShare(ctx, sh.Token), scribe.ENOTFOUND)
		if list, err := a.ListShares(ctx, n.ID); err != nil || len(list) != 0 {
			t.Fatalf("shares after revoke: %v, %v", list, err)
		}
	})
}

// TestDedupAcrossBatch shows a resend is recognised inside one batch and
// across batches, and that new changes after duplicates take the next
// revisions.
func TestDedupAcrossBatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b, Options{})
		n := mustCreate(t, s, "")
		revs, err := s.Append(ctx, n.ID, 0, []scribe.Change{
			{Op: op(t, "a"), Session: "s", Seq: 1},
			{Op: op(t, 1, "b"), Session: "s", Seq: 1}, // same (session, seq): a duplicate
			{Op: op(t, 1, "c"), Session: "s", Seq: 2},
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(revs) != "[1 1 2]" {
			t.Fatalf("revisions %v, want [1 1 2]", revs)
		}
		revs, err = s.Append(ctx, n.ID, 2, []scribe.Change{
			{Op: op(t, 2, "x"), Session: "s", Seq: 2},
			{Op: op(t, 2, "d"), Session: "s", Seq: 3},
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(revs) != "[2 3]" {
			t.Fatalf("revisions %v, want [2 3]", revs)
		}
		doc, err := s.LoadNote(ctx, n.ID)
		if err != nil || doc.Text != "acd" {
			t.Fatalf("text %q, %v", doc.Text, err)
		}
	})
}

func TestNewClientURLs(t *testing.T) {
	for _, c := range []struct {
		url     string
		cluster bool
		addrs   string
		bad     bool
	}{
		{url: "redis://127.0.0.1:6379/0", addrs: "127.0.0.1:6379"},
		{url: "redis://:pw@10.0.0.1:7000/2", addrs: "10.0.0.1:7000"},
		{url: "127.0.0.1:6379", addrs: "127.0.0.1:6379"},
		{url: "a:1,b:2,c:3", cluster: true, addrs: "a:1,b:2,c:3"},
		{url: "redis+cluster://a:1,b:2", cluster: true, addrs: "a:1,b:2"},
		{url: "redis+cluster://user:pw@a:1,b:2/?dial_timeout=3", cluster: true, addrs: "a:1,b:2"},
		{url: "rediss+cluster://a:1", cluster: true, addrs: "a:1"},
		{url: "", bad: true},
		{url: "http://x:1", bad: true},
		{url: "redis+cluster://a:1,,b:2", bad: true},
		{url: "redis+cluster://a:1/3", bad: true},
		{url: "redis+cluster://a:1?nonsense=1", bad: true},
		{url: "a:1/x", bad: true},
	} {
		cl, err := NewClient(c.url)
		if c.bad {
			if err == nil {
				cl.Close()
				t.Errorf("%q: accepted", c.url)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.url, err)
			continue
		}
		var addrs string
		var isCluster bool
		switch v := cl.(type) {
		case *goredis.Client:
			addrs = v.Options().Addr
		case *goredis.ClusterClient:
			addrs, isCluster = strings.Join(v.Options().Addrs, ","), true
		}
		cl.Close()
		if addrs != c.addrs || isCluster != c.cluster {
			t.Errorf("%q: addrs %q cluster %v; want %q %v", c.url, addrs, isCluster, c.addrs, c.cluster)
		}
	}
}

// TestPingNeedsEveryMaster shows Ping (the /readyz check) fails when one
// master of a cluster is down, or when Redis does not answer at all.
func TestPingNeedsEveryMaster(t *testing.T) {
	ctx := context.Background()
	c := clustertest.New(t)
	s, err := New(c.URL(), Options{Prefix: randomPrefix()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.StopNode(1); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Ping(pctx); err == nil {
		t.Fatal("Ping succeeded with a master down")
	}

	dead, err := New("127.0.0.1:1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	if err := dead.Open(pctx); err == nil {
		t.Fatal("Open succeeded with no Redis")
	} else if scribe.ErrorCode(err) != scribe.EINTERNAL {
		t.Fatalf("Open with no Redis: %v, want an internal error", err)
	}
}

// TestOpenRefusesClusterNodeAsServer shows Open refuses one node of a Redis
// Cluster addressed as a single server (every append would cross slots)
// and says how to address it.
func TestOpenRefusesClusterNodeAsServer(t *testing.T) {
	s, err := New("redis://"+cluster.Addrs[0], Options{Prefix: randomPrefix()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Open(context.Background())
	if err == nil || !strings.Contains(err.Error(), "redis+cluster://") {
		t.Fatalf("Open of a cluster node as one server: %v, want advice to use redis+cluster://", err)
	}
}

// TestStaleCacheAfterLostWrites simulates a failover that lost a
// committed change: node A's cached text has revision 1, but the store's
// revision 1 is now a different change (of a different length). A's next
// append must be checked against the stored text, not its stale copy:
// the script notices the lengths differ, A reloads, and the append lands.
func TestStaleCacheAfterLostWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		a := openStore(t, b, Options{})
		other := openStoreAt(t, b.url(), Options{Prefix: a.prefix})
		n := mustCreate(t, a, "abc")
		if _, err := a.Append(ctx, n.ID, 0, []scribe.Change{{Op: op(t, 3, "d"), Session: "a", Seq: 1}}); err != nil {
			t.Fatal(err)
		}
		// The failover: revision 1 is lost.
		for _, cmd := range [][]any{
			{"HSET", a.noteKey(n.ID, "meta"), "rev", "0", "len", "3"},
			{"DEL", a.noteKey(n.ID, "log"), a.noteKey(n.ID, "dedup"), a.noteKey(n.ID, "sessions")},
			{"HSET", a.noteKey(n.ID, "snap"), "rev", "0", "text", "abc"},
		} {
			if err := a.client.Do(ctx, cmd...).Err(); err != nil {
				t.Fatal(err)
			}
		}
		// Another node commits a different revision 1: "xyabc".
		if _, err := other.Append(ctx, n.ID, 0, []scribe.Change{{Op: op(t, "xy", 3), Session: "b", Seq: 1}}); err != nil {
			t.Fatal(err)
		}
		// A, whose copy says "abcd" at 1, appends an op based on "xyabc".
		revs, err := a.Append(ctx, n.ID, 1, []scribe.Change{{Op: op(t, 5, "!"), Session: "a", Seq: 2}})
		if err != nil || revs[0] != 2 {
			t.Fatalf("append over a stale copy: %v, %v", revs, err)
		}
		doc, err := a.LoadNote(ctx, n.ID)
		if err != nil || doc.Text != "xyabc!" {
			t.Fatalf("loaded %q, %v", doc.Text, err)
		}
	})
}

// TestErrorsDoNotRevealIDs shows the errors for corrupt data, which the
// server logs, name a note and a token by a hash, never by themselves (an
// id grants editing, a token reading).
func TestErrorsDoNotRevealIDs(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, backends[0], Options{})
	n := mustCreate(t, s, "")
	sh, err := s.CreateShare(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.client.HSet(ctx, s.noteKey(n.ID, "meta"), "rev", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.client.Set(ctx, s.shareKey(sh.Token), "{", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, err1 := s.GetNote(ctx, n.ID)
	_, err2 := s.ResolveShare(ctx, sh.Token)
	for _, err := range []error{err1, err2} {
		wantCode(t, err, scribe.EINTERNAL)
		if text := err.Error() + scribe.ErrorMessage(err); strings.Contains(text, string(n.ID)) || strings.Contains(text, string(sh.Token)) {
			t.Errorf("error reveals an id or token: %s", text)
		}
	}
	if !strings.Contains(err1.Error(), noteRef(n.ID)) {
		t.Errorf("error %q does not name the note by its ref %s", err1, noteRef(n.ID))
	}
}

// TestDedupCompactAndFallback covers both places a submission's revision
// is kept: the session's compact list (consecutive seqs from its first)
// and the dedup hash (after a gap, or for a seq too large for a Lua
// number). Every resend learns its first revision.
func TestDedupCompactAndFallback(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b, Options{})
		n := mustCreate(t, s, "")
		seqs := []uint64{1, 2, 5, 6, 1 << 60, 1<<60 + 1, 7}
		for i, seq := range seqs {
			items := []any{"x"}
			if i > 0 {
				items = []any{i, "x"}
			}
			revs, err := s.Append(ctx, n.ID, scribe.Revision(i), []scribe.Change{{Op: op(t, items...), Session: "tab", Seq: seq}})
			if err != nil || revs[0] != scribe.Revision(i+1) {
				t.Fatalf("seq %d: %v, %v", seq, revs, err)
			}
		}
		head := scribe.Revision(len(seqs))
		for i, seq := range seqs {
			revs, err := s.Append(ctx, n.ID, head, []scribe.Change{{Op: op(t, int(head), "y"), Session: "tab", Seq: seq}})
			if err != nil || revs[0] != scribe.Revision(i+1) {
				t.Fatalf("resend of seq %d: %v, %v; want revision %d", seq, revs, err, i+1)
			}
		}
		if last, rev, err := s.LastSeq(ctx, n.ID, "tab"); err != nil || last != 1<<60+1 || rev != 6 {
			t.Fatalf("LastSeq = %d, %d, %v", last, rev, err)
		}
		// 1, 2 are in the list; 5, 6, 2^60, 2^60+1 and 7 in the hash.
		if got, err := s.client.LLen(ctx, s.noteKey(n.ID, "seqrevs:tab")).Result(); err != nil || got != 3 {
			t.Fatalf("seqrevs list has %d elements, %v; want 3", got, err)
		}
		if got, err := s.client.HLen(ctx, s.noteKey(n.ID, "dedup")).Result(); err != nil || got != 5 {
			t.Fatalf("dedup hash has %d fields, %v; want 5", got, err)
		}
		if doc, err := s.LoadNote(ctx, n.ID); err != nil || doc.Revision != head {
			t.Fatalf("resends wrote something: %+v, %v", doc, err)
		}
	})
}

// TestCorruptDedupMessages shows the messages for corrupt dedup data,
// which clients may see, name no key, note id or session.
func TestCorruptDedupMessages(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, backends[0], Options{})
	n := mustCreate(t, s, "")
	appendText(t, s, n.ID, 0, 0, "secret-session", 2)
	for _, breakIt := range []func() error{
		func() error { return s.client.LSet(ctx, s.noteKey(n.ID, "seqrevs:secret-session"), 1, "-7").Err() },
		func() error { return s.client.LSet(ctx, s.noteKey(n.ID, "seqrevs:secret-session"), 0, "x").Err() },
	} {
		if err := breakIt(); err != nil {
			t.Fatal(err)
		}
		_, err := s.Append(ctx, n.ID, 2, []scribe.Change{{Op: op(t, 2, "z"), Session: "secret-session", Seq: 1}})
		wantCode(t, err, scribe.EINTERNAL)
		if text := err.Error(); strings.Contains(text, string(n.ID)) || strings.Contains(text, "secret-session") {
			t.Errorf("error reveals the note id or the session: %s", text)
		}
	}
}

// TestHistoryBudget: storetest.HistoryBudget with a 20 KB budget.
func TestHistoryBudget(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.HistoryBudget(t, openStore(t, b, Options{MaxHistoryBytes: 20_000}), 20_000)
	})
}

// TestDeleteLeavesNoKey deletes a note that has a snapshot and the
// authorship kept beside it: none of the note's keys may remain, the
// authorship key included (it was once left behind).
func TestDeleteLeavesNoKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b, Options{SnapshotEvery: 5})
		n := mustCreate(t, s, "")
		appendText(t, s, n.ID, 0, 0, "s", 12)
		if rev := waitSnapshot(t, s, n.ID, 10); rev < 10 {
			t.Fatalf("no snapshot: at %d", rev)
		}
		parts := []string{"meta", "sessions", "snap", "log", "dedup", "hist", "histrevs", "marks", "shares", "authors", "seqrevs:s"}
		if c, err := s.client.Exists(ctx, s.noteKey(n.ID, "authors")).Result(); err != nil || c != 1 {
			t.Fatalf("the authorship key is not there before the delete (%d, %v)", c, err)
		}
		if err := s.DeleteNote(ctx, n.ID); err != nil {
			t.Fatal(err)
		}
		for _, part := range parts {
			if c, err := s.client.Exists(ctx, s.noteKey(n.ID, part)).Result(); err != nil || c != 0 {
				t.Errorf("key %s left after the delete (%d, %v)", part, c, err)
			}
		}
	})
}

// TestAppendSnaprev: append.lua reads the snapshot's revision from the
// meta hash's snaprev, which create.lua and histsnap.lua keep; a note
// written before snaprev existed (none in meta) appends as before, and its
// next snapshot sets it.
func TestAppendSnaprev(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b, Options{SnapshotEvery: 5})
		n := mustCreate(t, s, "")
		meta := s.noteKey(n.ID, "meta")
		if got, err := s.client.HGet(ctx, meta, "snaprev").Result(); err != nil || got != "0" {
			t.Fatalf("a new note's snaprev = %q, %v; want 0", got, err)
		}
		if err := s.client.HDel(ctx, meta, "snaprev").Err(); err != nil {
			t.Fatal(err)
		}
		appendText(t, s, n.ID, 0, 0, "s", 12)
		rev := waitSnapshot(t, s, n.ID, 10)
		if rev < 10 {
			t.Fatalf("no snapshot: at %d", rev)
		}
		got, err := s.client.HGet(ctx, meta, "snaprev").Int64()
		if err != nil || got < 10 || got > 12 {
			t.Fatalf("snaprev after a snapshot = %d, %v; want the snapshot's revision (10 to 12)", got, err)
		}
		if doc, err := s.LoadNote(ctx, n.ID); err != nil || doc.Revision != 12 {
			t.Fatalf("LoadNote = %+v, %v", doc, err)
		}
	})
}
