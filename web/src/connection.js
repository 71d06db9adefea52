// The websocket transport for a CollabClient: connects, reconnects with
// backoff, and notices a dead connection. It owns no protocol state; the
// CollabClient keeps everything across connections.

/** Reconnect delays: 0.5 s doubling to 10 s, each with up to 30% jitter (docs/protocol.md). */
export const BACKOFF_MIN_MS = 500
export const BACKOFF_MAX_MS = 10000

/**
 * An op unacknowledged this long with nothing at all heard from the server
 * means the connection is dead even if the browser has not noticed (a
 * sleeping laptop, a Wi-Fi change): drop it and reconnect. While typing this
 * notices sooner than the idle heartbeat below.
 */
export const ACK_TIMEOUT_MS = 8000

/**
 * Browsers hide websocket ping frames from pages, so the page checks an idle
 * connection itself (docs/protocol.md, "Closing"): with nothing received for
 * PING_IDLE_MS it sends an application-level ping, and when nothing at all
 * (the pong or any other frame) arrives within PONG_TIMEOUT_MS after it, the
 * connection is dead: drop it and reconnect.
 */
export const PING_IDLE_MS = 15000
export const PONG_TIMEOUT_MS = 10000

/**
 * A watchdog tick that comes this late means the machine slept (a closed
 * laptop lid): the socket is most likely dead without the browser knowing,
 * so the client reconnects at once rather than waiting to type into it.
 */
export const SLEEP_GAP_MS = 15000

/** After this many failed attempts in a row the state shows as offline. */
const OFFLINE_AFTER_FAILURES = 3

/**
 * backoffDelay returns the delay before reconnect attempt n (0-based).
 * @param {number} n
 * @param {() => number} [rand]
 */
export function backoffDelay (n, rand = Math.random) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(n, 10))
  return Math.round(base * (0.7 + 0.3 * rand()))
}

export class Connection {
  /**
   * @param {object} opts
   * @param {string} opts.url       websocket URL
   * @param {string} opts.probeURL  an HTTP URL that answers 404 once the note or share is gone
   * @param {import('./collab.js').CollabClient} opts.client
   */
  constructor ({ url, probeURL, client }) {
    this.url = url
    this.probeURL = probeURL
    this.client = client
    /** @type {WebSocket|null} */
    this.ws = null
    this.failures = 0
    this.resyncStreak = 0
    /** @type {ReturnType<typeof setTimeout>|undefined} */
    this.retryTimer = undefined
    this.stopped = false
    this.lastHeard = 0
    this.waitingSince = 0
    /** when the unanswered ping was sent (0: none outstanding) */
    this.pingSentAt = 0
    this.pingID = 0
    this.lastTick = Date.now()
    client.cb.send = msg => this.send(msg)
    client.cb.resync = () => this.drop(true)
    this.watchdog = setInterval(() => this.check(), 1000)
    this.onOffline = () => this.drop(false, 'offline')
    this.onOnline = () => { if (!this.ws) this.reconnectNow() }
    window.addEventListener('offline', this.onOffline)
    window.addEventListener('online', this.onOnline)
  }

  start () {
    this.open()
  }

  open () {
    if (this.stopped || this.ws) return
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    let ws
    try {
      ws = new WebSocket(this.url)
    } catch {
      this.scheduleRetry()
      return
    }
    this.ws = ws
    this.pingSentAt = 0
    let opened = false
    ws.onopen = () => {
      opened = true
      this.lastHeard = Date.now()
      this.client.connected()
    }
    ws.onmessage = ev => {
      if (this.ws !== ws) return
      this.lastHeard = Date.now()
      let frame
      try {
        frame = JSON.parse(ev.data)
      } catch {
        return // not JSON: ignore it rather than break the session
      }
      this.client.receive(frame)
      if (this.client.open) this.failures = 0
      // An ack is progress: a run of resyncs (say, a server failing every
      // op) is over, so the next one may be quick again.
      if (Array.isArray(frame) && frame.some(m => m && m.type === 'ack')) this.resyncStreak = 0
    }
    ws.onclose = ev => {
      if (this.ws !== ws) return
      this.ws = null
      if (ev.code === 4404) {
        this.stop('gone', ev.reason || 'This note is no longer available.')
        return
      }
      if (!opened) this.probeGone()
      this.failures++
      this.client.disconnected(this.offlineNow() ? 'offline' : 'reconnecting')
      this.scheduleRetry()
    }
    ws.onerror = () => {} // onclose follows and handles it
  }

  /** @param {{type: string}} msg a client message of docs/protocol.md */
  send (msg) {
    const ws = this.ws
    if (!ws || ws.readyState !== WebSocket.OPEN) return
    if (msg.type === 'op' && !this.waitingSince) this.waitingSince = Date.now()
    ws.send(JSON.stringify(msg))
  }

