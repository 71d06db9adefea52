package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
	"github.com/scribe-notes/scribe/search"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/server/servertest"
)

// accessNode is a server in one sign-in mode, with a note whose guest
// editing is on and one whose guest editing is off.
type accessNode struct {
	srv               *servertest.Server
	auth              *auth.Auth
	guestOn, guestOff scribe.NoteID
}

func startAccessNode(t *testing.T, cfg auth.Config) *accessNode {
	t.Helper()
	store := newBoltStore(t)
	cfg.Tokens = store
	cfg.Logger = testLogger
	a, err := auth.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The matrix makes a read-only link per case on two notes and many
	// requests per person: the per-person limits (limits_test.go) are off.
	off := server.Limits{NotesPerMinute: -1, SharesPerMinute: -1, AppendsPerMinute: -1, MaxSharesPerNote: -1}
	idx, err := search.OpenBleve("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idx.Close() })
	s := servertest.Start(t, server.Config{Store: store, Auth: a, Logger: testLogger, Limits: off, Search: idx})
	n := &accessNode{srv: s, auth: a}
	for _, g := range []bool{true, false} {
		note, err := store.CreateNote(context.Background(), scribe.NewNote{Title: "Plans", Text: "secret plans\n", GuestEdit: g})
		if err != nil {
			t.Fatal(err)
		}
		if g {
			n.guestOn = note.ID
		} else {
			n.guestOff = note.ID
		}
	}
	return n
}

// state is everything a refused call must leave as it was: every note's
// title, text, guest setting and links, and the members' tokens.
func state(t *testing.T, st scribe.Store) string {
	t.Helper()
	ctx := context.Background()
	notes, err := st.ListNotes(ctx, 500)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	sort.Slice(notes, func(i, j int) bool { return notes[i].ID < notes[j].ID })
	for _, n := range notes {
		d, err := st.LoadNote(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		shares, _ := st.ListShares(ctx, n.ID)
		marks, _ := st.Checkpoints(ctx, n.ID, 0, scribe.MaxCheckpointPage)
		fmt.Fprintf(&b, "%d checkpoints ", len(marks))
		fmt.Fprintf(&b, "%s %q %q %v %d shares:", n.ID, d.Title, d.Text, d.GuestEdit, d.Revision)
		for _, sh := range shares {
			fmt.Fprintf(&b, " %s", sh.Token)
		}
		b.WriteString("\n")
	}
	for _, who := range []string{"ada@example.com", "bob@example.com"} {
		ts, _ := st.ListAPITokens(ctx, who)
		fmt.Fprintf(&b, "%s tokens %d\n", who, len(ts))
	}
	return b.String()
}

// principal is one kind of caller of the permission matrix.
type principal struct {
	name   string
	node   *accessNode
	header http.Header
	// note is the edit link the caller holds ("" for none: a viewer).
	note scribe.NoteID
	// server is the caller's server-wide role, onNote its role on note.
	server, onNote scribe.Role
}

func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	proxy := startAccessNode(t, auth.Config{Mode: auth.ModeProxy, TrustedProxies: []string{"127.0.0.1/32"}, PublicURL: "https://notes.example.com"})
	untrusted := startAccessNode(t, auth.Config{Mode: auth.ModeProxy, TrustedProxies: []string{"10.0.0.0/8"}, PublicURL: "https://notes.example.com"})
	local := startAccessNode(t, auth.Config{Mode: auth.ModeNone, LocalName: "Local Lu", LocalEmail: "lu@example.com"})

	ada := scribe.Person{Name: "Ada", Email: "ada@example.com", Via: scribe.ViaProxy}
	secret, _, err := proxy.auth.CreateToken(context.Background(), ada, "bot")
	if err != nil {
		t.Fatal(err)
	}
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	principals := []principal{
		{"stranger", proxy, h(), proxy.guestOff, scribe.Stranger, scribe.Stranger},
		{"viewer", proxy, h(), "", scribe.Stranger, scribe.Viewer},
		{"guest, guest editing on", proxy, h(), proxy.guestOn, scribe.Stranger, scribe.Guest},
		{"guest, guest editing off", proxy, h(), proxy.guestOff, scribe.Stranger, scribe.Stranger},
		{"member", proxy, h("X-Forwarded-Email", "ada@example.com", "X-Forwarded-User", "Ada"), proxy.guestOff, scribe.Member, scribe.Member},
		{"another member", proxy, h("X-Forwarded-Email", "bob@example.com"), proxy.guestOff, scribe.Member, scribe.Member},
		{"bot token", proxy, h("Authorization", "Bearer "+secret), proxy.guestOff, scribe.Member, scribe.Member},
		{"bad token", proxy, h("Authorization", "Bearer scribe_AAAAAAAAAAAAAAAAAAAAAAAAAA", "X-Forwarded-Email", "ada@example.com"), proxy.guestOff, scribe.Stranger, scribe.Stranger},
		{"proxy header, untrusted peer", untrusted, h("X-Forwarded-Email", "ada@example.com"), untrusted.guestOff, scribe.Stranger, scribe.Stranger},
		{"local", local, h(), local.guestOff, scribe.Local, scribe.Local},
		{"local mode through a proxy", local, h("X-Forwarded-For", "203.0.113.9"), local.guestOff, scribe.Stranger, scribe.Stranger},
		{"local mode through a proxy, guest editing on", local, h("X-Forwarded-For", "203.0.113.9"), local.guestOn, scribe.Stranger, scribe.Guest},
	}

	type route struct {
		name   string
		action scribe.Action
		// onNote: the action is on the caller's note (else server-wide).
		onNote bool
		method string
		path   func(id scribe.NoteID, tok scribe.Token) string
		body   string
		ws     bool
	}
	noteP := func(suffix string) func(scribe.NoteID, scribe.Token) string {
		return func(id scribe.NoteID, _ scribe.Token) string { return "/api/notes/" + string(id) + suffix }
	}
	routes := []route{
		{"list", scribe.ActList, false, "GET", func(scribe.NoteID, scribe.Token) string { return "/api/notes" }, "", false},
		{"search", scribe.ActList, false, "GET", func(scribe.NoteID, scribe.Token) string { return "/api/search?q=plans" }, "", false},
		{"create", scribe.ActCreate, false, "POST", func(scribe.NoteID, scribe.Token) string { return "/api/notes" }, `{"title":"x"}`, false},
		{"metadata", scribe.ActEdit, true, "GET", noteP(""), "", false},
		{"text", scribe.ActEdit, true, "GET", noteP("/text"), "", false},
		{"download", scribe.ActEdit, true, "GET", noteP("/download.md"), "", false},
		{"append", scribe.ActEdit, true, "POST", noteP("/append"), `{"text":"more\n"}`, false},
		{"export", scribe.ActExport, true, "POST", noteP("/export"), `{"author":"Mallory"}`, false},
		{"make link", scribe.ActShare, true, "POST", noteP("/shares"), `{"label":"l"}`, false},
		{"list links", scribe.ActShare, true, "GET", noteP("/shares"), "", false},
		{"revisions", scribe.ActHistory, true, "GET", noteP("/revisions"), "", false},
		{"text at a revision", scribe.ActHistory, true, "GET", noteP("/text?rev=0"), "", false},
		{"diff", scribe.ActHistory, true, "GET", noteP("/diff?from=0"), "", false},
		{"authors", scribe.ActHistory, true, "GET", noteP("/authors?rev=0"), "", false},
		{"name a checkpoint", scribe.ActHistory, true, "POST", noteP("/checkpoints"), `{"name":"n"}`, false},
		{"restore", scribe.ActHistory, true, "POST", noteP("/restore"), `{"rev":0}`, false},
		{"revoke", scribe.ActShare, true, "DELETE", func(id scribe.NoteID, tok scribe.Token) string {
			return "/api/notes/" + string(id) + "/shares/" + string(tok)
		}, "", false},
		{"rename", scribe.ActRename, true, "PATCH", noteP(""), `{"title":"Renamed"}`, false},
		{"guest editing", scribe.ActShare, true, "PATCH", noteP(""), `{"guestEdit":true}`, false},
		{"list tokens", scribe.ActManageToken, false, "GET", func(scribe.NoteID, scribe.Token) string { return "/api/tokens" }, "", false},
		{"create token", scribe.ActManageToken, false, "POST", func(scribe.NoteID, scribe.Token) string { return "/api/tokens" }, `{"label":"t"}`, false},
		{"editor page", scribe.ActEdit, true, "GET", func(id scribe.NoteID, _ scribe.Token) string { return "/n/" + string(id) }, "", false},
		{"history page", scribe.ActHistory, true, "GET", func(id scribe.NoteID, _ scribe.Token) string { return "/n/" + string(id) + "/history" }, "", false},
		{"ws edit", scribe.ActEdit, true, "GET", noteP("/ws"), "", true},
		{"link info", scribe.ActWatch, true, "GET", func(_ scribe.NoteID, tok scribe.Token) string { return "/api/shares/" + string(tok) }, "", false},
		{"link text", scribe.ActWatch, true, "GET", func(_ scribe.NoteID, tok scribe.Token) string { return "/api/shares/" + string(tok) + "/text" }, "", false},
		{"read-only page", scribe.ActWatch, true, "GET", func(_ scribe.NoteID, tok scribe.Token) string { return "/s/" + string(tok) }, "", false},
		{"ws read-only", scribe.ActWatch, true, "GET", func(_ scribe.NoteID, tok scribe.Token) string { return "/api/shares/" + string(tok) + "/ws" }, "", true},
	}

	for _, p := range principals {
		for _, rt := range routes {
			st := p.node.srv.Store
			// Every case gets a fresh read-only link of the note (the one a
			// viewer holds).
			note := p.note
			if note == "" {
				note = p.node.guestOff
			}
			sh, err := st.CreateShare(context.Background(), note)
			if err != nil {
				t.Fatal(err)
			}
			role := p.server
			if rt.onNote {
				role = p.onNote
			}
			if rt.action == scribe.ActWatch && role != scribe.Member && role != scribe.Local {
				role = scribe.Viewer // anyone holding the read-only link
			}
			want := role.Can(rt.action)
			if rt.name == "create token" && p.header.Get("Authorization") != "" {
				want = false // a token cannot make tokens (docs/security.md, footnote 1)
			}
			id := p.note
			if id == "" && rt.onNote && rt.action != scribe.ActWatch {
				// A viewer holds no edit id: the best it can do is guess one.
				id = scribe.NewNoteID()
				want = false
			}
			before := state(t, st)
			code := call(t, p.node.srv.URL, rt.method, rt.path(id, sh.Token), rt.body, p.header, rt.ws)
			ok := code/100 == 2 || code == http.StatusSwitchingProtocols ||
				(rt.name == "export" && code == http.StatusServiceUnavailable) // allowed, but no exporter is configured
			if ok != want {
				t.Errorf("%s × %s: %d, want allowed=%v (role %s)", p.name, rt.name, code, want, role)
			}
			if !ok {
				if after := state(t, st); after != before {
					t.Errorf("%s × %s: refused (%d) but changed the store:\n%s\nwas\n%s", p.name, rt.name, code, after, before)
				}
			}
			// Undo what an allowed "guest editing" did, for the next cases.
			on, off := true, false
			_, _ = st.UpdateNote(context.Background(), p.node.guestOn, scribe.NoteUpdate{GuestEdit: &on})
			_, _ = st.UpdateNote(context.Background(), p.node.guestOff, scribe.NoteUpdate{GuestEdit: &off})
		}
	}
}

// call makes one request (or websocket dial) and returns its status.
func call(t *testing.T, base, method, path, body string, header http.Header, ws bool) int {
	t.Helper()
	if ws {
		conn, resp, err := websocket.DefaultDialer.Dial(wsURL(base, path), header)
		if err == nil {
			conn.Close()
			return http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatalf("dial %s: %v", path, err)
		}
		return resp.StatusCode
	}
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestDNSRebinding: a foreign Host with a matching Origin (what a
// rebinding page sends) is refused with 421 on the API, the pages and the
// websocket; a foreign Origin with our Host is refused too.
func TestDNSRebinding(t *testing.T) {
	t.Parallel()
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Plans", "blank")
	before := node.text(id)
	foreign := http.Header{"Origin": {"http://attacker.example"}}
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/notes", ""},
		{"GET", "/", ""},
		{"POST", "/api/notes/" + string(id) + "/append", `{"text":"pwned"}`},
		{"POST", "/api/notes", `{}`},
	} {
		req, _ := http.NewRequest(tc.method, node.url+tc.path, strings.NewReader(tc.body))
		req.Host = "attacker.example"
		req.Header = foreign.Clone()
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("%s %s with Host attacker.example: %d, want 421", tc.method, tc.path, resp.StatusCode)
		}
	}
	hdr := foreign.Clone()
	hdr.Set("Host", "attacker.example")
	if code := call(t, node.url, "GET", "/api/notes/"+string(id)+"/ws", "", hdr, true); code != http.StatusMisdirectedRequest {
		t.Errorf("websocket with Host attacker.example: %d, want 421", code)
	}
	// Our Host, a foreign Origin: the upgrade and the API refuse it.
	if code := call(t, node.url, "GET", "/api/notes/"+string(id)+"/ws", "", foreign, true); code != http.StatusForbidden {
		t.Errorf("websocket with Origin attacker.example: %d, want 403", code)
	}
	if code := call(t, node.url, "POST", "/api/notes/"+string(id)+"/append", `{"text":"pwned"}`, foreign, false); code != http.StatusForbidden {
		t.Errorf("append with Origin attacker.example: %d, want 403", code)
	}
	if node.text(id) != before {
		t.Fatal("a refused request changed the note")
	}
}

// TestMemberPresence: a member joins under the name sign-in gives (not the
// one the page sends) with a colour stable for them; a guest keeps the name
// it chose.
func TestMemberPresence(t *testing.T) {
	t.Parallel()
	n := startAccessNode(t, auth.Config{Mode: auth.ModeProxy, TrustedProxies: []string{"127.0.0.1/32"}, PublicURL: "https://notes.example.com"})
	ada := http.Header{"X-Forwarded-Email": {"ada@example.com"}, "X-Forwarded-User": {"Ada Lovelace"}}
	var colors, persons []string
	for _, id := range []scribe.NoteID{n.guestOff, n.guestOn} {
		c := dial(t, wsURL(n.srv.URL, "/api/notes/"+string(id)+"/ws"), ada)
		w := c.hello(newSession(), "Mallory", nil)
		if w.Name() != "Ada Lovelace" {
			t.Errorf("member joined as %q, want the name from sign-in", w.Name())
		}
		colors = append(colors, w.Color())
		persons = append(persons, w.Person)
	}
	if colors[0] == "" || colors[0] != colors[1] {
		t.Errorf("member colours %v, want one stable colour", colors)
	}
	// The person key is stable and is not the email.
	if persons[0] == "" || persons[0] != persons[1] || strings.Contains(persons[0], "ada") {
		t.Errorf("member person keys %v, want one stable key that hides the email", persons)
	}
	g := dial(t, wsURL(n.srv.URL, "/api/notes/"+string(n.guestOn)+"/ws"), nil)
	w := g.hello(newSession(), "Grace", nil)
	if w.Name() != "Grace" || w.Person != "" {
		t.Errorf("guest joined as %q with person key %q, want Grace and none", w.Name(), w.Person)
	}
	// The guest sees Ada with her key, and nothing of her email anywhere.
	if !strings.Contains(string(w.Peers), `"person":"`+persons[0]+`"`) || strings.Contains(string(w.Peers), "example.com") {
		t.Errorf("guest's welcome peers: %s", w.Peers)
	}
}
