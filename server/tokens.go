package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
)

// Personal API tokens (docs/api.md, "Tokens"): a member creates them (the
// secret is shown once), lists and revokes their own. auth.Auth does the
// work and its own checks (no tokens in local mode, a token cannot make
// tokens); the role check here comes first, like on every route.

type createTokenRequest struct {
	Label string `json:"label"`
}

// tokenCreated is the answer to a create: the only time the secret is shown.
type tokenCreated struct {
	scribe.APIToken
	Secret string `json:"secret"`
}

// handleCreateToken: POST /api/tokens.
func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	if err := s.may(r, scribe.ActManageToken); err != nil {
		s.writeError(w, r, err)
		return
	}
	var req createTokenRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	secret, t, err := s.auth.CreateToken(r.Context(), person(r), req.Label)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("api token created", "id", t.ID)
	writeJSON(w, http.StatusCreated, tokenCreated{APIToken: t, Secret: secret})
}

// handleListTokens: GET /api/tokens, the caller's own tokens.
func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) {
	if err := s.may(r, scribe.ActManageToken); err != nil {
		s.writeError(w, r, err)
		return
	}
	ts, err := s.auth.ListTokens(r.Context(), person(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ts == nil {
		ts = []scribe.APIToken{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

// handleRevokeToken: DELETE /api/tokens/{tokenID}; someone else's token is
// not found.
func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	if err := s.may(r, scribe.ActManageToken); err != nil {
		s.writeError(w, r, err)
		return
	}
	id := chi.URLParam(r, "tokenID")
	if !scribe.ValidAPITokenID(id) {
		s.writeError(w, r, scribe.Errorf(scribe.ENOTFOUND, "There is no such token."))
		return
	}
	if err := s.auth.RevokeToken(r.Context(), person(r), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("api token revoked", "id", id)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// meJSON says who the server thinks is asking, and what they may do.
type meJSON struct {
	Name   string          `json:"name,omitempty"`
	Email  string          `json:"email,omitempty"`
	Via    scribe.Via      `json:"via,omitempty"`
	Role   string          `json:"role"`
	Mode   auth.Mode       `json:"mode"`
	May    []scribe.Action `json:"may"`
	SignIn string          `json:"signIn,omitempty"` // where to sign in, in oidc mode
}

// handleMe: GET /api/me. For the pages' scripts and for bots to check
// their token.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	p := person(r)
	role := serverRole(r)
	out := meJSON{Name: p.Name, Email: p.Email, Via: p.Via, Role: role.String(), Mode: s.auth.Mode(), May: []scribe.Action{}}
	for _, a := range scribe.Actions {
		if role.Can(a) && a != scribe.ActEdit && a != scribe.ActWatch {
			out.May = append(out.May, a)
		}
	}
	if s.auth.Mode() == auth.ModeOIDC && role == scribe.Stranger {
		out.SignIn = auth.LoginPath
	}
	writeJSON(w, http.StatusOK, out)
}
