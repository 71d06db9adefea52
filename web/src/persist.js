// Unconfirmed edits outlive the page: a Keeper writes what a CollabClient
// has not had confirmed (collab.js, unsent()) to localStorage, per note and
// session, and a page that opens the note later takes it over
// (CollabClient.restore): same session, same seqs, so the server's
// (session, seq) deduplication makes the resend exactly-once, even after a
// server restart (the store keeps each session's last seq).
//
// localStorage rather than IndexedDB: it is synchronous, so the copy is
// written during pagehide, when an asynchronous write may never finish.
//
// Two pages must never use one session at once (the server would take the
// second page's op for a resend of the first's and drop it). A page holds a
// Web Lock named after its session for its whole life; a kept copy is taken
// over only when its lock is free, i.e. its page is gone (closed or
// crashed). Without Web Locks (an insecure context), only a copy whose page
// said goodbye (pagehide) or that has not been written for STALE_MS is
// taken over.

/** localStorage keys: PREFIX + encodeURIComponent(note) + "." + session. */
export const PREFIX = 'scribe.unsent.'

/** Web Lock names: LOCK_PREFIX + session, held by the page using the session. */
export const LOCK_PREFIX = 'scribe.session.'

/** Changes are written at most this long after they happen (and at once before an op is sent, and on pagehide). */
export const SAVE_DELAY_MS = 100

/**
 * The largest copy kept, in UTF-16 units of its JSON: browsers give an
 * origin about 5 million. A note near its 1 MiB limit fits; a larger copy
 * is not kept and the page falls back to asking before it closes.
 */
export const MAX_RECORD_CHARS = 3 * 1024 * 1024

/** Copies not written for this long are dropped when any note opens: the bound on what is kept. */
export const MAX_AGE_MS = 30 * 24 * 3600 * 1000

/** Without Web Locks: a copy not written for this long is taken over even if its page never said goodbye. */
export const STALE_MS = 24 * 3600 * 1000

/**
 * What is stored: the client's Unsent with who kept it and when.
 * @typedef {import('./collab.js').Unsent & {v: number, note: string, tab: string, savedAt: number, closed: boolean}} Kept
 */

/**
 * The few methods of a Storage (localStorage) a Keeper uses.
 * @typedef {{readonly length: number, key(i: number): string|null, getItem(k: string): string|null, setItem(k: string, v: string): void, removeItem(k: string): void}} StorageLike
 */

/**
 * The part of navigator.locks a Keeper uses.
 * @typedef {{request(name: string, opts: {ifAvailable: boolean}, cb: (lock: unknown) => unknown): Promise<unknown>}} LocksLike
 */

/**
 * tryLock takes the lock `name` if it is free and holds it for the page's
 * life. Resolves to whether it got it.
 * @param {LocksLike} locks
 * @param {string} name
 * @returns {Promise<boolean>}
 */
export function tryLock (locks, name) {
  return new Promise(resolve => {
    locks.request(name, { ifAvailable: true }, lock => {
      resolve(!!lock)
      return lock ? new Promise(() => {}) : undefined // held until the page goes
    }).catch(() => resolve(false))
  })
}

export class Keeper {
  /**
   * @param {object} opts
   * @param {string} opts.note  the note's id
   * @param {StorageLike|null} opts.storage  null: storage is disabled, nothing is kept
   * @param {LocksLike|null} [opts.locks]    navigator.locks, when the browser has it
   * @param {() => void} [opts.onChange]     whether the edits are kept (ok) changed
   * @param {() => number} [opts.now]
   * @param {(fn: () => void, ms: number) => any} [opts.setTimer]
   * @param {(t: any) => void} [opts.clearTimer]
   */
  constructor ({ note, storage, locks = null, onChange, now, setTimer, clearTimer }) {
    this.note = note
    this.storage = storage
    this.locks = locks
    this.onChange = onChange || (() => {})
    this.now = now || (() => Date.now())
    this.setTimer = setTimer || ((fn, ms) => setTimeout(fn, ms))
    this.clearTimer = clearTimer || (t => clearTimeout(t))
    /** this page's id, written into its copy: a page back from the bfcache sees whether another took it over */
    this.tab = Math.random().toString(36).slice(2)
    /** @type {import('./collab.js').CollabClient|null} */
    this.client = null
    this.key = ''
    /** whether the client's unconfirmed edits (if any) are kept: false when storage is off, full or the copy too large */
    this.ok = false
    /** whether this page's copy may be in storage */
    this.stored = false
    this.timer = null
  }

  /** @param {string} session */
  keyOf (session) {
    return `${PREFIX}${encodeURIComponent(this.note)}.${session}`
  }

