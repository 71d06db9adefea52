import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as ot from '../src/ot.js'
import { CollabClient, newSessionID } from '../src/collab.js'
import { SimServer, SimClient, prng } from '../testlib/sim.mjs'

/** A client whose messages and callbacks are recorded, with a manual clock. */
function recorder (opts = {}) {
  const log = { sent: [], resets: [], remotes: [], errors: [], resyncs: [], timers: [] }
  let now = 0
  const c = new CollabClient({
    session: 'session_test_1',
    name: 'Ada',
    callbacks: {
      send: m => log.sent.push(m),
      reset: t => log.resets.push(t),
      remote: (op, client) => log.remotes.push({ op, client }),
      error: (code, message) => log.errors.push({ code, message }),
      resync: why => log.resyncs.push(why),
      now: () => now,
      setTimer: (fn, ms) => { log.timers.push({ fn, at: now + ms }); return log.timers.length },
      clearTimer: () => {},
      ...opts
    }
  })
  const advance = ms => {
    now += ms
    const due = log.timers.filter(t => t.at <= now)
    log.timers = log.timers.filter(t => t.at > now)
    for (const t of due) t.fn()
  }
  return { c, log, advance }
}

function welcome (c, text, rev, extra = {}) {
  c.connected()
  c.receive([{ type: 'welcome', protocol: 1, client: 'c_me', rev, text, lastSeq: 0, color: '#000', peers: [], limits: { opsPerSecond: 1e6 }, ...extra }])
}

const ins = (doc, pos, s) => new ot.Builder().retain(pos).insert(s).retain(doc.length - pos).build()

test('hello, welcome, one op in flight, the rest buffered and composed', () => {
  const { c, log } = recorder()
  c.connected()
  assert.deepEqual(log.sent[0], { type: 'hello', protocol: 1, session: 'session_test_1', name: 'Ada' })
  c.receive([{ type: 'welcome', protocol: 1, client: 'c_me', rev: 3, text: 'abc', lastSeq: 0, peers: [], limits: { opsPerSecond: 1e6 } }])
  assert.equal(c.status, 'connected')
  assert.deepEqual(log.resets, ['abc'])

  c.localChange(ins('abc', 3, 'd'), [{ anchor: 4, head: 4 }])
  assert.deepEqual(log.sent[1], { type: 'op', rev: 3, seq: 1, op: [3, 'd'], sel: [{ anchor: 4, head: 4 }] })
  c.localChange(ins('abcd', 4, 'e'))
  c.localChange(ins('abcde', 0, '😀'))
  assert.equal(log.sent.length, 2, 'nothing more is sent while an op is in flight')
  assert.equal(c.pending, 3)
  assert.equal(c.text, '😀abcde')

  c.receive([{ type: 'ack', seq: 1, rev: 4 }])
  assert.deepEqual(log.sent[2], { type: 'op', rev: 4, seq: 2, op: ['😀', 4, 'e'], sel: [{ anchor: 4, head: 4 }] })
  assert.equal(c.pending, 2)
  c.receive([{ type: 'ack', seq: 2, rev: 5 }])
  assert.equal(c.pending, 0)
  assert.equal(c.serverText, '😀abcde')
  assert.equal(c.rev, 5)
})

test('a remote op is transformed over the in-flight op and the buffer', () => {
  const { c, log } = recorder()
  welcome(c, 'hello', 1)
  c.localChange(ins('hello', 5, '!')) // in flight
  c.localChange(ins('hello!', 0, '>')) // buffered
  c.receive([{ type: 'op', rev: 2, op: [5, ' world'], client: 'c_grace' }])
  // Both inserted at 5: our own in-flight insert wins the tie, as the
  // server also transforms our op (the later one) as the first argument.
  assert.equal(c.text, '>hello! world')
  assert.equal(log.remotes.length, 1)
  assert.equal(log.remotes[0].client, 'c_grace')
  // The server's view: hello world, then our op transformed.
  assert.equal(c.serverText, 'hello world')
  c.receive([{ type: 'ack', seq: 1, rev: 3 }])
  assert.deepEqual(log.sent.at(-1).op, ['>', 12])
  assert.equal(log.sent.at(-1).rev, 3)
})

