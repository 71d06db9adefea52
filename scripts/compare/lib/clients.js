// The three clients, each built on its editor's own client library, behind
// one small interface the workloads drive:
//
//   await c.ready       connected, with the document loaded
//   c.text()            the client's current text
//   c.insert(pos, ch)   one keystroke: insert ch at pos, now
//   c.onCommit          called (keystrokeTimes, now) when the server has taken
//                       one operation of this client; keystrokeTimes are the
//                       performance.now() of the keystrokes it carried
//   c.pending()         keystrokes not yet committed
//   c.close()
//
// "Committed" is each server's own confirmation: Scribe's ack (the op is
// durable in the store), ShareDB's op acknowledgement, and for y-websocket,
// which has no acknowledgement, the server's echo of the client's update
// (the server sends every update it applied to every connection of the
// document, the sender included).
'use strict'
const crypto = require('crypto')
const { performance } = require('perf_hooks')
const WebSocket = require('ws')

const noop = () => {}

// ---- Scribe, through an ot.js client (docs/protocol.md) ----

const ot = require('ot')

class ScribeClient {
  constructor (url, name) {
    this.onCommit = noop
    this.doc = ''
    this.seq = 0
    this.errors = []
    this.typed = [] // keystroke times not yet sent
    this.inflight = null // keystroke times of the op in flight
    this.ws = new WebSocket(url)
    const session = crypto.randomBytes(12).toString('base64url')
    this.ready = new Promise((resolve, reject) => {
      this.ws.on('error', reject)
      this.ws.on('close', (code, reason) => reject(new Error(`scribe: closed ${code} ${reason}`)))
      this.ws.on('open', () => this.ws.send(JSON.stringify({ type: 'hello', protocol: 1, session, name })))
      this.ws.on('message', (data) => {
        for (const m of JSON.parse(data)) this.handle(m, resolve)
      })
    })
  }

  handle (m, resolve) {
    switch (m.type) {
      case 'welcome': {
        this.doc = m.text
        const c = new ot.Client(m.rev)
        c.sendOperation = (rev, op) => {
          this.inflight = this.typed
          this.typed = []
          this.ws.send(JSON.stringify({ type: 'op', rev, seq: ++this.seq, op: op.toJSON() }))
        }
        c.applyOperation = (op) => { this.doc = op.apply(this.doc) }
        this.ot = c
        resolve()
        break
      }
      case 'ack': {
        const times = this.inflight
        this.inflight = null
        this.onCommit(times, performance.now())
        this.ot.serverAck() // may send the buffer: after the commit is counted
        break
      }
      case 'op':
        this.ot.applyServer(ot.TextOperation.fromJSON(m.op))
        break
      case 'error':
        this.errors.push(`${m.code}: ${m.message}`)
        break
    }
  }

  text () { return this.doc }

  insert (pos, ch) {
    const op = new ot.TextOperation().retain(pos).insert(ch).retain(this.doc.length - pos)
    this.doc = op.apply(this.doc)
    this.typed.push(performance.now()) // before applyClient, which may send at once
    this.ot.applyClient(op)
  }

  pending () { return this.typed.length + (this.inflight ? this.inflight.length : 0) }

  close () { this.ws.removeAllListeners('close'); this.ws.close() }
}

// ---- ShareDB 7, its client with the json0 type ----

const ShareDBClient = require('sharedb/lib/client')

class ShareDBDocClient {
  constructor (url, id, create) {
    this.onCommit = noop
    this.errors = []
    this.ws = new WebSocket(url)
    this.conn = new ShareDBClient.Connection(this.ws)
    this.doc = this.conn.get('notes', id)
    this.typed = 0
    // Count the server's acknowledgements of (possibly composed) ops.
    const acked = this.doc._opAcknowledged
    const self = this
    this.doc._opAcknowledged = function (message) {
      self.acks = (self.acks || 0) + 1
      return acked.apply(this, arguments)
    }
    this.ready = new Promise((resolve, reject) => {
      this.doc.subscribe((err) => {
        if (err) return reject(err)
        if (this.doc.type || !create) return resolve()
        this.doc.create({ text: '' }, (err) => err ? reject(err) : resolve())
      })
    })
  }

  text () { return this.doc.data ? this.doc.data.text : '' }

  // Every keystroke's callback fires when the op it was composed into is
  // acknowledged; those of one ack are gathered into one commit.
  insert (pos, ch) {
    const t = performance.now()
    this.typed++
    this.doc.submitOp([{ p: ['text', pos], si: ch }], (err) => {
      this.typed--
      if (err) { this.errors.push(String(err)); return }
      const now = performance.now()
      if (this.batch && this.batchAcks === this.acks) {
        this.batch.push(t)
        return
      }
      this.batch = [t]
      this.batchAcks = this.acks
      const batch = this.batch
      queueMicrotask(() => this.onCommit(batch, now))
    })
  }

  pending () { return this.typed }

  close () { this.conn.close() }
}

// ---- y-websocket 3: its provider with a Y.Text ----

const Y = require('yjs')
const { WebsocketProvider } = require('y-websocket')
const decoding = require('lib0/decoding')

class YjsClient {
  constructor (url, room) {
    this.onCommit = noop
    this.errors = []
    this.doc = new Y.Doc()
    this.ytext = this.doc.getText('t')
    this.clock = 0 // this client's clock after its last keystroke
    this.queue = [] // [clock after the keystroke, time], oldest first
    this.provider = new WebsocketProvider(url, room, this.doc, { WebSocketPolyfill: WebSocket, disableBc: true })
    this.provider.on('status', ({ status }) => {
      if (status === 'connected') this.provider.ws.addEventListener('message', (ev) => this.echo(ev.data))
    })
    this.ready = new Promise((resolve) => this.provider.once('sync', () => resolve()))
  }

  // echo reads a message from the server; an update that holds this
  // client's own keystrokes commits them.
  echo (data) {
    const d = decoding.createDecoder(new Uint8Array(data))
    if (decoding.readVarUint(d) !== 0) return // not a sync message
    const kind = decoding.readVarUint(d)
    if (kind !== 2 && kind !== 1) return // not an update (or sync step 2)
    const to = Y.parseUpdateMeta(decoding.readVarUint8Array(d)).to.get(this.doc.clientID)
    if (to === undefined || !this.queue.length || this.queue[0][0] > to) return
    const times = []
    while (this.queue.length && this.queue[0][0] <= to) times.push(this.queue.shift()[1])
    this.onCommit(times, performance.now())
  }

  text () { return this.ytext.toString() }

  insert (pos, ch) {
    this.clock += ch.length
    this.queue.push([this.clock, performance.now()])
    this.ytext.insert(pos, ch) // the provider sends the update at once
  }

  pending () { return this.queue.length }

  close () {
    this.provider.destroy()
    this.doc.destroy() // and with it the awareness and its timer
  }
}

module.exports = { ScribeClient, ShareDBDocClient, YjsClient }
