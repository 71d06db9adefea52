// The client side of Scribe's websocket protocol v1 (docs/protocol.md), as a
// state machine with no I/O: the transport (connection.js) feeds it frames
// and connection events, and it asks the transport to send messages and the
// editor to apply remote changes through the callbacks it was given. That
// keeps every rule of the protocol testable in Node without a browser.
//
// The OT state is ot.js's client: at most one op in flight (sent, not yet
// acknowledged) and a buffer of everything typed since, composed into one
// op. Remote ops are transformed over both before they reach the editor, so
// the editor's text is always the server's text at `rev` plus the in-flight
// op plus the buffer. The state survives a dropped connection: typing goes
// on into the buffer, and on reconnect the in-flight op is resent with the
// same seq only if the server's welcome says it was not committed, so an
// edit is never lost and never doubled.

import { Text } from '@codemirror/state'
import * as ot from './ot.js'

/** @typedef {import('./ot.js').Op} Op */
/** @typedef {import('./ot.js').Selection} Selection */

/**
 * @typedef {object} Peer
 * @property {string} client   public connection id
 * @property {string} name
 * @property {string} color
 * @property {string} person   a signed-in member's person key, "" for anyone else
 * @property {boolean} readonly
 * @property {Selection|undefined} sel  in server coordinates at `selRev`
 * @property {number} selRev
 * @property {number} moves  how many times the peer moved its selection (or typed)
 */

/**
 * A message to the server (docs/protocol.md): its type and that type's fields.
 * @typedef {{type: string, [field: string]: any}} ClientMessage
 */

/**
 * A decoded message from the server. Its fields are untrusted JSON, checked
 * here one by one before use.
 * @typedef {{[field: string]: any}} ServerMessage
 */

/**
 * A note's latest export, as the welcome and the exported message carry
 * it (docs/protocol.md): who exported, the commit, when, and the revision.
 * @typedef {{by: string, commit: string, time: string, rev: number}} Export
 */

/**
 * @typedef {object} Callbacks
 * @property {(msg: ClientMessage) => void} send     send one client message
 * @property {(text: string) => void} [reset]        replace the editor's whole text
 * @property {(op: Op, client: string|undefined) => void} [remote]  apply a remote op to the editor's text
 * @property {() => void} [changed]                  status, pending count or peers changed
 * @property {(code: string, message: string) => void} [error]  the server refused something
 * @property {(why: string) => void} [resync]        the connection is out of step: close it and connect again
 * @property {() => void} [sending]                  a new seq is about to go out: save unsent() first (persist.js),
 *                                                   so a copy kept across the page's close never lags a seq sent
 * @property {() => number} [now]                    clock in ms (tests inject one)
 * @property {(fn: () => void, ms: number) => any} [setTimer]
 * @property {(t: any) => void} [clearTimer]
 */

/**
 * What a page keeps across its close so that its unconfirmed edits are sent
 * exactly once when the note is opened again (persist.js stores it): the
 * session, the server's text at `rev`, and the in-flight op and buffer
 * based on it. The same session (and its seqs) makes the resend
 * recognisable: the welcome's `lastSeq` says whether the in-flight op was
 * committed before the page closed.
 * @typedef {object} Unsent
 * @property {string} session
 * @property {number} rev
 * @property {string} text  the server's text at rev
 * @property {number} seq   the last seq used in the session
 * @property {{op: Op, seq: number, count: number} | null} inflight
 * @property {{op: Op, count: number} | null} buffer
 */

/** How many committed ops are kept to move a peer's stale selection forward. */
const HISTORY = 128

/** Presence messages are sent at most this often (the protocol allows ~20/s). */
export const PRESENCE_INTERVAL_MS = 60

/** Ops are sent at most at this fraction of the server's opsPerSecond limit. */
const RATE_MARGIN = 0.8