  /**
   * Close the current socket (if any) and reconnect.
   * @param {boolean} soon reconnect after a short resync backoff rather than the failure backoff
   * @param {'reconnecting'|'offline'|'gone'} [status]
   */
  drop (soon, status) {
    const ws = this.ws
    this.ws = null
    if (ws) {
      ws.onclose = null
      ws.onmessage = null
      try { ws.close(4001, 'client resync') } catch { /* already closed */ }
    }
    if (this.stopped) return
    this.failures++
    this.client.disconnected(status || (this.offlineNow() ? 'offline' : 'reconnecting'))
    if (soon) {
      // Quick the first time; backing off if resyncs repeat without progress.
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined
        this.open()
      }, backoffDelay(this.resyncStreak++))
    } else {
      this.scheduleRetry()
    }
  }

  reconnectNow () {
    this.failures = 0
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.open()
  }

  scheduleRetry () {
    if (this.stopped || this.retryTimer) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.open()
    }, backoffDelay(Math.max(0, this.failures - 1)))
  }

  offlineNow () {
    return navigator.onLine === false || this.failures >= OFFLINE_AFTER_FAILURES
  }

  /**
   * The dead-connection checks, every second: the machine slept, an idle
   * connection does not answer a ping, or an ack is owed and the server has
   * gone quiet.
   */
  check () {
    const tick = Date.now()
    const gap = tick - this.lastTick
    this.lastTick = tick
    // Hidden tabs have their timers throttled, which looks like a gap too:
    // only a visible page acts on it (once, when it becomes visible again).
    if (gap > SLEEP_GAP_MS && this.ws && document.visibilityState !== 'hidden') {
      this.drop(true)
      return
    }
    if (this.heartbeat(tick)) return
    if (!this.client.inflight) {
      this.waitingSince = 0
      return
    }
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.waitingSince) return
    const now = Date.now()
    if (now - this.waitingSince > ACK_TIMEOUT_MS && now - this.lastHeard > ACK_TIMEOUT_MS) {
      this.waitingSince = 0
      this.drop(true)
    }
  }

  /**
   * heartbeat pings a connection that has been quiet for PING_IDLE_MS and
   * drops it (reporting true) when nothing at all arrived within
   * PONG_TIMEOUT_MS of the ping. Before the welcome no ping may be sent
   * (the server answers anything but hello with an error): the hello is the
   * ping, and no welcome within the same total time drops the connection.
   * @param {number} now
   */
  heartbeat (now) {
    const ws = this.ws
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      this.pingSentAt = 0
      return false
    }
    if (!this.client.open) {
      if (now - this.lastHeard < PING_IDLE_MS + PONG_TIMEOUT_MS) return false
      this.drop(true)
      return true
    }
    if (this.pingSentAt) {
      if (this.lastHeard < this.pingSentAt) {
        if (now - this.pingSentAt < PONG_TIMEOUT_MS) return false
        this.pingSentAt = 0
        this.drop(true)
        return true
      }
      this.pingSentAt = 0 // answered: the pong, or anything else
    }
    if (now - this.lastHeard >= PING_IDLE_MS) {
      this.pingSentAt = now
      this.pingID = (this.pingID + 1) % Number.MAX_SAFE_INTEGER
      ws.send(JSON.stringify({ type: 'ping', id: this.pingID }))
    }
    return false
  }

  /** After a failed connection attempt, ask over HTTP whether the note or share still exists. */
  async probeGone () {
    if (!this.probeURL) return
    try {
      const res = await fetch(this.probeURL, { method: 'GET', headers: { Accept: 'application/json' }, cache: 'no-store' })
      if (res.status === 404) this.stop('gone', 'This link no longer works: the note was deleted or the read-only link was revoked.')
    } catch {
      // offline: keep retrying
    }
  }

  /**
   * @param {'reconnecting'|'offline'|'gone'} status
   * @param {string} [reason]
   */
  stop (status, reason) {
    this.stopped = true
    clearTimeout(this.retryTimer)
    clearInterval(this.watchdog)
    window.removeEventListener('offline', this.onOffline)
    window.removeEventListener('online', this.onOnline)
    if (this.ws) {
      const ws = this.ws
      this.ws = null
      ws.onclose = null
      try { ws.close() } catch { /* already closed */ }
    }
    this.client.disconnected(status, reason)
  }
}

/**
 * wsURL turns a path into a ws:// or wss:// URL on this page's host.
 * @param {string} path
 */
export function wsURL (path) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${proto}//${location.host}${path}`
}
