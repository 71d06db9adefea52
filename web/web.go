// Package web is Scribe's browser client and the server-side half of its
// pages: the CodeMirror 6 bundle built from web/src by esbuild (embedded from
// web/dist, so a release is one binary), the html/template pages that load
// it, the note templates, and the read-only page (its markdown rendered by
// package markdown).
//
// The package does no I/O of its own beyond reading the operator's template
// folder in LoadTemplates; the server serves Static() at /static/ and calls
// the Pages methods from its handlers.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

// dist holds the esbuild output (app.js, app.css and the files copied from
// web/static). "all:" keeps web/dist/.gitkeep, so the embed compiles even in
// a fresh clone before the bundle is built; the pages then say so.
//
//go:embed all:dist
var dist embed.FS

// Static returns the bundle and static files the server serves at /static/:
// app.js, app.css, favicon.svg. In a binary built before `make web` it holds
// none of them, and every page shows a notice saying how to build them.
func Static() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("web: dist is embedded, so fs.Sub cannot fail: " + err.Error())
	}
	return sub
}

// bundleVersion returns a short hash of app.js and app.css for cache-busting
// query strings, and whether both files are present.
func bundleVersion(static fs.FS) (string, bool) {
	h := sha256.New()
	for _, name := range []string{"app.js", "app.css"} {
		b, err := fs.ReadFile(static, name)
		if err != nil {
			return "missing", false
		}
		h.Write([]byte(name))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], true
}
