// People's colours: readable labels, distinguishable for colour-vision
// deficiencies, stable per person, unique while the palette lasts.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PALETTE, contrast, labelText, assignColors, personKey } from '../src/colors.js'

test('every label has text at 4.5:1 or more', () => {
  assert.ok(PALETTE.length >= 12)
  for (const c of PALETTE) {
    const r = contrast(c, labelText(c))
    assert.ok(r >= 4.5, `${c} with ${labelText(c)}: ${r.toFixed(2)}:1`)
  }
})

// Machado, Oliveira and Fernandes (2009), severity 1, on linear RGB.
const CVD = {
  normal: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
  deuteranopia: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
  protanopia: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
  tritanopia: [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
}
const lin = c => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4 }
function lab (hex, m) {
  const l = [1, 3, 5].map(i => lin(parseInt(hex.slice(i, i + 2), 16)))
  const [r, g, b] = m.map(row => Math.min(1, Math.max(0, row[0] * l[0] + row[1] * l[1] + row[2] * l[2])))
  const X = 0.4124 * r + 0.3576 * g + 0.1805 * b
  const Y = 0.2126 * r + 0.7152 * g + 0.0722 * b
  const Z = 0.0193 * r + 0.1192 * g + 0.9505 * b
  const f = t => t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116
  const fx = f(X / 0.95047); const fy = f(Y); const fz = f(Z / 1.08883)
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)]
}

test('no two colours look alike, also for colour-vision deficiencies', () => {
  for (const [vision, m] of Object.entries(CVD)) {
    for (let i = 0; i < PALETTE.length; i++) {
      for (let j = i + 1; j < PALETTE.length; j++) {
        const a = lab(PALETTE[i], m); const b = lab(PALETTE[j], m)
        const d = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])
        assert.ok(d >= 10, `${vision}: ${PALETTE[i]} and ${PALETTE[j]} are ΔE ${d.toFixed(1)} apart`)
      }
    }
  }
})

test('12 people get 12 colours; a person keeps theirs; everyone computes the same', () => {
  const names = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Dennis', 'Margaret', 'Alan', 'Edsger', 'Donald', 'Frances', 'John'].map(n => personKey(n))
  const all = assignColors(names)
  assert.equal(new Set(all.values()).size, 12)
  assert.deepEqual(assignColors([...names].reverse()), all)
  // Alone, each gets their own preferred colour: the same on every visit.
  for (const n of names) assert.equal(assignColors([n]).get(n), assignColors([n]).get(n))
  // A 13th shares, as everyone is taken.
  assert.equal(assignColors([...names, 'mary']).size, 13)
  assert.equal(personKey('  Ada '), personKey('ada'))
})

test('a member is known by their person key, not their name; a name cannot pass for a key', () => {
  // Two tabs of one member with different names are one person...
  assert.equal(personKey('Ada', 'mAAAA'), personKey('Ada Lovelace', 'mAAAA'))
  // ...two members with one name are two, and a guest with that name a third.
  assert.notEqual(personKey('Ada', 'mAAAA'), personKey('Ada', 'mBBBB'))
  assert.notEqual(personKey('Ada', 'mAAAA'), personKey('Ada'))
  // A guest who names themselves after a member's key is still a name.
  assert.notEqual(personKey('p:mAAAA'), personKey('Ada', 'mAAAA'))
  assert.notEqual(personKey('mAAAA'), personKey('Ada', 'mAAAA'))
})
