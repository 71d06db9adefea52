package redis

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/redis/proxytest"
)

// TestLateAppendReplyIsNotRetried: Redis runs an append but its answer
// comes after the read timeout. go-redis retried such a read (MaxRetries),
// sending the script again; the second run found the head moved by the
// first and answered ECONFLICT, so Append reported a committed batch as
// refused ("nothing is written", says scribe.Store), skipped the change
// feed and the snapshot, and a caller that trusts ECONFLICT would have
// transformed its op over its own first copy. Now the script is sent once:
// Append fails with EUNAVAILABLE (the outcome is unknown), the batch is in
// the log once, and a resend of the same (Session, Seq) at the head gets
// the revision it has and writes nothing.
func TestLateAppendReplyIsNotRetried(t *testing.T) {
	s, p := lateStore(t)
	ctx := context.Background()
	n := mustCreate(t, s, "abc")
	// A first append loads the script into Redis and the text into the
	// store's cache, so the held append is one EVALSHA.
	if _, err := s.Append(ctx, n.ID, 0, []scribe.Change{{Op: op(t, 3, "d"), Session: "warm", Seq: 1, Author: "Ada"}}); err != nil {
		t.Fatal(err)
	}

	ada := scribe.Change{Op: op(t, 4, "!"), Session: "ada", Seq: 1, Author: "Ada"}
	p.Arm(appendScript.Hash())
	type result struct {
		revs []scribe.Revision
		err  error
	}
	res := make(chan result, 1)
	go func() {
		revs, err := s.Append(ctx, n.ID, 1, []scribe.Change{ada})
		res <- result{revs, err}
	}()
	<-p.Seen() // Redis has the script; its answer is held
	r := <-res
	p.Release()

	if r.err == nil {
		if len(r.revs) != 1 || r.revs[0] != 2 {
			t.Fatalf("Append answered %v, want [2]", r.revs)
		}
	} else if code := scribe.ErrorCode(r.err); code != scribe.EUNAVAILABLE {
		t.Fatalf("Append whose answer came late: %v (code %s), want EUNAVAILABLE (the outcome is unknown) or success; it is committed", r.err, code)
	}
	checkOnce := func(when string) {
		t.Helper()
		cs, err := s.Changes(ctx, n.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		count := 0
		for _, c := range cs {
			if c.Session == ada.Session && c.Seq == ada.Seq {
				count++
			}
		}
		d, err := s.LoadNote(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if count != 1 || d.Revision != 2 || d.Text != "abcd!" {
			t.Fatalf("%s: the log has ada's change %d times, the note is %q at revision %d; want once, \"abcd!\" at 2", when, count, d.Text, d.Revision)
		}
	}
	checkOnce("after the late answer")
	// The caller resends at the head it now reads: the dedup answers.
	revs, err := s.Append(ctx, n.ID, 2, []scribe.Change{ada})
	if err != nil || len(revs) != 1 || revs[0] != 2 {
		t.Fatalf("resend: %v, %v; want [2]", revs, err)
	}
	checkOnce("after the resend")
}

// lateStore opens a store through a proxy that can hold Redis's answers,
// with a read timeout of 300 ms (a held answer is a read beyond it) and a
// call timeout far beyond that, so that the read timeout, not the call's
// deadline, ends the wait, as with the defaults (1 s and 1.5 s) on a Redis
// that answers after 1 s.
func lateStore(t *testing.T) (*Store, *proxytest.Proxy) {
	t.Helper()
	u, err := url.Parse(standaloneURL)
	if err != nil {
		t.Fatal(err)
	}
	p := proxytest.Start(t, u.Host)
	pu := *u
	pu.Host = p.Addr()
	q := pu.Query()
	q.Set("read_timeout", "300ms")
	pu.RawQuery = q.Encode()
	prefix := randomPrefix()
	t.Cleanup(func() { deletePrefix(t, standaloneURL, prefix) })
	return openStoreAt(t, pu.String(), Options{Prefix: prefix, CallTimeout: time.Minute}), p
}

// TestLateCreateReplyIsIdempotent: Redis creates a note but its answer is
// late; go-redis sends create.lua again, which found the note there and
// answered EEXISTS, so CreateNote failed (an internal error to the person)
// and left a note nobody was told of. The second run of the same call now
// answers as the first did: CreateNote succeeds, once, and the note is
// listed once.
func TestLateCreateReplyIsIdempotent(t *testing.T) {
	s, p := lateStore(t)
	ctx := context.Background()
	mustCreate(t, s, "warm") // loads the script: the held create is one EVALSHA
	p.Arm(createScript.Hash())
	type result struct {
		n   scribe.Note
		err error
	}
	res := make(chan result, 1)
	go func() {
		n, err := s.CreateNote(ctx, scribe.NewNote{Title: "Late", Text: "abc"})
		res <- result{n, err}
	}()
	<-p.Seen() // Redis has the script; its answer is held
	r := <-res
	p.Release()
	if r.err != nil {
		t.Fatalf("CreateNote whose answer came late: %v (code %s); the note is created", r.err, scribe.ErrorCode(r.err))
	}
	d, err := s.LoadNote(ctx, r.n.ID)
	if err != nil || d.Text != "abc" || d.Revision != 0 {
		t.Fatalf("LoadNote: %+v, %v; want \"abc\" at 0", d, err)
	}
	list, err := s.ListNotes(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	late := 0
	for _, n := range list {
		if n.Title == "Late" {
			late++
		}
	}
	if late != 1 || len(list) != 2 {
		t.Fatalf("the list has %d notes, %d of them the late one; want 2 and 1", len(list), late)
	}
}

// TestLateDeleteReplyFinishes: Redis deletes a note but its answer is
// late; go-redis sends delete.lua again, which found no note and answered
// ENOTFOUND, so DeleteNote failed with "not found" and skipped the rest:
// the note's entry in the note list (a ghost that lists and opens as not
// found) and the feed event that takes it out of search. Now a note gone
// by then is deleted: DeleteNote succeeds and the list forgets it.
func TestLateDeleteReplyFinishes(t *testing.T) {
	s, p := lateStore(t)
	ctx := context.Background()
	warm := mustCreate(t, s, "warm")
	if err := s.DeleteNote(ctx, warm.ID); err != nil { // loads the script
		t.Fatal(err)
	}
	n := mustCreate(t, s, "abc")
	p.Arm(deleteScript.Hash())
	res := make(chan error, 1)
	go func() { res <- s.DeleteNote(ctx, n.ID) }()
	<-p.Seen()
	err := <-res
	p.Release()
	if err != nil {
		t.Fatalf("DeleteNote whose answer came late: %v (code %s); the note is deleted", err, scribe.ErrorCode(err))
	}
	if _, err := s.GetNote(ctx, n.ID); scribe.ErrorCode(err) != scribe.ENOTFOUND {
		t.Fatalf("GetNote after the delete: %v, want ENOTFOUND", err)
	}
	list, err := s.ListNotes(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Fatalf("the list after the delete: %d notes, want none", len(list))
	}
}
