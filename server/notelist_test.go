package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/store/redis/redistest"
)

// TestDeleteNoteOnTwoNodes: two nodes over one Redis prefix, each with its
// own search index. A note is open for editing on node B and through its
// read-only link on node A; deleting it on A closes both connections with
// 4404, makes the note, its text and its link 404 on both nodes, and both
// indexes stop finding it.
func TestDeleteNoteOnTwoNodes(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t, "deletenote")
	a, _ := startSearchNodeOn(t, redistest.Open(t, prefix))
	b, _ := startSearchNodeOn(t, redistest.Open(t, prefix))
	id := a.createNote("Retention review", "blank")
	if code, _ := a.do("POST", "/api/notes/"+string(id)+"/append", map[string]string{"text": "We chose the wombat plan.\n"}, nil); code != http.StatusOK {
		t.Fatalf("append: %d", code)
	}
	var share struct{ Token scribe.Token }
	if code, _ := a.do("POST", "/api/notes/"+string(id)+"/shares", nil, &share); code != http.StatusCreated {
		t.Fatalf("make a link: %d", code)
	}
	for _, n := range []*testNode{a, b} {
		searchUntil(t, n, "wombat", id, false)
	}
	editor := dial(t, wsURL(b.url, "/api/notes/"+string(id)+"/ws"), nil)
	editor.hello(newSession(), "Bob", nil)
	viewer := dial(t, wsURL(a.url, "/api/shares/"+string(share.Token)+"/ws"), nil)
	viewer.hello(newSession(), "Eve", nil)

	code, hdr, body := request(t, "DELETE", a.url+"/api/notes/"+string(id), "", "", nil)
	if code != http.StatusNoContent {
		t.Fatalf("delete: %d %v %s", code, hdr, body)
	}
	for name, c := range map[string]*wsClient{"editor on B": editor, "viewer on A": viewer} {
		if got := c.waitClose(); got != protocol.CloseNotFound {
			t.Errorf("%s closed with %d, want %d", name, got, protocol.CloseNotFound)
		}
	}
	for _, n := range []*testNode{a, b} {
		for _, path := range []string{"/api/notes/" + string(id), "/api/notes/" + string(id) + "/text", "/api/shares/" + string(share.Token), "/n/" + string(id)} {
			if code, _, _ := request(t, "GET", n.url+path, "", "", nil); code != http.StatusNotFound {
				t.Errorf("GET %s after delete: %d, want 404", path, code)
			}
		}
		searchUntil(t, n, "wombat", id, true)
	}
	if code, _, _ := request(t, "DELETE", b.url+"/api/notes/"+string(id), "", "", nil); code != http.StatusNotFound {
		t.Errorf("a second delete: %d, want 404", code)
	}
}

// TestListNotesPaged: GET /api/notes pages by cursor to the very first
// note, filters by template, series and date, hides archived notes unless
// asked, and refuses bad parameters.
func TestListNotesPaged(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	var ids []scribe.NoteID
	for i := range 7 {
		body := map[string]string{"title": "sync", "template": "meeting"}
		if i%2 == 0 {
			body["series"] = "Platform weekly"
		}
		var n noteResp
		if code, _ := node.do("POST", "/api/notes", body, &n); code != http.StatusCreated {
			t.Fatalf("create: %d", code)
		}
		ids = append(ids, n.ID)
	}
	type page struct {
		Notes []noteResp
		Next  string
	}
	list := func(query string) []scribe.NoteID {
		t.Helper()
		var got []scribe.NoteID
		after := ""
		for range 10 {
			var p page
			if code, _ := node.do("GET", "/api/notes?"+query+"&after="+url.QueryEscape(after), nil, &p); code != http.StatusOK {
				t.Fatalf("list %s: %d", query, code)
			}
			for _, n := range p.Notes {
				got = append(got, n.ID)
			}
			if after = p.Next; after == "" {
				return got
			}
		}
		t.Fatalf("list %s does not end", query)
		return nil
	}
	all := list("limit=3")
	if len(all) != 7 || all[0] != ids[6] || all[6] != ids[0] {
		t.Fatalf("paged list = %v, want the 7 notes newest first", all)
	}
	if got := list("limit=2&series=" + url.QueryEscape("Platform weekly")); len(got) != 4 {
		t.Errorf("series filter: %d notes, want 4", len(got))
	}
	if got := list("limit=5&template=blank"); len(got) != 0 {
		t.Errorf("template filter: %d notes, want 0", len(got))
	}
	if got := list("limit=5&from=2000-01-01&to=2000-01-02"); len(got) != 0 {
		t.Errorf("date filter: %d notes, want 0", len(got))
	}
	if code, _ := node.do("PATCH", "/api/notes/"+string(ids[3]), map[string]bool{"archived": true}, nil); code != http.StatusOK {
		t.Fatalf("archive: %d", code)
	}
	if got := list("limit=10"); len(got) != 6 {
		t.Errorf("with one archived the list holds %d notes", len(got))
	}
	if got := list("limit=10&archived=1"); len(got) != 1 || got[0] != ids[3] {
		t.Errorf("archived view = %v", got)
	}
	for _, q := range []string{"limit=0", "limit=101", "after=zz", "archived=maybe", "from=2026-02-01&to=2026-01-01", "from=yesterday"} {
		code, hdr, body := request(t, "GET", node.url+"/api/notes?"+q, "", "", nil)
		if c, _ := errorOf(t, hdr, body); code != 400 || c != scribe.EINVALID {
			t.Errorf("list %s: %d %s", q, code, c)
		}
	}
}

