package server

import (
	"net/http"
	"net/url"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
)

// Access control: every route asks may (or mayOn, for one note) before it
// reads a body or changes anything, so a refused call changes nothing. The
// table is scribe.Role.Can (docs/security.md); this file only decides which
// role a request has.

// person is who is asking (auth.Middleware put it in the context).
func person(r *http.Request) scribe.Person { return auth.FromContext(r.Context()) }

// signedIn returns p's email when it is known from sign-in (a session, a
// trusted proxy or a member's API token), else "". It is what edits record
// for export's Co-authored-by: trailers and what a member's presence key is
// made from. The local person's email is not: in local mode every tab on
// the machine is the local person, whatever name each gives.
func signedIn(p scribe.Person) string {
	if p.NameFixed() {
		return p.Email
	}
	return ""
}

// serverRole is the request's role on the whole server: Member, Local or
// Stranger.
func serverRole(r *http.Request) scribe.Role { return auth.RoleOf(person(r)) }

// noteRole is the role of a request that holds note n's edit link: its
// server role when that is Member or Local; Guest when the note lets anyone
// with the link edit; else Stranger.
func noteRole(r *http.Request, n scribe.Note) scribe.Role {
	role := serverRole(r)
	if role == scribe.Member || role == scribe.Local {
		return role
	}
	if n.GuestEdit {
		return scribe.Guest
	}
	return scribe.Stranger
}

// shareRole is the role of a request that holds a live read-only link:
// Viewer, unless the request is a member (or local) anyway.
func shareRole(r *http.Request) scribe.Role {
	role := serverRole(r)
	if role == scribe.Member || role == scribe.Local {
		return role
	}
	return scribe.Viewer
}

// refusal is the error for a request whose role may not do a: for a
// stranger it says to sign in; for anyone else that they may not.
func (s *Server) refusal(r *http.Request, role scribe.Role, a scribe.Action) error {
	if role == scribe.Stranger {
		switch s.auth.Mode() {
		case auth.ModeNone:
			return scribe.Errorf(scribe.EFORBIDDEN, "This server is in local mode: only the person at the machine (on localhost) may do that.")
		case auth.ModeOIDC:
			return scribe.Errorf(scribe.EFORBIDDEN, "Sign in first (%s), or send a personal API token as Authorization: Bearer.", auth.LoginPath)
		}
		return scribe.Errorf(scribe.EFORBIDDEN, "Sign in first, or send a personal API token as Authorization: Bearer.")
	}
	return scribe.Errorf(scribe.EFORBIDDEN, "A %s may not %s here.", role, a)
}

// may checks a server-wide action (list, create, manage-token).
func (s *Server) may(r *http.Request, a scribe.Action) error {
	if role := serverRole(r); !role.Can(a) {
		return s.refusal(r, role, a)
	}
	return nil
}

// note loads the note of the {id} parameter and checks that the request
// may do a on it.
func (s *Server) note(r *http.Request, a scribe.Action) (scribe.Note, error) {
	id, err := noteID(r)
	if err != nil {
		return scribe.Note{}, err
	}
	n, err := s.store.GetNote(r.Context(), id)
	if err != nil {
		return scribe.Note{}, err
	}
	if role := noteRole(r, n); !role.Can(a) {
		return scribe.Note{}, s.refusal(r, role, a)
	}
	return n, nil
}

// signInURL is where a stranger is sent to sign in and come back to r's
// page, or "" when the mode has no sign-in page of Scribe's own.
func (s *Server) signInURL(r *http.Request) string {
	if s.auth.Mode() != auth.ModeOIDC {
		return ""
	}
	return auth.LoginPath + "?next=" + url.QueryEscape(auth.SafeNext(r.URL.RequestURI()))
}
