package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/auth"
	"github.com/scribe-notes/scribe/protocol"
	"github.com/scribe-notes/scribe/web"
)

// routes builds the router.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverPanics, s.logRequests, securityHeaders, middleware.GetHead)

	// Health checks answer whatever the Host (a load balancer asks by
	// address) and say nothing but ok.
	r.Get("/healthz", s.handleHealthz)
	r.Get("/readyz", s.handleReadyz)

	// Everything else: 421 for a host that is not ours, then who is asking.
	r.Group(func(r chi.Router) {
		r.Use(s.auth.Hosts().Middleware, s.auth.Middleware)
		s.guardedRoutes(r)
	})
	return r
}

// guardedRoutes are the routes behind the Hosts guard and identity.
func (s *Server) guardedRoutes(r chi.Router) {
	r.Handle("/metrics", localOnly(s.metrics.handler()))
	r.Handle("/static/*", http.StripPrefix("/static/", staticHandler(web.Static())))
	r.Handle("/auth/*", s.auth.Handler())

	r.Get("/", s.handleHome)
	r.Get("/n/{id}", s.handleEditorPage)
	r.Get("/n/{id}/history", s.handleHistoryPage)
	r.Get("/actions", s.handleActionsPage)
	r.Get("/s/{token}", s.handleReadOnlyPage)

	r.Route("/api", func(r chi.Router) {
		r.Use(s.refuseCrossSite)
		r.Get("/templates", s.handleListTemplates)
		r.Post("/notes", s.handleCreateNote)
		r.Get("/notes", s.handleListNotes)
		r.Get("/search", s.handleSearch)
		r.Get("/actions", s.handleActions)
		r.Get("/decisions", s.handleDecisions)
		r.Get("/notes/{id}", s.handleGetNote)
		r.Patch("/notes/{id}", s.handleUpdateNote)
		r.Delete("/notes/{id}", s.handleDeleteNote)
		r.Get("/notes/{id}/text", s.handleNoteText)
		r.Get("/notes/{id}/revisions", s.handleRevisions)
		r.Get("/notes/{id}/diff", s.handleDiff)
		r.Get("/notes/{id}/authors", s.handleAuthors)
		r.Post("/notes/{id}/checkpoints", s.handleAddCheckpoint)
		r.Post("/notes/{id}/restore", s.handleRestore)
		r.Post("/notes/{id}/append", s.handleAppend)
		r.Post("/notes/{id}/tick", s.handleTick)
		r.Post("/notes/{id}/next", s.handleNextMeeting)
		r.Post("/notes/{id}/shares", s.handleCreateShare)
		r.Get("/notes/{id}/shares", s.handleListShares)
		r.Delete("/notes/{id}/shares/{token}", s.handleRevokeShare)
		r.Post("/notes/{id}/export", s.handleExport)
		r.Post("/notes/{id}/export/preview", s.handleExportPreview)
		r.Get("/notes/{id}/download.md", s.handleDownloadMarkdown)
		r.Get("/notes/{id}/download.html", s.handleDownloadHTML)
		r.Get("/notes/{id}/ws", s.handleNoteWS)
		r.Get("/shares/{token}", s.handleGetShare)
		r.Get("/shares/{token}/text", s.handleShareText)
		r.Get("/shares/{token}/ws", s.handleShareWS)
		r.Get("/tokens", s.handleListTokens)
		r.Post("/tokens", s.handleCreateToken)
		r.Delete("/tokens/{tokenID}", s.handleRevokeToken)
		r.Get("/me", s.handleMe)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			s.writeError(w, r, scribe.Errorf(scribe.ENOTFOUND, "There is no API endpoint %s %s.", r.Method, r.URL.Path))
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allowedMethods(r))
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Code: scribe.EINVALID, Message: fmt.Sprintf("Method %s is not allowed here.", r.Method)})
		})
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.writePageError(w, r, scribe.Errorf(scribe.ENOTFOUND, "There is no page here."))
	})
}

// localOnly answers 404 to anyone but the person at the machine (a
// loopback peer naming a loopback host, through no proxy): /metrics on the
// public port. --metrics-addr serves it elsewhere without this check.
func localOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !auth.IsLocal(r) {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowedMethods is a best-effort Allow header for a 405.
func allowedMethods(r *http.Request) string {
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/api/shares/"):
		return "GET"
	case strings.Contains(p, "/shares/"), strings.HasPrefix(p, "/api/tokens/"):
		return "DELETE"
	}
	return "GET, POST"
}

// statusOf maps an error code to an HTTP status: the one place that does.
func statusOf(code string) int {
	switch code {
	case "":
		return http.StatusOK
	case scribe.EINVALID:
		return http.StatusBadRequest
	case scribe.EFORBIDDEN:
		return http.StatusForbidden
	case scribe.ENOTFOUND:
		return http.StatusNotFound
	case scribe.ECONFLICT:
		return http.StatusConflict
	case scribe.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case scribe.ERATELIMIT:
		return http.StatusTooManyRequests
	case scribe.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case scribe.EGONE:
		return http.StatusGone
	default:
		return http.StatusInternalServerError
	}
}

// errorBody is the JSON form of every API error.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Folded names, for EGONE, the revision asked for and the nearest
	// revisions that can be read below and above it.
	Folded *foldedBody `json:"folded,omitempty"`
}

// foldedBody is the JSON of a scribe.FoldedError.
type foldedBody struct {
	Rev   scribe.Revision `json:"rev"`
	Below scribe.Revision `json:"below"`
	Above scribe.Revision `json:"above"`
}

