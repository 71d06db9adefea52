package server

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// HTTP limits, below the websocket protocol: how long a request may take
// to arrive, and how many connections one peer address may hold open.
const (
	// DefaultReadHeaderTimeout bounds reading a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request, body included: a
	// body of MaxMessageBytes (256 KiB) takes well under a second on any
	// link a person edits over; 30 s leaves room for a phone on a train.
	DefaultReadTimeout = 30 * time.Second
	// DefaultMaxConnsPerPeer caps the connections one IP address may hold
	// open at once. A meeting room behind one NAT (or a campus behind a
	// few) shares an address: 100 people with a websocket and a browser's
	// 6 HTTP connections each fit under 1024, a script opening thousands
	// does not. It includes loopback: a reverse proxy on the same host
	// makes every connection come from it, so set the cap at the proxy
	// and turn this one off (0) behind it.
	DefaultMaxConnsPerPeer = 1024
)

// HTTPLimits are the HTTP server's limits. A zero duration takes its
// default; MaxConnsPerPeer 0 takes its default, a negative one turns the
// cap off.
type HTTPLimits struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	MaxConnsPerPeer   int
}

func (l HTTPLimits) withDefaults() HTTPLimits {
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.MaxConnsPerPeer == 0 {
		l.MaxConnsPerPeer = DefaultMaxConnsPerPeer
	}
	return l
}

// ConfigureHTTP sets hs's read deadlines from l and returns ln wrapped so
// that one peer address holds at most l.MaxConnsPerPeer connections. A
// websocket outlives ReadTimeout: the connection sets its own read
// deadlines once upgraded (hello, then pings), replacing the request's.
func ConfigureHTTP(hs *http.Server, ln net.Listener, l HTTPLimits) net.Listener {
	l = l.withDefaults()
	hs.ReadHeaderTimeout = l.ReadHeaderTimeout
	hs.ReadTimeout = l.ReadTimeout
	if l.MaxConnsPerPeer < 0 {
		return ln
	}
	return &peerListener{Listener: ln, max: l.MaxConnsPerPeer, open: make(map[string]int)}
}

// peerListener refuses a connection from a peer address that already holds
// max open ones: it closes it at once, and keeps accepting.
type peerListener struct {
	net.Listener
	max  int
	mu   sync.Mutex
	open map[string]int
}

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		peer := peerOf(c.RemoteAddr())
		l.mu.Lock()
		ok := l.open[peer] < l.max
		if ok {
			l.open[peer]++
		}
		l.mu.Unlock()
		if ok {
			return &peerConn{Conn: c, l: l, peer: peer}, nil
		}
		// Closed unanswered: an answer would have to wait for the
		// request, and holding connections is what the cap prevents.
		_ = c.Close()
	}
}

func (l *peerListener) release(peer string) {
	l.mu.Lock()
	if l.open[peer]--; l.open[peer] <= 0 {
		delete(l.open, peer)
	}
	l.mu.Unlock()
}

// peerOf is the IP address of addr, without the port.
func peerOf(addr net.Addr) string {
	if a, ok := addr.(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}

// peerConn gives its slot back when closed (once).
type peerConn struct {
	net.Conn
	l    *peerListener
	peer string
	once sync.Once
}

func (c *peerConn) Close() error {
	c.once.Do(func() { c.l.release(c.peer) })
	return c.Conn.Close()
}

// SyscallConn is the socket under the connection (syscall.Conn), so that
// what works on a connection's file descriptor (an idle connection's
// parker, the viewers' shared writer) sees through the cap's wrapper.
func (c *peerConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errNotSocket
	}
	return sc.SyscallConn()
}

var errNotSocket = errors.New("not a socket")