export class CollabClient {
  /**
   * @param {object} opts
   * @param {string} opts.session  8-64 chars of [A-Za-z0-9_-], kept for the tab's life
   * @param {string} opts.name     display name
   * @param {Callbacks} opts.callbacks
   */
  constructor ({ session, name, callbacks }) {
    this.session = session
    this.name = name
    this.cb = callbacks
    this.now = callbacks.now || (() => Date.now())
    this.setTimer = callbacks.setTimer || ((fn, ms) => setTimeout(fn, ms))
    this.clearTimer = callbacks.clearTimer || (t => clearTimeout(t))

    /** whether a welcome ever arrived: from then on `rev` and the texts are meaningful */
    this.synced = false
    /** the last revision received (welcome, op or ack) */
    this.rev = 0
    // Both texts are CodeMirror Text ropes, so applying an op costs
    // O(log n) per component instead of copying the whole note (1.4-4 ms
    // per keystroke at 1 MB with strings; docs/benchmarks.md).
    /** the server's text at `rev` */
    this.serverDoc = Text.empty
    /** the editor's text: serverDoc + inflight + buffer */
    this.doc = Text.empty
    /** @type {{op: Op, seq: number, count: number} | null} sent, not yet acknowledged */
    this.inflight = null
    /** @type {{op: Op, count: number} | null} typed since, not yet sent */
    this.buffer = null
    /** the last seq used in this session */
    this.seq = 0
    /** @type {'connecting'|'connected'|'reconnecting'|'offline'|'gone'} */
    this.status = 'connecting'
    /** whether the current connection has been welcomed (ops may be sent) */
    this.open = false
    this.readonly = false
    this.client = ''
    /** public ids of this tab's earlier connections: an op from one of them is our own */
    this.ownClients = new Set()
    this.color = ''
    /** this client's person key, when the server knows it from sign-in */
    this.person = ''
    this.title = ''
    /** @type {Export|null} the note's latest export; null if none */
    this.lastExport = null
    this.goneReason = ''
    /** @type {Map<string, Peer>} the editors present (read-only viewers are only counted) */
    this.peers = new Map()
    /** how many read-only viewers are connected to the note (this client too, if it is one) */
    this.viewers = 0
    /** ask for the full text on the next hello (the server refused our rev) */
    this.fresh = false
    /** set when the current connection went out of step; cleared by connected() */
    this.dead = false
    /** @type {Map<number, Op>} the op that produced each recent revision */
    this.history = new Map()
    this.limits = { maxMessageBytes: 2162688, maxNoteBytes: 1048576, opsPerSecond: 60 }

    /** @type {Selection|undefined} the local selection, in editor coordinates */
    this.selection = undefined
    this.presenceDirty = false
    this.lastPresenceAt = -Infinity
    this.presenceTimer = null
    this.lastOpAt = -Infinity
    this.opTimer = null
  }

  /**
   * The state that must outlive the page for its unconfirmed edits to be
   * sent exactly once (see Unsent), or null when nothing is unconfirmed
   * (or the client is read-only or has no text yet: nothing to keep).
   * @returns {Unsent|null}
   */
  unsent () {
    if (!this.synced || this.readonly || (!this.inflight && !this.buffer)) return null
    return {
      session: this.session,
      rev: this.rev,
      text: this.serverText,
      seq: this.seq,
      inflight: this.inflight && { op: this.inflight.op, seq: this.inflight.seq, count: this.inflight.count },
      buffer: this.buffer && { op: this.buffer.op, count: this.buffer.count }
    }
  }

