// The bridge between CodeMirror 6 and the OT client: CodeMirror changes to
// ot operations and back (both count UTF-16 code units, so positions map
// one to one), and the remote cursors drawn as decorations.

import { Annotation, StateEffect, StateField } from '@codemirror/state'
import { Decoration, EditorView, WidgetType } from '@codemirror/view'
import { Builder } from './ot.js'

/** Marks transactions that carry remote changes (or a full reset). */
export const remoteChange = Annotation.define()

/**
 * changesToOp turns a CodeMirror ChangeSet into an ot operation on a
 * document of length docLength (the transaction's start document).
 * @param {import('@codemirror/state').ChangeSet} changes
 * @param {number} docLength
 * @returns {import('./ot.js').Op}
 */
export function changesToOp (changes, docLength) {
  const b = new Builder()
  let pos = 0
  changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    b.retain(fromA - pos)
    b.insert(inserted.toString())
    b.delete(toA - fromA)
    pos = toA
  })
  b.retain(docLength - pos)
  return b.build()
}

/**
 * opToChanges turns an ot operation into a CodeMirror change spec (every
 * position relative to the document before the change).
 * @param {import('./ot.js').Op} op
 * @returns {{from: number, to?: number, insert?: string}[]}
 */
export function opToChanges (op) {
  const out = []
  let pos = 0
  for (const c of op) {
    if (typeof c === 'string') {
      out.push({ from: pos, insert: c })
    } else if (c > 0) {
      pos += c
    } else {
      out.push({ from: pos, to: pos - c })
      pos -= c
    }
  }
  return out
}

/**
 * A remote cursor to draw. moves counts the peer's own moves: a new count
 * redraws the caret, which shows its label again for LABEL_SHOW_MS.
 * @typedef {{client: string, name: string, color: string, text: string, moves: number, sel: {anchor: number, head: number}[]|undefined}} RemotePeer
 */

/**
 * Replaces the set of remote cursors.
 * @type {import('@codemirror/state').StateEffectType<RemotePeer[]>}
 */
export const setPeers = StateEffect.define()

class CaretWidget extends WidgetType {
  /** @param {RemotePeer} p */
  constructor (p) {
    super()
    this.name = p.name
    this.color = p.color
    this.text = p.text
    this.client = p.client
    this.moves = p.moves
  }

  /** @param {CaretWidget} other */
  eq (other) {
    return other.name === this.name && other.color === this.color && other.text === this.text &&
      other.client === this.client && other.moves === this.moves
  }

  toDOM () {
    const caret = document.createElement('span')
    caret.className = 'cm-remote-caret'
    caret.style.borderLeftColor = this.color
    caret.dataset.client = this.client
    caret.setAttribute('aria-hidden', 'true')
    // The label sits on the caret's own line, after it, and fades (CSS) two
    // seconds after the last move; hovering the caret brings it back with
    // the full name.
    const label = document.createElement('span')
    label.className = 'cm-remote-label'
    label.style.backgroundColor = this.color
    label.style.color = this.text
    const short = document.createElement('span')
    short.className = 'cm-remote-short'
    short.textContent = shortName(this.name)
    const full = document.createElement('span')
    full.className = 'cm-remote-full'
    full.textContent = this.name
    label.append(short, full)
    caret.appendChild(label)
    return caret
  }

  ignoreEvent () { return true }
}

/**
 * shortName is what a cursor label shows: the first word, at most 14 characters.
 * @param {string} name
 */
export function shortName (name) {
  const first = name.trim().split(/\s+/)[0] || name
  return first.length > 14 ? first.slice(0, 13) + '…' : first
}

/**
 * buildPeerDecorations draws each peer's selections: a tinted mark over a
 * range and a caret with a name label at its head.
 * @param {RemotePeer[]} peers
 * @param {number} docLength
 */
function buildPeerDecorations (peers, docLength) {
  const decos = []
  for (const p of peers) {
    if (!p.sel) continue
    for (const r of p.sel) {
      const anchor = Math.min(Math.max(r.anchor, 0), docLength)
      const head = Math.min(Math.max(r.head, 0), docLength)
      const from = Math.min(anchor, head)
      const to = Math.max(anchor, head)
      if (to > from) {
        decos.push(Decoration.mark({
          class: 'cm-remote-selection',
          attributes: { style: `background-color: ${hexAlpha(p.color, 0.25)}` }
        }).range(from, to))
      }
      decos.push(Decoration.widget({ widget: new CaretWidget(p), side: head === from && to > from ? -1 : 1 }).range(head))
    }
  }
  return Decoration.set(decos, true)
}

/** The remote cursors: mapped through every change, replaced by setPeers. */
export const peersField = StateField.define({
  create () { return Decoration.none },
  update (decos, tr) {
    decos = decos.map(tr.changes)
    for (const e of tr.effects) {
      if (e.is(setPeers)) decos = buildPeerDecorations(e.value, tr.state.doc.length)
    }
    return decos
  },
  provide: f => EditorView.decorations.from(f)
})

/**
 * hexAlpha turns "#rrggbb" into rgba() with the given alpha; other colours pass through.
 * @param {string|undefined} color
 * @param {number} alpha
 */
export function hexAlpha (color, alpha) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color || '')
  if (!m) return 'rgba(134, 142, 150, 0.25)'
  return `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${alpha})`
}

/**
 * safeColor keeps a peer colour only if it is a plain hex colour (it goes into a style).
 * @param {string|undefined} color
 * @returns {string}
 */
export function safeColor (color) {
  return /^#[0-9a-f]{6}$/i.test(color || '') ? /** @type {string} */ (color) : '#868e96'
}