test('reconnect: an op the server never got is resent once with the same seq', () => {
  const { c, log } = recorder()
  welcome(c, '', 0)
  c.localChange(['x'])
  assert.equal(log.sent.at(-1).seq, 1)
  c.disconnected('reconnecting')
  assert.equal(c.status, 'reconnecting')
  c.localChange([1, 'y']) // typing never stops
  assert.equal(c.pending, 2)
  c.connected()
  assert.deepEqual(log.sent.at(-1), { type: 'hello', protocol: 1, session: 'session_test_1', name: 'Ada', rev: 0, len: 0, hash: 0x811c9dc5 }) // the fingerprint of ''
  c.receive([{ type: 'welcome', protocol: 1, client: 'c_me2', rev: 1, catchup: true, lastSeq: 0, peers: [] },
    { type: 'op', rev: 1, op: ['Z'], client: 'c_other' }])
  const ops = log.sent.filter(m => m.type === 'op')
  assert.equal(ops.length, 2)
  assert.deepEqual(ops[1], { type: 'op', rev: 0, seq: 1, op: ['x'] }, 'resent unchanged, right after the welcome')
  assert.equal(c.text, 'xyZ')
  c.receive([{ type: 'ack', seq: 1, rev: 2 }])
  assert.deepEqual(log.sent.at(-1), { type: 'op', rev: 2, seq: 2, op: [1, 'y', 1] })
})

test('reconnect: an op committed before the drop is not resent; its ack is in the catch-up', () => {
  const { c, log } = recorder()
  welcome(c, 'ab', 5)
  c.localChange([2, 'c'])
  c.disconnected('offline')
  c.localChange([3, 'd'])
  c.connected()
  c.receive([{ type: 'welcome', protocol: 1, client: 'c_me2', rev: 7, catchup: true, lastSeq: 1, peers: [] },
    { type: 'op', rev: 6, op: ['Q', 2], client: 'c_x' },
    { type: 'ack', seq: 1, rev: 7 }])
  const ops = log.sent.filter(m => m.type === 'op')
  assert.deepEqual(ops.map(m => m.seq), [1, 2], 'seq 1 sent once, never resent')
  assert.deepEqual(ops[1], { type: 'op', rev: 7, seq: 2, op: [4, 'd'] })
  assert.equal(c.text, 'Qabcd')
  assert.equal(c.serverText, 'Qabc')
})

test('reconnect: our in-flight op committed late and relayed as an op from our old connection is not applied twice', () => {
  const { c, log } = recorder()
  welcome(c, 'ab', 1, { client: 'c_old' })
  c.localChange([2, 'c'])
  c.disconnected('reconnecting')
  c.connected()
  // The welcome was made before the old connection's op committed.
  c.receive([{ type: 'welcome', protocol: 1, client: 'c_new', rev: 1, catchup: true, lastSeq: 0, peers: [] }])
  assert.equal(log.sent.filter(m => m.type === 'op').length, 2, 'resent, as lastSeq says it was not committed')
  // Then it commits and is relayed to this connection as someone's op,
  // and the resend is acknowledged with the same revision.
  c.receive([{ type: 'op', rev: 2, op: [2, 'c'], client: 'c_old' }])
  c.receive([{ type: 'ack', seq: 1, rev: 2 }])
  assert.equal(c.text, 'abc')
  assert.equal(c.serverText, 'abc')
  assert.equal(c.pending, 0)
  assert.equal(c.rev, 2)
})

test('a full-text welcome after a reconnect merges unconfirmed edits instead of dropping them', () => {
  const { c, log } = recorder()
  welcome(c, 'one two', 1)
  c.localChange([7, ' three']) // in flight, never reached the server
  c.disconnected('reconnecting')
  c.localChange(['> ', 13]) // buffered
  c.connected()
  // This server answered with the full text (another client changed "one" to "ONE").
  c.receive([{ type: 'welcome', protocol: 1, client: 'c2', rev: 4, text: 'ONE two', lastSeq: 0, peers: [] }])
  assert.equal(c.text, '> ONE two three')
  const resent = log.sent.filter(m => m.type === 'op').at(-1)
  assert.equal(resent.seq, 1, 'the in-flight op keeps its seq, so a late commit is deduplicated')
  assert.equal(resent.rev, 4)
  assert.equal(ot.apply('ONE two', resent.op), 'ONE two three')
})

