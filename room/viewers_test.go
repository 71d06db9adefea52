package room

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/scribe-notes/scribe/ot"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

// viewerTiming sends the viewer count at once and never re-checks tokens.
var viewerTiming = Timing{ViewerCount: time.Millisecond, RevokeCheck: time.Hour}

func isViewers(n int64) func(protocol.Msg) bool {
	return func(m protocol.Msg) bool { return m.Type == "viewers" && m.Viewers == n }
}

// welcomePeers returns the client ids in a welcome's peers.
func welcomePeers(t *testing.T, w protocol.Msg) []string {
	t.Helper()
	var peers []struct {
		Client string `json:"client"`
	}
	if err := json.Unmarshal(w.Peers, &peers); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range peers {
		ids = append(ids, p.Client)
	}
	return ids
}

// count is how many messages r has received.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// noneAbout fails when any of r's messages is a presence or leave about
// one of clients: viewers are counted, never announced.
func noneAbout(t *testing.T, r *member, clients ...string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		for _, c := range clients {
			if (m.Type == "presence" || m.Type == "leave") && m.Client == c {
				t.Errorf("%s got %s about viewer %s", r.info.Name, m.Type, c)
			}
		}
	}
}

// Read-only viewers are counted, not listed: a viewer's welcome lists the
// editors only and counts the viewers (itself too), the others get the new
// count instead of a presence when one joins and instead of a leave when
// one goes, and editors' presence and every op still reach the viewers.
func TestViewersCounted(t *testing.T) {
	t.Parallel()
	st := openBolt(t)
	id := createNote(t, st, "hello")
	sh, err := st.CreateShare(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	h := startHub(t, st, Config{Timing: viewerTiming})
	e := join(t, h, id, Info{Name: "Editor"})
	if w := e.msg(0); w.Viewers != 0 {
		t.Fatalf("editor's welcome counts %d viewers, want 0", w.Viewers)
	}
	v1 := join(t, h, id, Info{Name: "V1", ReadOnly: true, Token: sh.Token})
	e.waitFor(t, "a count of 1 viewer", 1, isViewers(1))
	v2 := join(t, h, id, Info{Name: "V2", ReadOnly: true, Token: sh.Token})
	w := v2.msg(0)
	if w.Viewers != 2 {
		t.Errorf("second viewer's welcome counts %d viewers, want 2", w.Viewers)
	}
	if peers := welcomePeers(t, w); len(peers) != 1 || peers[0] != e.info.Client {
		t.Errorf("second viewer's welcome lists %v, want only the editor %s", peers, e.info.Client)
	}
	v1.waitFor(t, "a count of 2 viewers", 1, isViewers(2))
	e.waitFor(t, "a count of 2 viewers", 1, isViewers(2))

	// The editor's presence and op reach every viewer.
	e.seat.Select(0, []ot.Range{{Anchor: 2, Head: 2}})
	for _, v := range []*member{v1, v2} {
		v.waitFor(t, "the editor's presence", 1, func(m protocol.Msg) bool { return m.Type == "presence" && m.Client == e.info.Client })
	}
	e.seat.Submit(1, 0, op(t, 5, "!"), nil, time.Now())
	for _, v := range []*member{v1, v2} {
		v.waitFor(t, "the editor's op", 1, func(m protocol.Msg) bool { return m.Type == "op" && m.Rev == 1 })
	}

	v1.seat.Leave()
	from := e.count()
	e.waitFor(t, "a count of 1 viewer", from, isViewers(1))
	noneAbout(t, e, v1.info.Client, v2.info.Client)
	noneAbout(t, v2, v1.info.Client)
}

// Viewers on another node are counted too, through a real Redis: an
// editor on node a hears the count of node b's viewers, a viewer joining
// node a counts them in its welcome, and a viewer leaving node b lowers
// the count on node a, without a presence or leave about any viewer.
func TestViewersCountedAcrossNodes(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "roomtest")
	sa, sb := redistest.Open(t, prefix), redistest.Open(t, prefix)
	a := startHub(t, sa, Config{Timing: viewerTiming})
	b := startHub(t, sb, Config{Timing: viewerTiming})
	id := createNote(t, sa, "hello")
	sh, err := sa.CreateShare(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	x := join(t, a, id, Info{Name: "Xavier"})
	v1 := join(t, b, id, Info{Name: "V1", ReadOnly: true, Token: sh.Token})
	v2 := join(t, b, id, Info{Name: "V2", ReadOnly: true, Token: sh.Token})
	x.waitFor(t, "a count of node b's 2 viewers", 1, isViewers(2))

	z := join(t, a, id, Info{Name: "Z", ReadOnly: true, Token: sh.Token})
	if w := z.msg(0); w.Viewers != 3 {
		t.Errorf("a viewer on node a counts %d viewers in its welcome, want 3", w.Viewers)
	}
	if peers := welcomePeers(t, z.msg(0)); len(peers) != 1 || peers[0] != x.info.Client {
		t.Errorf("welcome on node a lists %v, want only the editor %s", peers, x.info.Client)
	}
	x.waitFor(t, "a count of 3 viewers", 1, isViewers(3))
	v2.waitFor(t, "a count of 3 viewers", 1, isViewers(3))

	v1.seat.Leave()
	from := x.count()
	x.waitFor(t, "a count of 2 viewers", from, isViewers(2))
	noneAbout(t, x, v1.info.Client, v2.info.Client, z.info.Client)
	noneAbout(t, v2, v1.info.Client, z.info.Client)
}
