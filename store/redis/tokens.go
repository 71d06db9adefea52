package redis

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/scribe-notes/scribe"
)

// Personal API tokens. Every token key carries the hash tag {apitokens}, so
// a token and its owner's index live in one slot and tokens.lua changes
// both atomically, on a single server and in a Cluster:
//
//	P apitoken:{apitokens}:<id>          hash: hash (hex SHA-256), owner, name,
//	                                     label, created, used (unix ns; used 0 = never)
//	P apitokens:{apitokens}:owner:<o>    sorted set: the owner's token ids by
//	                                     creation time; <o> is the hex SHA-256
//	                                     of the owner's email (no email in key names)
//
// Tokens are few (a handful per member), so one slot holds them all.

var (
	//go:embed lua/tokens.lua
	tokensLua    string
	tokensScript = goredis.NewScript(tokensLua)
)

func (s *Store) apiTokenKey(id string) string { return s.prefix + "apitoken:{apitokens}:" + id }

func (s *Store) apiTokenOwnerKey(owner string) string {
	sum := sha256.Sum256([]byte(owner))
	return s.prefix + "apitokens:{apitokens}:owner:" + hex.EncodeToString(sum[:16])
}

func apiTokenNotFound() error {
	return scribe.Errorf(scribe.ENOTFOUND, "API token not found or revoked.")
}

func unixNano(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

func fromUnixNano(v string) (time.Time, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}, err
	}
	return time.Unix(0, n).UTC(), nil
}

// CreateAPIToken stores a token record; see scribe.TokenStore.
func (s *Store) CreateAPIToken(ctx context.Context, t scribe.APIToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	ok, err := tokensScript.Run(ctx, s.client, []string{s.apiTokenKey(t.ID), s.apiTokenOwnerKey(t.Owner)},
		"create", t.ID, hex.EncodeToString(t.Hash), t.Owner, t.Name, t.Label, unixNano(t.CreatedAt), unixNano(t.LastUsed)).Int()
	if err != nil {
		return s.wrap(ctx, "create api token", err)
	}
	if ok == 0 {
		return scribe.Errorf(scribe.ECONFLICT, "An API token with this id exists.")
	}
	return nil
}

// getAPIToken reads the token id: ENOTFOUND if absent, EINTERNAL if corrupt.
func (s *Store) getAPIToken(ctx context.Context, id string) (scribe.APIToken, error) {
	if !scribe.ValidAPITokenID(id) {
		return scribe.APIToken{}, apiTokenNotFound()
	}
	m, err := s.client.HGetAll(ctx, s.apiTokenKey(id)).Result()
	if err != nil {
		return scribe.APIToken{}, s.wrap(ctx, "api token", err)
	}
	return decodeAPIToken(id, m)
}

func decodeAPIToken(id string, m map[string]string) (scribe.APIToken, error) {
	if len(m) == 0 {
		return scribe.APIToken{}, apiTokenNotFound()
	}
	hash, err1 := hex.DecodeString(m["hash"])
	created, err2 := fromUnixNano(m["created"])
	used, err3 := fromUnixNano(m["used"])
	if err := errors.Join(err1, err2, err3); err != nil || scribe.APITokenID(hash) != id {
		return scribe.APIToken{}, scribe.Errorf(scribe.EINTERNAL, "Stored API token %s is corrupt.", id)
	}
	return scribe.APIToken{ID: id, Hash: hash, Owner: m["owner"], Name: m["name"], Label: m["label"],
		CreatedAt: created, LastUsed: used}, nil
}

// APIToken returns the token with the given hash, comparing all of it.
func (s *Store) APIToken(ctx context.Context, hash []byte) (scribe.APIToken, error) {
	if err := ctx.Err(); err != nil {
		return scribe.APIToken{}, err
	}
	t, err := s.getAPIToken(ctx, scribe.APITokenID(hash))
	if err != nil {
		return scribe.APIToken{}, err
	}
	if subtle.ConstantTimeCompare(t.Hash, hash) != 1 {
		return scribe.APIToken{}, apiTokenNotFound()
	}
	return t, nil
}

// TouchAPIToken moves a token's LastUsed forward to at.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !scribe.ValidAPITokenID(id) {
		return apiTokenNotFound()
	}
	// KEYS[2] is unused by touch but keeps the script's key list uniform.
	r, err := tokensScript.Run(ctx, s.client, []string{s.apiTokenKey(id), s.apiTokenOwnerKey("")}, "touch", unixNano(at)).Int()
	if err != nil {
		return s.wrap(ctx, "touch api token", err)
	}
	if r < 0 {
		return apiTokenNotFound()
	}
	return nil
}

// ListAPITokens returns owner's tokens, oldest first.
func (s *Store) ListAPITokens(ctx context.Context, owner string) ([]scribe.APIToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ids, err := s.client.ZRange(ctx, s.apiTokenOwnerKey(owner), 0, -1).Result()
	if err != nil {
		return nil, s.wrap(ctx, "list api tokens", err)
	}
	out := make([]scribe.APIToken, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	gets := make([]*goredis.MapStringStringCmd, len(ids))
	_, err = s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			gets[i] = p.HGetAll(ctx, s.apiTokenKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, s.wrap(ctx, "list api tokens", err)
	}
	for i, id := range ids {
		t, err := decodeAPIToken(id, gets[i].Val())
		if scribe.ErrorCode(err) == scribe.ENOTFOUND {
			continue // revoked between the two reads
		} else if err != nil {
			return nil, err
		}
		if t.Owner != owner {
			continue // another owner whose email hashes alike: never shown
		}
		out = append(out, t)
	}
	return out, nil
}

// RevokeAPIToken deletes owner's token id; another owner's gives ENOTFOUND.
func (s *Store) RevokeAPIToken(ctx context.Context, owner, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !scribe.ValidAPITokenID(id) {
		return apiTokenNotFound()
	}
	ok, err := tokensScript.Run(ctx, s.client, []string{s.apiTokenKey(id), s.apiTokenOwnerKey(owner)}, "revoke", id, owner).Int()
	if err != nil {
		return s.wrap(ctx, "revoke api token", err)
	}
	if ok == 0 {
		return apiTokenNotFound()
	}
	return nil
}
