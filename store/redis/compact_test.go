package redis

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/storetest"
)

// hotAge is the hot age these tests compact with.
const hotAge = 7 * 24 * time.Hour

// typed is a note typed into by hand in these tests: the text at every
// revision, to compare with what the store answers.
type typed struct {
	id    scribe.NoteID
	texts []string
	seqs  map[string]uint64
}

// typeRun appends n one-character inserts at the end of the text, each
// its own change by session, at the clock's time, and returns the
// revisions they got.
func (ty *typed) typeRun(t testing.TB, s *Store, session string, n int) {
	t.Helper()
	for range n {
		doc := ty.texts[len(ty.texts)-1]
		rev := scribe.Revision(len(ty.texts) - 1)
		ty.seqs[session]++
		c := scribe.Change{Op: storetest.EditOp(doc, storetest.Len(doc), 0, string(rune('a'+rev%26))), Session: session, Seq: ty.seqs[session], Author: "writer " + session}
		if _, err := s.Append(context.Background(), ty.id, rev, []scribe.Change{c}); err != nil {
			t.Fatalf("append at %d: %v", rev, err)
		}
		next, err := storetest.Apply(doc, c.Op)
		if err != nil {
			t.Fatal(err)
		}
		ty.texts = append(ty.texts, next)
	}
}

func newTyped(t testing.TB, s *Store, text string) *typed {
	t.Helper()
	n := mustCreate(t, s, text)
	return &typed{id: n.ID, texts: []string{text}, seqs: map[string]uint64{}}
}

// head is the typed note's head revision.
func (ty *typed) head() scribe.Revision { return scribe.Revision(len(ty.texts) - 1) }

// compactAll runs CompactStep until a step folds nothing.
func compactAll(t testing.TB, s *Store, now time.Time, budget int) scribe.CompactStats {
	t.Helper()
	var total scribe.CompactStats
	for range 10_000 {
		st, err := s.CompactStep(context.Background(), now, hotAge, budget)
		if err != nil {
			t.Fatalf("CompactStep: %v", err)
		}
		if st.Changes == 0 && st.Behind == 0 {
			return total
		}
		total.Add(st)
	}
	t.Fatal("compaction does not finish")
	return total
}

// checkTyped checks every revision of the note: its text where
// addressable, EGONE inside a fold; the log continuous; LoadNote at the
// head; and the history count equal to the bytes the note's lists hold.
// It returns how many revisions were folded away.
func checkTyped(t testing.TB, s *Store, ty *typed) int { return checkTypedEvery(t, s, ty, 1) }

// checkTypedEvery is checkTyped reading every stride-th revision's text.
func checkTypedEvery(t testing.TB, s *Store, ty *typed, stride int) int {
	t.Helper()
	ctx := context.Background()
	head := ty.head()
	gone := 0
	for r := scribe.Revision(0); r <= head; r += scribe.Revision(stride) {
		text, err := s.TextAt(ctx, ty.id, r)
		if f, ok := scribe.AsFolded(err); ok && f.Rev == r && f.Below < r && r < f.Above {
			gone++
			continue
		}
		if err != nil || text != ty.texts[r] {
			t.Fatalf("TextAt(%d) = %q, %v; want %q", r, text, err, ty.texts[r])
		}
	}
	cs, err := s.Changes(ctx, ty.id, 0, head)
	if err != nil {
		t.Fatalf("Changes(0, head): %v", err)
	}
	if end := chainEnd(cs, 0); end != head {
		t.Fatalf("the log ends at %d, the head is %d", end, head)
	}
	d, err := s.LoadNote(ctx, ty.id)
	if err != nil || d.Revision != head || d.Text != ty.texts[head] {
		t.Fatalf("LoadNote = %d %q, %v; want %d %q", d.Revision, d.Text, err, head, ty.texts[head])
	}
	checkHistoryCount(t, s, ty.id)
	return gone
}

