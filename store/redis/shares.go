package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
)

// storedShare is the value of a share:{token} key.
type storedShare struct {
	Note    scribe.NoteID `json:"n"`
	Created int64         `json:"c"` // unix ns
	Label   string        `json:"l,omitempty"`
	By      scribe.Person `json:"b,omitzero"`
}

func tokenNotFound() error { return scribe.Errorf(scribe.ENOTFOUND, "Share link not found.") }

// CreateShare creates a read-only share token for the note.
//
// The token is added to the note's list of shares first and stored under
// its own key second (the two live in different slots): if the second
// write fails, the listed token resolves to nothing and ListShares drops it,
// so a failure never leaves a working token the owner cannot see or revoke.
func (s *Store) CreateShare(ctx context.Context, id scribe.NoteID, meta ...scribe.ShareMeta) (scribe.Share, error) {
	if err := ctx.Err(); err != nil {
		return scribe.Share{}, err
	}
	var sm scribe.ShareMeta
	if len(meta) > 0 {
		sm = meta[0]
	}
	if err := sm.Validate(); err != nil {
		return scribe.Share{}, err
	}
	if !id.Valid() {
		return scribe.Share{}, notFound()
	}
	n, err := s.client.Exists(ctx, s.noteKey(id, "meta")).Result()
	if err != nil {
		return scribe.Share{}, s.wrap(ctx, "create share", err)
	}
	if n == 0 {
		return scribe.Share{}, notFound()
	}
	sh := scribe.Share{Token: scribe.NewToken(), NoteID: id, CreatedAt: now(), ShareMeta: sm}
	ns := sh.CreatedAt.UnixNano()
	if err := s.client.ZAdd(ctx, s.noteKey(id, "shares"), goredis.Z{Score: float64(ns), Member: string(sh.Token)}).Err(); err != nil {
		return scribe.Share{}, s.wrap(ctx, "create share", err)
	}
	v, _ := json.Marshal(storedShare{Note: id, Created: ns, Label: sm.Label, By: sm.By}) // cannot fail
	ok, err := s.client.SetNX(ctx, s.shareKey(sh.Token), v, 0).Result()
	if err != nil {
		return scribe.Share{}, s.wrap(ctx, "create share", err)
	}
	if !ok {
		return scribe.Share{}, fmt.Errorf("create share: token collision")
	}
	sh.CreatedAt = time.Unix(0, ns).UTC()
	return sh, nil
}

// ResolveShare returns the share for a token. A revoked token is gone from
// Redis as soon as RevokeShare returns, so every node gives ENOTFOUND.
func (s *Store) ResolveShare(ctx context.Context, token scribe.Token) (scribe.Share, error) {
	if err := ctx.Err(); err != nil {
		return scribe.Share{}, err
	}
	if !token.Valid() {
		return scribe.Share{}, tokenNotFound()
	}
	v, err := s.client.Get(ctx, s.shareKey(token)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return scribe.Share{}, tokenNotFound()
	}
	if err != nil {
		return scribe.Share{}, s.wrap(ctx, "resolve share", err)
	}
	return decodeShare(token, v)
}

func decodeShare(token scribe.Token, v []byte) (scribe.Share, error) {
	var ss storedShare
	if err := json.Unmarshal(v, &ss); err != nil || !ss.Note.Valid() {
		return scribe.Share{}, fmt.Errorf("share %s: %w", tokenRef(token), &scribe.Error{Code: scribe.EINTERNAL, Message: "Stored share is corrupt."})
	}
	return scribe.Share{Token: token, NoteID: ss.Note, CreatedAt: time.Unix(0, ss.Created).UTC(),
		ShareMeta: scribe.ShareMeta{Label: ss.Label, By: ss.By}}, nil
}

// ListShares returns the note's active shares, oldest first.
func (s *Store) ListShares(ctx context.Context, id scribe.NoteID) ([]scribe.Share, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !id.Valid() {
		return nil, notFound()
	}
	var exists *goredis.IntCmd
	var tokens *goredis.StringSliceCmd
	_, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		exists = p.Exists(ctx, s.noteKey(id, "meta"))
		tokens = p.ZRange(ctx, s.noteKey(id, "shares"), 0, -1)
		return nil
	})
	if err != nil {
		return nil, s.wrap(ctx, "list shares", err)
	}
	if exists.Val() == 0 {
		return nil, notFound()
	}
	toks := tokens.Val()
	shares := make([]scribe.Share, 0, len(toks))
	if len(toks) == 0 {
		return shares, nil
	}
	gets := make([]*goredis.StringCmd, len(toks))
	_, err = s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, t := range toks {
			gets[i] = p.Get(ctx, s.shareKey(scribe.Token(t)))
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, s.wrap(ctx, "list shares", err)
	}
	var stale []any
	for i, t := range toks {
		tok := scribe.Token(t)
		v, err := gets[i].Bytes()
		if errors.Is(err, goredis.Nil) || !tok.Valid() {
			stale = append(stale, t) // revoked, or a create that failed half-way
			continue
		}
		if err != nil {
			return nil, s.wrap(ctx, "list shares", err)
		}
		sh, err := decodeShare(tok, v)
		if err != nil {
			return nil, err
		}
		if sh.NoteID != id {
			stale = append(stale, t)
			continue
		}
		shares = append(shares, sh)
	}
	if len(stale) > 0 {
		// Best effort: a failure here only leaves work for the next listing.
		if err := s.client.ZRem(ctx, s.noteKey(id, "shares"), stale...).Err(); err != nil && ctx.Err() == nil {
			s.log.Error("list shares: drop stale tokens", "err", err)
		}
	}
	sort.SliceStable(shares, func(i, j int) bool {
		if !shares[i].CreatedAt.Equal(shares[j].CreatedAt) {
			return shares[i].CreatedAt.Before(shares[j].CreatedAt)
		}
		return shares[i].Token < shares[j].Token
	})
	return shares, nil
}

// RevokeShare revokes a token: its key is deleted atomically (GETDEL), so
// from the moment RevokeShare returns, ResolveShare gives ENOTFOUND on every
// node. Revoking an unknown or already revoked token gives ENOTFOUND.
func (s *Store) RevokeShare(ctx context.Context, token scribe.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !token.Valid() {
		return tokenNotFound()
	}
	v, err := s.client.GetDel(ctx, s.shareKey(token)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return tokenNotFound()
	}
	if err != nil {
		return s.wrap(ctx, "revoke share", err)
	}
	var ss storedShare
	if json.Unmarshal(v, &ss) == nil && ss.Note.Valid() {
		// The token no longer resolves; dropping it from the note's list is
		// tidying that ListShares would also do.
		if err := s.client.ZRem(ctx, s.noteKey(ss.Note, "shares"), string(token)).Err(); err != nil && ctx.Err() == nil {
			s.log.Error("revoke share: unlist token", "err", err)
		}
	}
	return nil
}
