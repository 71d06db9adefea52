// Unconfirmed edits outlive the page (persist.js): kept in a fake
// localStorage, taken over by the next page of the note, and sent exactly
// once, whether the page said goodbye (pagehide) or crashed, and whether the
// op in flight when it closed was committed or not.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as ot from '../src/ot.js'
import { CollabClient } from '../src/collab.js'
import { Keeper, PREFIX, MAX_AGE_MS, STALE_MS, MAX_RECORD_CHARS } from '../src/persist.js'
import { SimServer, SimConn, prng } from '../testlib/sim.mjs'

/** localStorage in memory, with a quota in UTF-16 units of keys and values. */
class FakeStorage {
  constructor (quota = Infinity) {
    this.map = new Map()
    this.quota = quota
  }

  get length () { return this.map.size }
  key (i) { return [...this.map.keys()][i] ?? null }
  getItem (k) { return this.map.has(k) ? this.map.get(k) : null }
  removeItem (k) { this.map.delete(k) }
  setItem (k, v) {
    let used = k.length + v.length
    for (const [k2, v2] of this.map) if (k2 !== k) used += k2.length + v2.length
    if (used > this.quota) throw new Error('QuotaExceededError')
    this.map.set(k, String(v))
  }
}

/** Web Locks shared by the pages of one browser; a page's locks go when it closes. */
class LockWorld {
  constructor () { this.held = new Map() } // name -> page
  page () {
    const world = this
    const id = Symbol('page')
    return {
      request (name, opts, cb) {
        if (world.held.has(name)) return Promise.resolve(cb(null))
        world.held.set(name, id)
        cb({ name })
        return new Promise(() => {})
      },
      close () { for (const [n, p] of world.held) if (p === id) world.held.delete(n) }
    }
  }
}

/**
 * One page of the editor: a CollabClient kept by a Keeper, on a simulated
 * connection to server. Timers are manual: a crash is a page whose
 * pending timers never run.
 */
class Page {
  constructor (server, storage, locks, name, { now = () => 1000 } = {}) {
    this.server = server
    this.locks = locks
    this.timers = []
    this.conn = null
    this.sent = []
    const setTimer = (fn) => { this.timers.push(fn); return this.timers.length }
    this.keeper = new Keeper({ note: 'n1', storage, locks, now, setTimer, clearTimer: t => { this.timers[t - 1] = null } })
    this.client = new CollabClient({
      session: `sess_${name}`.padEnd(12, 'x'),
      name,
      callbacks: {
        send: m => { if (this.conn) this.conn.toServer.push(m); this.sent.push(m) },
        changed: () => this.keeper.changed(),
        sending: () => this.keeper.save(),
        resync: () => { this.cut(); this.connect() },
        now: () => 0,
        setTimer: () => 0,
        clearTimer: () => {}
      }
    })
    this.client.limits.opsPerSecond = 1e9
  }

  /** What editor.js does on load: take over a copy, keep, connect. */
  async open () {
    const saved = await this.keeper.adopt()
    if (saved) this.client.restore(saved)
    await this.keeper.attach(this.client)
    this.restored = !!saved
    this.connect()
  }

  connect () {
    this.conn = new SimConn(this.server)
    this.client.connected()
  }

  cut (rand) {
    if (this.conn) this.conn.cut(rand)
    this.conn = null
    this.client.disconnected('reconnecting')
  }

  runTimers () {
    const t = this.timers
    this.timers = []
    for (const fn of t) if (fn) fn()
  }

  /** Deliver everything both ways until nothing moves. */
  settle () {
    for (let moved = true; moved;) {
      moved = false
      while (this.conn && this.conn.toServer.length) { this.server.handle(this.conn, this.conn.toServer.shift()); moved = true }
      while (this.conn && this.conn.toClient.length) { this.client.receive(this.conn.toClient.shift()); moved = true }
    }
    this.runTimers()
  }

  /** The page goes: pagehide writes the copy (unless it crashed), the connection and the locks go. */
  close ({ crash = false, rand } = {}) {
    if (!crash) this.keeper.save(true)
    this.timers = []
    this.cut(rand)
    if (this.locks) this.locks.close()
  }

  insert (pos, s) {
    const t = this.client.text
    this.client.localChange(new ot.Builder().retain(pos).insert(s).retain(t.length - pos).build())
  }
}

const count = (s, needle) => s.split(needle).length - 1