// checkHistoryCount checks meta's history field is the bytes of every
// element of the note's log and compacted list.
func checkHistoryCount(t testing.TB, s *Store, id scribe.NoteID) {
	t.Helper()
	ctx := context.Background()
	var sum int64
	for _, part := range []string{"log", "cold"} {
		els, err := s.client.LRange(ctx, s.noteKey(id, part), 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range els {
			sum += int64(len(e))
		}
	}
	got, err := s.HistoryBytes(ctx, id)
	if err != nil || got != sum {
		t.Fatalf("the history count is %d, %v; the log and the compacted list hold %d bytes", got, err, sum)
	}
}

// TestCompactNoteFromBefore compacts a note written before compaction
// existed: no logbase in its metadata, no history count (written before
// the budget), session lists in the old form.
func TestCompactNoteFromBefore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		clock := storetest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
		s := openStore(t, b, Options{clock: clock.Now})
		ty := newTyped(t, s, "old ")
		ty.typeRun(t, s, "ada", 30)
		clock.Advance(time.Minute)
		ty.typeRun(t, s, "bob", 1)
		ty.typeRun(t, s, "ada", 20)
		// As the store wrote notes before compaction and the budget.
		if err := s.client.HDel(ctx, s.noteKey(ty.id, "meta"), "history").Err(); err != nil {
			t.Fatal(err)
		}
		if n, err := s.client.HExists(ctx, s.noteKey(ty.id, "meta"), "logbase").Result(); err != nil || n {
			t.Fatalf("a note never compacted has a logbase (%v, %v)", n, err)
		}
		if first, err := s.client.LIndex(ctx, s.noteKey(ty.id, "seqrevs:ada"), 0).Result(); err != nil || first != "1" {
			t.Fatalf("a session list starts with %q, %v; want the old form, 1", first, err)
		}
		for r := scribe.Revision(0); r <= ty.head(); r += 7 {
			if text, err := s.TextAt(ctx, ty.id, r); err != nil || text != ty.texts[r] {
				t.Fatalf("before compaction TextAt(%d) = %q, %v", r, text, err)
			}
		}
		st := compactAll(t, s, clock.Now().Add(hotAge+time.Minute), 100)
		if st.Changes != 50 || st.Folds != 2 {
			t.Fatalf("compacted %+v; want 50 changes in 2 folds (a minute of ada, bob alone, another minute of ada)", st)
		}
		if gone := checkTypedNoCount(t, s, ty); gone != 48 {
			t.Errorf("%d revisions folded away, want 48", gone)
		}
		if n, err := s.client.HExists(ctx, s.noteKey(ty.id, "meta"), "history").Result(); err != nil || n {
			t.Errorf("compaction started a history count the note did not have (%v, %v)", n, err)
		}
		// ada's list: seqs 1..50 folded into the folds ending at 30 and 51.
		if first, err := s.client.LIndex(ctx, s.noteKey(ty.id, "seqrevs:ada"), 0).Result(); err != nil || first != "51:51" {
			t.Errorf("ada's list starts with %q, %v; want 51:51", first, err)
		}
		for seq, want := range map[uint64]scribe.Revision{1: 51, 30: 51, 50: 51} {
			revs, err := s.Append(ctx, ty.id, ty.head(), []scribe.Change{{Op: op(t, len(ty.texts[ty.head()]), "!"), Session: "ada", Seq: seq}})
			if err != nil || revs[0] != want {
				t.Errorf("a resend of (ada, %d) = %v, %v; want %d", seq, revs, err, want)
			}
		}
		if seq, rev, err := s.LastSeq(ctx, ty.id, "ada"); err != nil || seq != 50 || rev != 51 {
			t.Errorf("LastSeq(ada) = %d at %d, %v; want 50 at 51", seq, rev, err)
		}
		if seq, rev, err := s.LastSeq(ctx, ty.id, "bob"); err != nil || seq != 1 || rev != 31 {
			t.Errorf("LastSeq(bob) = %d at %d, %v; want 1 at 31", seq, rev, err)
		}
		// The note goes on.
		ty.typeRun(t, s, "ada", 3)
		checkTypedNoCount(t, s, ty)
	})
}

// checkTypedNoCount is checkTyped for a note without a history count.
func checkTypedNoCount(t testing.TB, s *Store, ty *typed) int {
	t.Helper()
	ctx := context.Background()
	gone := 0
	for r := scribe.Revision(0); r <= ty.head(); r++ {
		text, err := s.TextAt(ctx, ty.id, r)
		if f, ok := scribe.AsFolded(err); ok && f.Rev == r {
			gone++
			continue
		}
		if err != nil || text != ty.texts[r] {
			t.Fatalf("TextAt(%d) = %q, %v; want %q", r, text, err, ty.texts[r])
		}
	}
	if d, err := s.LoadNote(ctx, ty.id); err != nil || d.Text != ty.texts[ty.head()] {
		t.Fatalf("LoadNote = %q, %v", d.Text, err)
	}
	return gone
}