test('a revision gap asks for a resync and ignores the rest of the frame', () => {
  const { c, log } = recorder()
  welcome(c, 'a', 1)
  c.receive([{ type: 'op', rev: 3, op: [1, 'x'], client: 'c_x' }, { type: 'op', rev: 2, op: [1, 'y'], client: 'c_x' }])
  assert.equal(log.resyncs.length, 1)
  assert.equal(c.text, 'a')
  c.connected()
  assert.equal(log.sent.at(-1).rev, 1, 'reconnects from the last good revision')
})

test('an op that does not fit the document asks for a resync', () => {
  const { c, log } = recorder()
  welcome(c, 'abc', 1)
  c.receive([{ type: 'op', rev: 2, op: [10, 'x'], client: 'c_x' }])
  c.receive([{ type: 'op', rev: 2, op: [1, 'x', 0], client: 'c_x' }])
  assert.equal(log.resyncs.length, 1)
  assert.equal(c.text, 'abc')
})

test('a refused op is reported and the text goes back to the server\'s', () => {
  const { c, log } = recorder()
  welcome(c, 'abc', 1)
  c.localChange([3, 'x'])
  c.receive([{ type: 'error', code: 'ETOOLARGE', message: 'The note would exceed 1 MiB.', seq: 1 }])
  assert.deepEqual(log.errors, [{ code: 'ETOOLARGE', message: 'The note would exceed 1 MiB.' }])
  assert.equal(c.text, 'abc')
  assert.equal(c.pending, 0)
  assert.equal(log.resyncs.length, 1)
})

test('an op refused for the rate limit is resent later, same seq, nothing dropped', () => {
  const { c, log, advance } = recorder()
  welcome(c, 'abc', 1, { limits: { opsPerSecond: 60 } })
  c.localChange([3, 'x'])
  c.receive([{ type: 'error', code: 'ERATELIMIT', message: 'Too many operations.', seq: 1 }])
  assert.equal(c.text, 'abcx')
  assert.equal(c.pending, 1)
  assert.equal(log.resyncs.length, 0)
  c.receive([{ type: 'op', rev: 2, op: ['>', 3], client: 'c_x' }])
  advance(1000)
  assert.deepEqual(log.sent.at(-1), { type: 'op', rev: 2, seq: 1, op: [4, 'x'] })
  assert.ok(c.limits.opsPerSecond < 60, 'the client slowed down')
})

test('an op that failed on the server (EINTERNAL) is kept and resent after reconnecting', () => {
  const { c, log } = recorder()
  welcome(c, 'abc', 1)
  c.localChange([3, 'x'])
  c.receive([{ type: 'error', code: 'EINTERNAL', message: 'Internal error.', seq: 1 }])
  assert.equal(log.resyncs.length, 1)
  assert.equal(c.text, 'abcx')
  assert.equal(c.pending, 1)
  c.connected()
  c.receive([{ type: 'welcome', protocol: 1, client: 'c2', rev: 1, catchup: true, lastSeq: 0, peers: [] }])
  assert.deepEqual(log.sent.at(-1), { type: 'op', rev: 1, seq: 1, op: [3, 'x'] })
})

test('a refused hello (rev ahead of the server) asks for the full text next time', () => {
  const { c, log } = recorder()
  welcome(c, 'abc', 9)
  c.disconnected('reconnecting')
  c.connected()
  c.receive([{ type: 'error', code: 'EINVALID', message: 'rev 9 is ahead of the head 2' }])
  assert.equal(log.resyncs.length, 1)
  c.connected()
  assert.equal(log.sent.at(-1).rev, undefined)
})

