package storetest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scribe-notes/scribe"
)

// The suite pins down for tokens: Owner is compared byte for byte (callers
// normalise emails); a token's times keep millisecond precision; LastUsed
// never moves backwards; TouchAPIToken of a revoked token does not bring it
// back.

// NewAPIToken returns a token record for owner with a fresh random secret,
// and the secret, as the auth package makes them.
func NewAPIToken(owner, label string) (scribe.APIToken, string) {
	secret := "scribe_" + rand.Text()
	h := scribe.HashAPIToken(secret)
	return scribe.APIToken{ID: scribe.APITokenID(h), Hash: h, Owner: owner, Name: "Ada", Label: label,
		CreatedAt: time.Now().UTC().Round(0)}, secret
}

func mustCreateToken(t *testing.T, s scribe.TokenStore, owner, label string) (scribe.APIToken, string) {
	t.Helper()
	tok, secret := NewAPIToken(owner, label)
	if err := s.CreateAPIToken(context.Background(), tok); err != nil {
		t.Fatalf("CreateAPIToken: %v", err)
	}
	return tok, secret
}

func sameToken(a, b scribe.APIToken) bool {
	return a.ID == b.ID && string(a.Hash) == string(b.Hash) && a.Owner == b.Owner && a.Name == b.Name &&
		a.Label == b.Label && approxTime(a.CreatedAt, b.CreatedAt) &&
		(a.LastUsed.IsZero() && b.LastUsed.IsZero() || approxTime(a.LastUsed, b.LastUsed))
}

