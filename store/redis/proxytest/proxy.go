// Package proxytest is a TCP proxy for tests of a Redis that answers late:
// it forwards to a real redis-server and can hold back the answer to one
// request, after the server has it, for as long as the test likes.
package proxytest

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP connections to a Redis server. Once armed with a
// pattern (Arm), it holds back the replies on the first connection whose request
// contains the pattern, until Release, and says on Seen that it has
// forwarded that request: the Redis ran the command, its client hears
// nothing. That is a Redis that answers late (a slow disk with appendfsync
// always, a stall, a congested link), made exact.
type Proxy struct {
	ln      net.Listener
	target  string
	armed   atomic.Pointer[[]byte]
	seen    chan struct{} // one value when the held request is forwarded (Seen)
	release chan struct{} // closed to let the held replies through
	done    chan struct{} // closed by Close
	once    sync.Once
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
}

// Start starts a proxy to target (host:port) on a free loopback port.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, seen: make(chan struct{}, 1), release: make(chan struct{}), done: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Seen receives one value when the proxy has forwarded the request it
// holds the answer to: the server has it (and runs it, unless stalled).
func (p *Proxy) Seen() <-chan struct{} { return p.seen }

// Arm makes the proxy hold the replies to the next request containing pat.
func (p *Proxy) Arm(pat string) { b := []byte(pat); p.armed.Store(&b) }

// Release lets the held replies through.
func (p *Proxy) Release() {
	select {
	case <-p.release:
	default:
		close(p.release)
	}
}

// Close closes the listener and every connection (Start registers it
// with t.Cleanup).
func (p *Proxy) Close() {
	p.once.Do(func() {
		close(p.done)
		p.ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		c.Close()
		return false
	default:
	}
	p.conns = append(p.conns, c)
	return true
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(client) || !p.track(server) {
			client.Close()
			server.Close()
			return
		}
		var hold atomic.Bool
		p.wg.Add(2)
		go func() { // requests
			defer p.wg.Done()
			defer server.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := client.Read(buf)
				if n > 0 {
					pat := p.armed.Load()
					held := pat != nil && bytes.Contains(buf[:n], *pat) && p.armed.CompareAndSwap(pat, nil)
					if held {
						hold.Store(true) // before the request reaches Redis, so before its reply
					}
					if _, werr := server.Write(buf[:n]); werr != nil {
						return
					}
					if held {
						p.seen <- struct{}{}
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() { // replies
			defer p.wg.Done()
			defer client.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && hold.Load() {
					select {
					case <-p.release:
					case <-p.done:
						return
					}
				}
				if n > 0 {
					if _, werr := client.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}