test('peers: cursors move through our unconfirmed ops and through history', () => {
  const { c } = recorder()
  welcome(c, 'hello world', 1, { peers: [{ client: 'c_g', name: 'Grace', color: '#1971c2', readonly: false, sel: [{ anchor: 6, head: 11 }] }] })
  assert.deepEqual(c.peerList()[0].sel, [{ anchor: 6, head: 11 }])
  c.localChange(['>> ', 11]) // in flight
  assert.deepEqual(c.peerList()[0].sel, [{ anchor: 9, head: 14 }])
  c.receive([{ type: 'ack', seq: 1, rev: 2 }])
  c.receive([{ type: 'op', rev: 3, op: [14, '!'], client: 'c_g' }])
  assert.deepEqual(c.peerList()[0].sel, [{ anchor: 9, head: 15 }])
  // A presence that refers to revision 1 is moved through revisions 2 and 3.
  c.receive([{ type: 'presence', client: 'c_g', name: 'Grace L.', color: '#1971c2', readonly: false, rev: 1, sel: [{ anchor: 0, head: 0 }] }])
  assert.deepEqual(c.peerList()[0], { client: 'c_g', name: 'Grace L.', color: '#1971c2', person: '', readonly: false, moves: 2, sel: [{ anchor: 3, head: 3 }] })
  // Out-of-range selections are dropped, not shown.
  c.receive([{ type: 'presence', client: 'c_g', rev: 3, sel: [{ anchor: 99, head: 99 }] }])
  assert.deepEqual(c.peerList()[0].sel, [{ anchor: 3, head: 3 }])
  c.receive([{ type: 'presence', client: 'c_ro', name: 'Viewer', color: '#aaa', readonly: true }])
  assert.equal(c.peerList().length, 2)
  c.receive([{ type: 'leave', client: 'c_g' }])
  assert.deepEqual(c.peerList().map(p => p.name), ['Viewer'])
  // Our own presence echoed back is not a peer.
  c.receive([{ type: 'presence', client: 'c_me', name: 'Ada', rev: 3, sel: [] }])
  assert.equal(c.peerList().length, 1)
})

test('read-only viewers are a count: from the welcome, then each viewers message; never peers', () => {
  const { c } = recorder()
  let changes = 0
  c.cb.changed = () => { changes++ }
  welcome(c, 'hello', 1, { viewers: 3, peers: [{ client: 'c_g', name: 'Grace', color: '#1971c2', readonly: false }] })
  assert.equal(c.viewers, 3)
  assert.deepEqual(c.peerList().map(p => p.name), ['Grace'])
  const before = changes
  c.receive([{ type: 'viewers', viewers: 4950 }])
  assert.equal(c.viewers, 4950)
  assert.ok(changes > before, 'a new count did not redraw the presence list')
  c.receive([{ type: 'viewers', viewers: -1 }, { type: 'viewers', viewers: 'x' }])
  assert.equal(c.viewers, 0, 'a malformed count is none')
  c.receive([{ type: 'viewers', viewers: 2 }])
  c.disconnected('reconnecting')
  assert.equal(c.viewers, 0, 'a dropped connection forgets the count, as it forgets the peers')
  welcome(c, 'hello', 1, {})
  assert.equal(c.viewers, 0, 'a welcome without a count (an older server) counts none')
})

