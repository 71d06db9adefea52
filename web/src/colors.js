// People's colours: a palette of 12 that stay apart for common colour-vision
// deficiencies, the label text colour that reads on each, and the choice
// of one colour per person, stable across visits and never shared while
// another is free.
//
// The palette is Paul Tol's "vibrant" and "muted" schemes merged (grey in
// place of olive, which protanopes see as orange). Under a simulation of
// deuteranopia, protanopia and tritanopia (Machado et al. 2009, full
// severity) no two are closer than ΔE 10 (CIE76), 24 with normal vision;
// web/test/colors.test.mjs measures it.

/** The colours, in the order a person's preference falls back through. */
export const PALETTE = [
  '#0077bb', '#ee7733', '#009988', '#cc3311', '#33bbee', '#ee3377',
  '#117733', '#332288', '#ddcc77', '#882255', '#bbbbbb', '#aa4499'
]

/** @param {string} hex "#rrggbb" */
function luminance (hex) {
  const lin = (/** @type {number} */ c) => {
    c /= 255
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }
  const [r, g, b] = [1, 3, 5].map(i => lin(parseInt(hex.slice(i, i + 2), 16)))
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

/**
 * contrast is the WCAG contrast ratio of two "#rrggbb" colours.
 * @param {string} a
 * @param {string} b
 */
export function contrast (a, b) {
  const x = luminance(a)
  const y = luminance(b)
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05)
}

/**
 * labelText is the text colour for a label on background bg: near-black or
 * white, whichever contrasts more (one of them always reaches 4.5:1).
 * @param {string} bg
 */
export function labelText (bg) {
  return contrast(bg, '#111111') >= contrast(bg, '#ffffff') ? '#111111' : '#ffffff'
}

/**
 * personKey is what tells people apart. A signed-in member has a person
 * key from the server (welcome and presence `person`, a hash that is the
 * same on every tab and visit): "p:" and that. Anyone else (guests, local
 * mode) is known by display name, trimmed and case-folded: "n:" and that,
 * so two tabs with one name are one person. The prefixes keep a name from
 * ever passing for a member's key.
 * @param {string} name
 * @param {string} [person]
 */
export function personKey (name, person) {
  if (person) return 'p:' + person
  return 'n:' + name.trim().toLowerCase()
}

/**
 * preferred is the palette index a person always asks for first: a hash
 * of their key, so the same person gets the same colour on every visit.
 * @param {string} key
 */
export function preferred (key) {
  let h = 2166136261 // FNV-1a
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 16777619)
  }
  return (h >>> 0) % PALETTE.length
}

/**
 * assignColors gives each person key a colour. Every browser in the note
 * computes it from the same set of keys, so all agree: people are served in
 * key order, each takes their preferred colour if it is free, else the next
 * free one after it; colours are shared only once all 12 are taken.
 * @param {Iterable<string>} keys
 * @returns {Map<string, string>}
 */
export function assignColors (keys) {
  const sorted = [...new Set(keys)].sort()
  /** @type {Map<string, string>} */
  const out = new Map()
  const used = new Array(PALETTE.length).fill(0)
  for (const k of sorted) {
    const start = preferred(k)
    const least = Math.min(...used)
    let pick = start
    for (let i = 0; i < PALETTE.length; i++) {
      const c = (start + i) % PALETTE.length
      if (used[c] === least) { pick = c; break }
    }
    used[pick]++
    out.set(k, PALETTE[pick])
  }
  return out
}
