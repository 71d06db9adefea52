import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as ot from '../src/ot.js'
import { prng, snap } from '../testlib/sim.mjs'

test('apply: the protocol example and UTF-16 offsets', () => {
  assert.equal(ot.apply('0123456789', [5, 'abc', -2, 3]), '01234abc789')
  // "a😀b" is 4 code units: the emoji is a surrogate pair.
  assert.equal('a😀b'.length, 4)
  assert.equal(ot.apply('a😀b', [3, 'é', 1]), 'a😀éb')
  assert.equal(ot.apply('a😀b', [1, -2, 1]), 'ab')
  assert.equal(ot.apply('', ['x']), 'x')
  assert.equal(ot.apply('', []), '')
})

test('apply: wrong base length throws', () => {
  assert.throws(() => ot.apply('abc', [2]), ot.OTError)
  assert.throws(() => ot.apply('abc', [4]), ot.OTError)
})

test('normalize: canonical form', () => {
  assert.deepEqual(ot.normalize([1, 2, 'a', 'b', -1, -2]), [3, 'ab', -3])
  assert.deepEqual(ot.normalize([1, -2, 'x', 3]), [1, 'x', -2, 3])
  assert.deepEqual(ot.normalize([-1, 'a', -1, 'b']), ['ab', -2])
  for (const bad of [null, 'x', [0], [1.5], [''], [[1]], [{}], [null], [2 ** 31], [NaN], [Infinity]]) {
    assert.throws(() => ot.normalize(bad), ot.OTError, JSON.stringify(bad))
  }
})

test('lengths and identity', () => {
  assert.equal(ot.baseLength([5, 'abc', -2, 3]), 10)
  assert.equal(ot.targetLength([5, 'abc', -2, 3]), 11)
  assert.deepEqual(ot.identity(0), [])
  assert.ok(ot.isNoop(ot.identity(7)))
  assert.ok(!ot.isNoop([1, 'x']))
})

test('compose: worked examples', () => {
  assert.deepEqual(ot.compose([3, 'x'], [4, 'y']), [3, 'xy'])
  assert.deepEqual(ot.compose(['abc'], [1, -1, 1]), ['ac'])
  assert.deepEqual(ot.compose([-3], ['x']), ['x', -3])
  assert.throws(() => ot.compose([3], [4]), ot.OTError)
})

test('transform: ties put the first operation\'s insert first, as ot.js and the Go package do', () => {
  const [a2, b2] = ot.transform([1, 'A', 1], [1, 'B', 1])
  assert.equal(ot.apply(ot.apply('xy', [1, 'A', 1]), b2), 'xABy')
  assert.equal(ot.apply(ot.apply('xy', [1, 'B', 1]), a2), 'xABy')
  // overlapping deletes are not deleted twice
  const [c2, d2] = ot.transform([1, -2, 1], [2, -2])
  assert.equal(ot.apply(ot.apply('abcd', [1, -2, 1]), d2), 'a')
  assert.equal(ot.apply(ot.apply('abcd', [2, -2]), c2), 'a')
  assert.throws(() => ot.transform([1], [2]), ot.OTError)
})

test('transformIndex follows ot.js', () => {
  assert.equal(ot.transformIndex(2, [2, 'ab', 3]), 4) // insert exactly at the cursor shifts it
  assert.equal(ot.transformIndex(2, [3, 'ab', 2]), 2)
  assert.equal(ot.transformIndex(3, [1, -3, 1]), 1) // inside a deleted range
  assert.equal(ot.transformIndex(5, [1, -3, 1]), 2)
  assert.equal(ot.transformIndex(99, [1, -3, 1]), 2) // clamped
  assert.deepEqual(ot.transformSelection([{ anchor: 1, head: 4 }], ['xy', 5]), [{ anchor: 3, head: 6 }])
  assert.equal(ot.transformSelection(undefined, [1]), undefined)
})

test('isValidSelection', () => {
  assert.ok(ot.isValidSelection([{ anchor: 0, head: 3 }], 3))
  assert.ok(!ot.isValidSelection([{ anchor: 0, head: 4 }], 3))
  assert.ok(!ot.isValidSelection([{ anchor: -1, head: 0 }], 3))
  assert.ok(!ot.isValidSelection([{ anchor: 0.5, head: 0 }], 3))
  assert.ok(!ot.isValidSelection({ anchor: 0, head: 0 }, 3))
})