// TestCompactTwoNodes: one node compacts, the other reads the note's past
// correctly at once, and appends although the revision its cached text is
// at was folded away.
func TestCompactTwoNodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		clock := storetest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
		prefix := randomPrefix()
		t.Cleanup(func() { deletePrefix(t, b.url(), prefix) })
		a := openStoreAt(t, b.url(), Options{Prefix: prefix, clock: clock.Now})
		other := openStoreAt(t, b.url(), Options{Prefix: prefix, clock: clock.Now})
		ty := newTyped(t, a, "")
		// One session types on both nodes (a client that reconnected to
		// another node) within one minute: the other node's cached text is
		// at revision 10, which the fold 1..20 swallows.
		ty.typeRun(t, other, "s", 10)
		ty.typeRun(t, a, "s", 10)
		if st := compactAll(t, a, clock.Now().Add(hotAge+time.Minute), 1000); st.Changes != 20 || st.Folds != 1 {
			t.Fatalf("compacted %+v; want one fold of 20", st)
		}
		if e := other.cache.peek(ty.id); e == nil || e.rev != 10 {
			t.Fatalf("the other node's cache does not hold the note at 10")
		}
		// The other node's cached text is at a folded revision: it loads.
		ty.typeRun(t, other, "s", 2)
		if gone := checkTyped(t, other, ty); gone != 19 {
			t.Errorf("the other node sees %d revisions folded away, want 19", gone)
		}
		if _, err := other.AuthorsAt(ctx, ty.id, 10); scribe.ErrorCode(err) != scribe.EGONE {
			t.Errorf("AuthorsAt(10) on the other node: %v; want EGONE", err)
		}
		a20, err := other.AuthorsAt(ctx, ty.id, 20)
		if err != nil || len(a20.Runs) != 1 || a20.Runs[0].Len != 20 || a20.Authors[a20.Runs[0].Author].Name != "writer s" {
			t.Errorf("AuthorsAt(20) on the other node = %+v, %v; want 20 units by writer s", a20, err)
		}
		if revs, err := other.Append(ctx, ty.id, ty.head(), []scribe.Change{{Op: op(t, 22, "x"), Session: "s", Seq: 5}}); err != nil || revs[0] != 20 {
			t.Errorf("a resend of a folded seq on the other node = %v, %v; want 20", revs, err)
		}
		checkTyped(t, a, ty)
	})
}