  /**
   * Start from what an earlier page of this note kept (unsent()), before
   * the first connection: the same session, rev and seqs, the editor's
   * text shown at once (reset). The hello then carries that rev and its
   * fingerprint; the welcome's lastSeq tells whether the in-flight op was
   * committed, and a full-text welcome gets the pending edits merged into
   * it, exactly as after a dropped connection. Throws (changing nothing)
   * when the state does not add up: it came from storage, so it is
   * checked like a server message.
   * @param {Unsent} u
   */
  restore (u) {
    if (this.synced || this.open) throw new Error('restore: only before the first welcome')
    const bad = (/** @type {string} */ why) => { throw new Error(`restore: ${why}`) }
    if (!u || typeof u !== 'object') bad('not an object')
    if (typeof u.session !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(u.session)) bad('invalid session')
    if (!Number.isSafeInteger(u.rev) || u.rev < 0) bad('invalid rev')
    if (typeof u.text !== 'string') bad('no text')
    if (!Number.isSafeInteger(u.seq) || u.seq < 0) bad('invalid seq')
    let doc = toText(u.text)
    /** @type {{op: Op, seq: number, count: number} | null} */
    let inflight = null
    /** @type {{op: Op, count: number} | null} */
    let buffer = null
    const count = (/** @type {unknown} */ n) => Number.isSafeInteger(n) && /** @type {number} */ (n) >= 0 ? /** @type {number} */ (n) : bad('invalid count')
    if (u.inflight) {
      const seq = u.inflight.seq
      if (!Number.isSafeInteger(seq) || seq < 1 || seq > u.seq) bad('invalid in-flight seq')
      inflight = { op: ot.normalize(u.inflight.op), seq, count: count(u.inflight.count) }
      doc = applyToText(doc, inflight.op)
    }
    if (u.buffer) {
      buffer = { op: ot.normalize(u.buffer.op), count: count(u.buffer.count) }
      doc = applyToText(doc, buffer.op)
    }
    if (!inflight && !buffer) bad('nothing unsent')
    this.session = u.session
    this.rev = u.rev
    this.seq = u.seq
    this.serverDoc = toText(u.text)
    this.doc = doc
    this.inflight = inflight
    this.buffer = buffer
    this.history.clear()
    this.fresh = false
    this.synced = true
    if (this.cb.reset) this.cb.reset(this.text)
    this.changed()
  }

  /** The editor's text (serverText + in-flight op + buffer), as a string. */
  get text () { return this.doc.toString() }

  /** The server's text at `rev`, as a string. */
  get serverText () { return this.serverDoc.toString() }

  /** How many local edits the server has not confirmed yet. */
  get pending () {
    return (this.inflight ? this.inflight.count : 0) + (this.buffer ? this.buffer.count : 0)
  }

  /**
   * The first message on a new connection.
   * @returns {ClientMessage}
   */
  hello () {
    /** @type {ClientMessage} */
    const msg = { type: 'hello', protocol: 1, session: this.session, name: this.name }
    if (this.synced && !this.fresh) {
      // The fingerprint of our text at rev: the server sends the full text
      // when its own differs (it lost revisions and reused their numbers).
      const fp = fingerprint(this.serverText)
      msg.rev = this.rev
      msg.len = fp.len
      msg.hash = fp.hash
    }
    return msg
  }

  /** The transport opened a websocket: send hello. */
  connected () {
    this.open = false
    this.dead = false
    this.cb.send(this.hello())
  }

  /**
   * The connection dropped (or could not be made). State is kept; the
   * transport reconnects.
   * @param {'reconnecting'|'offline'|'gone'} status
   * @param {string} [reason] why, for 'gone'
   */
  disconnected (status, reason) {
    this.open = false
    this.clearTimer(this.opTimer)
    this.opTimer = null
    this.clearTimer(this.presenceTimer)
    this.presenceTimer = null
    this.peers.clear()
    this.viewers = 0
    if (this.status !== 'gone') {
      this.status = status
      if (status === 'gone') this.goneReason = reason || 'This note is no longer available.'
    }
    this.changed()
  }

  /**
   * Handle one server frame: a JSON array of messages, in order.
   * @param {unknown} frame the parsed JSON
   */
  receive (frame) {
    if (this.dead) return
    const msgs = Array.isArray(frame) ? frame : [frame]
    for (const m of msgs) {
      if (!m || typeof m !== 'object') continue
      switch (m.type) {
        case 'welcome': this.onWelcome(m); break
        case 'ack': this.onAck(m); break
        case 'op': this.onOp(m); break
        case 'presence': this.onPresence(m); break
        case 'leave': this.peers.delete(m.client); this.changed(); break
        case 'title': if (typeof m.title === 'string') { this.title = m.title; this.changed() } break
        case 'exported': this.takeExport(m.export); this.changed(); break
        case 'viewers': this.viewers = viewerCount(m.viewers); this.changed(); break
        case 'error': this.onError(m); break
        default: break // unknown types are ignored, so the server can add some
      }
      if (this.dead) return
    }
  }

