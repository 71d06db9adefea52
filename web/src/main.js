// Entry point of the bundle: starts whichever page this is.

// Each page's code is a separate chunk (esbuild splitting), so the
// read-only page does not load CodeMirror.

import './app.css'

async function start () {
  const el = /** @type {HTMLElement|null} */ (document.querySelector('[data-page]'))
  if (!el) return
  switch (el.getAttribute('data-page')) {
    case 'editor': (await import('./editor.js')).startEditor(el); break
    case 'readonly': (await import('./readonly.js')).startReadOnly(el); break
    case 'home': (await import('./home.js')).startHome(el); break
    case 'history': (await import('./history.js')).startHistory(el); break
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
else start()
