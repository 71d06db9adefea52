package auth

import (
	"context"
	"crypto/rand"
	"strings"

	"github.com/scribe-notes/scribe"
)

// TokenPrefix starts every personal API token, so that secret scanners
// (and people) recognise one in a log or a repository.
const TokenPrefix = "scribe_"

// NewTokenSecret returns a new token secret: TokenPrefix and 26 characters
// of base32 (130 random bits).
func NewTokenSecret() string { return TokenPrefix + rand.Text() }

// validSecret is a cheap check of a presented token's form before hashing.
func validSecret(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	return ok && scribe.URLSafe(rest, 16, 64)
}

func tokensOff() error {
	return scribe.Errorf(scribe.EFORBIDDEN, "API tokens need a sign-in mode (--auth oidc or proxy); in local mode the API needs none.")
}

// CreateToken makes a personal API token for p, who must be a member with an
// email, and returns the secret (shown once, never stored) and the record.
func (a *Auth) CreateToken(ctx context.Context, p scribe.Person, label string) (string, scribe.APIToken, error) {
	if a.tokens == nil || a.mode == ModeNone {
		return "", scribe.APIToken{}, tokensOff()
	}
	if RoleOf(p) != scribe.Member || p.Email == "" {
		return "", scribe.APIToken{}, scribe.Errorf(scribe.EFORBIDDEN, "Only signed-in members create API tokens.")
	}
	if p.Via == scribe.ViaToken {
		return "", scribe.APIToken{}, scribe.Errorf(scribe.EFORBIDDEN, "An API token cannot create API tokens; sign in.")
	}
	label = strings.TrimSpace(label)
	secret := NewTokenSecret()
	h := scribe.HashAPIToken(secret)
	t := scribe.APIToken{ID: scribe.APITokenID(h), Hash: h, Owner: p.Email, Name: p.Name, Label: label,
		CreatedAt: a.now().UTC().Round(0)}
	if err := a.tokens.CreateAPIToken(ctx, t); err != nil {
		return "", scribe.APIToken{}, err
	}
	return secret, t, nil
}

// ListTokens returns p's tokens, oldest first.
func (a *Auth) ListTokens(ctx context.Context, p scribe.Person) ([]scribe.APIToken, error) {
	if a.tokens == nil || a.mode == ModeNone {
		return nil, tokensOff()
	}
	if RoleOf(p) != scribe.Member || p.Email == "" {
		return nil, scribe.Errorf(scribe.EFORBIDDEN, "Only signed-in members have API tokens.")
	}
	return a.tokens.ListAPITokens(ctx, p.Email)
}

// RevokeToken revokes p's token id; someone else's gives ENOTFOUND.
func (a *Auth) RevokeToken(ctx context.Context, p scribe.Person, id string) error {
	if a.tokens == nil || a.mode == ModeNone {
		return tokensOff()
	}
	if RoleOf(p) != scribe.Member || p.Email == "" {
		return scribe.Errorf(scribe.EFORBIDDEN, "Only signed-in members revoke API tokens.")
	}
	return a.tokens.RevokeAPIToken(ctx, p.Email, id)
}

// tokenPerson resolves an Authorization header. Only "Bearer <token>" in a
// sign-in mode with a token store can name anyone; anything else, or a
// token that is unknown or revoked, is a stranger. The token's last-used
// time is written at most once a minute.
func (a *Auth) tokenPerson(ctx context.Context, header string) scribe.Person {
	if a.tokens == nil || a.mode == ModeNone {
		return scribe.Person{}
	}
	scheme, secret, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return scribe.Person{}
	}
	secret = strings.TrimSpace(secret)
	if !validSecret(secret) {
		return scribe.Person{}
	}
	t, err := a.tokens.APIToken(ctx, scribe.HashAPIToken(secret))
	if err != nil {
		if scribe.ErrorCode(err) == scribe.EINTERNAL && ctx.Err() == nil {
			a.log.Error("auth: look up api token", "err", err)
		}
		return scribe.Person{}
	}
	if now := a.now(); now.Sub(t.LastUsed) >= touchEvery {
		if err := a.tokens.TouchAPIToken(ctx, t.ID, now); err != nil && ctx.Err() == nil && scribe.ErrorCode(err) == scribe.EINTERNAL {
			a.log.Error("auth: touch api token", "err", err)
		}
	}
	return scribe.Person{Email: t.Owner, Name: t.Name, Via: scribe.ViaToken}
}