  /**
   * The editor changed the text by op (based on `text`), with the selection
   * after it. count is how many user edits op stands for (1 per transaction).
   * @param {Op} op
   * @param {Selection} [sel]
   * @param {number} [count]
   */
  localChange (op, sel, count = 1) {
    if (this.readonly) throw new Error('read-only: local edits are not allowed')
    if (!this.synced) throw new Error('no text yet: the editor stays read-only until the first welcome')
    if (ot.isNoop(op)) return
    this.doc = applyToText(this.doc, op)
    if (sel) this.selection = sel
    if (this.buffer) {
      this.buffer = { op: ot.compose(this.buffer.op, op), count: this.buffer.count + count }
    } else {
      this.buffer = { op, count }
    }
    this.flush()
    this.changed()
  }

  /**
   * Whether the editor may apply a local edit: one that would make the note
   * larger than limits.maxNoteBytes (UTF-8 bytes, as the server counts) is
   * refused whole, before any of it is applied or sent, so that one user
   * action is one edit. Edits that shrink the note are always allowed.
   * @param {Op} op the edit, based on `text`
   * @returns {string|null} null, or why it is refused (naming the limit)
   */
  refusal (op) {
    const max = this.limits.maxNoteBytes
    let grow = 0 // UTF-8 bytes inserted: at least the growth
    for (const c of op) if (typeof c === 'string') grow += utf8Length(c)
    if (grow === 0 || this.doc.length * 3 + grow <= max) return null // a UTF-16 unit is at most 3 UTF-8 bytes
    const before = utf8Length(this.text)
    const after = utf8Length(applyToText(this.doc, op).toString())
    if (after <= before || after <= max) return null
    return `This edit would make the note ${after} bytes long, over its limit of ${max} bytes: nothing of it was applied.`
  }

  /**
   * The local selection moved (editor coordinates).
   * @param {Selection} sel
   */
  localSelection (sel) {
    // Typing reports each change with the selection after it (localChange),
    // then the same selection again: it went out with the op, or goes with
    // the next one, and the server relays it in the op message. A presence
    // message repeating it would double what the server sends.
    if (!this.presenceDirty && sameSelection(sel, this.selection)) return
    this.selection = sel
    this.presenceDirty = true
    this.flushPresence()
  }

  /**
   * The display name changed.
   * @param {string} name
   */
  setName (name) {
    this.name = name
    if (this.open) this.cb.send({ type: 'name', name })
  }

  /**
   * Peers with their selections moved into editor coordinates.
   * @returns {{client: string, name: string, color: string, person: string, readonly: boolean, sel: Selection|undefined, moves: number}[]}
   */
  peerList () {
    const out = []
    for (const p of this.peers.values()) {
      let sel
      if (p.sel && p.selRev === this.rev) {
        sel = p.sel
        if (this.inflight) sel = ot.transformSelection(sel, this.inflight.op)
        if (this.buffer) sel = ot.transformSelection(sel, this.buffer.op)
      }
      out.push({ client: p.client, name: p.name, color: p.color, person: p.person, readonly: p.readonly, sel, moves: p.moves })
    }
    return out
  }

  // --- server messages ---

  /** @param {ServerMessage} m */
  onWelcome (m) {
    this.open = true
    this.status = 'connected'
    this.readonly = !!m.readonly
    if (this.client) this.ownClients.add(this.client)
    this.client = String(m.client || '')
    this.color = String(m.color || '')
    this.person = typeof m.person === 'string' ? m.person : ''
    if (typeof m.title === 'string') this.title = m.title
    this.takeExport(m.export)
    if (m.limits && typeof m.limits === 'object') Object.assign(this.limits, m.limits)
    const lastSeq = Number.isInteger(m.lastSeq) ? m.lastSeq : 0
    if (this.seq < lastSeq) this.seq = lastSeq

    if (typeof m.text === 'string' && !m.catchup) {
      this.welcomeWithText(m.text, m.rev, lastSeq)
    } else if (!this.synced) {
      // A catch-up welcome without our having sent a rev: the server broke the protocol.
      this.fail('the server sent a catch-up welcome to a fresh client')
      return
    } else if (this.inflight && this.inflight.seq > lastSeq) {
      // Not committed before the connection dropped: resend it unchanged (same
      // seq); it is based on our rev, and the server transforms it over the
      // catch-up that follows.
      this.sendInflight()
    }
    // else: its ack is in the catch-up that follows.

    this.peers.clear()
    this.viewers = viewerCount(m.viewers)
    if (Array.isArray(m.peers)) {
      for (const p of m.peers) this.setPeer({ ...p, rev: Number.isInteger(p.rev) ? p.rev : m.rev })
    }
    this.flush()
    this.presenceDirty = this.selection !== undefined
    this.flushPresence()
    this.changed()
  }

