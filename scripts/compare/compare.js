#!/usr/bin/env node
// compare.js: Scribe, ShareDB and y-websocket side by side (issue 16).
//
// Starts each server in turn, drives it through its own client library with
// the same workload, and reports committed ops/s, the server's CPU time per
// committed op (from /proc, over its process tree; for Scribe on Redis,
// redis-server's own CPU shown apart and added), and keystroke-to-commit
// latency. Servers run one at a time, interleaved across rounds, so that
// ratios come from neighbouring runs. See README.md.
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')
const { performance } = require('perf_hooks')
const { parseArgs } = require('util')
const proc = require('./lib/proc')
const { ScribeClient, ShareDBDocClient, YjsClient } = require('./lib/clients')

const USAGE = `usage: node compare.js [flags]

  --rounds N          rounds; each runs every workload on every server (3)
  --duration S        seconds of load per run, measured (10)
  --warmup S          seconds of the same load before the window opens (3)
  --warmup-rounds N   rounds run first and left out of the tables (1): the
                      Node servers' JIT warms up over thousands of ops
  --typists N         clients in the typing workload (100)
  --rate R            keystrokes per second per typist (10)
  --workloads LIST    typing,flood (both)
  --servers LIST      sharedb,yws,scribe-redis,scribe-bolt (all); also
                      floor-none,floor-redis,floor-wal: the least a Go
                      server can do per op (scripts/compare/floor; flood only)
  --floor PATH        the floor binary (../../bin/floor: go build -o bin/floor
                      ./scripts/compare/floor)
  --scribe NAME=PATH  a scribe binary; repeat to compare builds (main=../../bin/scribe)
  --redis-server PATH redis-server for Scribe on Redis (redis-server)
  --out FILE          also write every run as a JSON line here
`

function options () {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      'warmup-rounds': { type: 'string', default: '1' },
      typists: { type: 'string', default: '100' },
      rate: { type: 'string', default: '10' },
      workloads: { type: 'string', default: 'typing,flood' },
      servers: { type: 'string', default: 'sharedb,yws,scribe-redis,scribe-bolt' },
      scribe: { type: 'string', multiple: true },
      'redis-server': { type: 'string', default: 'redis-server' },
      floor: { type: 'string', default: path.join(__dirname, '../../bin/floor') },
      out: { type: 'string' },
      help: { type: 'boolean' }
    }
  })
  if (values.help) { process.stdout.write(USAGE); process.exit(0) }
  const scribes = (values.scribe || [`main=${path.join(__dirname, '../../bin/scribe')}`]).map((s) => {
    const i = s.indexOf('=')
    if (i <= 0) throw new Error(`--scribe ${s}: want NAME=PATH`)
    const bin = path.resolve(s.slice(i + 1))
    fs.accessSync(bin, fs.constants.X_OK)
    return { name: s.slice(0, i), bin }
  })
  const num = (k) => {
    const n = Number(values[k])
    if (!(n > 0)) throw new Error(`--${k} ${values[k]}: want a positive number`)
    return n
  }
  return {
    rounds: num('rounds'),
    duration: num('duration') * 1000,
    warmup: Number(values.warmup) * 1000,
    warmupRounds: Number(values['warmup-rounds']),
    typists: num('typists'),
    rate: num('rate'),
    workloads: values.workloads.split(','),
    servers: values.servers.split(','),
    scribes,
    redisServer: values['redis-server'],
    floor: path.resolve(values.floor),
    out: values.out
  }
}

// ---- servers ----
//
// Each server is started once, when its first run comes, and kept for the
// rest of the harness's life (idle while the others run), so that the Node
// servers' JIT is warm in later rounds, as a long-running server's would
// be. Every run opens a new document on it. start() resolves to
// { child, storePid, open(run) }, where open resolves to connect(i), which
// makes client i of that run's document.

const here = __dirname
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scribe-compare-'))

async function startShareDB () {
  const port = await proc.freePort()
  const child = await proc.start(process.execPath, [path.join(here, 'servers-sharedb.js')],
    { env: { ...process.env, PORT: port, HOST: '127.0.0.1' } }, proc.waitOutput('ready'))
  const url = `ws://127.0.0.1:${port}`
  return { child, open: async (run) => (i) => new ShareDBDocClient(url, `compare-${run}`, i === 0) }
}

async function startYws () {
  const port = await proc.freePort()
  const bin = path.join(here, 'node_modules/@y/websocket-server/src/server.js')
  const env = { ...process.env, PORT: port, HOST: '127.0.0.1' }
  delete env.YPERSISTENCE // in memory, as it runs by default
  delete env.CALLBACK_URL
  const child = await proc.start(process.execPath, [bin], { env }, proc.waitOutput('running at'))
  const url = `ws://127.0.0.1:${port}`
  return { child, open: async (run) => () => new YjsClient(url, `compare-${run}`) }
}

