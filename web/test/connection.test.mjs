import { test } from 'node:test'
import assert from 'node:assert/strict'
import { backoffDelay, BACKOFF_MIN_MS, BACKOFF_MAX_MS } from '../src/connection.js'

test('backoff: 0.5 s doubling to 10 s, with up to 30% jitter below', () => {
  assert.equal(backoffDelay(0, () => 1), BACKOFF_MIN_MS)
  assert.equal(backoffDelay(1, () => 1), 1000)
  assert.equal(backoffDelay(2, () => 1), 2000)
  assert.equal(backoffDelay(5, () => 1), BACKOFF_MAX_MS)
  assert.equal(backoffDelay(1000, () => 1), BACKOFF_MAX_MS)
  assert.equal(backoffDelay(0, () => 0), 350)
  for (let n = 0; n < 20; n++) {
    const d = backoffDelay(n)
    assert.ok(d >= 0.7 * Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** n) - 1 && d <= BACKOFF_MAX_MS, `attempt ${n}: ${d} ms`)
  }
})