  /**
   * A full text: the first welcome, or a reconnect the server could not
   * serve as a catch-up. Local unconfirmed edits are merged onto it.
   * @param {string} text
   * @param {number} rev from the server, checked here
   * @param {number} lastSeq
   */
  welcomeWithText (text, rev, lastSeq) {
    if (!Number.isInteger(rev) || rev < 0) {
      this.fail('welcome without a valid rev')
      return
    }
    this.fresh = false
    if (!this.synced) {
      this.synced = true
      this.rev = rev
      this.serverDoc = toText(text)
      this.doc = this.serverDoc
      this.history.clear()
      if (this.cb.reset) this.cb.reset(text)
      return
    }
    // Our state at this.rev is serverText; the server's is `text` at `rev`.
    // The in-flight op, if the server has it, is already in `text`.
    let base = this.serverText
    if (this.inflight && this.inflight.seq <= lastSeq) {
      base = ot.apply(base, this.inflight.op)
      this.inflight = null
    }
    let remote = ot.diff(base, text)
    if (this.inflight) {
      const [i2, r2] = ot.transform(this.inflight.op, remote)
      this.inflight = { ...this.inflight, op: i2 }
      remote = r2
    }
    if (this.buffer) {
      const [b2, r3] = ot.transform(this.buffer.op, remote)
      this.buffer = { ...this.buffer, op: b2 }
      remote = r3
    }
    this.rev = rev
    this.serverDoc = toText(text)
    this.history.clear()
    this.applyRemote(remote, undefined)
    if (this.inflight) this.sendInflight()
  }

  /** @param {ServerMessage} m */
  onAck (m) {
    if (!this.inflight || m.seq !== this.inflight.seq) return // a repeated ack: already handled
    if (!this.expectRev(m.rev)) return
    this.serverDoc = applyToText(this.serverDoc, this.inflight.op)
    this.record(m.rev, this.inflight.op)
    this.rev = m.rev
    this.movePeers(this.inflight.op)
    this.inflight = null
    this.flush()
    this.flushPresence()
    this.changed()
  }

  /** @param {ServerMessage} m */
  onOp (m) {
    if (!Number.isInteger(m.rev) || m.rev <= this.rev) return // already have it
    if (!this.expectRev(m.rev)) return
    if (this.inflight && this.ownClients.has(m.client)) {
      // Our in-flight op, sent on a connection that dropped and committed
      // after this connection's welcome: the server relays it as another
      // client's op. Applying it would double the edit; it is our ack.
      this.onAck({ seq: this.inflight.seq, rev: m.rev })
      return
    }
    let op
    try {
      op = ot.normalize(m.op)
      if (ot.baseLength(op) !== this.serverDoc.length) throw new ot.OTError('base length mismatch')
    } catch (e) {
      this.fail(`remote op at rev ${m.rev} does not fit: ${/** @type {Error} */ (e).message}`)
      return
    }
    this.serverDoc = applyToText(this.serverDoc, op)
    this.record(m.rev, op)
    this.rev = m.rev
    this.movePeers(op)
    let local = op
    if (this.inflight) {
      const [i2, l2] = ot.transform(this.inflight.op, local)
      this.inflight = { ...this.inflight, op: i2 }
      local = l2
    }
    if (this.buffer) {
      const [b2, l3] = ot.transform(this.buffer.op, local)
      this.buffer = { ...this.buffer, op: b2 }
      local = l3
    }
    this.applyRemote(local, m.client)
    // The author's selection after the op, at m.rev: the server sends it in
    // the op instead of a presence message (docs/protocol.md).
    if (Array.isArray(m.sel)) this.setPeer({ client: m.client, rev: m.rev, sel: m.sel })
    this.changed()
  }

  /** @param {ServerMessage} m */
  onPresence (m) {
    this.setPeer(m)
    this.changed()
  }