let redis = null // { child, port }, started for the first Scribe-on-Redis server
let prefixes = 0

async function ensureRedis () {
  if (redis) return
  const rport = await proc.freePort()
  const child = await proc.start(opts.redisServer, ['--bind', '127.0.0.1', '--port', String(rport),
    '--dir', tmp, '--save', '', '--appendonly', 'no'], {}, proc.waitOutput('Ready to accept'))
  redis = { child, port: rport }
}

async function startScribe (bin, store) {
  const port = await proc.freePort()
  const args = ['serve', '--addr', `127.0.0.1:${port}`, '--log-level', 'warn',
    '--ops-per-second', '1000000', '--max-conns-per-peer', '-1']
  if (store === 'redis') {
    await ensureRedis()
    args.push('--redis', `redis://127.0.0.1:${redis.port}/0`, '--redis-prefix', `cmp${++prefixes}:`)
  } else {
    args.push('--data-dir', fs.mkdtempSync(path.join(tmp, 'bolt-')))
  }
  const base = `http://127.0.0.1:${port}`
  const child = await proc.start(bin, args, {}, proc.waitHTTP(base + '/readyz'))
  const open = async (run) => {
    const res = await fetch(base + '/api/notes', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: `Compare ${run}` })
    })
    if (!res.ok) throw new Error(`scribe: create a note: ${res.status} ${await res.text()}`)
    const body = await res.json()
    const id = body.id || (body.note && body.note.id)
    const url = `ws://127.0.0.1:${port}/api/notes/${id}/ws`
    return (i) => new ScribeClient(url, `typist ${i}`)
  }
  return { child, storePid: store === 'redis' ? redis.child.pid : 0, open }
}

// The floor (scripts/compare/floor): one writer, its op read, stored (in
// memory, one RPUSH, or an fdatasync'd append) and acknowledged, nothing else.
async function startFloor (store) {
  const port = await proc.freePort()
  const args = ['--addr', `127.0.0.1:${port}`, '--store', store]
  if (store === 'redis') {
    await ensureRedis()
    args.push('--redis', `redis://127.0.0.1:${redis.port}/0`)
  } else if (store === 'wal') {
    args.push('--wal', path.join(fs.mkdtempSync(path.join(tmp, 'wal-')), 'log'))
  }
  const base = `http://127.0.0.1:${port}`
  const child = await proc.start(opts.floor, args, {}, proc.waitHTTP(base + '/readyz'))
  const url = `ws://127.0.0.1:${port}/api/notes/floor/ws`
  return { child, storePid: store === 'redis' ? redis.child.pid : 0, open: async () => (i) => new ScribeClient(url, `typist ${i}`) }
}

let serverList = null

function servers () {
  if (serverList) return serverList
  const list = []
  for (const s of opts.servers) {
    if (s === 'sharedb') list.push({ name: 'ShareDB', start: startShareDB })
    else if (s === 'yws') list.push({ name: 'y-websocket', start: startYws })
    else if (s === 'scribe-redis' || s === 'scribe-bolt') {
      const store = s.slice('scribe-'.length)
      for (const b of opts.scribes) {
        const label = opts.scribes.length > 1 ? ` ${b.name}` : ''
        list.push({ name: `Scribe${label} (${store === 'redis' ? 'Redis' : 'embedded'})`, start: () => startScribe(b.bin, store) })
      }
    } else if (['floor-none', 'floor-redis', 'floor-wal'].includes(s)) {
      const store = s.slice('floor-'.length)
      list.push({ name: `Floor (${store === 'none' ? 'memory' : store === 'redis' ? 'Redis' : 'fdatasync'})`, start: () => startFloor(store), floodOnly: true })
    } else throw new Error(`--servers: unknown server ${s}`)
  }
  serverList = list
  return list
}

async function stopServers () {
  for (const s of serverList || []) {
    if (s.running) await proc.stop((await s.running).child)
  }
  if (redis) await proc.stop(redis.child)
}

