package bolt_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/storetest"
)

// crashEnv names the data directory a re-executed test binary appends to
// until it is killed (see TestMain and TestKillDuringAppends).
const crashEnv = "SCRIBE_BOLT_CRASH_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		if err := crashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild creates a note and appends to it forever, printing each
// revision once Append has returned it.
func crashChild(dir string) error {
	ctx := context.Background()
	s := bolt.New(dir, bolt.Options{})
	if err := s.Open(ctx); err != nil {
		return err
	}
	n, err := s.CreateNote(ctx, scribe.NewNote{Title: "crash", Text: ""})
	if err != nil {
		return err
	}
	fmt.Printf("note %s\n", n.ID)
	doc := ""
	for rev := scribe.Revision(0); ; rev++ {
		// Batches of 1 to 3, so the kill can land inside a group too.
		size := int(rev%3) + 1
		batch := make([]scribe.Change, size)
		for i := range batch {
			op := storetest.EditOp(doc, storetest.Len(doc), 0, "x")
			batch[i] = storetest.ChangeOf("child", uint64(rev)+uint64(i)+1, op)
			doc += "x"
		}
		revs, err := s.Append(ctx, n.ID, rev, batch)
		if err != nil {
			return err
		}
		rev = revs[len(revs)-1] - 1
		fmt.Printf("rev %d\n", revs[len(revs)-1])
	}
}

// TestKillDuringAppends kills a process that is appending (SIGKILL, no
// chance to close the file) and checks that every revision Append had
// returned is there, the log replays, and the file opens cleanly.
// A killed process keeps what the OS had been handed; power loss is what
// the fsync on each commit is for, and no test here can cut the power.
func TestKillDuringAppends(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var id scribe.NoteID
	var acked scribe.Revision
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "note" {
			id = scribe.NoteID(f[1])
		} else if len(f) == 2 && f[0] == "rev" {
			r, _ := strconv.Atoi(f[1])
			acked = scribe.Revision(r)
			if acked >= 300 {
				break
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if acked < 300 {
		t.Fatalf("the child stopped at revision %d: %v", acked, sc.Err())
	}
	s := open(t, dir)
	d, err := s.LoadNote(context.Background(), id)
	if err != nil {
		t.Fatalf("load after kill: %v", err)
	}
	if d.Revision < acked {
		t.Fatalf("after the kill the note is at revision %d; Append had returned %d", d.Revision, acked)
	}
	if d.Text != strings.Repeat("x", int(d.Revision)) {
		t.Errorf("after the kill the text at %d is %d characters", d.Revision, len(d.Text))
	}
	cs, err := s.Changes(context.Background(), id, 0, d.Revision)
	if err != nil || len(cs) != int(d.Revision) {
		t.Fatalf("log after kill: %d changes, %v", len(cs), err)
	}
	// The store takes appends again where the child stopped.
	if _, err := s.Append(context.Background(), id, d.Revision, []scribe.Change{
		storetest.ChangeOf("parent", 1, storetest.EditOp(d.Text, storetest.Len(d.Text), 0, "!")),
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed at acknowledged revision %d; the file held %d", acked, d.Revision)
}