  /**
   * Record what a presence message (or an op's `sel`) says of a peer; the
   * fields it lacks keep their last value.
   * @param {ServerMessage} m
   */
  setPeer (m) {
    if (!m.client || m.client === this.client) return
    const old = this.peers.get(m.client)
    const p = {
      client: String(m.client),
      name: typeof m.name === 'string' ? m.name : (old ? old.name : 'Anonymous'),
      color: typeof m.color === 'string' ? m.color : (old ? old.color : '#868e96'),
      person: typeof m.person === 'string' ? m.person : (old ? old.person : ''),
      readonly: typeof m.readonly === 'boolean' ? m.readonly : (old ? old.readonly : false),
      sel: old ? old.sel : undefined,
      selRev: old ? old.selRev : this.rev,
      moves: (old ? old.moves : 0) + (Array.isArray(m.sel) ? 1 : 0)
    }
    if (Array.isArray(m.sel) && Number.isInteger(m.rev)) {
      const moved = this.catchUpSelection(m.sel, m.rev)
      if (moved) {
        p.sel = moved.sel
        p.selRev = moved.rev
      }
    } else if (m.sel === null || p.readonly) {
      p.sel = undefined
    }
    this.peers.set(p.client, p)
  }

  /** @param {ServerMessage} m */
  onError (m) {
    const code = String(m.code || 'EINTERNAL')
    const message = String(m.message || 'The server refused a message.')
    if (this.cb.error) this.cb.error(code, message)
    if (code === 'ERATELIMIT' && this.inflight && m.seq === this.inflight.seq) {
      // Refused before anything was committed: send the same op (same seq,
      // transformed as usual) again a little later, and slow down.
      this.limits.opsPerSecond = Math.max(1, Math.floor(this.limits.opsPerSecond / 2))
      this.clearTimer(this.opTimer)
      this.opTimer = this.setTimer(() => {
        this.opTimer = null
        this.sendInflight()
      }, 1000)
    } else if ((code === 'EINTERNAL' || code === 'EUNAVAILABLE') && this.inflight && m.seq === this.inflight.seq) {
      // The server failed, not the op: keep everything, reconnect (with
      // backoff) and resend it with the same seq, as after a drop.
      this.fail(`op ${m.seq} failed on the server: ${code}`)
    } else if (m.seq !== undefined && this.inflight && m.seq === this.inflight.seq) {
      // The op was refused and nothing changed; our text is out of step. The
      // refused edit cannot be kept; later edits typed on top of it are
      // kept by the merge in welcomeWithText after a fresh start.
      this.fail(`op ${m.seq} refused: ${code}`, true)
    } else if (!this.open) {
      // An error before the welcome refuses the hello, e.g. a rev ahead of
      // the server's head (it lost data): ask for the full text next time;
      // welcomeWithText merges our unconfirmed edits onto it.
      this.fresh = true
      this.fail(`hello refused: ${code}`)
    }
  }

  // --- internals ---

  /** Send the buffer if nothing is in flight and the rate allows. */
  flush () {
    if (!this.open || this.readonly || this.inflight || !this.buffer) return
    const minGap = 1000 / (Math.max(1, this.limits.opsPerSecond) * RATE_MARGIN)
    const wait = this.lastOpAt + minGap - this.now()
    if (wait >= 1) { // timers have millisecond resolution
      if (!this.opTimer) {
        this.opTimer = this.setTimer(() => {
          this.opTimer = null
          this.flush()
        }, wait)
      }
      return
    }
    // One user action is one op: the server's default maxMessageBytes fits
    // an edit that fills a note. Only an op whose message would not fit
    // (a server with a smaller limit) goes out as several ops, which are
    // not atomic. JSON spends at most 6 bytes per UTF-16 unit ("\uXXXX"):
    // below that bound nothing is measured; above it, the message is.
    const overhead = Math.min(4096, Math.floor(this.limits.maxMessageBytes / 4)) // rev, seq, sel, retains
    const maxInsert = Math.max(2, Math.floor((this.limits.maxMessageBytes - overhead) / 6))
    let inserted = 0
    for (const c of this.buffer.op) if (typeof c === 'string') inserted += c.length
    const fits = inserted <= maxInsert || utf8Length(JSON.stringify(this.buffer.op)) + overhead <= this.limits.maxMessageBytes
    const parts = fits ? null : ot.splitOp(this.buffer.op, maxInsert)
    if (parts) {
      // The count stays with the rest, so "saved" shows only when all of it is.
      this.inflight = { op: parts[0], seq: ++this.seq, count: 0 }
      this.buffer = { op: parts[1], count: this.buffer.count }
    } else {
      this.inflight = { op: this.buffer.op, seq: ++this.seq, count: this.buffer.count }
      this.buffer = null
    }
    // Write-ahead: a copy kept across the page's close must know every seq
    // sent, or a resend from it could send these edits again under a new seq.
    if (this.cb.sending) this.cb.sending()
    this.sendInflight()
  }

