// Builds the browser bundle into dist/: app.js and app.css from src/main.js
// (esbuild), plus the files in static/. `make web` runs it; the Go package
// embeds dist/ with go:embed.
//
//   node build.mjs            one minified build
//   node build.mjs --watch    rebuild on change (development)

import * as esbuild from 'esbuild'
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const dist = join(here, 'dist')
const watch = process.argv.includes('--watch')

// Clear old output but keep .gitkeep, so the Go embed always has a file.
mkdirSync(dist, { recursive: true })
for (const f of readdirSync(dist)) if (f !== '.gitkeep') rmSync(join(dist, f), { recursive: true, force: true })
cpSync(join(here, 'static'), dist, { recursive: true })

const options = {
  entryPoints: { app: join(here, 'src/main.js') },
  outdir: dist,
  bundle: true,
  format: 'esm',
  splitting: true, // one chunk per page: the read-only page skips CodeMirror
  chunkNames: 'chunks/[name]-[hash]',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: !watch,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'info'
}

if (watch) {
  const ctx = await esbuild.context(options)
  await ctx.watch()
} else {
  await esbuild.build(options)
}