test('diff: never splits a surrogate pair', () => {
  for (const [a, b] of [['a😀b', 'a😁b'], ['😀', '😁'], ['abc', 'abc'], ['', 'x'], ['x', ''], ['héllo wörld', 'hello world'], ['aa', 'aaa']]) {
    const d = ot.diff(a, b)
    assert.equal(ot.apply(a, d), b)
    assert.deepEqual(d, ot.normalize(d.length ? d : []))
    let pos = 0
    for (const c of d) {
      if (typeof c === 'number') {
        const n = Math.abs(c)
        pos += n
        if (pos > 0 && pos < a.length) {
          const code = a.charCodeAt(pos)
          assert.ok(!(code >= 0xdc00 && code <= 0xdfff), `boundary at ${pos} splits a pair in ${a} -> ${b}`)
        }
      }
    }
  }
})

const ALPHABET = ['a', 'b', 'é', 'ß', '😀', '👍🏽', '\n', ' ', '中']

function randomOp (rand, doc) {
  const b = new ot.Builder()
  let i = 0
  while (i < doc.length) {
    let end = Math.min(doc.length, i + 1 + Math.floor(rand() * 5))
    if (end < doc.length && snap(doc, end) !== end) end++ // keep a surrogate pair whole
    const r = rand()
    if (r < 0.2) b.delete(end - i)
    else b.retain(end - i)
    if (r > 0.8) b.insert(ALPHABET[Math.floor(rand() * ALPHABET.length)])
    i = end
  }
  if (rand() < 0.5) b.insert(ALPHABET[Math.floor(rand() * ALPHABET.length)])
  return b.build()
}

function randomDoc (rand) {
  let s = ''
  const n = Math.floor(rand() * 12)
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)]
  return s
}

test('property: transform converges (TP1) and compose matches sequential apply', () => {
  const rand = prng(12345)
  for (let i = 0; i < 3000; i++) {
    const doc = randomDoc(rand)
    const a = randomOp(rand, doc)
    const b = randomOp(rand, doc)
    assert.equal(ot.baseLength(a), doc.length)
    const [a2, b2] = ot.transform(a, b)
    const left = ot.apply(ot.apply(doc, a), b2)
    const right = ot.apply(ot.apply(doc, b), a2)
    assert.equal(left, right, `seed iteration ${i}: ${JSON.stringify({ doc, a, b })}`)
    assert.deepEqual(a2, ot.normalize(a2.length ? a2 : []))
    const c = randomOp(rand, ot.apply(doc, a))
    assert.equal(ot.apply(doc, ot.compose(a, c)), ot.apply(ot.apply(doc, a), c))
    // Results never split a surrogate pair: the text stays well-formed.
    assert.ok(left.isWellFormed(), `ill-formed result ${JSON.stringify(left)}`)
  }
})

test('splitOp: parts compose to the op, each under the budget, pairs kept whole', () => {
  assert.equal(ot.splitOp([3, 'abc', -2], 5), null)
  const rand = prng(5)
  for (let i = 0; i < 500; i++) {
    const doc = randomDoc(rand)
    let op = randomOp(rand, doc)
    const mid = snap(ot.apply(doc, op), Math.floor(ot.targetLength(op) / 2))
    op = ot.compose(op, new ot.Builder().retain(mid).insert('😀x'.repeat(1 + Math.floor(rand() * 20))).retain(ot.targetLength(op) - mid).build())
    const max = 2 + Math.floor(rand() * 10)
    let text = doc
    let rest = op
    let parts = 0
    for (;;) {
      const split = ot.splitOp(rest, max)
      if (!split) { text = ot.apply(text, rest); break }
      const [first, second] = split
      const inserted = first.filter(c => typeof c === 'string').join('')
      assert.ok(inserted.length <= max, `part inserts ${inserted.length} > ${max}`)
      assert.ok(inserted.isWellFormed(), 'a part split a surrogate pair')
      assert.equal(ot.apply(ot.apply(text, first), second), ot.apply(text, rest))
      text = ot.apply(text, first)
      rest = second
      parts++
      assert.ok(parts < 1000)
    }
    assert.equal(text, ot.apply(doc, op))
  }
})
