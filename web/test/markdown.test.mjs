import { test } from 'node:test'
import assert from 'node:assert/strict'
import { renderMarkdown } from '../src/markdown.js'

test('raw HTML is escaped, never passed through', () => {
  const out = renderMarkdown('<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)>')
  assert.ok(!out.includes('<script'), out)
  assert.ok(!out.includes('<img'), out)
  assert.ok(out.includes('&lt;script&gt;'), out)
})

test('dangerous links are not links', () => {
  for (const src of ['[x](javascript:alert(1))', '[x](JAVASCRIPT:alert(1))', '[x](vbscript:x)', '[x](data:text/html,x)', '[x](intent://x)', '<javascript:alert(1)>']) {
    const out = renderMarkdown(src)
    assert.ok(!/href="(javascript|vbscript|data|intent)/i.test(out), `${src} -> ${out}`)
  }
  assert.match(renderMarkdown('[a](https://example.com) [b](/n/x) [c](mailto:a@b.c)'), /href="https:\/\/example.com".*href="\/n\/x".*href="mailto:a@b.c"/)
})

test('GitHub-style task lists, tables and strikethrough render like the server\'s first paint', () => {
  const out = renderMarkdown('- [ ] todo\n- [x] done\n- not a task\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~')
  assert.match(out, /<li class="task-list-item"><input type="checkbox" disabled aria-label="Done"> todo<\/li>/)
  assert.match(out, /<input type="checkbox" disabled aria-label="Done" checked> done/)
  assert.match(out, /<li>not a task<\/li>/)
  assert.match(out, /<table>/)
  assert.match(out, /<s>gone<\/s>/)
})

test('the editor preview: tickable tasks naming their line, source lines, headings', async () => {
  const { renderMarkdown, headings, toggleTask } = await import('../src/markdown.js')
  const src = '# Plan\n\nIntro\n\n## Tasks\n\n- [ ] write\n- [x] ship <b>now</b>\n'
  const html = renderMarkdown(src, { lines: true, tasks: true })
  assert.match(html, /<input type="checkbox" data-line="6" aria-label="Done"> write/)
  assert.match(html, /<input type="checkbox" data-line="7" aria-label="Done" checked> ship &lt;b&gt;now&lt;\/b&gt;/)
  assert.match(html, /<h2 data-line="4">Tasks<\/h2>/)
  // The read-only page's rendering is unchanged.
  assert.ok(!renderMarkdown(src).includes('data-line'))
  assert.match(renderMarkdown(src), /<input type="checkbox" disabled aria-label="Done"> write/)
  assert.deepEqual(headings(src), [{ level: 1, text: 'Plan', line: 0 }, { level: 2, text: 'Tasks', line: 4 }])
  assert.deepEqual(toggleTask(src, 6), { from: src.indexOf('[ ]') + 1, to: src.indexOf('[ ]') + 2, insert: 'x' })
  assert.deepEqual(toggleTask(src, 7), { from: src.indexOf('[x]') + 1, to: src.indexOf('[x]') + 2, insert: ' ' })
  assert.equal(toggleTask(src, 2), null)
  assert.equal(toggleTask(src, 99), null)
})
