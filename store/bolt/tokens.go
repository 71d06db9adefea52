package bolt

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/scribe-notes/scribe"
)

// Personal API tokens live in two buckets:
//
//	apitokens        id -> sealed JSON tokenRecord (the hash, never the secret)
//	apitokens-owner  owner 0x00 created-ns(8) id -> nil, for listing by owner
//
// Both are written in one transaction, so they never disagree.
var (
	bucketTokens      = []byte("apitokens")
	bucketTokensOwner = []byte("apitokens-owner")
)

type tokenRecord struct {
	Hash      []byte    `json:"hash"`
	Owner     string    `json:"owner"`
	Name      string    `json:"name,omitempty"`
	Label     string    `json:"label,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	LastUsed  time.Time `json:"lastUsed,omitzero"`
}

func (r *tokenRecord) token(id string) scribe.APIToken {
	return scribe.APIToken{ID: id, Hash: r.Hash, Owner: r.Owner, Name: r.Name, Label: r.Label,
		CreatedAt: r.CreatedAt, LastUsed: r.LastUsed}
}

func tokenNotFound() error { return scribe.Errorf(scribe.ENOTFOUND, "API token not found or revoked.") }

func ownerPrefix(owner string) []byte { return append([]byte(owner), 0) }

func ownerKey(owner string, created time.Time, id string) []byte {
	return append(append(ownerPrefix(owner), u64(uint64(created.UnixNano()))...), id...)
}

// getToken reads a token's record: ENOTFOUND if absent or malformed id,
// EINTERNAL if corrupt.
func getToken(tx *bbolt.Tx, id string) (*tokenRecord, error) {
	if !scribe.ValidAPITokenID(id) {
		return nil, tokenNotFound()
	}
	v := tx.Bucket(bucketTokens).Get([]byte(id))
	if v == nil {
		return nil, tokenNotFound()
	}
	v, ok := unseal(v)
	if !ok {
		return nil, scribe.Errorf(scribe.EINTERNAL, "Stored API token %s is corrupt: checksum mismatch.", id)
	}
	var r tokenRecord
	if err := json.Unmarshal(v, &r); err != nil || scribe.APITokenID(r.Hash) != id {
		return nil, scribe.Errorf(scribe.EINTERNAL, "Stored API token %s is corrupt.", id)
	}
	return &r, nil
}

func putToken(tx *bbolt.Tx, id string, r *tokenRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode token: %w", err)
	}
	return tx.Bucket(bucketTokens).Put([]byte(id), seal(v))
}

// CreateAPIToken stores a token record; see scribe.TokenStore.
func (s *Store) CreateAPIToken(ctx context.Context, t scribe.APIToken) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	return s.update("create api token", func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketTokens).Get([]byte(t.ID)) != nil {
			return scribe.Errorf(scribe.ECONFLICT, "An API token with this id exists.")
		}
		r := &tokenRecord{Hash: t.Hash, Owner: t.Owner, Name: t.Name, Label: t.Label,
			CreatedAt: t.CreatedAt.UTC().Round(0), LastUsed: t.LastUsed.UTC().Round(0)}
		if err := putToken(tx, t.ID, r); err != nil {
			return err
		}
		return tx.Bucket(bucketTokensOwner).Put(ownerKey(r.Owner, r.CreatedAt, t.ID), nil)
	})
}

// APIToken returns the token with the given hash, comparing all of it.
func (s *Store) APIToken(ctx context.Context, hash []byte) (scribe.APIToken, error) {
	if err := s.begin(ctx); err != nil {
		return scribe.APIToken{}, err
	}
	id := scribe.APITokenID(hash)
	var tok scribe.APIToken
	err := s.view("api token", func(tx *bbolt.Tx) error {
		r, err := getToken(tx, id)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(r.Hash, hash) != 1 {
			return tokenNotFound()
		}
		tok = r.token(id)
		return nil
	})
	return tok, err
}

// TouchAPIToken moves a token's LastUsed forward to at.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	at = at.UTC().Round(0)
	return s.update("touch api token", func(tx *bbolt.Tx) error {
		r, err := getToken(tx, id)
		if err != nil {
			return err
		}
		if !r.LastUsed.Before(at) {
			return nil
		}
		r.LastUsed = at
		return putToken(tx, id, r)
	})
}

// ListAPITokens returns owner's tokens, oldest first.
func (s *Store) ListAPITokens(ctx context.Context, owner string) ([]scribe.APIToken, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	out := []scribe.APIToken{}
	err := s.view("list api tokens", func(tx *bbolt.Tx) error {
		prefix := ownerPrefix(owner)
		c := tx.Bucket(bucketTokensOwner).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) < len(prefix)+8 {
				return scribe.Errorf(scribe.EINTERNAL, "Stored API token index is corrupt.")
			}
			id := string(k[len(prefix)+8:])
			r, err := getToken(tx, id)
			if scribe.ErrorCode(err) == scribe.ENOTFOUND {
				return scribe.Errorf(scribe.EINTERNAL, "Stored API token %s is indexed but missing.", id)
			} else if err != nil {
				return err
			}
			out = append(out, r.token(id))
		}
		return nil
	})
	return out, err
}

// RevokeAPIToken deletes owner's token id; another owner's gives ENOTFOUND.
func (s *Store) RevokeAPIToken(ctx context.Context, owner, id string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	return s.update("revoke api token", func(tx *bbolt.Tx) error {
		r, err := getToken(tx, id)
		if err != nil {
			return err
		}
		if r.Owner != owner {
			return tokenNotFound()
		}
		if err := tx.Bucket(bucketTokens).Delete([]byte(id)); err != nil {
			return err
		}
		return tx.Bucket(bucketTokensOwner).Delete(ownerKey(r.Owner, r.CreatedAt, id))
	})
}
