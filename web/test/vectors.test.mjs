// The golden OT cases shared with the Go package ot (ot/testdata/vectors.json,
// checked there by ot/vectors_test.go): both sides of the wire must apply,
// compose and transform alike, in UTF-16 offsets, emoji and CJK included.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import * as ot from '../src/ot.js'

const vectors = JSON.parse(readFileSync(new URL('../../ot/testdata/vectors.json', import.meta.url), 'utf8'))

test('vectors.json has every section', () => {
  for (const k of ['apply', 'compose', 'transform', 'transformIndex', 'transformSelection']) {
    assert.ok(Array.isArray(vectors[k]) && vectors[k].length > 0, k)
  }
})

test('apply', () => {
  for (const c of vectors.apply) {
    if (c.error) assert.throws(() => ot.apply(c.doc, c.op), ot.OTError, c.name)
    else assert.equal(ot.apply(c.doc, c.op), c.want, c.name)
  }
})

test('compose', () => {
  for (const c of vectors.compose) assert.deepEqual(ot.compose(c.a, c.b), c.want, c.name)
})

test('transform, both sides', () => {
  for (const c of vectors.transform) assert.deepEqual(ot.transform(c.a, c.b), [c.aPrime, c.bPrime], c.name)
})

test('transformIndex', () => {
  for (const c of vectors.transformIndex) assert.equal(ot.transformIndex(c.pos, c.op), c.want, c.name)
})

test('transformSelection', () => {
  for (const c of vectors.transformSelection) assert.deepEqual(ot.transformSelection(c.sel, c.op), c.want, c.name)
})