// ---- one run ----

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function until (what, ms, cond) {
  const end = performance.now() + ms
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

// lineEnd returns the offset of the newline that ends line i (line 0 is
// before the first newline): where typist i types.
function lineEnd (text, i) {
  let p = -1
  for (let k = 0; k <= i; k++) p = text.indexOf('\n', p + 1)
  return p
}

const count = (text) => text.split('\n').length - 1
const LETTERS = 'the quick brown fox jumps over the lazy dog '

let runs = 0

async function run (server, workload) {
  const n = workload === 'flood' ? 1 : opts.typists
  if (!server.running) server.running = server.start()
  const srv = await server.running
  const connect = await srv.open(++runs)
  const clients = []
  try {
    for (let i = 0; i < n; i++) {
      clients.push(connect(i))
      if (i === 0) await clients[0].ready // the first creates the document (ShareDB)
    }
    await Promise.all(clients.map((c) => c.ready))
    // Give every client its own line: typist i types at the end of line i+1.
    // (Scribe's new note already holds its title line: the seed goes before it.)
    const want = count(clients[0].text()) + n + 1
    clients[0].insert(0, '\n'.repeat(n + 1))
    await until('the seed to reach every client', 60000, () => clients.every((c) => count(c.text()) === want && c.pending() === 0))

    // The load starts, runs --warmup seconds unmeasured (Node's JIT warms
    // up in ShareDB's and y-websocket's servers), then --duration measured.
    const w = { keystrokes: 0, commits: 0, committedKeystrokes: 0, lat: [] }
    let open = false
    let stopped = false
    const commit = (times, now) => {
      if (!open) return
      w.commits++
      w.committedKeystrokes += times.length
      for (const t of times) w.lat.push(now - t)
    }
    const type = (c, i) => {
      if (stopped) return
      const text = c.text()
      c.insert(lineEnd(text, i + 1), LETTERS[(w.keystrokes + i) % LETTERS.length])
      if (open) w.keystrokes++
    }
    const timers = []
    if (workload === 'flood') {
      const c = clients[0]
      c.onCommit = (times, now) => { commit(times, now); type(c, 0) }
      type(c, 0)
    } else {
      for (const c of clients) c.onCommit = commit
      const interval = 1000 / opts.rate
      clients.forEach((c, i) => {
        timers.push(setTimeout(() => {
          type(c, i)
          timers.push(setInterval(() => type(c, i), interval))
        }, Math.random() * interval))
      })
    }
    await sleep(opts.warmup)
    const cpu0 = proc.cpuSeconds(srv.child.pid)
    const store0 = srv.storePid ? proc.cpuSeconds(srv.storePid) : 0
    const tool0 = process.cpuUsage()
    const t0 = performance.now()
    open = true
    await sleep(opts.duration)
    open = false
    stopped = true
    const t1 = performance.now()
    for (const t of timers) clearTimeout(t) // clears intervals too
    const cpu1 = proc.cpuSeconds(srv.child.pid)
    const store1 = srv.storePid ? proc.cpuSeconds(srv.storePid) : 0
    const tool = process.cpuUsage(tool0)
    const secs = (t1 - t0) / 1000

    // Let everything in flight land, then check that every client has the same text.
    let converged = true
    try {
      await until('every keystroke to be committed', 60000, () => clients.every((c) => c.pending() === 0))
      await until('the clients to converge', 30000, () => clients.every((c) => c.text() === clients[0].text()))
    } catch (e) {
      converged = false
    }
    const errors = clients.flatMap((c) => c.errors)
    w.lat.sort((a, b) => a - b)
    const pct = (p) => w.lat.length ? w.lat[Math.min(w.lat.length - 1, Math.floor(p * w.lat.length))] : NaN
    const serverCpu = cpu1 - cpu0
    const storeCpu = store1 - store0
    return {
      server: server.name,
      workload,
      clients: n,
      seconds: secs,
      offered_per_s: w.keystrokes / secs,
      committed_ops_per_s: w.commits / secs,
      committed_keystrokes_per_s: w.committedKeystrokes / secs,
      server_cpu_s: serverCpu,
      server_cpu_ms_per_op: (serverCpu * 1000) / w.commits,
      store_cpu_ms_per_op: srv.storePid ? (storeCpu * 1000) / w.commits : undefined,
      total_cpu_ms_per_op: ((serverCpu + storeCpu) * 1000) / w.commits,
      tool_cpu_percent: (100 * (tool.user + tool.system) / 1e6) / secs,
      latency_p50_ms: pct(0.5),
      latency_p99_ms: pct(0.99),
      converged,
      errors: errors.slice(0, 5),
      load: os.loadavg()[0]
    }
  } finally {
    for (const c of clients) { try { c.close() } catch {} }
  }
}

// ---- report ----

const f = (x, d = 0) => (x === undefined || Number.isNaN(x)) ? '-' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })

function range (xs, d) {
  xs = xs.filter((x) => x !== undefined && !Number.isNaN(x))
  if (!xs.length) return '-'
  const lo = Math.min(...xs); const hi = Math.max(...xs)
  return f(lo, d) === f(hi, d) ? f(lo, d) : `${f(lo, d)}-${f(hi, d)}`
}

