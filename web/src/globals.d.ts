// Declarations for tsc's check of web/src (make lint-web); esbuild ignores them.

// main.js imports the stylesheet for esbuild to bundle.
declare module '*.css'

interface Window {
  // The page's client, view and connection, for the browser tests and the console.
  scribe?: object
}