  sendInflight () {
    if (!this.inflight || !this.open) return
    /** @type {ClientMessage} */
    const msg = { type: 'op', rev: this.rev, seq: this.inflight.seq, op: this.inflight.op }
    if (this.selection && !this.buffer) {
      msg.sel = this.selection
      this.presenceDirty = false
      this.lastPresenceAt = this.now()
    }
    this.lastOpAt = this.now()
    this.cb.send(msg)
  }

  /** Send the local selection if it changed, nothing is unconfirmed, and the rate allows. */
  flushPresence () {
    if (!this.presenceDirty || !this.open || this.readonly || this.inflight || this.buffer || !this.selection) return
    const wait = this.lastPresenceAt + PRESENCE_INTERVAL_MS - this.now()
    if (wait > 0) {
      if (!this.presenceTimer) {
        this.presenceTimer = this.setTimer(() => {
          this.presenceTimer = null
          this.flushPresence()
        }, wait)
      }
      return
    }
    this.presenceDirty = false
    this.lastPresenceAt = this.now()
    this.cb.send({ type: 'presence', rev: this.rev, sel: this.selection })
  }

  /**
   * @param {Op} op
   * @param {string|undefined} client the peer's connection id; undefined for our own undo
   */
  applyRemote (op, client) {
    if (ot.isNoop(op)) return
    this.doc = applyToText(this.doc, op)
    if (this.selection) this.selection = ot.transformSelection(this.selection, op)
    if (this.cb.remote) this.cb.remote(op, client)
  }

  /**
   * Check a server revision is the next one; on a gap, resynchronise.
   * @param {number} rev from the server
   */
  expectRev (rev) {
    if (rev === this.rev + 1) return true
    this.fail(`expected revision ${this.rev + 1}, got ${rev}`)
    return false
  }

  /**
   * @param {number} rev
   * @param {Op} op the op that produced rev
   */
  record (rev, op) {
    this.history.set(rev, op)
    this.history.delete(rev - HISTORY)
  }

  /**
   * Move every peer selection at the previous rev through op (which produced this.rev).
   * @param {Op} op
   */
  movePeers (op) {
    for (const p of this.peers.values()) {
      if (p.sel && p.selRev === this.rev - 1) {
        p.sel = ot.transformSelection(p.sel, op)
        p.selRev = this.rev
      }
    }
  }

  /**
   * Bring a peer's selection from revision `rev` to this.rev through the
   * recent history. A selection from the future (a catch-up welcome) is
   * kept and moved forward as the ops arrive.
   * @param {Selection} sel
   * @param {number} rev
   * @returns {{sel: Selection, rev: number} | null}
   */
  catchUpSelection (sel, rev) {
    if (rev > this.rev) {
      return ot.isValidSelection(sel, Number.MAX_SAFE_INTEGER) ? { sel, rev } : null
    }
    let len = this.serverDoc.length
    // Validate against the document at `rev`.
    for (let r = this.rev; r > rev; r--) {
      const op = this.history.get(r)
      if (!op) return null
      len = ot.baseLength(op)
    }
    if (!ot.isValidSelection(sel, len)) return null
    for (let r = rev + 1; r <= this.rev; r++) {
      sel = /** @type {Selection} */ (ot.transformSelection(sel, /** @type {Op} */ (this.history.get(r)))) // each checked above
    }
    return { sel, rev: this.rev }
  }