test('a remote op with sel moves that peer\'s cursor as a presence message would', () => {
  const { c, log } = recorder()
  welcome(c, 'hello world', 1, { peers: [{ client: 'c_g', name: 'Grace', color: '#1971c2', readonly: false, sel: [{ anchor: 0, head: 0 }] }] })
  let changes = 0
  c.cb.changed = () => changes++
  // Grace types "!" at the end; her cursor, at revision 2, follows it.
  c.receive([{ type: 'op', rev: 2, op: [11, '!'], client: 'c_g', sel: [{ anchor: 12, head: 12 }] }])
  assert.equal(c.text, 'hello world!')
  assert.deepEqual(c.peerList(), [{ client: 'c_g', name: 'Grace', color: '#1971c2', person: '', readonly: false, moves: 2, sel: [{ anchor: 12, head: 12 }] }])
  assert.equal(changes, 1, 'one op, one change notification')
  // With our own edit in flight (and one buffered), her selection is moved
  // through them into our text, as a presence is.
  c.localChange(['>> ', 12])
  c.localChange([15, '?'])
  c.receive([{ type: 'op', rev: 3, op: [6, -5, 1], client: 'c_g', sel: [{ anchor: 0, head: 6 }] }])
  assert.equal(c.text, '>> hello !?')
  assert.deepEqual(c.peerList()[0].sel, [{ anchor: 3, head: 9 }])
  // The remote-op callback got the op as applied to our text.
  assert.deepEqual(log.remotes.at(-1), { op: [9, -5, 2], client: 'c_g' })
  // An op without sel moves her cursor through the op, nothing more.
  c.receive([{ type: 'op', rev: 4, op: ['# ', 7], client: 'c_x' }])
  assert.deepEqual(c.peerList()[0].sel, [{ anchor: 5, head: 11 }])
  // An out-of-range selection is dropped, the last one kept.
  c.receive([{ type: 'op', rev: 5, op: [9, '.'], client: 'c_g', sel: [{ anchor: 99, head: 99 }] }])
  assert.deepEqual(c.peerList()[0].sel, [{ anchor: 5, head: 11 }])
  // A peer not announced yet is added; its presence (name, colour) follows.
  c.receive([{ type: 'op', rev: 6, op: [10, 'n'], client: 'c_new', sel: [{ anchor: 11, head: 11 }] }])
  // (Moved through our in-flight ">> " and our buffered "?", both before it.)
  const added = c.peerList().find(p => p.client === 'c_new')
  assert.deepEqual(added.sel, [{ anchor: 15, head: 15 }])
  c.receive([{ type: 'presence', client: 'c_new', name: 'Newton', color: '#2f9e44', readonly: false, rev: 6, sel: [{ anchor: 11, head: 11 }] }])
  assert.deepEqual(c.peerList().find(p => p.client === 'c_new'), { client: 'c_new', name: 'Newton', color: '#2f9e44', person: '', readonly: false, moves: 2, sel: [{ anchor: 15, head: 15 }] })
  // Our acked op moves their cursors as before.
  c.receive([{ type: 'ack', seq: 1, rev: 7 }])
  assert.equal(c.text, '>> # hello !?.n')
  assert.deepEqual(c.peerList().map(p => p.sel), [[{ anchor: 5, head: 11 }], [{ anchor: 15, head: 15 }]])
})

test('presence is sent after the ack, throttled, with the revision it refers to', () => {
  const { c, log, advance } = recorder()
  welcome(c, 'abc', 1)
  c.localSelection([{ anchor: 1, head: 1 }])
  assert.deepEqual(log.sent.at(-1), { type: 'presence', rev: 1, sel: [{ anchor: 1, head: 1 }] })
  c.localSelection([{ anchor: 2, head: 2 }]) // too soon: deferred
  assert.equal(log.sent.at(-1).sel[0].anchor, 1)
  advance(100)
  assert.deepEqual(log.sent.at(-1), { type: 'presence', rev: 1, sel: [{ anchor: 2, head: 2 }] })
  c.localChange([3, 'x'], [{ anchor: 4, head: 4 }])
  c.localSelection([{ anchor: 0, head: 4 }])
  assert.equal(log.sent.at(-1).type, 'op', 'no presence while an op is in flight')
  advance(1000)
  assert.equal(log.sent.at(-1).type, 'op')
  c.receive([{ type: 'ack', seq: 1, rev: 2 }])
  assert.deepEqual(log.sent.at(-1), { type: 'presence', rev: 2, sel: [{ anchor: 0, head: 4 }] })
})

test('typing sends the selection with each op, and no presence message repeating it', () => {
  const { c, log, advance } = recorder()
  welcome(c, 'abc', 1)
  // The editor reports a keystroke as a change with the selection after
  // it, then as a selection change with the same selection.
  c.localChange([3, 'x'], [{ anchor: 4, head: 4 }])
  c.localSelection([{ anchor: 4, head: 4 }])
  assert.deepEqual(log.sent.at(-1), { type: 'op', rev: 1, seq: 1, op: [3, 'x'], sel: [{ anchor: 4, head: 4 }] })
  c.receive([{ type: 'ack', seq: 1, rev: 2 }])
  advance(1000)
  assert.deepEqual(log.sent.map(m => m.type), ['hello', 'op'], 'a presence repeated the selection sent with the op')
  // Typed while an op is in flight: the selection goes with the buffer.
  c.localChange([4, 'y'], [{ anchor: 5, head: 5 }])
  c.localSelection([{ anchor: 5, head: 5 }])
  c.localChange([5, 'z'], [{ anchor: 6, head: 6 }])
  c.localSelection([{ anchor: 6, head: 6 }])
  c.receive([{ type: 'ack', seq: 2, rev: 3 }])
  assert.deepEqual(log.sent.at(-1), { type: 'op', rev: 3, seq: 3, op: [5, 'z'], sel: [{ anchor: 6, head: 6 }] })
  c.receive([{ type: 'ack', seq: 3, rev: 4 }])
  advance(1000)
  assert.deepEqual(log.sent.map(m => m.type), ['hello', 'op', 'op', 'op'], 'a presence repeated a selection sent with an op')
  // Moving the cursor afterwards is a presence message, as before.
  c.localSelection([{ anchor: 0, head: 0 }])
  assert.deepEqual(log.sent.at(-1), { type: 'presence', rev: 4, sel: [{ anchor: 0, head: 0 }] })
})

