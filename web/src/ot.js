// Operational transformation for plain text, in ot.js's TextOperation JSON
// format, the wire format of Scribe's protocol v1 (docs/protocol.md):
//
//   [5, "abc", -2, 3]  keep 5, insert "abc", delete 2, keep 3
//
// An operation is a plain array of components: a positive integer retains
// (skips) that many UTF-16 code units, a string inserts itself, a negative
// integer deletes that many units. Every function here takes and returns
// operations in canonical form: no empty components, neighbours of one kind
// merged, an insert placed before an adjacent delete. JavaScript strings and
// CodeMirror positions both count UTF-16 code units, so offsets need no
// conversion anywhere in the client.
//
// The functions mirror the Go package ot (and ot.js) exactly, including the
// tie-break in transform: when both operations insert at one position, the
// first argument's insert comes first.

/** @typedef {(number|string)[]} Op */
/** @typedef {{anchor: number, head: number}} Range */
/** @typedef {Range[]} Selection */

/** The largest count a component may have (the protocol's 2^31 bound). */
export const MAX_COUNT = 2 ** 31 - 1

/** OTError is thrown for an operation that is malformed or does not fit. */
export class OTError extends Error {
  /** @param {string} message */
  constructor (message) {
    super(message)
    this.name = 'OTError'
  }
}

/**
 * Builder appends components in canonical form.
 */
export class Builder {
  constructor () {
    /** @type {Op} */
    this.ops = []
  }

  /** @param {number} n */
  retain (n) {
    if (n <= 0) return this
    const last = this.ops[this.ops.length - 1]
    if (typeof last === 'number' && last > 0) this.ops[this.ops.length - 1] = last + n
    else this.ops.push(n)
    return this
  }

  /** @param {string} s */
  insert (s) {
    if (s === '') return this
    const ops = this.ops
    const last = ops[ops.length - 1]
    if (typeof last === 'string') {
      ops[ops.length - 1] = last + s
    } else if (typeof last === 'number' && last < 0) {
      // Canonical form puts the insert before an adjacent delete.
      const prev = ops[ops.length - 2]
      if (typeof prev === 'string') {
        ops[ops.length - 2] = prev + s
      } else {
        ops[ops.length - 1] = s
        ops.push(last)
      }
    } else {
      ops.push(s)
    }
    return this
  }

  /** @param {number} n a positive count of code units to delete */
  delete (n) {
    if (n <= 0) return this
    const last = this.ops[this.ops.length - 1]
    if (typeof last === 'number' && last < 0) this.ops[this.ops.length - 1] = last - n
    else this.ops.push(-n)
    return this
  }

  /** @returns {Op} the operation, with a trailing retain kept (ops span the whole document). */
  build () {
    return this.ops
  }
}

/**
 * isValid reports whether op is a well-formed operation: an array of
 * non-empty strings and non-zero safe integers within MAX_COUNT.
 * @param {unknown} op
 * @returns {op is Op}
 */
export function isValid (op) {
  if (!Array.isArray(op)) return false
  for (const c of op) {
    if (typeof c === 'string') {
      if (c === '') return false
    } else if (typeof c === 'number') {
      if (!Number.isInteger(c) || c === 0 || Math.abs(c) > MAX_COUNT) return false
    } else {
      return false
    }
  }
  return true
}

/**
 * normalize returns op in canonical form (merging neighbours, moving inserts
 * before adjacent deletes). Throws OTError for a malformed op.
 * @param {unknown} op
 * @returns {Op}
 */
export function normalize (op) {
  if (!isValid(op)) throw new OTError('malformed operation: ' + safeJSON(op))
  const b = new Builder()
  for (const c of op) {
    if (typeof c === 'string') b.insert(c)
    else if (c > 0) b.retain(c)
    else b.delete(-c)
  }
  return b.build()
}

/** @param {Op} op @returns {number} the length of the document op applies to */
export function baseLength (op) {
  let n = 0
  for (const c of op) if (typeof c === 'number') n += Math.abs(c)
  return n
}

/** @param {Op} op @returns {number} the length of the document op produces */
export function targetLength (op) {
  let n = 0
  for (const c of op) {
    if (typeof c === 'string') n += c.length
    else if (c > 0) n += c
  }
  return n
}

/** @param {Op} op @returns {boolean} whether op changes nothing */
export function isNoop (op) {
  return op.length === 0 || (op.length === 1 && typeof op[0] === 'number' && op[0] > 0)
}

/**
 * identity returns the operation that keeps a document of length n unchanged.
 * @param {number} n
 * @returns {Op}
 */
export function identity (n) {
  return n > 0 ? [n] : []
}

/**
 * apply returns doc with op applied. Throws OTError if op's base length is
 * not doc's length.
 * @param {string} doc
 * @param {Op} op
 * @returns {string}
 */
