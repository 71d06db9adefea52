package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scribe-notes/scribe"
)

type nextResp struct {
	Note struct {
		ID     scribe.NoteID `json:"id"`
		Title  string        `json:"title"`
		Series string        `json:"series"`
	} `json:"note"`
	Carried int `json:"carried"`
	Marked  int `json:"marked"`
}

// TestSeriesCarriesOpenItems: three meetings of a series; each "Next
// meeting" carries the previous one's open items (linking back) and marks
// them carried there, so the open items are listed once, in the newest
// meeting; a ticked item is not carried.
func TestSeriesCarriesOpenItems(t *testing.T) {
	t.Parallel()
	node, x := startSearchNode(t)
	first := node.createNote("Platform sync", "meeting")
	appendAndWait(t, node, x, first, "- [ ] @ana fix the build due 2026-12-10\n- [x] @bob book the room\n- [ ] @carol call the vendor\n")

	var second nextResp
	if code, _ := node.do("POST", "/api/notes/"+string(first)+"/next", map[string]any{}, &second); code != http.StatusCreated {
		t.Fatalf("next: %d", code)
	}
	if second.Carried != 2 || second.Marked != 2 || second.Note.Series != "Platform sync" || !strings.HasPrefix(second.Note.Title, "Platform sync 2") {
		t.Fatalf("second meeting: %+v", second)
	}
	text2 := node.text(second.Note.ID)
	if !strings.Contains(text2, "## Open action items from ") || !strings.Contains(text2, "- [ ] @ana fix the build due 2026-12-10 (from [") ||
		!strings.Contains(text2, "](/n/"+string(first)+"#L") || strings.Contains(text2, "book the room") {
		t.Fatalf("second meeting's text:\n%s", text2)
	}
	text1 := node.text(first)
	if strings.Count(text1, "(carried over to [") != 2 || !strings.Contains(text1, "](/n/"+string(second.Note.ID)+"))") {
		t.Fatalf("first meeting after:\n%s", text1)
	}
	var meta struct {
		Series string `json:"series"`
	}
	node.do("GET", "/api/notes/"+string(first), nil, &meta)
	if meta.Series != "Platform sync" {
		t.Errorf("the first meeting's series: %q", meta.Series)
	}

	// Carol's item is done in the second meeting; Ana's goes on.
	var list actionsResp
	waitIndexed(t, x, first, revOf(t, node, first))
	waitIndexed(t, x, second.Note.ID, revOf(t, node, second.Note.ID))
	node.do("GET", "/api/actions?owner=carol&state=open", nil, &list)
	if list.Total != 1 || list.Items[0].Note != second.Note.ID {
		t.Fatalf("carol's open items: %+v", list)
	}
	if code, _ := node.do("POST", "/api/notes/"+string(second.Note.ID)+"/tick", map[string]any{"line": list.Items[0].Line, "source": list.Items[0].Source, "done": true}, nil); code != http.StatusOK {
		t.Fatalf("tick: %d", code)
	}

	var third nextResp
	if code, _ := node.do("POST", "/api/notes/"+string(second.Note.ID)+"/next", map[string]any{}, &third); code != http.StatusCreated {
		t.Fatalf("next: %d", code)
	}
	text3 := node.text(third.Note.ID)
	if third.Carried != 1 || strings.Count(text3, "(from [") != 1 || !strings.Contains(text3, "](/n/"+string(second.Note.ID)+"#L") || strings.Contains(text3, "carol") {
		t.Fatalf("third meeting: %+v\n%s", third, text3)
	}
	waitIndexed(t, x, second.Note.ID, revOf(t, node, second.Note.ID))
	waitIndexed(t, x, third.Note.ID, revOf(t, node, third.Note.ID))
	node.do("GET", "/api/actions?owner=ana&state=open", nil, &list)
	if list.Total != 1 || list.Items[0].Note != third.Note.ID || list.Items[0].Due != "2026-12-10" {
		t.Errorf("ana's open items after three meetings, want one in the third: %+v", list)
	}
	node.do("GET", "/api/actions?owner=ana", nil, &list)
	carried := 0
	for _, it := range list.Items {
		if strings.Contains(it.Source, "carried over to") {
			carried++
		}
	}
	if list.Total != 3 || carried != 2 {
		t.Errorf("ana's items in all: %+v", list)
	}
}

func revOf(t *testing.T, node *testNode, id scribe.NoteID) scribe.Revision {
	t.Helper()
	var meta struct {
		Revision scribe.Revision `json:"revision"`
	}
	if code, _ := node.do("GET", "/api/notes/"+string(id), nil, &meta); code != http.StatusOK {
		t.Fatalf("get note: %d", code)
	}
	return meta.Revision
}