test('ops are paced below the server\'s opsPerSecond', () => {
  const { c, log, advance } = recorder()
  welcome(c, '', 0, { limits: { opsPerSecond: 10, maxMessageBytes: 100000, maxNoteBytes: 100000 } })
  let rev = 0
  let doc = ''
  for (let i = 0; i < 100; i++) {
    c.localChange(ins(doc, doc.length, 'k'))
    doc += 'k'
    const last = log.sent.at(-1)
    if (last.type === 'op' && last.seq > rev) {
      rev++
      c.receive([{ type: 'ack', seq: last.seq, rev }])
    }
    advance(10) // 100 keystrokes a second
  }
  advance(1000)
  const last = log.sent.at(-1)
  if (last.seq > rev) c.receive([{ type: 'ack', seq: last.seq, rev: ++rev }])
  const sent = log.sent.filter(m => m.type === 'op')
  assert.ok(sent.length <= 10 * 1.1 * 0.8 + 2, `${sent.length} ops for 1 s of typing at a limit of 10/s`)
  assert.equal(c.serverText, doc, 'every keystroke arrived')
})

test('newSessionID fits the protocol', () => {
  const a = newSessionID()
  assert.match(a, /^[A-Za-z0-9_-]{8,64}$/)
  assert.notEqual(a, newSessionID())
})

/**
 * Many clients edit at once over a network that reorders deliveries between
 * connections and drops connections (and whatever was in transit) at random.
 * At the end every client's text equals the server's, every token inserted
 * appears exactly once, and the server's log has each (session, seq) once.
 */
for (const [seed, relayByConnection] of [[1, false], [2, false], [3, false], [4, false], [5, true], [6, true], [7, true], [8, true]]) {
  test(`property: clients converge over a lossy network, nothing lost or doubled (seed ${seed}${relayByConnection ? ', ops relayed by connection' : ''})`, () => {
    const rand = prng(seed)
    const server = new SimServer('# Notes\n', { relayByConnection })
    const clients = ['ada', 'grace', 'linus'].map(n => new SimClient(server, n, { rand }))
    for (const sc of clients) sc.connect()
    const tokens = []
    let next = 0
    for (let step = 0; step < 1500; step++) {
      const sc = clients[Math.floor(rand() * clients.length)]
      const r = rand()
      if (r < 0.25 && sc.client.synced) {
        // An insert-only edit with a unique token, so loss or doubling shows.
        const tok = `<${sc.client.name}${next++}é😀>`
        tokens.push(tok)
        const t = sc.client.text
        let pos = Math.floor(rand() * (t.length + 1))
        // Insert only between tokens, never inside one, so tokens stay whole.
        while (pos > 0 && pos < t.length && t[pos - 1] !== '>' && t[pos - 1] !== '\n') pos--
        sc.client.localChange(new ot.Builder().retain(pos).insert(tok).retain(t.length - pos).build())
      } else if (r < 0.3) {
        if (sc.conn) sc.disconnect()
        else sc.connect()
      } else if (r < 0.33) {
        server.stepPipeline()
      } else {
        sc.step(rand() < 0.5)
      }
    }
    for (const sc of clients) if (!sc.conn) sc.connect()
    for (let guard = 0; guard < 100000; guard++) {
      if (rand() < 0.1 && server.stepPipeline()) continue
      const busy = clients.filter(sc => sc.pendingMessages() > 0 || sc.client.pending > 0)
      if (busy.length === 0 && !server.stepPipeline()) break
      if (busy.length === 0) continue
      const sc = busy[Math.floor(rand() * busy.length)]
      if (!sc.step(true)) sc.step(false)
    }
    for (const sc of clients) {
      assert.equal(sc.client.pending, 0, `${sc.client.name} still has unconfirmed edits`)
      assert.equal(sc.client.text, server.text, `${sc.client.name} diverged`)
      assert.equal(sc.client.rev, server.rev)
    }
    for (const tok of tokens) {
      assert.equal(server.text.split(tok).length - 1, 1, `token ${tok} appears ${server.text.split(tok).length - 1} times`)
    }
    const ids = server.log.map(e => e.session + ':' + e.seq)
    assert.equal(new Set(ids).size, ids.length, 'a (session, seq) was committed twice')
    assert.ok(clients.some(sc => sc.sent.filter(m => m.type === 'hello' && m.rev !== undefined).length > 0), 'the run exercised reconnects')
  })
}