export function apply (doc, op) {
  if (baseLength(op) !== doc.length) {
    throw new OTError(`apply: operation base length ${baseLength(op)} does not match document length ${doc.length}`)
  }
  const parts = []
  let i = 0
  for (const c of op) {
    if (typeof c === 'string') {
      parts.push(c)
    } else if (c > 0) {
      parts.push(doc.slice(i, i + c))
      i += c
    } else {
      i -= c
    }
  }
  return parts.join('')
}

/**
 * Reads an operation component by component, splitting counts and strings
 * on demand. `take(n)` returns a component of at most n units.
 */
class Reader {
  /** @param {Op} op */
  constructor (op) {
    this.op = op
    this.i = 0
    /** @type {number|string|undefined} */
    this.cur = op[0]
  }

  get ok () { return this.cur !== undefined }

  /** @returns {'retain'|'insert'|'delete'} */
  kind () {
    const c = /** @type {number|string} */ (this.cur) // called only while ok
    return typeof c === 'string' ? 'insert' : c > 0 ? 'retain' : 'delete'
  }

  /** @returns {number} the current component's length */
  len () {
    const c = this.cur
    return typeof c === 'string' ? c.length : Math.abs(/** @type {number} */ (c))
  }

  /**
   * consume n units of the current component and return them
   * @param {number} n
   * @returns {number|string}
   */
  take (n) {
    const c = /** @type {number|string} */ (this.cur) // called only while ok
    const l = this.len()
    if (n >= l) {
      this.i++
      this.cur = this.op[this.i]
      return c
    }
    if (typeof c === 'string') {
      this.cur = c.slice(n)
      return c.slice(0, n)
    }
    if (c > 0) {
      this.cur = c - n
      return n
    }
    this.cur = c + n
    return -n
  }
}

/**
 * compose returns one operation with the effect of a followed by b.
 * Throws OTError if b's base length is not a's target length.
 * @param {Op} a
 * @param {Op} b
 * @returns {Op}
 */
export function compose (a, b) {
  if (targetLength(a) !== baseLength(b)) {
    throw new OTError(`compose: the second operation's base length ${baseLength(b)} does not match the first's target length ${targetLength(a)}`)
  }
  const out = new Builder()
  const x = new Reader(a)
  const y = new Reader(b)
  while (x.ok || y.ok) {
    if (x.ok && x.kind() === 'delete') {
      out.delete(x.len())
      x.take(x.len())
      continue
    }
    if (y.ok && y.kind() === 'insert') {
      out.insert(/** @type {string} */ (y.take(y.len())))
      continue
    }
    if (!x.ok || !y.ok) throw new OTError('compose: operations do not line up')
    const n = Math.min(x.len(), y.len())
    const xk = x.kind()
    const yk = y.kind()
    const xc = x.take(n)
    y.take(n)
    if (xk === 'retain' && yk === 'retain') out.retain(n)
    else if (xk === 'retain' && yk === 'delete') out.delete(n)
    else if (xk === 'insert' && yk === 'retain') out.insert(/** @type {string} */ (xc))
    // insert then delete: the two cancel out.
  }
  return out.build()
}

/**
 * transform takes operations a and b made concurrently on one document and
 * returns [aPrime, bPrime] such that apply(apply(s, a), bPrime) equals
 * apply(apply(s, b), aPrime). When both insert at one position, a's insert
 * comes first. Throws OTError if the base lengths differ.
 * @param {Op} a
 * @param {Op} b
 * @returns {[Op, Op]}
 */
export function transform (a, b) {
  if (baseLength(a) !== baseLength(b)) {
    throw new OTError(`transform: base lengths ${baseLength(a)} and ${baseLength(b)} differ`)
  }
  const ap = new Builder()
  const bp = new Builder()
  const x = new Reader(a)
  const y = new Reader(b)
  while (x.ok || y.ok) {
    if (x.ok && x.kind() === 'insert') {
      const s = /** @type {string} */ (x.take(x.len()))
      ap.insert(s)
      bp.retain(s.length)
      continue
    }
    if (y.ok && y.kind() === 'insert') {
      const s = /** @type {string} */ (y.take(y.len()))
      ap.retain(s.length)
      bp.insert(s)
      continue
    }
    if (!x.ok || !y.ok) throw new OTError('transform: operations do not line up')
    const n = Math.min(x.len(), y.len())
    const xk = x.kind()
    const yk = y.kind()
    x.take(n)
    y.take(n)
    if (xk === 'retain' && yk === 'retain') {
      ap.retain(n)
      bp.retain(n)
    } else if (xk === 'delete' && yk === 'retain') {
      ap.delete(n)
    } else if (xk === 'retain' && yk === 'delete') {
      bp.delete(n)
    }
    // both delete: neither needs to delete it again
  }
  return [ap.build(), bp.build()]
}