// TestListNotesAttendees: two members who append through the API become
// the note's attendees (names, never emails); the person filter finds the
// note by either one's name, email or @handle and not by a third; a guest
// with the edit link does not see the attendees.
func TestListNotesAttendees(t *testing.T) {
	t.Parallel()
	node := startAccessNode(t, auth.Config{Mode: auth.ModeProxy, TrustedProxies: []string{"127.0.0.1/32"}, PublicURL: "https://notes.example.com"})
	id := node.guestOn
	ada := map[string]string{"X-Forwarded-Email": "ada@example.com", "X-Forwarded-User": "Ada Lovelace"}
	bob := map[string]string{"X-Forwarded-Email": "bob@example.com", "X-Forwarded-User": "Bob"}
	for _, who := range []map[string]string{ada, bob, ada} {
		if code, _, body := request(t, "POST", node.srv.URL+"/api/notes/"+string(id)+"/append", "application/json", `{"text":"hello"}`, who); code != http.StatusOK {
			t.Fatalf("append: %d %s", code, body)
		}
	}
	list := func(person string) ([]string, string) {
		t.Helper()
		code, _, body := request(t, "GET", node.srv.URL+"/api/notes?person="+url.QueryEscape(person), "", "", ada)
		if code != http.StatusOK {
			t.Fatalf("list person=%q: %d %s", person, code, body)
		}
		var p struct {
			Notes []struct {
				ID        scribe.NoteID
				Attendees []struct{ Key, Name string }
			}
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, n := range p.Notes {
			if n.ID != id {
				t.Errorf("person %q lists note %s", person, n.ID)
			}
			for _, a := range n.Attendees {
				names = append(names, a.Name)
			}
		}
		return names, string(body)
	}
	for _, person := range []string{"Ada Lovelace", "ada", "@bob", "BOB@example.com"} {
		names, body := list(person)
		if !slices.Equal(names, []string{"Ada Lovelace", "Bob"}) {
			t.Errorf("person %q: attendees %v, want Ada Lovelace and Bob", person, names)
		}
		if strings.Contains(body, "@example.com") {
			t.Errorf("the list shows an email: %s", body)
		}
	}
	if names, _ := list("carol"); names != nil {
		t.Errorf("person carol: %v, want no note", names)
	}
	code, _, body := request(t, "GET", node.srv.URL+"/api/notes?person="+strings.Repeat("x", scribe.MaxEmail+1), "", "", ada)
	if c, _ := errorOf(t, http.Header{"Content-Type": {"application/json"}}, body); code != http.StatusBadRequest || c != scribe.EINVALID {
		t.Errorf("a too long person: %d %s", code, c)
	}
	// A guest holding the edit link reads the note, not who wrote in it.
	code, _, body = request(t, "GET", node.srv.URL+"/api/notes/"+string(id), "", "", nil)
	if code != http.StatusOK || strings.Contains(string(body), "attendees") || strings.Contains(string(body), "Lovelace") {
		t.Errorf("a guest's GET /api/notes/{id}: %d %s", code, body)
	}
	code, _, body = request(t, "GET", node.srv.URL+"/api/notes/"+string(id), "", "", bob)
	if code != http.StatusOK || !strings.Contains(string(body), `"name":"Ada Lovelace"`) {
		t.Errorf("a member's GET /api/notes/{id}: %d %s", code, body)
	}
}
