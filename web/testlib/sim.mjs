// A model of Scribe's server for unit tests of the client state machine: the
// protocol's rules (docs/protocol.md) over an in-memory log, with a network
// whose messages can be delayed, interleaved and dropped. It is a reference
// model, not a substitute for the real server: the browser tests in e2e/ run
// the real binary.

import * as ot from '../src/ot.js'
import { CollabClient } from '../src/collab.js'

export class SimServer {
  /**
   * @param {string} text
   * @param {object} [opts]
   * @param {boolean} [opts.relayByConnection] relay a commit as an op to every
   *   connection but the sender's, even another connection of the same
   *   session (as server/ does), instead of acking the whole session
   */
  constructor (text = '', { relayByConnection = false } = {}) {
    this.relayByConnection = relayByConnection
    /** messages from connections that were cut, still on their way to the server */
    this.pipeline = []
    this.text = text
    /** @type {{op: any[], session: string, seq: number}[]} log[i] produced revision i+1 */
    this.log = []
    this.conns = new Set()
    this.nextClient = 1
  }

  get rev () { return this.log.length }

  /** Process one message of a dropped connection that was still on its way; false if none. */
  stepPipeline () {
    const p = this.pipeline.shift()
    if (!p) return false
    this.handle(p.conn, p.m)
    return true
  }

  /** @param {SimConn} conn @param {any} m */
  handle (conn, m) {
    if (m.type === 'hello') {
      conn.session = m.session
      conn.name = m.name
      conn.client = 'c' + this.nextClient++
      conn.welcomed = true
      let lastSeq = 0
      for (const e of this.log) if (e.session === m.session) lastSeq = Math.max(lastSeq, e.seq)
      const peers = [...this.conns].filter(c => c !== conn && c.welcomed).map(c => ({ client: c.client, name: c.name, color: '#123456', readonly: false }))
      if (Number.isInteger(m.rev)) {
        if (m.rev > this.rev) {
          conn.toClient.push([{ type: 'error', code: 'EINVALID', message: 'rev ahead' }])
          return
        }
        const msgs = [{ type: 'welcome', protocol: 1, client: conn.client, rev: this.rev, catchup: true, lastSeq, peers }]
        for (let r = m.rev + 1; r <= this.rev; r++) {
          const e = this.log[r - 1]
          msgs.push(e.session === m.session ? { type: 'ack', seq: e.seq, rev: r } : { type: 'op', rev: r, op: e.op, client: 'x' })
        }
        conn.toClient.push(msgs)
      } else {
        conn.toClient.push([{ type: 'welcome', protocol: 1, client: conn.client, rev: this.rev, text: this.text, lastSeq, peers }])
      }
      return
    }
    if (!conn.welcomed) {
      conn.toClient.push([{ type: 'error', code: 'EINVALID', message: 'hello first' }])
      return
    }
    if (m.type === 'op') {
      const dup = this.log.findIndex(e => e.session === conn.session && e.seq === m.seq)
      if (dup >= 0) {
        conn.toClient.push([{ type: 'ack', seq: m.seq, rev: dup + 1 }])
        return
      }
      if (!Number.isInteger(m.rev) || m.rev > this.rev) {
        conn.toClient.push([{ type: 'error', code: 'EINVALID', message: 'rev from the future', seq: m.seq }])
        return
      }
      let op = ot.normalize(m.op)
      // The sender's selection, after its op, moves with it: through the
      // other side of each transform.
      let sel = Array.isArray(m.sel) ? clampSelection(m.sel, ot.targetLength(op)) : undefined
      for (let r = m.rev + 1; r <= this.rev; r++) {
        const [op2, other] = ot.transform(op, this.log[r - 1].op)
        op = op2
        if (sel) sel = ot.transformSelection(sel, other)
      }
      if (ot.baseLength(op) !== this.text.length) {
        conn.toClient.push([{ type: 'error', code: 'EINVALID', message: 'does not fit', seq: m.seq }])
        return
      }
      this.text = ot.apply(this.text, op)
      this.log.push({ op, session: conn.session, seq: m.seq })
      const rev = this.rev
      for (const c of this.conns) {
        if (!c.welcomed) continue
        if (c === conn || (c.session === conn.session && !this.relayByConnection)) c.toClient.push([{ type: 'ack', seq: m.seq, rev }])
        else c.toClient.push([sel ? { type: 'op', rev, op, client: conn.client, sel } : { type: 'op', rev, op, client: conn.client }])
      }
      return
    }
    if (m.type === 'presence') {
      for (const c of this.conns) {
        if (c !== conn && c.welcomed) c.toClient.push([{ type: 'presence', client: conn.client, name: conn.name, color: '#123456', readonly: false, rev: m.rev, sel: m.sel }])
      }
    }
  }
}

