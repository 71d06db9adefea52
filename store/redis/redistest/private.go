package redistest

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Private is a redis-server of one test's own, for faults the shared test
// Redis must not suffer: stopped with SIGSTOP, killed, restarted. It keeps
// an append-only file fsynced on every write in its directory, so a kill
// loses nothing acknowledged and a restart finds every note.
type Private struct {
	tb   testing.TB
	Addr string // 127.0.0.1:port, the same across restarts
	dir  string
	cmd  *exec.Cmd
}

// StartPrivate starts a private redis-server, killed when the test ends.
func StartPrivate(tb testing.TB) *Private {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	p := &Private{tb: tb, Addr: "127.0.0.1:" + strconv.Itoa(port), dir: tb.TempDir()}
	p.Start()
	tb.Cleanup(p.Kill)
	return p
}

// URL is the store URL of the private server.
func (p *Private) URL() string { return "redis://" + p.Addr + "/0" }

// Start starts the server (again, after Kill) and waits until it answers.
func (p *Private) Start() {
	p.tb.Helper()
	_, port, _ := net.SplitHostPort(p.Addr)
	p.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--dir", p.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "")
	if err := p.cmd.Start(); err != nil {
		p.tb.Fatalf("start redis-server: %v", err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: p.Addr, MaxRetries: -1})
	defer c.Close()
	for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
		if i > 250 {
			p.tb.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill kills the server with SIGKILL (a crash: the append-only file has
// every acknowledged write) and waits for it to exit.
func (p *Private) Kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}

// Stop stops the server with SIGSTOP: it holds its connections and answers
// nothing, as a hung or swapped-out Redis does.
func (p *Private) Stop() {
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		p.tb.Fatal(err)
	}
}

// Continue resumes a stopped server with SIGCONT.
func (p *Private) Continue() {
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		p.tb.Fatal(err)
	}
}