  /**
   * Something does not add up (a gap, an op that does not fit, a refused
   * op): ignore the rest of this connection and ask the transport for a new
   * one, which catches up from `rev`. With `dropUnconfirmed` (the server
   * refused our in-flight op, so our text is out of step with it) the local
   * text goes back to the server's: the refused edit and anything typed on
   * top of it in the moment before the refusal arrived are dropped, and the
   * error callback has told the person why.
   * @param {string} why
   * @param {boolean} [dropUnconfirmed]
   */
  fail (why, dropUnconfirmed = false) {
    this.lastFailure = why
    if (dropUnconfirmed && (this.inflight || this.buffer)) {
      const undo = ot.diff(this.text, this.serverText)
      this.inflight = null
      this.buffer = null
      this.applyRemote(undo, undefined)
    }
    this.dead = true
    this.open = false
    if (this.cb.resync) this.cb.resync(why)
    this.changed()
  }

  changed () {
    if (this.cb.changed) this.cb.changed()
  }

  /**
   * Keep the export a welcome or an exported message carries, when it is
   * well formed.
   * @param {unknown} e
   */
  takeExport (e) {
    const x = /** @type {{[k: string]: unknown}|null} */ (e && typeof e === 'object' ? e : null)
    if (x && typeof x.commit === 'string' && x.commit && Number.isInteger(x.rev)) {
      this.lastExport = { by: String(x.by || ''), commit: x.commit, time: String(x.time || ''), rev: /** @type {number} */ (x.rev) }
    }
  }

  /**
   * changedSinceExport says whether the note has edits its latest export
   * does not hold: revisions after the exported one, or edits of ours not
   * yet confirmed. False when it was never exported.
   */
  changedSinceExport () {
    if (!this.lastExport) return false
    return this.rev > this.lastExport.rev || !!this.inflight || !!this.buffer
  }
}

/**
 * fingerprint identifies a text at a revision (docs/protocol.md): its length
 * in UTF-16 code units and the FNV-1a 32 hash of its UTF-8 bytes, as the
 * server's protocol.FingerprintOf computes them.
 * @param {string} s
 * @returns {{len: number, hash: number}}
 */
export function fingerprint (s) {
  let h = 0x811c9dc5
  for (const b of new TextEncoder().encode(s)) {
    h ^= b
    h = Math.imul(h, 0x01000193)
  }
  return { len: s.length, hash: h >>> 0 }
}

/**
 * utf8Length is the UTF-8 length of s, without encoding it.
 * @param {string} s
 */
export function utf8Length (s) {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++ } else n += 3
  }
  return n
}

/**
 * newSessionID returns a random session id: 22 characters of base64url.
 * A new page load starts a new session, since its seq starts again at 1,
 * unless it takes over, seqs included, the session an earlier page of the
 * note kept with unconfirmed edits (CollabClient.restore, persist.js).
 */
export function newSessionID () {
  const b = new Uint8Array(16)
  globalThis.crypto.getRandomValues(b)
  let s = ''
  for (const x of b) s += String.fromCharCode(x)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * The viewer count of a welcome or viewers message: a non-negative integer,
 * else 0.
 * @param {unknown} n
 * @returns {number}
 */
function viewerCount (n) {
  return Number.isInteger(n) && /** @type {number} */ (n) >= 0 ? /** @type {number} */ (n) : 0
}

/**
 * sameSelection reports whether two selections have the same ranges.
 * @param {Selection|undefined} a
 * @param {Selection|undefined} b
 */
function sameSelection (a, b) {
  if (!a || !b || a.length !== b.length) return false
  return a.every((r, i) => r.anchor === b[i].anchor && r.head === b[i].head)
}

/**
 * toText makes a CodeMirror Text of a string, splitting lines on "\n" only
 * (as the editor does with lineSeparator "\n"), so lengths are UTF-16 units
 * of the string itself.
 * @param {string} s
 */
export function toText (s) {
  return Text.of(s.split('\n'))
}

/**
 * applyToText applies op to t. Throws ot.OTError if op's base length is
 * not t's length.
 * @param {Text} t
 * @param {Op} op
 * @returns {Text}
 */
export function applyToText (t, op) {
  if (ot.baseLength(op) !== t.length) {
    throw new ot.OTError(`apply: operation base length ${ot.baseLength(op)} does not match document length ${t.length}`)
  }
  let pos = 0
  for (const c of op) {
    if (typeof c === 'string') {
      t = t.replace(pos, pos, toText(c))
      pos += c.length
    } else if (c > 0) {
      pos += c
    } else {
      t = t.replace(pos, pos - c, Text.empty)
    }
  }
  return t
}
