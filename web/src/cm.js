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
 * @typedef {{client: string, name: string, color: string, sel: {anchor: number, head: number}[]|undefined}} RemotePeer
 */

/**
 * Replaces the set of remote cursors.
 * @type {import('@codemirror/state').StateEffectType<RemotePeer[]>}
 */
export const setPeers = StateEffect.define()

class CaretWidget extends WidgetType {
  /**
   * @param {string} name
   * @param {string} color
   * @param {string} client
   */
  constructor (name, color, client) {
    super()
    this.name = name
    this.color = color
    this.client = client
  }

  /** @param {CaretWidget} other */
  eq (other) {
    return other.name === this.name && other.color === this.color && other.client === this.client
  }

  toDOM () {
    const caret = document.createElement('span')
    caret.className = 'cm-remote-caret'
    caret.style.borderLeftColor = this.color
    caret.dataset.client = this.client
    caret.setAttribute('aria-hidden', 'true')
    const label = document.createElement('span')
    label.className = 'cm-remote-label'
    label.style.backgroundColor = this.color
    label.textContent = this.name
    caret.appendChild(label)
    return caret
  }

  ignoreEvent () { return true }
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
      decos.push(Decoration.widget({ widget: new CaretWidget(p.name, p.color, p.client), side: head === from && to > from ? -1 : 1 }).range(head))
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