/**
 * Cursors follow typing: clients edit at random places, each moving its
 * cursor, and the server relays each op with its author's selection (moved
 * over what the op was transformed over). Once the network is quiet, every
 * client shows every other client's cursor exactly where that client has it.
 */
for (const seed of [11, 12, 13]) {
  test(`property: peers' cursors end where their owners have them (seed ${seed})`, () => {
    const rand = prng(seed)
    const server = new SimServer('# Cursors\n')
    const clients = ['ada', 'grace', 'linus', 'mary'].map(n => new SimClient(server, n, { rand }))
    for (const sc of clients) sc.connect()
    for (let step = 0; step < 2000; step++) {
      const sc = clients[Math.floor(rand() * clients.length)]
      if (rand() < 0.3) sc.randomEdit(['a', 'é', '😀', '\n'])
      else sc.step(rand() < 0.5)
    }
    for (let guard = 0; guard < 100000; guard++) {
      const busy = clients.filter(sc => sc.pendingMessages() > 0 || sc.client.pending > 0)
      if (busy.length === 0) break
      const sc = busy[Math.floor(rand() * busy.length)]
      if (!sc.step(true)) sc.step(false)
    }
    assert.ok(server.rev > 100, `only ${server.rev} revisions`)
    let compared = 0
    for (const viewer of clients) {
      assert.equal(viewer.client.text, server.text)
      for (const p of viewer.client.peerList()) {
        const owner = clients.find(sc => sc.client.client === p.client)
        assert.deepEqual(p.sel, owner.client.selection, `${viewer.client.name} shows ${owner.client.name}'s cursor elsewhere`)
        compared++
      }
    }
    assert.equal(compared, clients.length * (clients.length - 1))
  })
}

test('property: random inserts and deletes with emoji converge', () => {
  const rand = prng(99)
  const server = new SimServer('')
  const clients = ['a', 'b', 'c', 'd'].map(n => new SimClient(server, n, { rand }))
  for (const sc of clients) sc.connect()
  for (let step = 0; step < 3000; step++) {
    const sc = clients[Math.floor(rand() * clients.length)]
    const r = rand()
    if (r < 0.3) sc.randomEdit(['a', 'é', '😀', '👍🏽', '\n', '中'])
    else if (r < 0.33) { if (sc.conn) sc.disconnect(); else sc.connect() }
    else sc.step(rand() < 0.5)
  }
  for (const sc of clients) if (!sc.conn) sc.connect()
  for (let guard = 0; guard < 100000; guard++) {
    const busy = clients.filter(sc => sc.pendingMessages() > 0 || sc.client.pending > 0)
    if (busy.length === 0) break
    const sc = busy[Math.floor(rand() * busy.length)]
    if (!sc.step(true)) sc.step(false)
  }
  for (const sc of clients) assert.equal(sc.client.text, server.text)
  assert.ok(server.text.isWellFormed())
  assert.ok(server.rev > 100, `only ${server.rev} revisions`)
})