// logError logs internal errors (never a cancelled request) and counts
// every error by code.
func (s *Server) logError(r *http.Request, err error) {
	code := scribe.ErrorCode(err)
	s.metrics.errors.WithLabelValues(code).Inc()
	if code == scribe.EINTERNAL && !errors.Is(err, context.Canceled) && r.Context().Err() == nil {
		s.log.Error("request failed", "method", r.Method, "route", routePattern(r), "err", err)
	}
}

// invalid returns an EINVALID error with a message for the client.
func invalid(format string, args ...any) *scribe.Error {
	return scribe.Errorf(scribe.EINVALID, format, args...)
}

// writeError answers an API request with the error as JSON.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	s.logError(r, err)
	code := scribe.ErrorCode(err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		code = scribe.EUNAVAILABLE
		err = scribe.Errorf(code, "The request was cancelled or timed out; retry.")
	}
	body := errorBody{Code: code, Message: scribe.ErrorMessage(err)}
	if f, ok := scribe.AsFolded(err); ok {
		body.Folded = &foldedBody{Rev: f.Rev, Below: f.Below, Above: f.Above}
	}
	writeJSON(w, statusOf(code), body)
}

// writePageError answers a page request with an HTML error page.
func (s *Server) writePageError(w http.ResponseWriter, r *http.Request, err error) {
	s.logError(r, err)
	code := scribe.ErrorCode(err)
	status := statusOf(code)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = s.pages.Error(w, web.ErrorData{Status: status, Code: code, Message: scribe.ErrorMessage(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"code":"EINTERNAL","message":"Internal error."}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeJSONTagged answers 200 with v and an ETag of its bytes, or 304 with
// no body when the request's If-None-Match names that ETag: a page that
// polls (the history page follows the head this way) gets an empty answer
// while nothing changed.
func writeJSONTagged(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, v)
		return
	}
	sum := sha256.Sum256(b)
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	w.Header().Set("ETag", tag)
	// Still no-store: the answer holds the edit link. A poller keeps the
	// ETag itself and sends If-None-Match.
	w.Header().Set("Cache-Control", "no-store")
	for _, t := range strings.Split(r.Header.Get("If-None-Match"), ",") {
		if t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/")); t == tag || t == "*" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(b, '\n'))
}

// readJSON decodes the request body (at most MaxMessageBytes) into v. An
// empty body leaves v as it is. Unknown fields are refused, so a typo in a
// script is reported rather than ignored.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, int64(s.limits.MaxMessageBytes))
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return scribe.Errorf(scribe.ETOOLARGE, "The request body may be at most %d bytes.", s.limits.MaxMessageBytes)
		}
		return invalid("The request body could not be read.")
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := protocol.JSONProblem(err)
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			msg = strings.TrimPrefix(err.Error(), "json: ")
		}
		return invalid("Malformed JSON body: %s.", msg)
	}
	if dec.More() {
		return invalid("Malformed JSON body: trailing data after the object.")
	}
	return nil
}

// refuseCrossSite protects the state-changing API from cross-site requests
// (CSRF): a POST, PUT, PATCH or DELETE must not come from another site
// (Sec-Fetch-Site, and an Origin that is not in the Hosts list: it is never
// compared with Host, which a DNS-rebinding page controls), and a POST or PUT must send JSON, which a
// cross-site form cannot without a CORS preflight that the server never
// grants.
func (s *Server) refuseCrossSite(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			s.writeError(w, r, scribe.Errorf(scribe.EFORBIDDEN, "Cross-site requests are refused."))
			return
		}
		if !s.auth.Hosts().OriginAllowed(r) {
			s.writeError(w, r, scribe.Errorf(scribe.EFORBIDDEN, "Requests from another origin are refused."))
			return
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				s.writeError(w, r, invalid("Send the request with Content-Type: application/json."))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets headers every response carries. Referrer-Policy
// matters most: edit links hold the note's secret id, and a link clicked in
// a note must not send it to another site.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// connect-src names the websocket origins too: older browsers do not
		// count ws://host as 'self'.
		connect := "'self'"
		if plainHost(r.Host) {
			connect += " ws://" + r.Host + " wss://" + r.Host
		}
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "+
			"connect-src "+connect+"; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// plainHost reports whether host is only a name or address and a port, safe
// to put in a header value.
func plainHost(host string) bool {
	if host == "" {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack lets the websocket upgrader take the connection over.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer cannot be hijacked")
	}
	w.status = http.StatusSwitchingProtocols
	return h.Hijack()
}

// logRequests logs each request at debug level (errors at warn). It logs
// the route pattern, never the path: paths hold note ids and share tokens,
// which are secrets.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusSwitchingProtocols // hijacked by the websocket upgrade
		}
		level := s.log.Debug
		if sw.status >= 500 && sw.status != http.StatusServiceUnavailable {
			level = s.log.Warn
		}
		level("http request", "method", r.Method, "route", routePattern(r), "status", sw.status, "duration", time.Since(start))
	})
}

func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return "(unmatched)"
}

// recoverPanics turns a panic in a handler into a logged 500, so a bug in
// one request does not take the node down.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in handler", "route", routePattern(r), "panic", fmt.Sprint(v))
				s.metrics.errors.WithLabelValues(scribe.EINTERNAL).Inc()
				writeJSON(w, http.StatusInternalServerError, errorBody{Code: scribe.EINTERNAL, Message: "Internal error."})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// staticHandler serves the web bundle. Pages link it with a ?v= version, so
// a versioned request may be cached for a year.
func staticHandler(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// handleReadyz reports whether the store answers and the node is not
// shutting down, so a load balancer sends traffic elsewhere otherwise.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if closing {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("shutting down\n"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness check: store unreachable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("store unreachable\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}