/**
 * transformIndex moves a position through op as ot.js's Selection.transform
 * does: text inserted before the position, or exactly at it, shifts it
 * right; text deleted before it shifts it left; a position inside a deleted
 * range moves to where the range was. The result lies in [0, targetLength(op)].
 * @param {number} pos
 * @param {Op} op
 * @returns {number}
 */
export function transformIndex (pos, op) {
  const base = baseLength(op)
  pos = Math.min(Math.max(pos, 0), base)
  let index = pos
  let newIndex = pos
  for (const c of op) {
    if (typeof c === 'string') {
      newIndex += c.length
    } else if (c > 0) {
      index -= c
    } else {
      newIndex -= Math.min(index, -c)
      index += c
    }
    if (index < 0) break
  }
  return Math.min(Math.max(newIndex, 0), targetLength(op))
}

/**
 * transformSelection moves every range of sel through op.
 * @param {Selection|undefined|null} sel
 * @param {Op} op
 * @returns {Selection|undefined}
 */
export function transformSelection (sel, op) {
  if (!sel) return undefined
  return sel.map(r => {
    const anchor = transformIndex(r.anchor, op)
    return { anchor, head: r.anchor === r.head ? anchor : transformIndex(r.head, op) }
  })
}

/**
 * isValidSelection reports whether sel is an array of ranges with integer
 * ends inside a document of length docLen.
 * @param {unknown} sel
 * @param {number} docLen
 * @returns {sel is Selection}
 */
export function isValidSelection (sel, docLen) {
  if (!Array.isArray(sel)) return false
  return sel.every(r => r !== null && typeof r === 'object' &&
    Number.isInteger(r.anchor) && Number.isInteger(r.head) &&
    r.anchor >= 0 && r.head >= 0 && r.anchor <= docLen && r.head <= docLen)
}

/**
 * diff returns an operation turning a into b: one replacement of the part
 * between their common prefix and common suffix, never splitting a
 * surrogate pair. Used to merge a full-text resync with local edits.
 * @param {string} a
 * @param {string} b
 * @returns {Op}
 */
export function diff (a, b) {
  let start = 0
  const max = Math.min(a.length, b.length)
  while (start < max && a.charCodeAt(start) === b.charCodeAt(start)) start++
  if (start > 0 && isHighSurrogate(a.charCodeAt(start - 1))) start--
  let endA = a.length
  let endB = b.length
  while (endA > start && endB > start && a.charCodeAt(endA - 1) === b.charCodeAt(endB - 1)) {
    endA--
    endB--
  }
  if (endA < a.length && isLowSurrogate(a.charCodeAt(endA))) {
    endA++
    endB++
  }
  return new Builder().retain(start).insert(b.slice(start, endB)).delete(endA - start).retain(a.length - endA).build()
}

/**
 * splitOp splits op, if it inserts more than maxInsert code units, into
 * [first, rest] with compose(first, rest) equal to op, where first inserts
 * at most maxInsert units (never splitting a surrogate pair) and rest may
 * need splitting again. Returns null when op is small enough. Used to keep
 * every message under the server's maxMessageBytes (a big paste).
 * @param {Op} op
 * @param {number} maxInsert at least 2
 * @returns {[Op, Op] | null}
 */
export function splitOp (op, maxInsert) {
  let total = 0
  for (const c of op) if (typeof c === 'string') total += c.length
  if (total <= maxInsert) return null
  const first = new Builder()
  let budget = maxInsert
  let baseDone = 0 // base-document units consumed by first
  let targetDone = 0 // units of first's output before the cut
  let i = 0
  for (; i < op.length; i++) {
    const c = op[i]
    if (typeof c === 'string') {
      if (c.length <= budget) {
        first.insert(c)
        budget -= c.length
        targetDone += c.length
        continue
      }
      let n = budget
      if (n > 0 && isHighSurrogate(c.charCodeAt(n - 1))) n--
      first.insert(c.slice(0, n))
      targetDone += n
      const rest = new Builder().retain(targetDone).insert(c.slice(n))
      const base = baseLength(op)
      first.retain(base - baseDone)
      for (let j = i + 1; j < op.length; j++) {
        const d = op[j]
        if (typeof d === 'string') rest.insert(d)
        else if (d > 0) rest.retain(d)
        else rest.delete(-d)
      }
      return [first.build(), rest.build()]
    } else if (c > 0) {
      first.retain(c)
      baseDone += c
      targetDone += c
    } else {
      first.delete(-c)
      baseDone -= c
    }
  }
  return null // unreachable: total > maxInsert means some insert overflowed the budget
}

/** @param {number} c a UTF-16 code unit */
function isHighSurrogate (c) { return c >= 0xd800 && c <= 0xdbff }
/** @param {number} c a UTF-16 code unit */
function isLowSurrogate (c) { return c >= 0xdc00 && c <= 0xdfff }

/** @param {unknown} v */
function safeJSON (v) {
  try { return JSON.stringify(v).slice(0, 200) } catch { return String(v) }
}
