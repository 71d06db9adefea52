package markdown

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"errors"
	"fmt"
	"html"
	"sync"
	"time"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Defaults of a Renderer's Options.
const (
	DefaultConcurrency = 2
	DefaultWait        = 100 * time.Millisecond
	DefaultCacheBytes  = 32 << 20
)

// Options configure a Renderer; zero fields take the defaults.
type Options struct {
	Limits Limits
	// Concurrency is how many renders or parses may run at once.
	Concurrency int
	// Wait is how long a render waits for a free slot before it gives the
	// fallback (ErrBusy): a reader sees the plain text at once rather than an
	// error, and the server's CPU stays with the renders already running.
	Wait time.Duration
	// CacheBytes bounds the rendered HTML kept, least recently used first
	// out. The cache is keyed by a SHA-256 of the source, never by a note id,
	// so it holds no secret and cannot serve a page for other text, even if
	// a revision number were ever reused.
	CacheBytes int
}

// A Renderer renders markdown within Limits, at most Concurrency at once,
// and caches what it rendered. It is safe for concurrent use.
type Renderer struct {
	limits Limits
	slots  chan struct{}
	wait   time.Duration
	cache  *lru
}

// NewRenderer returns a Renderer with the given options.
func NewRenderer(o Options) *Renderer {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Wait <= 0 {
		o.Wait = DefaultWait
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = DefaultCacheBytes
	}
	return &Renderer{
		limits: o.Limits.withDefaults(),
		slots:  make(chan struct{}, o.Concurrency),
		wait:   o.Wait,
		cache:  newLRU(o.CacheBytes),
	}
}

var defaultRenderer = NewRenderer(Options{})

// Default returns the Renderer with the default options that the
// package-level Render, Page and Parse use.
func Default() *Renderer { return defaultRenderer }

// Render renders src as Render does, within the Renderer's limits. It
// always returns HTML that is safe to insert into a page; a non-nil error
// says that it is the fallback (the source escaped in a <pre>) and why:
// ErrTooComplex, ErrTimeout or ErrBusy, possibly wrapped.
func (r *Renderer) Render(src string) ([]byte, error) {
	key := keyOf(src)
	if e, ok := r.cache.get(key); ok {
		return e.html, e.err
	}
	if err := Check(src, r.limits); err != nil {
		out := Fallback(src)
		r.cache.put(key, out, err, true)
		return out, err
	}
	if !r.acquire() {
		return Fallback(src), ErrBusy
	}
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		defer r.release()
		defer close(done)
		out, err = r.render(src)
		r.cache.put(key, out, err, true)
	}()
	timer := time.NewTimer(r.limits.Timeout)
	defer timer.Stop()
	select {
	case <-done:
		return out, err
	case <-timer.C:
		// The render runs on and caches its result when it ends; until
		// then this text gets the fallback without a new render.
		fb := Fallback(src)
		r.cache.put(key, fb, ErrTimeout, false)
		return fb, fmt.Errorf("%w after %v", ErrTimeout, r.limits.Timeout)
	}
}

// Page is the package-level Page within the Renderer's limits; past them
// the page holds the fallback, and the error says why, as for Render.
func (r *Renderer) Page(title, src string) ([]byte, error) {
	body, err := r.Render(src)
	return page(title, body), err
}

// Parse parses src for code that reads its structure (export's
// extraction), within the limits that apply to a render except the output
// budget. Past them it returns a nil tree and the reason.
func (r *Renderer) Parse(src []byte) (ast.Node, error) {
	if err := Check(string(src), r.limits); err != nil {
		return nil, err
	}
	if !r.acquire() {
		return nil, ErrBusy
	}
	done := make(chan ast.Node, 1)
	go func() {
		defer r.release()
		defer func() {
			if recover() != nil {
				done <- nil
			}
		}()
		done <- md.Parser().Parse(text.NewReader(src))
	}()
	timer := time.NewTimer(r.limits.Timeout)
	defer timer.Stop()
	select {
	case doc := <-done:
		if doc == nil {
			return nil, fmt.Errorf("%w: the parser failed", ErrTooComplex)
		}
		return doc, nil
	case <-timer.C:
		return nil, fmt.Errorf("%w after %v", ErrTimeout, r.limits.Timeout)
	}
}

// keyOf is a render's cache key: the source's SHA-256, no note id.
func keyOf(src string) [32]byte { return sha256.Sum256([]byte(src)) }

func (r *Renderer) acquire() bool {
	select {
	case r.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(r.wait)
	defer t.Stop()
	select {
	case r.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

func (r *Renderer) release() { <-r.slots }

var errOutput = errors.New("output budget exceeded")

// budgetWriter keeps at most max bytes and fails every write past them;
// goldmark's renderer then writes nothing more (its bufio.Writer keeps the
// first error) while it finishes walking the tree.
type budgetWriter struct {
	buf bytes.Buffer
	max int
}

func (w *budgetWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.max {
		return 0, errOutput
	}
	return w.buf.Write(p)
}

// render runs goldmark with the output budget; a panic (which goldmark
// should never raise) or an output over budget gives the fallback.
func (r *Renderer) render(src string) (out []byte, err error) {
	defer func() {
		if recover() != nil {
			out, err = Fallback(src), fmt.Errorf("%w: the renderer failed", ErrTooComplex)
		}
	}()
	w := budgetWriter{max: r.limits.MaxOutput}
	if err := md.Convert([]byte(src), &w); err != nil {
		if errors.Is(err, errOutput) {
			return Fallback(src), fmt.Errorf("%w: more than %d bytes of HTML", ErrTooComplex, r.limits.MaxOutput)
		}
		return Fallback(src), fmt.Errorf("render markdown: %w", err)
	}
	return w.buf.Bytes(), nil
}

// Fallback is what a note past its limits is shown as: a line saying so,
// then its source, escaped, in a <pre>. It is linear in the source (at most
// five bytes of HTML per byte of text).
func Fallback(src string) []byte {
	var b bytes.Buffer
	b.Grow(len(src) + len(fallbackHead) + 16)
	b.WriteString(fallbackHead)
	b.WriteString(html.EscapeString(src))
	b.WriteString("</pre>\n")
	return b.Bytes()
}

const fallbackHead = `<p class="scribe-plain-notice"><em>This note is too large or too complex to format, so it is shown as plain text.</em></p>
<pre class="scribe-plain">`

// lru is a cache of rendered HTML bounded by the bytes it holds.
type lru struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // of *entry, most recent first
	items map[[32]byte]*list.Element
}

type entry struct {
	key  [32]byte
	html []byte
	err  error
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: map[[32]byte]*list.Element{}}
}

func (c *lru) get(k [32]byte) (*entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry), true
}

// put adds or, with replace, replaces an entry. An entry larger than a
// quarter of the cache is not kept.
func (c *lru) put(k [32]byte, html []byte, err error, replace bool) {
	cost := len(html) + 128
	if cost > c.max/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		if !replace {
			return
		}
		c.size -= len(el.Value.(*entry).html) + 128
		c.order.Remove(el)
		delete(c.items, k)
	}
	c.items[k] = c.order.PushFront(&entry{key: k, html: html, err: err})
	c.size += cost
	for c.size > c.max {
		el := c.order.Back()
		e := el.Value.(*entry)
		c.order.Remove(el)
		delete(c.items, e.key)
		c.size -= len(e.html) + 128
	}
}
