package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/client"
	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/server/servertest"
	"github.com/scribe-notes/scribe/store/bolt"
)

// testServer is a real Scribe server on the embedded store, on a loopback
// port.
type testServer struct{ *servertest.Server }

func newTestServer(t *testing.T, limits server.Limits) *testServer {
	t.Helper()
	return &testServer{servertest.Start(t, server.Config{Store: servertest.OpenBolt(t, t.TempDir()), Limits: limits})}
}

func (ts *testServer) newNote(t *testing.T, text string) string {
	t.Helper()
	n, err := ts.Store.CreateNote(context.Background(), scribe.NewNote{Title: "Test", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return client.NoteURL(ts.URL, n.ID)
}

func dial(t *testing.T, url string, opts client.Options) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// insertAt returns the op that inserts s at pos in a text of length n.
func insertAt(t *testing.T, n, pos int, s string) ot.Operation {
	t.Helper()
	op, err := ot.NewBuilder().Retain(pos).Insert(s).Retain(n - pos).Build()
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// serverText reads the note's text at the head through a fresh connection.
func serverText(t *testing.T, url string) (string, int64) {
	t.Helper()
	c := dial(t, url, client.Options{Name: "probe"})
	defer c.Close()
	return c.Text(), c.Revision()
}

// converged waits for every client to be synced and at the server's head,
// and checks they all hold the server's text.
func converged(t *testing.T, url string, clients ...*client.Client) string {
	t.Helper()
	ctx := ctxT(t)
	for i, c := range clients {
		if err := c.WaitSynced(ctx); err != nil {
			t.Fatalf("client %d: wait synced: %v", i, err)
		}
	}
	want, rev := serverText(t, url)
	for i, c := range clients {
		if err := c.WaitRevision(ctx, rev); err != nil {
			t.Fatalf("client %d: wait for revision %d: %v", i, rev, err)
		}
		if got := c.Text(); got != want {
			t.Fatalf("client %d has\n%q\nwant the server's\n%q", i, got, want)
		}
	}
	return want
}

func TestEditReachesPeers(t *testing.T) {
	ts := newTestServer(t, server.Limits{})
	url := ts.newNote(t, "# Standup\n")
	var seen atomic.Int64
	a := dial(t, url, client.Options{Name: "Ada"})
	b := dial(t, url, client.Options{Name: "Grace", OnRemoteOp: func(op client.RemoteOp) {
		if op.Client != a.ClientID() {
			t.Errorf("remote op from %q, want %q", op.Client, a.ClientID())
		}
		seen.Store(op.Rev)
	}})
	if a.Text() != "# Standup\n" || a.Revision() != 0 {
		t.Fatalf("welcome: text %q rev %d", a.Text(), a.Revision())
	}
	if err := a.Edit(insertAt(t, a.Len(), a.Len(), "- decided: ship")); err != nil {
		t.Fatal(err)
	}
	if a.Text() != "# Standup\n- decided: ship" {
		t.Fatalf("the edit is not applied locally at once: %q", a.Text())
	}
	if err := b.WaitRevision(ctxT(t), 1); err != nil {
		t.Fatal(err)
	}
	if got := b.Text(); got != "# Standup\n- decided: ship" {
		t.Fatalf("peer text %q", got)
	}
	if seen.Load() != 1 {
		t.Fatalf("OnRemoteOp saw revision %d, want 1", seen.Load())
	}
	converged(t, url, a, b)
}

func TestAckCallback(t *testing.T) {
	ts := newTestServer(t, server.Limits{})
	url := ts.newNote(t, "")
	acks := make(chan client.Ack, 10)
	a := dial(t, url, client.Options{OnAck: func(ack client.Ack) { acks <- ack }})
	// Three quick edits: the first goes out, the other two are composed
	// into the buffer and go out as one op after the first ack.
	for _, s := range []string{"a", "b", "c"} {
		if err := a.Edit(insertAt(t, a.Len(), a.Len(), s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.WaitSynced(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	close(acks)
	var got []client.Ack
	for ack := range acks {
		got = append(got, ack)
	}
	if len(got) < 2 || len(got) > 3 {
		t.Fatalf("%d acks, want 2 or 3 (edits composed while one is in flight)", len(got))
	}
	for i, ack := range got {
		if ack.Seq != uint64(i+1) || ack.Rev != int64(i+1) {
			t.Errorf("ack %d: seq %d rev %d", i, ack.Seq, ack.Rev)
		}
		if ack.SentAt.IsZero() || ack.Received.Before(ack.SentAt) || ack.EditedAt.After(ack.SentAt) {
			t.Errorf("ack %d: times edited %v sent %v received %v", i, ack.EditedAt, ack.SentAt, ack.Received)
		}
	}
	if text, _ := serverText(t, url); text != "abc" {
		t.Fatalf("server text %q", text)
	}
}

// randomEdit makes a random edit of the local text: inserts (with
// non-ASCII and astral characters) and deletes that never split a pair.
func randomEdit(rnd *rand.Rand, tag string) func(n int, sel ot.Selection) (ot.Operation, ot.Selection) {
	return func(n int, _ ot.Selection) (ot.Operation, ot.Selection) {
		// Positions are chosen in the text's units; the client refuses an
		// op that splits a surrogate pair, and the caller retries.
		pos := rnd.IntN(n + 1)
		b := ot.NewBuilder().Retain(pos)
		if n > pos+2 && rnd.IntN(3) == 0 {
			k := 1 + rnd.IntN(min(3, n-pos))
			op, _ := b.Delete(k).Retain(n - pos - k).Build()
			return op, nil
		}
		words := []string{tag, "é", "😀", "中文", " ", "\n"}
		op, _ := b.Insert(words[rnd.IntN(len(words))]).Retain(n - pos).Build()
		return op, nil
	}
}

func TestConcurrentEditsConverge(t *testing.T) {
	ts := newTestServer(t, server.Limits{OpsPerSecond: 10000})
	url := ts.newNote(t, "start 😀 text\n")
	const clients, edits = 4, 60
	cs := make([]*client.Client, clients)
	for i := range cs {
		cs[i] = dial(t, url, client.Options{Name: fmt.Sprintf("c%d", i)})
	}
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(i), 42))
			for k := 0; k < edits; k++ {
				for {
					err := c.Change(randomEdit(rnd, fmt.Sprintf("[%d]", i)))
					if err == nil {
						break
					}
					if scribe.ErrorCode(err) != scribe.EINVALID { // a split surrogate pair: try another spot
						t.Errorf("client %d: %v", i, err)
						return
					}
				}
				if rnd.IntN(4) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	text := converged(t, url, cs...)
	if !strings.Contains(text, "[") {
		t.Fatalf("no client's edits survived: %q", text)
	}
}

func TestUTF16Offsets(t *testing.T) {
	ts := newTestServer(t, server.Limits{})
	url := ts.newNote(t, "a😀b")
	a := dial(t, url, client.Options{})
	b := dial(t, url, client.Options{})
	if a.Len() != 4 {
		t.Fatalf("Len() = %d, want 4 UTF-16 units for %q", a.Len(), a.Text())
	}
	// Inside the pair: refused locally, nothing changes.
	split, _ := ot.NewBuilder().Retain(2).Insert("x").Retain(2).Build()
	if err := a.Edit(split); scribe.ErrorCode(err) != scribe.EINVALID {
		t.Fatalf("an edit inside a surrogate pair: err %v, want EINVALID", err)
	}
	wrongLen, _ := ot.NewBuilder().Retain(3).Insert("x").Build()
	if err := a.Edit(wrongLen); scribe.ErrorCode(err) != scribe.EINVALID {
		t.Fatalf("an edit of the wrong length: err %v, want EINVALID", err)
	}
	if a.Text() != "a😀b" || a.Pending() {
		t.Fatalf("a refused edit changed the client: %q pending %v", a.Text(), a.Pending())
	}
	if err := a.Edit(insertAt(t, 4, 3, "🎉")); err != nil { // after the emoji
		t.Fatal(err)
	}
	if err := b.Edit(insertAt(t, 4, 1, "é")); err != nil { // before it, concurrently
		t.Fatal(err)
	}
	if text := converged(t, url, a, b); text != "aé😀🎉b" {
		t.Fatalf("text %q, want %q", text, "aé😀🎉b")
	}
}

func TestReadOnlyAndNotFound(t *testing.T) {
	ts := newTestServer(t, server.Limits{})
	n, err := ts.Store.CreateNote(context.Background(), scribe.NewNote{Title: "T", Text: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := ts.Store.CreateShare(context.Background(), n.ID)
	if err != nil {
		t.Fatal(err)
	}
	ro := dial(t, client.ShareURL(ts.URL, sh.Token), client.Options{})
	if !ro.ReadOnly() || ro.Text() != "hello" {
		t.Fatalf("read-only welcome: readonly %v text %q", ro.ReadOnly(), ro.Text())
	}
	if err := ro.Edit(insertAt(t, 5, 0, "x")); scribe.ErrorCode(err) != scribe.EFORBIDDEN {
		t.Fatalf("edit through a share: %v, want EFORBIDDEN", err)
	}
	ctx := ctxT(t)
	_, err = client.Dial(ctx, client.NoteURL(ts.URL, scribe.NewNoteID()), client.Options{})
	if scribe.ErrorCode(err) != scribe.ENOTFOUND {
		t.Fatalf("dial an unknown note: %v, want ENOTFOUND", err)
	}
	_, err = client.Dial(ctx, client.NoteURL(ts.URL, n.ID), client.Options{Session: "no spaces allowed"})
	if scribe.ErrorCode(err) != scribe.EINVALID {
		t.Fatalf("dial with a bad session: %v, want EINVALID", err)
	}
}

func TestPresence(t *testing.T) {
	ts := newTestServer(t, server.Limits{})
	url := ts.newNote(t, "0123456789")
	moved := make(chan protocol.Peer, 16)
	a := dial(t, url, client.Options{Name: "Ada"})
	b := dial(t, url, client.Options{Name: "Grace", OnPresence: func(p protocol.Peer) {
		if p.Client == a.ClientID() && len(p.Sel) > 0 {
			moved <- p
		}
	}})
	if err := a.Select(ot.Selection{{Anchor: 3, Head: 7}}); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	select {
	case p := <-moved:
		if p.Name != "Ada" || p.Sel[0] != (ot.Range{Anchor: 3, Head: 7}) {
			t.Fatalf("presence %+v", p)
		}
	case <-ctx.Done():
		t.Fatal("no presence from Ada")
	}
	// B inserts before A's selection: B's view of it moves right.
	if err := b.Edit(insertAt(t, 10, 0, "ab")); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range b.Peers() {
		if p.Client == a.ClientID() {
			found = true
			if len(p.Sel) != 1 || p.Sel[0] != (ot.Range{Anchor: 5, Head: 9}) {
				t.Fatalf("Peers() has Ada's selection %+v, want 5..9 after B's insert", p.Sel)
			}
		}
	}
	if !found {
		t.Fatalf("Peers() %+v lacks Ada", b.Peers())
	}
	converged(t, url, a, b)
	if err := a.WaitRevision(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if sel := a.Selection(); sel[0] != (ot.Range{Anchor: 5, Head: 9}) {
		t.Fatalf("A's own selection after B's insert: %+v, want 5..9", sel)
	}
	// After a reconnect, A announces its selection again under its new id.
	if err := a.Reconnect(ctx, ""); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case p := <-moved:
			if p.Client == a.ClientID() && p.Sel[0] == (ot.Range{Anchor: 5, Head: 9}) {
				return
			}
		case <-ctx.Done():
			t.Fatal("no presence from A after its reconnect")
		}
	}
}

// TestSelectionWithOp: a peer's op carries its selection, so the peer's
// cursor has moved (and OnPresence has been called, right after
// OnRemoteOp) as soon as the op has arrived, without waiting for a
// presence message.
func TestSelectionWithOp(t *testing.T) {
	ts := newTestServer(t, server.Limits{})
	url := ts.newNote(t, "0123456789")
	var mu sync.Mutex
	var events []string
	record := func(e string) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	a := dial(t, url, client.Options{Name: "Ada"})
	b := dial(t, url, client.Options{
		Name:       "Grace",
		OnRemoteOp: func(op client.RemoteOp) { record(fmt.Sprintf("op %d", op.Rev)) },
		OnPresence: func(p protocol.Peer) {
			if p.Client == a.ClientID() && len(p.Sel) > 0 {
				record(fmt.Sprintf("presence %d %v", p.Rev, p.Sel))
			}
		},
	})
	ctx := ctxT(t)
	// Ada types "ab" at 10 and selects "9a".
	if err := a.EditSelect(insertAt(t, 10, 10, "ab"), ot.Selection{{Anchor: 9, Head: 11}}); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitRevision(ctx, 1); err != nil {
		t.Fatal(err)
	}
	sel := func() ot.Selection {
		for _, p := range b.Peers() {
			if p.Client == a.ClientID() {
				return p.Sel
			}
		}
		return nil
	}
	if got := sel(); len(got) != 1 || got[0] != (ot.Range{Anchor: 9, Head: 11}) {
		t.Fatalf("Ada's selection as Grace has it after the op: %v, want 9..11", got)
	}
	mu.Lock()
	got := strings.Join(events, "; ")
	mu.Unlock()
	// The op's selection is reported right after the op. Ada's join may
	// still be due its presence flush (every 50 ms), which then repeats the
	// same selection: allowed, as long as nothing else follows.
	if !strings.Contains(got, "op 1; presence 1 [{9 11}]") || !strings.HasSuffix(got, "presence 1 [{9 11}]") {
		t.Fatalf("Grace's callbacks: %s", got)
	}
	// Grace's own unacknowledged edit moves Ada's selection in her text.
	if err := b.Edit(insertAt(t, 12, 0, "G")); err != nil {
		t.Fatal(err)
	}
	if got := sel(); len(got) != 1 || got[0] != (ot.Range{Anchor: 10, Head: 12}) {
		t.Fatalf("Ada's selection in Grace's text after her edit: %v, want 10..12", got)
	}
	converged(t, url, a, b)
}

// TestOfflineEditsAreKept edits while disconnected, then reconnects with a
// catch-up: nothing is lost, nothing doubled.
func TestOfflineEditsAreKept(t *testing.T) {
	ts := newTestServer(t, server.Limits{})
	url := ts.newNote(t, "")
	a := dial(t, url, client.Options{Name: "Ada"})
	b := dial(t, url, client.Options{Name: "Grace"})
	if err := a.Edit(insertAt(t, 0, 0, "<a0>")); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitSynced(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	a.Drop()
	if err := a.WaitStatus(ctxT(t), client.Disconnected); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if err := a.Edit(insertAt(t, a.Len(), a.Len(), fmt.Sprintf("<a%d>", i))); err != nil {
			t.Fatal(err)
		}
		if err := b.Edit(insertAt(t, b.Len(), 0, fmt.Sprintf("<b%d>", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.WaitSynced(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := a.Reconnect(ctxT(t), ""); err != nil {
		t.Fatal(err)
	}
	text := converged(t, url, a, b)
	for i := 0; i <= 5; i++ {
		for _, tok := range []string{fmt.Sprintf("<a%d>", i), fmt.Sprintf("<b%d>", i)} {
			if tok == "<b0>" {
				continue
			}
			if n := strings.Count(text, tok); n != 1 {
				t.Errorf("%s appears %d times in %q", tok, n, text)
			}
		}
	}
}

// TestDropMidFlight drops the connection right after sending, again and
// again: sometimes the op was committed and its ack lost, sometimes it never
// arrived. After each automatic reconnect every token is in the text exactly
// once.
func TestDropMidFlight(t *testing.T) {
	ts := newTestServer(t, server.Limits{OpsPerSecond: 10000})
	url := ts.newNote(t, "")
	var errs atomic.Int64
	a := dial(t, url, client.Options{Name: "Ada", AutoReconnect: true})
	b := dial(t, url, client.Options{Name: "Grace", OnError: func(error) { errs.Add(1) }})
	const rounds = 25
	for i := 0; i < rounds; i++ {
		if err := a.Edit(insertAt(t, a.Len(), a.Len(), fmt.Sprintf("<%d>", i))); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if err := b.Edit(insertAt(t, b.Len(), 0, fmt.Sprintf("{%d}", i))); err != nil {
				t.Fatal(err)
			}
		}
		if i%2 == 0 {
			time.Sleep(time.Duration(i%5) * time.Millisecond)
		}
		a.Drop()
		if err := a.WaitStatus(ctxT(t), client.Connected); err != nil {
			t.Fatal(err)
		}
	}
	text := converged(t, url, a, b)
	for i := 0; i < rounds; i++ {
		if n := strings.Count(text, fmt.Sprintf("<%d>", i)); n != 1 {
			t.Errorf("<%d> appears %d times in %q", i, n, text)
		}
		if i%3 == 0 {
			if n := strings.Count(text, fmt.Sprintf("{%d}", i)); n != 1 {
				t.Errorf("{%d} appears %d times in %q", i, n, text)
			}
		}
	}
	if errs.Load() != 0 {
		t.Errorf("the peer saw %d errors", errs.Load())
	}
}

// errorLog collects a client's server errors and resyncs.
type errorLog struct {
	mu         sync.Mutex
	serverErrs []*client.ServerError
	resyncs    []*client.ResyncError
}

func (l *errorLog) onError(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var se *client.ServerError
	var re *client.ResyncError
	switch {
	case errors.As(err, &se):
		l.serverErrs = append(l.serverErrs, se)
	case errors.As(err, &re):
		l.resyncs = append(l.resyncs, re)
	}
}

// TestRateLimitedOpIsResent makes the server refuse ops for their rate: the
// client keeps each refused op and resends it with the same seq after a
// pause, so every edit lands exactly once.
func TestRateLimitedOpIsResent(t *testing.T) {
	// One op a second, a burst of one: each edit goes out as soon as the
	// one before is acknowledged, so the second finds the bucket empty, and
	// so does every later one (the resend of the one before took the token
	// that came back). How fast the machine is does not matter, as long as
	// an ack takes less than a second.
	ts := newTestServer(t, server.Limits{OpsPerSecond: 1})
	url := ts.newNote(t, "")
	var log errorLog
	a := dial(t, url, client.Options{AutoReconnect: true, OnError: log.onError})
	const edits = 4
	for i := 0; i < edits; i++ {
		if err := a.Edit(insertAt(t, a.Len(), a.Len(), fmt.Sprintf("<%d>", i))); err != nil {
			t.Fatal(err)
		}
		if err := a.WaitSynced(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	text := converged(t, url, a)
	for i := 0; i < edits; i++ {
		if n := strings.Count(text, fmt.Sprintf("<%d>", i)); n != 1 {
			t.Errorf("<%d> appears %d times in %q", i, n, text)
		}
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.serverErrs) == 0 || log.serverErrs[0].Code != scribe.ERATELIMIT || !log.serverErrs[0].HasSeq {
		t.Fatalf("server errors %+v, want an ERATELIMIT for an op", log.serverErrs)
	}
	if len(log.resyncs) != 0 {
		t.Fatalf("rate-limited edits were discarded: %+v", log.resyncs)
	}
}

// TestRefusedOpResyncs makes the server refuse an op for good (the note
// would exceed its size limit): the client reports it, discards the refused
// edits, reloads, and agrees with the server again.
func TestRefusedOpResyncs(t *testing.T) {
	ts := newTestServer(t, server.Limits{MaxNoteBytes: 40})
	url := ts.newNote(t, "")
	var log errorLog
	a := dial(t, url, client.Options{AutoReconnect: true, OnError: log.onError})
	if err := a.Edit(insertAt(t, 0, 0, "fits")); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitSynced(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := a.Edit(insertAt(t, 4, 4, strings.Repeat("too long ", 10))); err != nil {
		t.Fatal(err)
	}
	if err := a.Edit(insertAt(t, a.Len(), 0, ">")); err != nil { // buffered behind the refused op
		t.Fatal(err)
	}
	if text := converged(t, url, a); text != "fits" {
		t.Fatalf("text %q after the refusal, want %q", text, "fits")
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.serverErrs) == 0 || log.serverErrs[0].Code != scribe.ETOOLARGE || !log.serverErrs[0].HasSeq {
		t.Fatalf("server errors %+v, want an ETOOLARGE for an op", log.serverErrs)
	}
	if len(log.resyncs) != 1 {
		t.Fatalf("%d ResyncErrors, want 1 for the discarded edits", len(log.resyncs))
	}
}

func TestClose(t *testing.T) {
	ts := newTestServer(t, server.Limits{})
	url := ts.newNote(t, "x")
	a := dial(t, url, client.Options{AutoReconnect: true})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Edit(insertAt(t, 1, 0, "y")); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("edit after close: %v, want ErrClosed", err)
	}
	if err := a.WaitSynced(ctxT(t)); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("wait after close: %v, want ErrClosed", err)
	}
	if a.Status() != client.Closed {
		t.Fatalf("status %v", a.Status())
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// TestReloadWhenAheadOfServer restores a note from an older copy of the
// store while a client is away: the client's revision is now ahead of the
// server's, the server refuses its catch-up, and the next connection
// reloads the note instead of trying the catch-up forever.
func TestReloadWhenAheadOfServer(t *testing.T) {
	ctx := ctxT(t)
	dir1, dir2 := t.TempDir(), t.TempDir()
	// start serves the store in dir and returns the note's URL base and a stop function.
	start := func(dir string) (string, func()) {
		s := servertest.Start(t, server.Config{Store: servertest.OpenBolt(t, dir)})
		return s.URL, s.Close
	}
	base1, stop1 := start(dir1)
	id := createNoteHTTP(t, base1)
	a := dial(t, client.NoteURL(base1, id), client.Options{})
	for i := 0; i < 2; i++ {
		if err := a.Edit(insertAt(t, a.Len(), a.Len(), "x")); err != nil {
			t.Fatal(err)
		}
		if err := a.WaitSynced(ctx); err != nil {
			t.Fatal(err)
		}
	}
	atTwo := a.Text()
	stop1()
	copyFile(t, filepath.Join(dir1, bolt.FileName), filepath.Join(dir2, bolt.FileName)) // the "backup" at revision 2
	base1b, stop1b := start(dir1)
	defer stop1b()
	if err := a.Reconnect(ctx, client.NoteURL(base1b, id)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := a.Edit(insertAt(t, a.Len(), a.Len(), "y")); err != nil {
			t.Fatal(err)
		}
		if err := a.WaitSynced(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if a.Revision() != 4 {
		t.Fatalf("revision %d, want 4", a.Revision())
	}
	base2, stop2 := start(dir2)
	defer stop2()
	err := a.Reconnect(ctx, client.NoteURL(base2, id))
	if scribe.ErrorCode(err) != scribe.EINVALID {
		t.Fatalf("reconnect with a revision ahead of the server: %v, want EINVALID", err)
	}
	if err := a.Reconnect(ctx, client.NoteURL(base2, id)); err != nil {
		t.Fatalf("second reconnect: %v", err)
	}
	if a.Revision() != 2 || a.Text() != atTwo {
		t.Fatalf("after reload: revision %d text %q, want 2 and %q", a.Revision(), a.Text(), atTwo)
	}
}

func createNoteHTTP(t *testing.T, base string) scribe.NoteID {
	t.Helper()
	resp, err := http.Post(base+"/api/notes", "application/json", strings.NewReader(`{"title":"T"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		ID scribe.NoteID `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || !v.ID.Valid() {
		t.Fatalf("create a note: %v %q", err, v.ID)
	}
	return v.ID
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