test('a page closed with unconfirmed edits: the next page of the note sends them exactly once', async () => {
  for (let seed = 1; seed <= 300; seed++) {
    const rand = prng(seed)
    const server = new SimServer('# Notes\n')
    const storage = new FakeStorage()
    const world = new LockWorld()
    const crash = seed % 3 === 0

    const a = new Page(server, storage, world.page(), 'ada')
    await a.open()
    a.settle()
    // Someone else types meanwhile, so the resend is transformed.
    const b = new Page(server, new FakeStorage(), world.page(), 'bob')
    await b.open()
    b.settle()

    const typed = []
    const steps = 3 + Math.floor(rand() * 12)
    for (let i = 0; i < steps; i++) {
      const tok = `[a${i}]`
      typed.push(tok)
      // At a token's end (or the start): tokens are never split, so each can be counted.
      const t = a.client.text
      const ends = [0, t.length]
      for (let p = 0; p < t.length; p++) if (t[p] === ']') ends.push(p + 1)
      a.insert(ends[Math.floor(rand() * ends.length)], tok)
      if (rand() < 0.3) b.insert(0, `[b${i}]`)
      // Some messages get through, some not; the connection may drop.
      if (a.conn && rand() < 0.5 && a.conn.toServer.length) server.handle(a.conn, a.conn.toServer.shift())
      if (a.conn && rand() < 0.5 && a.conn.toClient.length) a.client.receive(a.conn.toClient.shift())
      if (rand() < 0.5) a.runTimers()
      if (rand() < 0.2) a.cut() // offline: typing goes on
      b.settle()
    }
    // Ops still on their way when the page went may reach the server
    // (committed, never acknowledged) or not.
    a.close({ crash, rand })
    while (server.stepPipeline()) { /* deliver */ }
    b.settle()

    const c = new Page(server, storage, world.page(), 'carol')
    await c.open()
    c.settle()
    b.settle()
    c.settle()

    const text = server.text
    assert.equal(c.client.text, text, `seed ${seed}: the new page shows the server's text`)
    assert.equal(b.client.text, text, `seed ${seed}`)
    for (const tok of typed) {
      const n = count(text, tok)
      // A crashed page may lose what it typed since its last write, never more than once.
      if (crash) assert.ok(n <= 1, `seed ${seed}: ${tok} appears ${n} times in ${text}`)
      else assert.equal(n, 1, `seed ${seed}: ${tok} appears ${n} times in ${text}`)
    }
    assert.equal(c.client.pending, 0, `seed ${seed}`)
    assert.equal([...storage.map.keys()].filter(k => k.startsWith(PREFIX)).length, 0, `seed ${seed}: the copy is removed once sent`)
  }
})

test('the next page starts from the copy: same session, its rev and fingerprint in the hello, the text at once', async () => {
  const server = new SimServer('abc')
  const storage = new FakeStorage()
  const world = new LockWorld()
  const a = new Page(server, storage, world.page(), 'ada')
  await a.open()
  a.settle()
  a.cut()
  a.insert(3, 'd')
  a.close()
  const kept = JSON.parse(storage.getItem(`${PREFIX}n1.${a.client.session}`))
  assert.equal(kept.closed, true)
  assert.deepEqual(kept.buffer, { op: [3, 'd'], count: 1 })

  const c = new Page(server, storage, world.page(), 'carol')
  const resets = []
  c.client.cb.reset = t => resets.push(t)
  await c.open()
  assert.equal(c.restored, true)
  assert.deepEqual(resets, ['abcd'])
  assert.deepEqual(c.sent[0], { type: 'hello', protocol: 1, session: a.client.session, name: 'carol', rev: 0, len: 3, hash: 440920331 })
  c.settle()
  assert.equal(server.text, 'abcd')
  assert.equal(server.log[0].session, a.client.session)
  assert.equal(server.log[0].seq, 1)
})

test('a page still open keeps its copy: another page of the note does not take it over', async () => {
  const server = new SimServer('abc')
  const storage = new FakeStorage()
  const world = new LockWorld()
  const a = new Page(server, storage, world.page(), 'ada')
  await a.open()
  a.settle()
  a.cut()
  a.insert(0, 'x')
  a.runTimers()
  assert.ok(storage.getItem(`${PREFIX}n1.${a.client.session}`), 'the copy is written within SAVE_DELAY_MS')

  const b = new Page(server, storage, world.page(), 'bob')
  await b.open()
  assert.equal(b.restored, false)
  assert.notEqual(b.client.session, a.client.session)

  a.close({ crash: true }) // its locks go with it, even without pagehide
  const c = new Page(server, storage, world.page(), 'carol')
  await c.open()
  assert.equal(c.restored, true)
  assert.equal(c.client.session, a.client.session)
})