test('applyToText matches ot.apply, on text with "\\r", emoji and newlines', async () => {
  const { applyToText, toText } = await import('../src/collab.js')
  const rand = prng(42)
  const alphabet = ['a', '\n', '\r', '😀', 'é', '\r\n']
  let s = ''
  let t = toText(s)
  for (let i = 0; i < 2000; i++) {
    const pos = Math.floor(rand() * (s.length + 1))
    const safe = p => (p > 0 && p < s.length && /[\udc00-\udfff]/.test(s[p])) ? p - 1 : p
    const from = safe(pos)
    let op
    if (s.length > 0 && rand() < 0.4) {
      const to = safe(Math.min(s.length, from + 1 + Math.floor(rand() * 3)))
      if (to <= from) continue
      op = new ot.Builder().retain(from).delete(to - from).retain(s.length - to).build()
    } else {
      op = new ot.Builder().retain(from).insert(alphabet[Math.floor(rand() * alphabet.length)]).retain(s.length - from).build()
    }
    s = ot.apply(s, op)
    t = applyToText(t, op)
    assert.equal(t.length, s.length)
  }
  assert.equal(t.toString(), s)
  assert.throws(() => applyToText(toText('ab'), [3]), ot.OTError)
})

test('a paste larger than a message goes out as several ops, each under maxMessageBytes', () => {
  const { c, log } = recorder()
  welcome(c, 'ab', 1, { limits: { opsPerSecond: 1e6, maxMessageBytes: 10000, maxNoteBytes: 1e6 } })
  const paste = 'é😀 pasted line\n'.repeat(2000) // 34,000 units
  c.localChange([1, paste, 1])
  assert.equal(c.pending, 1)
  let rev = 1
  for (let guard = 0; guard < 100 && c.pending > 0; guard++) {
    const m = log.sent.at(-1)
    assert.equal(m.type, 'op')
    assert.ok(JSON.stringify(m).length <= 10000, `a message of ${JSON.stringify(m).length} bytes`)
    c.receive([{ type: 'ack', seq: m.seq, rev: ++rev }])
  }
  assert.equal(c.pending, 0)
  assert.equal(c.serverText, 'a' + paste + 'b')
  assert.ok(log.sent.filter(m => m.type === 'op').length >= 4)
})

test('an edit that would grow the note past maxNoteBytes is refused whole, naming the limit', () => {
  const { c, log } = recorder()
  welcome(c, 'ab', 1, { limits: { opsPerSecond: 1e6, maxMessageBytes: 2 * 1048576 + 65536, maxNoteBytes: 1048576 } })
  const paste = 'line of a very large paste é\n'.repeat(40000) // 1.2 MB of UTF-8
  const why = c.refusal([1, paste, 1])
  assert.ok(why && why.includes('1048576'), why)
  assert.equal(c.refusal([1, 'small', 1]), null)
  assert.equal(log.sent.filter(m => m.type === 'op').length, 0, 'nothing was sent')
  assert.equal(c.text, 'ab')
  // Near the limit: a UTF-8 count, not UTF-16 units, decides.
  const { c: c2 } = recorder()
  welcome(c2, 'é'.repeat(500), 1, { limits: { opsPerSecond: 1e6, maxNoteBytes: 1003 } })
  assert.equal(c2.refusal([500, 'é']), null) // 1002 bytes
  assert.ok(c2.refusal([500, 'éé'])) // 1004 bytes
  assert.equal(c2.refusal([-1, 499, 'éé']), null, 'an edit that does not grow the note is allowed')
})

test('fingerprint: UTF-16 length and FNV-1a 32 of the UTF-8 bytes, as the server computes it', async () => {
  const { fingerprint } = await import('../src/collab.js')
  assert.deepEqual(fingerprint(''), { len: 0, hash: 0x811c9dc5 })
  assert.deepEqual(fingerprint('a😀é'), { len: 4, hash: 3334198925 }) // protocol.TestFingerprint has the same vector
})

test('a member\'s person key: ours from the welcome, a peer\'s kept across presence updates', () => {
  const { c } = recorder()
  welcome(c, 'hi', 1, { person: 'mAda', peers: [{ client: 'c_g', name: 'Grace', color: '#1971c2', person: 'mGrace', readonly: false }, { client: 'c_z', name: 'Zed', color: '#ee7733', readonly: false }] })
  assert.equal(c.person, 'mAda')
  const byClient = () => Object.fromEntries(c.peerList().map(p => [p.client, p.person]))
  assert.deepEqual(byClient(), { c_g: 'mGrace', c_z: '' })
  // A move (no person field) keeps it.
  c.receive([{ type: 'presence', client: 'c_g', rev: 1, sel: [{ anchor: 1, head: 1 }] }])
  assert.deepEqual(byClient(), { c_g: 'mGrace', c_z: '' })
})
