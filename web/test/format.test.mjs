// The formatting shortcuts' commands, on plain CodeMirror states.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EditorState, EditorSelection } from '@codemirror/state'
import { wrap, link, list, firstEmptyField } from '../src/format.js'

function run (cmd, doc, from, to = from) {
  let state = EditorState.create({ doc, selection: EditorSelection.single(from, to), extensions: EditorState.allowMultipleSelections.of(true) })
  cmd({ state, dispatch: tr => { state = tr.state } })
  const r = state.selection.main
  return [state.doc.toString(), state.sliceDoc(r.from, r.to)]
}

test('bold and italic wrap the selection and unwrap it again', () => {
  assert.deepEqual(run(wrap('**'), 'say hello now', 4, 9), ['say **hello** now', 'hello'])
  assert.deepEqual(run(wrap('**'), 'say **hello** now', 6, 11), ['say hello now', 'hello'])
  assert.deepEqual(run(wrap('*'), 'say hello', 4, 9), ['say *hello*', 'hello'])
  assert.deepEqual(run(wrap('*'), 'say **hello**', 6, 11), ['say ***hello***', 'hello']) // italic inside bold, not unbold
  assert.deepEqual(run(wrap('**'), 'ab', 1), ['a****b', ''])
})

test('link makes [text](url) with url selected', () => {
  assert.deepEqual(run(link, 'see the plan', 4, 12), ['see [the plan](url)', 'url'])
  assert.deepEqual(run(link, 'see ', 4), ['see [](url)', ''])
})

test('lists apply to every selected line, and toggle off', () => {
  assert.deepEqual(run(list('numbered'), 'a\nb\nc', 0, 5)[0], '1. a\n2. b\n3. c')
  assert.deepEqual(run(list('bullet'), '1. a\n2. b', 0, 9)[0], '- a\n- b')
  assert.deepEqual(run(list('task'), '- a\n  b', 0, 7)[0], '- [ ] a\n  - [ ] b')
  assert.deepEqual(run(list('task'), '- [ ] a\n- [x] b', 0, 15)[0], 'a\nb')
  assert.deepEqual(run(list('bullet'), '- [ ] a', 0)[0], '- a')
})

test('firstEmptyField finds the first empty list item of a template', () => {
  const meeting = '# Sync\n\n**Date:** 2026-01-01\n\n## Attendees\n\n- \n\n## Agenda\n\n1. \n'
  assert.equal(firstEmptyField(meeting), meeting.indexOf('- \n') + 2)
  assert.equal(firstEmptyField('# T\n\n## Agenda\n\n1. \n'), '# T\n\n## Agenda\n\n1. '.length)
  assert.equal(firstEmptyField('## Follow-ups\n\n- [ ] '), '## Follow-ups\n\n- [ ] '.length)
  assert.equal(firstEmptyField('# Blank\n\n'), 9)
  assert.equal(firstEmptyField('# Done\n\n- Ada\n- Grace\n'), -1)
  assert.equal(firstEmptyField('- done item\nsome text'), -1)
})