test('without Web Locks: only a copy whose page said goodbye, or a stale one, is taken over', async () => {
  const server = new SimServer('abc')
  const storage = new FakeStorage()
  let now = 1000
  const clock = { now: () => now }
  const a = new Page(server, storage, null, 'ada', clock)
  await a.open()
  a.settle()
  a.cut()
  a.insert(0, 'x')
  a.runTimers()
  const b = new Page(server, storage, null, 'bob', clock)
  await b.open()
  assert.equal(b.restored, false, 'a copy written by a page that may still be open')
  now += STALE_MS + 1
  const c = new Page(server, storage, null, 'carol', clock)
  await c.open()
  assert.equal(c.restored, true, 'a copy not written for a day')
  // c owns it now: a coming back from the bfcache sees that.
  assert.equal(a.keeper.resume(), false)

  const d = new Page(server, storage, null, 'dan', clock)
  await d.open()
  d.settle()
  d.cut()
  d.insert(0, 'y')
  d.close() // pagehide
  const e = new Page(server, storage, null, 'eve', clock)
  await e.open()
  assert.equal(e.client.session, d.client.session)
})

test('storage that is full or off: nothing stale stays, and the page knows to ask before closing', async () => {
  const server = new SimServer('abc')
  const storage = new FakeStorage(300)
  const changes = []
  const a = new Page(server, storage, null, 'ada')
  a.keeper.onChange = () => changes.push(a.keeper.ok)
  await a.open()
  a.settle()
  assert.equal(a.keeper.ok, true, 'nothing to keep is kept')
  a.cut()
  a.insert(0, 'x')
  a.keeper.save()
  assert.equal(a.keeper.ok, true)
  assert.equal(storage.length, 1)
  a.insert(0, 'y'.repeat(400))
  a.keeper.save()
  assert.equal(a.keeper.ok, false, 'over the quota')
  assert.equal(storage.length, 0, 'the older copy would miss these edits: removed')
  assert.deepEqual(changes, [true, false], 'kept once attached, then not')

  const big = new Page(server, new FakeStorage(), null, 'big')
  await big.open()
  big.settle()
  big.cut()
  big.insert(0, 'z'.repeat(MAX_RECORD_CHARS))
  big.keeper.save()
  assert.equal(big.keeper.ok, false, 'a copy over MAX_RECORD_CHARS is not kept')

  const off = new Page(server, null, null, 'off')
  await off.open()
  off.settle()
  off.insert(0, 'q')
  off.keeper.save()
  assert.equal(off.keeper.ok, false)
})

test('nothing is kept for a read-only client', async () => {
  const storage = new FakeStorage()
  const client = new CollabClient({ session: 'viewer_session', name: 'V', callbacks: { send: () => {} } })
  client.connected()
  client.receive([{ type: 'welcome', protocol: 1, client: 'c1', rev: 1, text: 'hi', readonly: true, lastSeq: 0, peers: [] }])
  assert.equal(client.unsent(), null)
  const k = new Keeper({ note: 'n1', storage })
  await k.attach(client)
  k.save(true)
  assert.equal(storage.length, 0)
})

test('unreadable, inconsistent and month-old copies are dropped, not restored', async () => {
  const storage = new FakeStorage()
  let now = MAX_AGE_MS * 2
  const good = { v: 1, note: 'n1', tab: 't', savedAt: now, closed: true, session: 'session_ok_1', rev: 0, text: 'ab', seq: 0, inflight: null, buffer: { op: [2, 'c'], count: 1 } }
  storage.setItem(`${PREFIX}n1.junk_session`, '{not json')
  storage.setItem(`${PREFIX}other.session_old_1`, JSON.stringify({ ...good, note: 'other', session: 'session_old_1', savedAt: now - MAX_AGE_MS - 1 }))
  storage.setItem(`${PREFIX}n1.session_bad_1`, JSON.stringify({ ...good, session: 'session_bad_1', savedAt: now - 5, buffer: { op: [5, 'c'], count: 1 } }))
  storage.setItem('scribe.name', 'Ada')
  const k = new Keeper({ note: 'n1', storage, now: () => now })
  const first = await k.adopt()
  assert.equal(first.session, 'session_bad_1', 'oldest first')
  const client = new CollabClient({ session: 'fresh_session', name: 'A', callbacks: { send: () => {} } })
  assert.throws(() => client.restore(first), /base length/)
  assert.equal(client.synced, false, 'a refused copy changes nothing')
  assert.equal(client.session, 'fresh_session')
  k.discard(first)
  assert.deepEqual([...storage.map.keys()].sort(), ['scribe.name'], 'junk, month-old and refused copies are gone')

  storage.setItem(`${PREFIX}n1.session_ok_1`, JSON.stringify(good))
  const again = await new Keeper({ note: 'n1', storage, now: () => now }).adopt()
  client.restore(again)
  assert.equal(client.text, 'abc')
  assert.equal(client.pending, 1)
  for (const bad of [{ ...good, session: 'no' }, { ...good, rev: -1 }, { ...good, buffer: null }, { ...good, inflight: { op: [2], seq: 3, count: 1 } }]) {
    const c2 = new CollabClient({ session: 'fresh_session', name: 'A', callbacks: { send: () => {} } })
    assert.throws(() => c2.restore(bad), `${JSON.stringify(bad)} is refused`)
  }
})
