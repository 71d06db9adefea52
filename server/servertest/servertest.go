// Package servertest runs the real Scribe server on a loopback port for
// tests: the server's own end-to-end tests, the Go client's and the load
// tool's. They all start it, and tear it down, the same way.
package servertest

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/store/bolt"
)

// Server is a running server and the store it serves.
type Server struct {
	URL   string // http://127.0.0.1:port
	Store scribe.Store
	Srv   *server.Server
	HTTP  *httptest.Server

	closeOnce sync.Once
}

// Start opens a server with cfg (cfg.Store is required, and is closed with
// the server) and serves it on a loopback port until Close is called or the
// test ends.
func Start(tb testing.TB, cfg server.Config) *Server {
	tb.Helper()
	srv, err := server.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	s := &Server{URL: hs.URL, Store: cfg.Store, Srv: srv, HTTP: hs}
	tb.Cleanup(s.Close)
	return s
}

// Close drops every client connection (websockets included), then closes
// the server, the listener and the store. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.HTTP.CloseClientConnections()
		_ = s.Srv.Close()
		s.HTTP.Close()
		_ = s.Store.Close()
	})
}

// OpenBolt opens an embedded store in dir.
func OpenBolt(tb testing.TB, dir string) *bolt.Store {
	tb.Helper()
	st := bolt.New(dir, bolt.Options{})
	if err := st.Open(context.Background()); err != nil {
		tb.Fatalf("open bolt store: %v", err)
	}
	return st
}