// TestCompactSurvivesRedisKill kills Redis (SIGKILL, append-only file
// fsynced on every write) again and again: while a fold script is on its
// way or running, and right after one answered (before the step does
// anything else), and checks after every restart that the note is whole:
// every revision's text or EGONE, the log continuous, the history count
// exact. A fold is one script, so Redis keeps the old layout or the new
// one. (A fold written in two round trips fails it.)
func TestCompactSurvivesRedisKill(t *testing.T) {
	ctx := context.Background()
	p := startKillable(t)
	clock := storetest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	client, err := NewClient("redis://" + p.addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	hook := &foldHook{sent: make(chan struct{}, 1), answered: make(chan chan struct{})}
	client.AddHook(hook)
	// (The snapshot worker logs the kills; they are the point.)
	s, err := NewWithClient(client, Options{clock: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ty := newTyped(t, s, "")
	rng := rand.New(rand.NewPCG(5, 6))
	for ty.head() < 3000 {
		ty.typeRun(t, s, fmt.Sprintf("w%d", rng.IntN(3)), 1+rng.IntN(60))
		clock.Advance(time.Duration(rng.IntN(40)) * time.Second)
	}
	now := clock.Now().Add(hotAge + time.Minute)
	restart := func() {
		p.start()
		for i := 0; s.Ping(ctx) != nil; i++ { // the pool drops its dead connections
			if i > 10 {
				t.Fatal("the store does not reach Redis after the restart")
			}
		}
	}
	kills := 0
	for i := 0; kills < 12; i++ {
		afterAnswer := i%2 == 1
		hook.afterAnswer.Store(afterAnswer)
		select {
		case <-hook.sent: // a signal a step of the other kind left
		default:
		}
		budget := 20 + rng.IntN(400)
		done := make(chan error, 1)
		go func() {
			st, err := s.CompactStep(ctx, now, hotAge, budget)
			if err == nil && st.Changes == 0 && st.Behind == 0 {
				err = errDone
			}
			done <- err
		}()
		var sent <-chan struct{}
		var answered <-chan chan struct{}
		if afterAnswer {
			answered = hook.answered
		} else {
			sent = hook.sent
		}
		select {
		case <-sent:
			// The fold script is on its way: kill Redis under it.
			p.kill()
			<-done
		case release := <-answered:
			// The fold script answered: kill Redis before the step goes on.
			p.kill()
			close(release)
			<-done
		case err := <-done:
			if err == errDone {
				t.Fatalf("compaction finished after %d kills; the test wants more", kills)
			}
			continue
		}
		restart()
		kills++
		checkTypedEvery(t, s, ty, 1+rng.IntN(20))
	}
	hook.afterAnswer.Store(false)
	compactAll(t, s, now, 1000)
	if gone := checkTyped(t, s, ty); gone < 1000 {
		t.Errorf("only %d revisions were folded away", gone)
	}
}

var errDone = fmt.Errorf("nothing left to compact")

// foldHook tells the test about fold scripts: when one is sent, without
// waiting (sent); or, with afterAnswer, when one has answered, waiting
// until the test closes the channel it hands over (answered).
type foldHook struct {
	afterAnswer atomic.Bool
	sent        chan struct{}
	answered    chan chan struct{}
}

func isFold(cmd goredis.Cmder) bool {
	args := cmd.Args()
	if len(args) < 2 || args[0] != "evalsha" && args[0] != "eval" {
		return false
	}
	src, _ := args[1].(string)
	return src == foldScript.Hash() || src == coldLua+foldLua
}

func (h *foldHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *foldHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if !isFold(cmd) {
			return next(ctx, cmd)
		}
		if !h.afterAnswer.Load() {
			select {
			case h.sent <- struct{}{}:
			default:
			}
			return next(ctx, cmd)
		}
		err := next(ctx, cmd)
		if err == nil {
			release := make(chan struct{})
			h.answered <- release
			<-release
		}
		return err
	}
}

func (h *foldHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// killable is a redis-server of one test's own that the test kills
// (SIGKILL) and restarts on the same port; its append-only file is
// fsynced on every write, so a kill loses nothing acknowledged.
type killable struct {
	t    *testing.T
	addr string
	dir  string
	cmd  *exec.Cmd
}

func startKillable(t *testing.T) *killable {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &killable{t: t, addr: l.Addr().String(), dir: t.TempDir()}
	l.Close()
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *killable) start() {
	_, port, _ := net.SplitHostPort(p.addr)
	p.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--dir", p.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "")
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start redis-server: %v", err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: p.addr, MaxRetries: -1})
	defer c.Close()
	for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
		if i > 250 {
			p.t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *killable) kill() {
	if p.cmd != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		p.cmd = nil
	}
}

// TestCompactRefusesStalePlan: a named checkpoint added inside a planned
// fold between the plan and the script makes the script refuse (ERETRY),
// writing nothing; the step plans again around it.
func TestCompactRefusesStalePlan(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		clock := storetest.NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
		s := openStore(t, b, Options{clock: clock.Now})
		ty := newTyped(t, s, "")
		ty.typeRun(t, s, "s", 30)
		if err := s.snapshot(ctx, ty.id); err != nil {
			t.Fatal(err)
		}
		w := &compactWork{now: clock.Now().Add(hotAge + time.Minute), hotAge: hotAge, budget: 100, left: 100, moves: 100}
		plan, err := s.planFolds(ctx, ty.id, w)
		if err != nil || len(plan.entries) != 1 || plan.folded != 30 {
			t.Fatalf("plan = %+v, %v; want one fold of 30", plan, err)
		}
		if _, err := s.AddCheckpoint(ctx, ty.id, scribe.Checkpoint{Rev: 12, Name: "decided"}); err != nil {
			t.Fatal(err)
		}
		before := keyDump(t, s, ty.id)
		if _, _, err := s.runFold(ctx, ty.id, plan); err == nil || !strings.HasPrefix(err.Error(), "ERETRY") {
			t.Fatalf("a fold over a new checkpoint: %v; want ERETRY", err)
		}
		if after := keyDump(t, s, ty.id); after != before {
			t.Fatalf("a refused fold changed the note:\n%s\nwas\n%s", after, before)
		}
		st := compactAll(t, s, w.now, 100)
		if st.Folds != 2 || st.Changes != 30 {
			t.Errorf("compacted %+v; want 2 folds around the checkpoint", st)
		}
		if text, err := s.TextAt(ctx, ty.id, 12); err != nil || text != ty.texts[12] {
			t.Errorf("TextAt(12), the checkpoint = %q, %v", text, err)
		}
		checkTyped(t, s, ty)
	})
}

// keyDump is every key of the note with its Redis dump, to compare.
func keyDump(t testing.TB, s *Store, id scribe.NoteID) string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, part := range []string{"meta", "log", "cold", "snap", "hist", "histrevs", "marks", "dedup", "sessions", "seqrevs:s", "authors"} {
		v, err := s.client.Dump(ctx, s.noteKey(id, part)).Result()
		if err != nil && err != goredis.Nil {
			t.Fatal(err)
		}
		out = append(out, part+"="+fmt.Sprintf("%x", v))
	}
	return strings.Join(out, "\n")
}
