package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/bolt"
)

// Flags win over SCRIBE_* variables, which win over defaults; a bad value in
// a variable is reported with the variable's name.
func TestServeFlagsAndEnv(t *testing.T) {
	t.Setenv("SCRIBE_DATA_DIR", "/from/env")
	t.Setenv("SCRIBE_ADDR", "127.0.0.1:9999")
	t.Setenv("SCRIBE_MAX_NOTE_BYTES", "5000")
	t.Setenv("SCRIBE_REDIS_URL", "redis.example:6379")
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfg serveConfig
	serveFlags(fs, &cfg)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:7777"}); err != nil {
		t.Fatal(err)
	}
	if err := flagsFromEnv(fs); err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:7777" || cfg.store.dataDir != "/from/env" || cfg.limits.MaxNoteBytes != 5000 || cfg.store.redisURL != "redis.example:6379" {
		t.Fatalf("config = %+v", cfg)
	}
	if cfg.limits.OpsPerSecond != 60 || cfg.logLevel != "info" {
		t.Fatalf("defaults lost: %+v", cfg)
	}

	t.Setenv("SCRIBE_OPS_PER_SECOND", "lots")
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs, &cfg)
	_ = fs.Parse(nil)
	err := flagsFromEnv(fs)
	if err == nil || !strings.Contains(err.Error(), "SCRIBE_OPS_PER_SECOND") {
		t.Fatalf("bad env value: %v", err)
	}
}

// serve runs the real server on the embedded store, answers, and shuts down
// cleanly when its context ends, closing websockets with 1001.
func TestServeAndShutdown(t *testing.T) {
	dir := t.TempDir()
	tplDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(tplDir, "retro-plus.md"), []byte("---\nlabel: Retro plus\n---\n# {{title}} on {{date}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs, &cfg)
	cfg.export = addExportFlags(fs)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:0", "--data-dir", dir, "--templates-dir", tplDir, "--timezone", "Europe/Berlin", "--log-level", "warn"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, cfg, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatalf("serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	base := "http://" + addr
	resp, err := http.Get(base + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()
	// The history sweeper runs (--history-hot-age defaults to 7 days) and
	// its counts are in /metrics.
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"scribe_history_folded_changes_total", "scribe_history_freed_bytes_total", "scribe_history_notes_behind"} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}

	// The operator's template, filled in the team's time zone.
	resp, err = http.Post(base+"/api/notes", "application/json", strings.NewReader(`{"title":"Sprint 9","template":"retro-plus"}`))
	if err != nil {
		t.Fatal(err)
	}
	var note struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&note)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/api/notes/" + note.ID + "/text")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	today := time.Now().In(mustLoc(t, "Europe/Berlin")).Format("2006-01-02")
	if string(text) != "# Sprint 9 on "+today+"\n" {
		t.Fatalf("text = %q", text)
	}

	conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/api/notes/"+note.ID+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.WriteJSON(map[string]any{"type": "hello", "protocol": 1, "session": "serve-test-1"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := conn.ReadMessage(); err != nil {
		t.Fatal(err)
	}

	cancel() // SIGINT/SIGTERM in the real binary
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
				t.Fatalf("connection ended with %v, want close 1001", err)
			}
			break
		}
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}
	// The store was closed (its file lock released) and kept the note.
	st := bolt.New(dir, bolt.Options{OpenTimeout: time.Second})
	if err := st.Open(context.Background()); err != nil {
		t.Fatalf("reopen the data directory: %v", err)
	}
	defer st.Close()
	if d, err := st.LoadNote(context.Background(), scribe.NoteID(note.ID)); err != nil || d.Text != string(text) {
		t.Fatalf("after shutdown: %q %v", d.Text, err)
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestServeRefusesExposure: local mode listens on loopback only, and a
// sign-in mode needs --public-url; the message names the flags to set.
func TestServeRefusesExposure(t *testing.T) {
	for _, tc := range []struct {
		addr, mode, public string
		want               string // "" for accepted
	}{
		{"127.0.0.1:8080", "none", "", ""},
		{"localhost:8080", "", "", ""},
		{"[::1]:8080", "none", "", ""},
		{"0.0.0.0:8080", "none", "", "--auth oidc"},
		{":8080", "none", "", "--trusted-proxies"},
		{"192.0.2.1:8080", "", "", "Listen on 127.0.0.1"},
		{"0.0.0.0:8080", "proxy", "", "needs --public-url"},
		{"0.0.0.0:8080", "oidc", "https://notes.example.com", ""},
	} {
		cfg := serveConfig{addr: tc.addr, publicURL: tc.public, auth: authFlags{mode: tc.mode}}
		err := checkExposure(cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s --auth %q: %v, want accepted", tc.addr, tc.mode, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s --auth %q: %v, want an error saying %q", tc.addr, tc.mode, err, tc.want)
		}
	}
}
