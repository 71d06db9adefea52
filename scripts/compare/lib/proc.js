// Processes: CPU time from /proc, free ports, starting and stopping servers.
'use strict'
const fs = require('fs')
const net = require('net')
const http = require('http')
const { spawn } = require('child_process')

// CLK_TCK: /proc/<pid>/stat counts CPU time in ticks of 1/100 s on Linux.
const TICKS_PER_SECOND = 100

// stat returns [ppid, utime + stime in ticks] of a process, or null.
function stat (pid) {
  let s
  try {
    s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // The command name (field 2) may hold spaces: split after its ')'.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
  return [Number(f[1]), Number(f[11]) + Number(f[12])]
}

// cpuSeconds returns the CPU time (user + system) of pid and all its
// descendants, in seconds.
function cpuSeconds (pid) {
  const children = new Map()
  const ticks = new Map()
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const st = stat(name)
    if (!st) continue
    const p = Number(name)
    ticks.set(p, st[1])
    if (!children.has(st[0])) children.set(st[0], [])
    children.get(st[0]).push(p)
  }
  let sum = 0
  const todo = [pid]
  while (todo.length) {
    const p = todo.pop()
    sum += ticks.get(p) || 0
    for (const c of children.get(p) || []) todo.push(c)
  }
  return sum / TICKS_PER_SECOND
}

function freePort () {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

// start spawns a server and resolves once ready() resolves, or rejects when
// the process exits first or 30 s pass. Its output is kept for errors.
// Children still running, stopped by stopAll when the harness is interrupted.
const running = new Set()

function start (cmd, args, opts, ready) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
  running.add(child)
  let out = ''
  const keep = (b) => { out = (out + b.toString()).slice(-4000) }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => { running.delete(child); resolve({ code, sig }) }))
  child.exited = exited
  child.output = () => out
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${cmd}: not ready in 30 s:\n${out}`)) }, 30000)
    exited.then(({ code, sig }) => { clearTimeout(timer); reject(new Error(`${cmd} exited (${code ?? sig}):\n${out}`)) })
    ready(child, () => out).then(() => { clearTimeout(timer); resolve(child) }, reject)
  })
}

// stop sends SIGTERM and waits for the exit (SIGKILL after 10 s).
async function stop (child) {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), 10000)
  await child.exited
  clearTimeout(t)
}

// stopAll kills every child still running.
function stopAll () {
  for (const c of running) c.kill('SIGKILL')
}

// waitOutput resolves when the child's output contains s.
function waitOutput (s) {
  return (child, out) => new Promise((resolve) => {
    const check = () => { if (out().includes(s)) { resolve() } else { setTimeout(check, 20) } }
    check()
  })
}

// waitHTTP resolves when GET url answers 200.
function waitHTTP (url) {
  return (child) => new Promise((resolve) => {
    const tryOnce = () => {
      if (child.exitCode !== null) return
      http.get(url, (res) => {
        res.resume()
        if (res.statusCode === 200) resolve(); else setTimeout(tryOnce, 50)
      }).on('error', () => setTimeout(tryOnce, 50))
    }
    tryOnce()
  })
}

module.exports = { cpuSeconds, freePort, start, stop, stopAll, waitOutput, waitHTTP }