function report (results) {
  results = results.filter((r) => r.round >= 0) // not the warm-up rounds
  const lines = []
  for (const workload of opts.workloads) {
    lines.push('', `${workload === 'flood' ? 'one client flooding (next op on commit)' : `${opts.typists} typists, ${opts.rate} keystrokes/s each`}, ${opts.duration / 1000} s, ${opts.rounds} rounds (ranges: min-max)`, '')
    lines.push('| server | committed ops/s | keystrokes committed/s | server CPU ms/op | + store ms/op | total ms/op | p50 / p99 ms | tool CPU % | converged |')
    lines.push('|---|---|---|---|---|---|---|---|---|')
    for (const s of servers()) {
      const rs = results.filter((r) => r.server === s.name && r.workload === workload)
      if (!rs.length) continue
      lines.push(`| ${s.name} | ${range(rs.map((r) => r.committed_ops_per_s))} | ${range(rs.map((r) => r.committed_keystrokes_per_s))} | ${range(rs.map((r) => r.server_cpu_ms_per_op), 3)} | ${range(rs.map((r) => r.store_cpu_ms_per_op), 3)} | ${range(rs.map((r) => r.total_cpu_ms_per_op), 3)} | ${range(rs.map((r) => r.latency_p50_ms), 1)} / ${range(rs.map((r) => r.latency_p99_ms), 1)} | ${range(rs.map((r) => r.tool_cpu_percent))} | ${rs.every((r) => r.converged && !r.errors.length) ? 'yes' : 'NO'} |`)
    }
  }
  // The issue's targets, as ratios within each round.
  const ratio = (workload, a, b) => {
    const xs = []
    for (let r = 0; r < opts.rounds; r++) {
      const ra = results.find((x) => x.round === r && x.workload === workload && x.server === a)
      const rb = results.find((x) => x.round === r && x.workload === workload && x.server === b)
      if (ra && rb) xs.push(ra.total_cpu_ms_per_op / rb.total_cpu_ms_per_op)
    }
    return xs.length ? range(xs, 2) : null
  }
  lines.push('', 'ratios of CPU per committed op, each within one round (store CPU included):', '')
  for (const s of servers().filter((s) => s.name.startsWith('Scribe') || s.name.startsWith('Floor'))) {
    const one = ratio('flood', s.name, 'y-websocket')
    if (one) lines.push(`- one writer, ${s.name} / y-websocket: ${one} (target: <= 1 on Redis, <= 2 embedded)`)
    const typ = ratio('typing', s.name, 'ShareDB')
    if (typ) lines.push(`- ${opts.typists} typists, ${s.name} / ShareDB: ${typ} (target: <= 0.10)`)
  }
  return lines.join('\n')
}

// ---- main ----

let opts
async function main () {
  opts = options()
  process.setMaxListeners(0) // each y-websocket provider listens for the process's exit
  const results = []
  const out = opts.out ? fs.createWriteStream(opts.out, { flags: 'a' }) : null
  for (let round = -opts.warmupRounds; round < opts.rounds; round++) {
    for (const workload of opts.workloads) {
      for (const server of servers()) {
        if (server.floodOnly && workload !== 'flood') continue
        const r = await run(server, workload)
        r.round = round // negative: a warm-up round
        results.push(r)
        if (out) out.write(JSON.stringify(r) + '\n')
        process.stderr.write(`${round < 0 ? 'warm-up' : `round ${round + 1}`} ${workload} ${server.name}: ${f(r.committed_ops_per_s)} ops/s ` +
          `(${f(r.committed_keystrokes_per_s)} of ${f(r.offered_per_s)} keystrokes/s), ` +
          `${f(r.total_cpu_ms_per_op, 3)} ms CPU/op (server ${f(r.server_cpu_ms_per_op, 3)}), ` +
          `p50 ${f(r.latency_p50_ms, 1)} ms, p99 ${f(r.latency_p99_ms, 1)} ms, tool ${f(r.tool_cpu_percent)} %, ` +
          `load ${r.load.toFixed(1)}${r.converged ? '' : ', NOT CONVERGED'}${r.errors.length ? ', errors: ' + r.errors.join('; ') : ''}\n`)
      }
    }
  }
  console.log(report(results))
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    proc.stopAll()
    fs.rmSync(tmp, { recursive: true, force: true })
    process.exit(1)
  })
}

main().catch((e) => { console.error(e); process.exitCode = 1 }).finally(async () => {
  await stopServers()
  fs.rmSync(tmp, { recursive: true, force: true })
  process.exit() // no client's timer may keep the harness waiting
})
