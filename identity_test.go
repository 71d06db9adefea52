package scribe_test

import (
	"os"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
)

// TestSecurityTable keeps docs/security.md's table "who can do what" equal
// to Role.Can: one row per action, one column per role, "no" for no.
func TestSecurityTable(t *testing.T) {
	b, err := os.ReadFile("docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[scribe.Action][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		name, _, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(cells[0]), "`"), "`")
		if !ok || len(cells) != 1+len(scribe.Roles) {
			continue
		}
		rows[scribe.Action(name)] = cells[1:]
	}
	for _, a := range scribe.Actions {
		cells, ok := rows[a]
		if !ok {
			t.Errorf("docs/security.md has no row for %q", a)
			continue
		}
		for i, r := range scribe.Roles {
			cell := strings.TrimSpace(cells[i])
			doc := !strings.HasPrefix(cell, "no")
			if doc != r.Can(a) {
				t.Errorf("%s may %s: docs say %q, Role.Can says %v", r, a, cell, r.Can(a))
			}
		}
	}
	if len(rows) != len(scribe.Actions) {
		t.Errorf("docs/security.md has %d action rows, scribe.Actions %d", len(rows), len(scribe.Actions))
	}
}

func TestPerson(t *testing.T) {
	for _, tc := range []struct {
		p            scribe.Person
		known, fixed bool
	}{
		{scribe.Person{}, false, false},
		{scribe.Person{Name: "Quiet Otter", Via: scribe.ViaGuest}, false, false},
		{scribe.Person{Email: "a@example.com", Via: scribe.ViaSignIn}, true, true},
		{scribe.Person{Email: "a@example.com", Via: scribe.ViaProxy}, true, true},
		{scribe.Person{Email: "a@example.com", Via: scribe.ViaToken}, true, true},
		{scribe.Person{Name: "Local user", Via: scribe.ViaLocal}, true, false},
	} {
		if tc.p.Known() != tc.known {
			t.Errorf("%+v.Known() = %v", tc.p, !tc.known)
		}
		if tc.p.NameFixed() != tc.fixed {
			t.Errorf("%+v.NameFixed() = %v", tc.p, !tc.fixed)
		}
	}
	if scribe.Stranger.Can(scribe.ActWatch) || !scribe.Viewer.Can(scribe.ActWatch) || scribe.Viewer.Can(scribe.ActEdit) || scribe.Guest.Can(scribe.ActList) {
		t.Errorf("the role table lost its shape")
	}
}
