// Measures what the browser client spends per keystroke, outside the
// editor: CollabClient.localChange (apply to its copy of the text, compose
// into the buffer), the send, and the ack (apply to its copy of the
// server's text), for documents of 10 KB to 1 MB. Figures go to
// docs/benchmarks.md. Run: node bench/client.bench.mjs
import { CollabClient } from '../src/collab.js'
import * as ot from '../src/ot.js'

function run (size, keystrokes) {
  let seq = 0
  let rev = 0
  const c = new CollabClient({
    session: 'bench_session',
    name: 'bench',
    callbacks: { send: m => { if (m.type === 'op') seq = m.seq }, now: () => 0, setTimer: () => 0, clearTimer: () => {} }
  })
  const line = 'The quick brown fox jumps over the lazy dog. Café 😀\n'
  const text = line.repeat(Math.ceil(size / line.length)).slice(0, size)
  c.connected()
  c.receive([{ type: 'welcome', client: 'c1', rev: 0, text, lastSeq: 0, peers: [], limits: { opsPerSecond: 1e9 } }])
  let pos = Math.floor(size / 2)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < keystrokes; i++) {
    const len = c.doc.length
    c.localChange(new ot.Builder().retain(pos).insert('x').retain(len - pos).build(), [{ anchor: pos + 1, head: pos + 1 }])
    pos++
    if (i % 3 === 2) c.receive([{ type: 'ack', seq, rev: ++rev }]) // an ack every third keystroke
  }
  const ns = Number(process.hrtime.bigint() - t0)
  return ns / keystrokes / 1000
}

for (const [size, n] of [[10_000, 20000], [100_000, 5000], [1_000_000, 1000]]) {
  run(size, Math.min(n, 500)) // warm up
  const runs = [run(size, n), run(size, n), run(size, n)].sort((a, b) => a - b)
  console.log(`${(size / 1000).toString().padStart(5)} KB: ${runs[0].toFixed(1)} µs per keystroke (best of 3; runs ${runs.map(r => r.toFixed(1)).join(', ')})`)
}