export class SimConn {
  constructor (server) {
    this.server = server
    this.toServer = []
    this.toClient = []
    this.welcomed = false
    server.conns.add(this)
  }

  /**
   * The connection drops. What the client sent and the server has not read
   * yet is lost, or (with `rand`) may still reach the server later.
   */
  cut (rand) {
    this.server.conns.delete(this)
    if (rand) {
      for (const m of this.toServer) if (m.type === 'op' && rand() < 0.5) this.server.pipeline.push({ conn: this, m })
    }
    this.toServer = []
    this.toClient = []
  }
}

/** A client wired to a simulated connection it can lose and regain. */
export class SimClient {
  constructor (server, name, { rand = Math.random, opsPerSecond = 1e9 } = {}) {
    this.server = server
    this.rand = rand
    this.conn = null
    this.sent = []
    this.resyncs = 0
    this.client = new CollabClient({
      session: 'sess_' + name.padEnd(8, 'x'),
      name,
      callbacks: {
        send: m => { if (this.conn) this.conn.toServer.push(m); this.sent.push(m) },
        resync: () => { this.resyncs++; this.disconnect(); this.connect() },
        now: () => 0,
        setTimer: () => 0,
        clearTimer: () => {}
      }
    })
    this.client.limits.opsPerSecond = opsPerSecond
  }

  connect () {
    this.conn = new SimConn(this.server)
    this.client.connected()
  }

  disconnect () {
    if (this.conn) this.conn.cut(this.rand)
    this.conn = null
    this.client.disconnected('reconnecting')
  }

  /** Deliver one pending message in one direction; false if none. */
  step (toServer) {
    const c = this.conn
    if (!c) return false
    if (toServer) {
      const m = c.toServer.shift()
      if (!m) return false
      this.server.handle(c, m)
    } else {
      const f = c.toClient.shift()
      if (!f) return false
      this.client.receive(f)
    }
    return true
  }

  pendingMessages () {
    return this.conn ? this.conn.toServer.length + this.conn.toClient.length : 0
  }

  /** A random edit at a random place, never splitting a surrogate pair. */
  randomEdit (alphabet) {
    if (!this.client.synced) return
    const text = this.client.text
    const rand = this.rand
    const pos = snap(text, Math.floor(rand() * (text.length + 1)))
    if (text.length > 0 && rand() < 0.3) {
      const end = snap(text, Math.min(text.length, pos + 1 + Math.floor(rand() * 4)))
      if (end > pos) {
        this.client.localChange(new ot.Builder().retain(pos).delete(end - pos).retain(text.length - end).build(), [{ anchor: pos, head: pos }])
        return
      }
    }
    let s = ''
    const n = 1 + Math.floor(rand() * 3)
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)]
    this.client.localChange(new ot.Builder().retain(pos).insert(s).retain(text.length - pos).build(), [{ anchor: pos + s.length, head: pos + s.length }])
  }
}

/** clampSelection keeps every end of sel within [0, n]. */
function clampSelection (sel, n) {
  return sel.map(r => ({ anchor: Math.min(Math.max(r.anchor, 0), n), head: Math.min(Math.max(r.head, 0), n) }))
}

/** snap moves pos off the middle of a surrogate pair. */
export function snap (text, pos) {
  if (pos > 0 && pos < text.length) {
    const c = text.charCodeAt(pos)
    if (c >= 0xdc00 && c <= 0xdfff) return pos - 1
  }
  return pos
}

/** mulberry32: a small seeded PRNG, so a failing seed can be replayed. */
export function prng (seed) {
  let a = seed >>> 0
  return function () {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
