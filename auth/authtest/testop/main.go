// Command testop is a real OpenID Provider for the browser tests
// (web/e2e): zitadel's example provider (package authtest) on 127.0.0.1,
// with two users and one client for Scribe. It prints one JSON line,
// {"issuer", "clientId", "clientSecret"}, once it is listening, and serves
// until it is killed or its standard input closes.
//
// It is test-only: the browser tests build it with `go build`; the scribe
// command neither contains nor mentions it.
//
//	testop -redirect http://127.0.0.1:8080/auth/callback
//
// Users (username / password / email):
//
//	ada / pw-ada / ada@example.com (verified), "Ada Lovelace"
//	eve / pw-eve / eve@elsewhere.example (verified), "Eve Outsider"
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/scribe-notes/scribe/auth/authtest"
)

func main() {
	redirect := flag.String("redirect", "", "Scribe's redirect URI, <public-url>/auth/callback (required)")
	addr := flag.String("addr", "127.0.0.1:0", "where to listen")
	flag.Parse()
	if *redirect == "" {
		fmt.Fprintln(os.Stderr, "testop: -redirect is required")
		os.Exit(2)
	}
	client := authtest.Client{ID: "scribe-e2e", Secret: "e2e-client-secret", RedirectURIs: []string{*redirect}}
	users := []authtest.User{
		{ID: "ada", Password: "pw-ada", Email: "ada@example.com", EmailVerified: true, FirstName: "Ada", LastName: "Lovelace"},
		{ID: "eve", Password: "pw-eve", Email: "eve@elsewhere.example", EmailVerified: true, FirstName: "Eve", LastName: "Outsider"},
	}
	p, err := authtest.Start(*addr, client, users, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testop:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]string{"issuer": p.URL, "clientId": client.ID, "clientSecret": client.Secret})

	// Until a signal, or until the parent (the test) goes away.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stdinClosed)
	}()
	select {
	case <-stop:
	case <-stdinClosed:
	}
	_ = p.Close()
}
