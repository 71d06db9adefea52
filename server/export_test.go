package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/server/servertest"
)

// recordingExporter stands in for package export (tested against a real
// repository there and in cmd/scribe): it records what the server asks.
type recordingExporter struct {
	mu   sync.Mutex
	reqs []scribe.ExportRequest
}

func (e *recordingExporter) Export(_ context.Context, _ scribe.NoteID, req scribe.ExportRequest) (scribe.ExportResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reqs = append(e.reqs, req)
	return scribe.ExportResult{Path: "docs/meetings/x.md", Commit: "abc"}, nil
}

func (e *recordingExporter) Preview(_ context.Context, _ scribe.NoteID, req scribe.ExportRequest) (scribe.ExportPreview, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reqs = append(e.reqs, req)
	return scribe.ExportPreview{Path: "docs/meetings/x.md", Content: "x", Message: "m", Revision: 1}, nil
}

// TestExportNotConfigured: without an exporter the editor shows no Export
// button, and the API says so in words for the person, not the operator.
func TestExportNotConfigured(t *testing.T) {
	node := startNode(t, newBoltStore(t), server.Limits{})
	id := node.createNote("Standup", "meeting")
	_, _, page := request(t, "GET", node.url+"/n/"+string(id), "", "", nil)
	if strings.Contains(string(page), "export-button") {
		t.Error("the editor shows an Export button with export not configured")
	}
	var apiErr struct{ Code, Message string }
	code, _ := node.do("POST", "/api/notes/"+string(id)+"/export", struct{}{}, &apiErr)
	if code != http.StatusServiceUnavailable || apiErr.Code != scribe.EUNAVAILABLE ||
		strings.Contains(apiErr.Message, "--") || strings.Contains(apiErr.Message, "operator") || !strings.Contains(apiErr.Message, "download") {
		t.Errorf("export = %d %+v", code, apiErr)
	}
}

// TestExportRecordsReadOnlyLink: the server passes the exporter the note's
// export share (one, reused), never the edit link, and the note's template.
func TestExportRecordsReadOnlyLink(t *testing.T) {
	st := newBoltStore(t)
	ex := &recordingExporter{}
	s := servertest.Start(t, server.Config{Store: st, Exporter: ex, Logger: testLogger})
	node := &testNode{t: t, srv: s.Srv, ts: s.HTTP, store: st, url: s.URL}
	id := node.createNote("Standup", "meeting")
	_, _, page := request(t, "GET", node.url+"/n/"+string(id), "", "", nil)
	if !strings.Contains(string(page), "export-button") {
		t.Error("the editor lacks the Export button with export configured")
	}
	for i := 0; i < 2; i++ {
		if code, _ := node.do("POST", "/api/notes/"+string(id)+"/export", struct{}{}, nil); code != http.StatusOK {
			t.Fatalf("export: %d", code)
		}
	}
	shares, err := st.ListShares(context.Background(), id)
	if err != nil || len(shares) != 1 || shares[0].Label != scribe.ExportShareLabel {
		t.Fatalf("shares = %+v, %v; want one labelled export", shares, err)
	}
	want := node.url + "/s/" + string(shares[0].Token)
	for _, req := range ex.reqs {
		if req.URL != want || strings.Contains(req.URL, string(id)) {
			t.Errorf("exporter got URL %q, want %q", req.URL, want)
		}
		if !strings.Contains(req.Template, "## Action items") {
			t.Errorf("exporter got template %q, want the meeting template", req.Template)
		}
	}
	if len(ex.reqs) != 2 {
		t.Errorf("%d exports", len(ex.reqs))
	}
}
