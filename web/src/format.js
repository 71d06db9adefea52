// Markdown formatting commands for the editor's shortcuts: bold, italic,
// link, and numbered, bullet and task lists over the selected lines. Each
// is a CodeMirror command, so it makes one ordinary edit (undoable, sent
// to the others like typing).

import { EditorSelection } from '@codemirror/state'

/**
 * @typedef {import('@codemirror/state').EditorState} EditorState
 * @typedef {import('@codemirror/state').Transaction} Transaction
 * @typedef {{state: EditorState, dispatch: (tr: Transaction) => void}} Target
 */

/**
 * wrap toggles mark (** or *) around each selection range: an empty range
 * gets an empty pair with the caret inside; a range already between marks
 * loses them.
 * @param {string} mark
 * @returns {(t: Target) => boolean}
 */
export function wrap (mark) {
  return ({ state, dispatch }) => {
    const n = mark.length
    const tr = state.update(state.changeByRange(r => {
      const before = state.sliceDoc(r.from - n, r.from)
      const after = state.sliceDoc(r.to, r.to + n)
      // "**x**" is bold, not italic: a single * next to another * is not our mark.
      const single = n === 1 && (state.sliceDoc(r.from - 2, r.from) === '**' || state.sliceDoc(r.to, r.to + 2) === '**')
      if (before === mark && after === mark && !single && !r.empty) {
        return {
          changes: [{ from: r.from - n, to: r.from }, { from: r.to, to: r.to + n }],
          range: EditorSelection.range(r.from - n, r.to - n)
        }
      }
      return {
        changes: [{ from: r.from, insert: mark }, { from: r.to, insert: mark }],
        range: EditorSelection.range(r.from + n, r.to + n)
      }
    }), { scrollIntoView: true, userEvent: 'input.format' })
    dispatch(tr)
    return true
  }
}

/**
 * link turns each selection into [text](url) with "url" selected, ready
 * to be typed over; an empty selection gets [](url) with the caret in the brackets.
 * @param {Target} t
 */
export function link ({ state, dispatch }) {
  dispatch(state.update(state.changeByRange(r => {
    const text = state.sliceDoc(r.from, r.to)
    const insert = `[${text}](url)`
    const range = r.empty
      ? EditorSelection.cursor(r.from + 1)
      : EditorSelection.range(r.from + text.length + 3, r.from + text.length + 6)
    return { changes: { from: r.from, to: r.to, insert }, range }
  }), { scrollIntoView: true, userEvent: 'input.format' }))
  return true
}

const LIST_PREFIX = /^(\s*)(?:[-*+] \[[ xX]\] |[-*+] |\d+[.)] )?/

/**
 * list makes every line the selection touches an item of one kind of
 * list, numbered from 1; if they all already are, it makes them plain lines.
 * @param {'numbered'|'bullet'|'task'} kind
 * @returns {(t: Target) => boolean}
 */
export function list (kind) {
  const is = {
    numbered: /^\s*\d+[.)] /,
    bullet: /^\s*[-*+] (?!\[[ xX]\] )/,
    task: /^\s*[-*+] \[[ xX]\] /
  }[kind]
  return ({ state, dispatch }) => {
    /** @type {import('@codemirror/state').Line[]} */
    const lines = []
    const seen = new Set()
    for (const r of state.selection.ranges) {
      for (let n = state.doc.lineAt(r.from).number; n <= state.doc.lineAt(r.to).number; n++) {
        if (!seen.has(n)) { seen.add(n); lines.push(state.doc.line(n)) }
      }
    }
    lines.sort((a, b) => a.number - b.number)
    const remove = lines.every(l => is.test(l.text))
    const changes = lines.map((l, i) => {
      const m = /** @type {RegExpExecArray} */ (LIST_PREFIX.exec(l.text))
      const indent = m[1]
      const prefix = remove ? '' : kind === 'numbered' ? `${i + 1}. ` : kind === 'bullet' ? '- ' : '- [ ] '
      return { from: l.from + indent.length, to: l.from + m[0].length, insert: prefix }
    })
    dispatch(state.update({ changes, scrollIntoView: true, userEvent: 'input.format' }))
    return true
  }
}

/** The shortcuts, for the keymap and for the help dialog. */
export const SHORTCUTS = [
  { key: 'Mod-b', label: 'Bold', run: wrap('**') },
  { key: 'Mod-i', label: 'Italic', run: wrap('*') },
  { key: 'Mod-k', label: 'Link', run: link },
  { key: 'Mod-Shift-7', label: 'Numbered list', run: list('numbered') },
  { key: 'Mod-Shift-8', label: 'Bullet list', run: list('bullet') },
  { key: 'Mod-Shift-9', label: 'Task list', run: list('task') }
]

/**
 * firstEmptyField is where a new note's caret goes: the end of the first
 * list item with nothing in it yet ("- ", "1. ", "- [ ] "), else the end of
 * a note that is only a title; -1 when the note has content to keep the
 * caret away from.
 * @param {string} text
 */
export function firstEmptyField (text) {
  const m = /^[ \t]*(?:[-*+](?: \[[ xX]\])?|\d+[.)]) ?[ \t]*$/m.exec(text)
  if (m) return m.index + m[0].length
  if (/^# [^\n]*\n*$/.test(text)) return text.length
  return -1
}
