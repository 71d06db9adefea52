import { test, mock, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import {
  Connection, backoffDelay, BACKOFF_MIN_MS, BACKOFF_MAX_MS, PING_IDLE_MS, PONG_TIMEOUT_MS
} from '../src/connection.js'
import { CollabClient } from '../src/collab.js'

test('backoff: 0.5 s doubling to 10 s, with up to 30% jitter below', () => {
  assert.equal(backoffDelay(0, () => 1), BACKOFF_MIN_MS)
  assert.equal(backoffDelay(1, () => 1), 1000)
  assert.equal(backoffDelay(2, () => 1), 2000)
  assert.equal(backoffDelay(5, () => 1), BACKOFF_MAX_MS)
  assert.equal(backoffDelay(1000, () => 1), BACKOFF_MAX_MS)
  assert.equal(backoffDelay(0, () => 0), 350)
  for (let n = 0; n < 20; n++) {
    const d = backoffDelay(n)
    assert.ok(d >= 0.7 * Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** n) - 1 && d <= BACKOFF_MAX_MS, `attempt ${n}: ${d} ms`)
  }
})

// --- the idle heartbeat, with a fake socket and node's mock clock ---

/** A stand-in for the browser's WebSocket: records what is sent; the test opens, feeds and closes it. */
class FakeSocket {
  static CONNECTING = 0
  static OPEN = 1
  static CLOSING = 2
  static CLOSED = 3
  static all = []
  constructor (url) {
    this.url = url
    this.readyState = FakeSocket.CONNECTING
    this.sent = []
    this.closed = null
    FakeSocket.all.push(this)
  }

  send (data) { this.sent.push(JSON.parse(data)) }
  close (code, reason) {
    this.readyState = FakeSocket.CLOSED
    this.closed = { code, reason }
  }

  /** The server accepted the connection. */
  accept () {
    this.readyState = FakeSocket.OPEN
    this.onopen()
  }

  /** A server frame arrives. */
  deliver (...msgs) { this.onmessage({ data: JSON.stringify(msgs) }) }
  pings () { return this.sent.filter(m => m.type === 'ping') }
}

const welcome = { type: 'welcome', protocol: 1, client: 'c_1', rev: 0, text: 'hi', title: 'T', readonly: false, lastSeq: 0, name: 'Ada', color: '#000000', peers: [] }

/** A Connection and its CollabClient in a fake browser, on the mock clock. */
function setup () {
  FakeSocket.all = []
  globalThis.WebSocket = FakeSocket
  globalThis.window = new EventTarget()
  globalThis.document = { visibilityState: 'visible' }
  Object.defineProperty(globalThis, 'navigator', { value: { onLine: true }, configurable: true, writable: true })
  mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 1_000_000 })
  const client = new CollabClient({ session: 'session_test_1', name: 'Ada', callbacks: { send: () => {} } })
  const conn = new Connection({ url: 'ws://test/api/notes/x/ws', probeURL: '', client })
  conn.start()
  const ws = FakeSocket.all[0]
  ws.accept()
  return { client, conn, ws }
}

afterEach(() => mock.timers.reset())

/** advance moves the mock clock on by ms, a second at a time as a running page sees it. */
function advance (ms) {
  for (; ms > 0; ms -= 1000) mock.timers.tick(Math.min(ms, 1000))
}

test('heartbeat: an idle connection is pinged every 15 s, and a pong keeps it', () => {
  const { client, conn, ws } = setup()
  try {
    assert.equal(ws.sent[0].type, 'hello')
    ws.deliver(welcome)
    assert.equal(client.status, 'connected')
    advance(PING_IDLE_MS - 1000)
    assert.equal(ws.pings().length, 0, 'pinged before 15 s of silence')
    advance(1000)
    assert.deepEqual(ws.pings(), [{ type: 'ping', id: 1 }])
    // The pong comes 2 s later; no second ping until 15 s after it.
    advance(2000)
    ws.deliver({ type: 'pong', id: 1 })
    advance(PING_IDLE_MS - 1000)
    assert.equal(ws.pings().length, 1, 'pinged again too soon after the pong')
    assert.equal(ws.closed, null)
    advance(1000)
    assert.deepEqual(ws.pings().map(p => p.id), [1, 2])
    ws.deliver({ type: 'pong', id: 2 })
    advance(PONG_TIMEOUT_MS + 1000)
    assert.equal(ws.closed, null, 'an answered connection was closed')
    assert.equal(client.status, 'connected')
    assert.equal(FakeSocket.all.length, 1)
  } finally {
    conn.stop('gone')
  }
})

test('heartbeat: any frame counts as a sign of life, so a busy connection is never pinged', () => {
  const { conn, ws } = setup()
  try {
    ws.deliver(welcome)
    for (let i = 0; i < 12; i++) {
      advance(5000)
      ws.deliver({ type: 'leave', client: 'c_other' })
    }
    assert.equal(ws.pings().length, 0)
    assert.equal(ws.closed, null)
  } finally {
    conn.stop('gone')
  }
})

test('heartbeat: no answer within 10 s of a ping closes the socket and reconnects', () => {
  const { client, conn, ws } = setup()
  try {
    ws.deliver(welcome)
    advance(PING_IDLE_MS)
    assert.equal(ws.pings().length, 1)
    advance(PONG_TIMEOUT_MS - 1000)
    assert.equal(ws.closed, null, 'closed before the pong was due')
    assert.equal(client.status, 'connected')
    advance(1000)
    assert.ok(ws.closed, 'the silent socket was not closed')
    assert.equal(client.status, 'reconnecting')
    // The existing reconnect path: a new socket after the backoff, a hello with our state.
    advance(BACKOFF_MAX_MS)
    assert.equal(FakeSocket.all.length, 2, 'no new connection was made')
    const next = FakeSocket.all[1]
    next.accept()
    assert.deepEqual(next.sent[0], { type: 'hello', protocol: 1, session: 'session_test_1', name: 'Ada', rev: 0, len: 2, hash: 0x683af69a }) // with the fingerprint of 'hi'
    next.deliver({ ...welcome, client: 'c_2', catchup: true, text: undefined })
    assert.equal(client.status, 'connected')
    assert.equal(next.pings().length, 0, 'pinged a connection that just spoke')
  } finally {
    conn.stop('gone')
  }
})

test('heartbeat: no ping before the welcome, but no welcome within 25 s drops the connection', () => {
  const { client, conn, ws } = setup()
  try {
    advance(PING_IDLE_MS + PONG_TIMEOUT_MS - 1000)
    assert.deepEqual(ws.sent.map(m => m.type), ['hello'], 'sent something besides hello before the welcome')
    assert.equal(ws.closed, null)
    advance(1000)
    assert.ok(ws.closed, 'a connection that never welcomed was kept')
    assert.equal(client.status, 'reconnecting')
  } finally {
    conn.stop('gone')
  }
})