func testAPITokens(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	var made []scribe.APIToken
	for _, label := range []string{"ci bot", "", "importer"} {
		tok, secret := mustCreateToken(t, s, "ada@example.com", label)
		got, err := s.APIToken(ctx, scribe.HashAPIToken(secret))
		if err != nil {
			t.Fatalf("APIToken of a new token: %v", err)
		}
		if !sameToken(got, tok) || !got.LastUsed.IsZero() {
			t.Errorf("APIToken = %+v, want %+v", got, tok)
		}
		made = append(made, tok)
		time.Sleep(2 * time.Millisecond) // distinct creation times, for the order
	}
	mustCreateToken(t, s, "bob@example.com", "bob's")

	list, err := s.ListAPITokens(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(made) {
		t.Fatalf("ListAPITokens gave %d tokens, want %d", len(list), len(made))
	}
	for i := range list {
		if !sameToken(list[i], made[i]) {
			t.Errorf("ListAPITokens[%d] = %+v, want %+v (oldest first)", i, list[i], made[i])
		}
	}
	if b, _ := json.Marshal(list); strings.Contains(string(b), "hash") {
		t.Errorf("a token's JSON carries its hash: %s", b)
	}
	if list, err := s.ListAPITokens(ctx, "nobody@example.com"); err != nil || len(list) != 0 {
		t.Errorf("ListAPITokens of a stranger = %v, %v; want none", list, err)
	}
	if list, _ := s.ListAPITokens(ctx, "ADA@example.com"); len(list) != 0 {
		t.Errorf("owners are compared byte for byte, yet another case lists %d tokens", len(list))
	}

	// Only the full hash finds a token: a hash sharing the id's 16 bytes does not.
	h := append([]byte(nil), made[0].Hash...)
	h[31] ^= 1
	_, err = s.APIToken(ctx, h)
	wantCode(t, err, scribe.ENOTFOUND, "APIToken with a hash that differs in its last byte")
	_, err = s.APIToken(ctx, scribe.HashAPIToken("scribe_never-made"))
	wantCode(t, err, scribe.ENOTFOUND, "APIToken of an unknown token")
	_, err = s.APIToken(ctx, []byte("short"))
	wantCode(t, err, scribe.ENOTFOUND, "APIToken with a malformed hash")

	// The same id again is a conflict, not an overwrite.
	dup := made[0]
	dup.Owner = "mallory@example.com"
	wantCode(t, s.CreateAPIToken(ctx, dup), scribe.ECONFLICT, "CreateAPIToken of an existing id")
	if got, _ := s.APIToken(ctx, made[0].Hash); got.Owner != "ada@example.com" {
		t.Errorf("a conflicting create changed the owner to %q", got.Owner)
	}
}

func testAPITokenInvalid(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	good, _ := NewAPIToken("ada@example.com", "x")
	bad := map[string]func(*scribe.APIToken){
		"no hash":        func(t *scribe.APIToken) { t.Hash = nil },
		"short hash":     func(t *scribe.APIToken) { t.Hash = t.Hash[:16] },
		"id not of hash": func(t *scribe.APIToken) { t.ID = scribe.APITokenID(scribe.HashAPIToken("other")) },
		"no owner":       func(t *scribe.APIToken) { t.Owner = "" },
		"long owner":     func(t *scribe.APIToken) { t.Owner = strings.Repeat("a", scribe.MaxEmail+1) },
		"NUL in owner":   func(t *scribe.APIToken) { t.Owner = "ada@example.com\x00x" },
		"long label":     func(t *scribe.APIToken) { t.Label = strings.Repeat("l", scribe.MaxTokenLabel+1) },
	}
	for name, mutate := range bad {
		tok := good
		tok.Hash = append([]byte(nil), good.Hash...)
		mutate(&tok)
		wantCode(t, s.CreateAPIToken(ctx, tok), scribe.EINVALID, "CreateAPIToken with "+name)
	}
	if list, _ := s.ListAPITokens(ctx, "ada@example.com"); len(list) != 0 {
		t.Errorf("invalid creates stored %d tokens", len(list))
	}
	for _, id := range []string{"", "../../etc", "x{y}z", strings.Repeat("a", 200)} {
		wantCode(t, s.RevokeAPIToken(ctx, "ada@example.com", id), scribe.ENOTFOUND, "RevokeAPIToken of id "+id)
		wantCode(t, s.TouchAPIToken(ctx, id, time.Now()), scribe.ENOTFOUND, "TouchAPIToken of id "+id)
	}
}

func testAPITokenTouch(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	tok, _ := mustCreateToken(t, s, "ada@example.com", "")
	t1 := time.Now().UTC().Add(time.Minute).Round(0)
	if err := s.TouchAPIToken(ctx, tok.ID, t1); err != nil {
		t.Fatal(err)
	}
	got, err := s.APIToken(ctx, tok.Hash)
	if err != nil || !approxTime(got.LastUsed, t1) {
		t.Fatalf("after TouchAPIToken(%v): LastUsed = %v, %v", t1, got.LastUsed, err)
	}
	// Never backwards: a slower node touching with an older time changes nothing.
	if err := s.TouchAPIToken(ctx, tok.ID, t1.Add(-30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.APIToken(ctx, tok.Hash); !approxTime(got.LastUsed, t1) {
		t.Errorf("LastUsed moved backwards to %v, want %v", got.LastUsed, t1)
	}
	if list, _ := s.ListAPITokens(ctx, "ada@example.com"); len(list) != 1 || !approxTime(list[0].LastUsed, t1) {
		t.Errorf("ListAPITokens does not show LastUsed: %+v", list)
	}
}

func testAPITokenRevoke(t *testing.T, s scribe.Store) {
	ctx := context.Background()
	keep, _ := mustCreateToken(t, s, "ada@example.com", "keep")
	gone, _ := mustCreateToken(t, s, "ada@example.com", "gone")

	// Someone else cannot revoke it, and learns nothing from trying.
	wantCode(t, s.RevokeAPIToken(ctx, "bob@example.com", gone.ID), scribe.ENOTFOUND, "RevokeAPIToken by another owner")
	if _, err := s.APIToken(ctx, gone.Hash); err != nil {
		t.Fatalf("another owner's revoke took effect: %v", err)
	}

	if err := s.RevokeAPIToken(ctx, "ada@example.com", gone.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.APIToken(ctx, gone.Hash)
	wantCode(t, err, scribe.ENOTFOUND, "APIToken of a revoked token")
	wantCode(t, s.RevokeAPIToken(ctx, "ada@example.com", gone.ID), scribe.ENOTFOUND, "second RevokeAPIToken")
	wantCode(t, s.TouchAPIToken(ctx, gone.ID, time.Now()), scribe.ENOTFOUND, "TouchAPIToken of a revoked token")
	if _, err := s.APIToken(ctx, gone.Hash); err == nil {
		t.Errorf("TouchAPIToken brought a revoked token back")
	}
	list, err := s.ListAPITokens(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != keep.ID {
		t.Errorf("ListAPITokens after revoke = %+v, want only %s", list, keep.ID)
	}
}

func testAPITokenCanceled(t *testing.T, s scribe.Store) {
	tok, _ := mustCreateToken(t, s, "ada@example.com", "")
	fresh, _ := NewAPIToken("ada@example.com", "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]func() error{
		"CreateAPIToken": func() error { return s.CreateAPIToken(ctx, fresh) },
		"APIToken":       func() error { _, err := s.APIToken(ctx, tok.Hash); return err },
		"TouchAPIToken":  func() error { return s.TouchAPIToken(ctx, tok.ID, time.Now()) },
		"ListAPITokens":  func() error { _, err := s.ListAPITokens(ctx, tok.Owner); return err },
		"RevokeAPIToken": func() error { return s.RevokeAPIToken(ctx, tok.Owner, tok.ID) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", name, err)
		}
	}
	bg := context.Background()
	if list, _ := s.ListAPITokens(bg, tok.Owner); len(list) != 1 {
		t.Errorf("cancelled calls changed the tokens: %+v", list)
	}
}

// testNodesAPITokens: a token made on one node works on every node, and once
// revoked on one node it stops working on every node at once.
func testNodesAPITokens(t *testing.T, nodes []scribe.Store) {
	ctx := context.Background()
	tok, secret := mustCreateToken(t, nodes[0], "ada@example.com", "bot")
	for i, node := range nodes {
		if _, err := node.APIToken(ctx, scribe.HashAPIToken(secret)); err != nil {
			t.Fatalf("node %d does not accept the token: %v", i, err)
		}
	}
	if err := nodes[1].RevokeAPIToken(ctx, tok.Owner, tok.ID); err != nil {
		t.Fatal(err)
	}
	for _, node := range nodes {
		_, err := node.APIToken(ctx, tok.Hash)
		wantCode(t, err, scribe.ENOTFOUND, "APIToken on a node after revocation elsewhere")
	}
}
