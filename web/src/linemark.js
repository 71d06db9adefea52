// A line of the note named by the page's address (/n/{id}#L12, as the
// action items page links): the editor scrolls to it, puts the caret at
// its start and highlights it until the address names another line.

import { StateEffect, StateField } from '@codemirror/state'
import { EditorView, Decoration } from '@codemirror/view'

/** @type {import('@codemirror/state').StateEffectType<number>} */
const setMarked = StateEffect.define()

/** The marked line's decoration, moved along by edits. */
export const markedLine = StateField.define({
  create: () => Decoration.none,
  update (deco, tr) {
    deco = deco.map(tr.changes)
    for (const e of tr.effects) {
      if (!e.is(setMarked)) continue
      if (e.value < 1) return Decoration.none
      const line = tr.state.doc.line(e.value)
      deco = Decoration.set([Decoration.line({ class: 'cm-marked-line', attributes: { 'data-marked': 'true' } }).range(line.from)])
    }
    return deco
  },
  provide: f => EditorView.decorations.from(f)
})

/**
 * lineFromHash reads the line an address names: "#L12" is 12; else 0.
 * @param {string} hash
 */
export function lineFromHash (hash) {
  const m = /^#L(\d{1,9})$/.exec(hash)
  return m ? Number(m[1]) : 0
}

/**
 * markLine scrolls to line n (clamped to the note), puts the caret at its
 * start and marks it; n = 0 clears the mark. Reports whether it marked.
 * @param {EditorView} view
 * @param {number} n
 */
export function markLine (view, n) {
  if (n < 1) {
    view.dispatch({ effects: setMarked.of(0) })
    return false
  }
  const line = view.state.doc.line(Math.min(n, view.state.doc.lines))
  view.dispatch({
    selection: { anchor: line.from },
    effects: [setMarked.of(line.number), EditorView.scrollIntoView(line.from, { y: 'center' })]
  })
  return true
}