  /**
   * Find a copy of this note kept by a page that is gone, oldest first, and
   * take it over (its session's lock is held from now on). Copies of any
   * note older than MAX_AGE_MS, and unreadable ones, are removed on the way.
   * @returns {Promise<Kept|null>} for CollabClient.restore
   */
  async adopt () {
    const st = this.storage
    if (!st) return null
    /** @type {Kept[]} */
    const mine = []
    const keys = []
    for (let i = 0; i < st.length; i++) {
      const k = st.key(i)
      if (k && k.startsWith(PREFIX)) keys.push(k)
    }
    const prefix = `${PREFIX}${encodeURIComponent(this.note)}.`
    for (const k of keys) {
      const r = this.read(k)
      if (!r || this.now() - r.savedAt > MAX_AGE_MS) {
        st.removeItem(k)
        continue
      }
      if (k.startsWith(prefix) && k === this.keyOf(r.session)) mine.push(r)
    }
    mine.sort((a, b) => a.savedAt - b.savedAt)
    for (const r of mine) {
      if (!(await this.claim(r))) continue
      // Ours now: a page of it back from the bfcache sees another tab id.
      this.write(this.keyOf(r.session), { ...r, tab: this.tab, closed: false })
      return r
    }
    return null
  }

  /**
   * Whether the page that kept r is gone, taking its session if so.
   * @param {Kept} r
   */
  async claim (r) {
    if (this.locks) return tryLock(this.locks, LOCK_PREFIX + r.session)
    return r.closed || this.now() - r.savedAt > STALE_MS
  }

  /**
   * Forget a copy (one that CollabClient.restore refused).
   * @param {Kept} r
   */
  discard (r) {
    if (this.storage) this.storage.removeItem(this.keyOf(r.session))
  }

  /**
   * Keep client's unconfirmed edits from now on, under its session (a new
   * one, or the one restore took over); holds the session's lock.
   * @param {import('./collab.js').CollabClient} client
   */
  async attach (client) {
    this.client = client
    this.key = this.keyOf(client.session)
    if (this.locks) await tryLock(this.locks, LOCK_PREFIX + client.session) // already held after adopt: a second request is refused, harmlessly
    this.save()
  }

  /**
   * Something changed: write within SAVE_DELAY_MS; once everything is
   * confirmed, remove the copy at once (that costs nothing).
   */
  changed () {
    const c = this.client
    if (!c) return
    if (!c.inflight && !c.buffer) {
      if (this.stored || !this.ok) this.save()
      return
    }
    if (this.timer) return
    this.timer = this.setTimer(() => {
      this.timer = null
      this.save()
    }, SAVE_DELAY_MS)
  }

  /**
   * Write the client's unconfirmed edits now, or remove the copy when there
   * are none. closed marks the copy as left by a page that is going away
   * (pagehide).
   * @param {boolean} [closed]
   */
  save (closed = false) {
    if (this.timer) this.clearTimer(this.timer)
    this.timer = null
    const c = this.client
    if (!c) return
    const was = this.ok
    const u = c.unsent()
    if (!this.storage) {
      this.ok = false
    } else if (!u) {
      this.remove()
      this.ok = true
    } else {
      this.ok = this.write(this.key, { v: 1, note: this.note, tab: this.tab, savedAt: this.now(), closed, ...u })
      this.stored = this.ok
    }
    if (this.ok !== was) this.onChange()
  }

  /**
   * After the page came back from the bfcache: whether it still owns its
   * copy. False when another page took it over meanwhile: this page must
   * not send under that session again (reload it).
   */
  resume () {
    if (!this.client || !this.storage || !this.client.unsent()) return true
    const r = this.read(this.key)
    if (!r || r.tab !== this.tab) return false
    this.save()
    return true
  }

  // --- internals ---

  /**
   * @param {string} key
   * @param {Kept} rec
   * @returns {boolean} whether it was written
   */
  write (key, rec) {
    const st = /** @type {StorageLike} */ (this.storage)
    const json = JSON.stringify(rec)
    if (json.length <= MAX_RECORD_CHARS) {
      try {
        st.setItem(key, json)
        return true
      } catch { /* quota exceeded */ }
    }
    // An older copy must not stay: resent later it would miss seqs sent since.
    this.remove(key)
    return false
  }

  remove (key = this.key) {
    if (key === this.key) this.stored = false
    try { if (this.storage) this.storage.removeItem(key) } catch { /* nothing kept */ }
  }

  /**
   * @param {string} key
   * @returns {Kept|null}
   */
  read (key) {
    try {
      const r = JSON.parse(/** @type {StorageLike} */ (this.storage).getItem(key) || 'null')
      if (!r || r.v !== 1 || typeof r.session !== 'string' || !Number.isFinite(r.savedAt)) return null
      return r
    } catch {
      return null
    }
  }
}

/** The page's localStorage, or null when the browser refuses it. */
export function pageStorage () {
  try {
    const s = globalThis.localStorage
    s.getItem(PREFIX)
    return s
  } catch {
    return null
  }
}
