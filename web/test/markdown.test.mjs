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
  assert.match(out, /<li class="task-list-item"><input type="checkbox" disabled> todo<\/li>/)
  assert.match(out, /<input type="checkbox" disabled checked> done/)
  assert.match(out, /<li>not a task<\/li>/)
  assert.match(out, /<table>/)
  assert.match(out, /<s>gone<\/s>/)
})
