// Package clustertest starts a throwaway Redis Cluster for tests: three
// masters, no replicas, on free loopback ports, with their files in a
// temporary directory, stopped (and their files removed) afterwards.
//
// It runs the real redis-server and redis-cli binaries. When they are
// missing the tests fail, never skip: scripts/ensure-redis.sh (run by
// `make test`) installs them.
package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Masters is the number of master nodes a Cluster has.
const Masters = 3

// Timing. A node starts in milliseconds; slot assignment propagates through
// the cluster bus within a second or two.
const (
	startTimeout = 10 * time.Second
	readyTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	attempts     = 3 // free ports are picked, then bound: another process may win the race
)

// Cluster is a running Redis Cluster.
type Cluster struct {
	// Addrs are the masters' host:port addresses on 127.0.0.1.
	Addrs []string

	dir     string
	ownsDir bool
	nodes   []*exec.Cmd
	logs    []string
}

// New starts a Cluster for the test and stops it when the test ends. It
// fails the test (never skips it) when the cluster cannot start.
func New(t testing.TB) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("start redis cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop redis cluster: %v", err)
		}
	})
	return c
}

// Start starts a Cluster with its files under dir; an empty dir means a new
// temporary directory, removed by Stop. The caller must call Stop.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%s not found on PATH (scripts/ensure-redis.sh installs it; make test runs it): %w", bin, err)
		}
	}
	ownsDir := false
	if dir == "" {
		d, err := os.MkdirTemp("", "scribe-redis-cluster-")
		if err != nil {
			return nil, fmt.Errorf("cluster dir: %w", err)
		}
		dir, ownsDir = d, true
	}
	var lastErr error
	for i := 0; i < attempts; i++ {
		attemptDir := filepath.Join(dir, "attempt"+strconv.Itoa(i))
		c, err := start(ctx, attemptDir)
		if err == nil {
			c.dir, c.ownsDir = dir, ownsDir
			return c, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	if ownsDir {
		_ = os.RemoveAll(dir)
	}
	return nil, lastErr
}

func start(ctx context.Context, dir string) (*Cluster, error) {
	ports, err := freePorts(2 * Masters) // a client port and a bus port per node
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	for i := 0; i < Masters; i++ {
		port, bus := ports[2*i], ports[2*i+1]
		nodeDir := filepath.Join(dir, "node"+strconv.Itoa(i))
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			c.Stop()
			return nil, fmt.Errorf("node dir: %w", err)
		}
		logFile := filepath.Join(nodeDir, "redis.log")
		cmd := exec.Command("redis-server",
			"--bind", "127.0.0.1",
			"--port", strconv.Itoa(port),
			"--cluster-enabled", "yes",
			"--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000",
			"--dir", nodeDir,
			"--logfile", logFile,
			"--save", "",
			"--appendonly", "no",
			"--daemonize", "no",
		)
		setDeathSignal(cmd)
		if err := cmd.Start(); err != nil {
			c.Stop()
			return nil, fmt.Errorf("start redis-server: %w", err)
		}
		c.nodes = append(c.nodes, cmd)
		c.logs = append(c.logs, logFile)
		c.Addrs = append(c.Addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	for i, addr := range c.Addrs {
		if err := waitPing(ctx, addr); err != nil {
			err = fmt.Errorf("node %s did not start: %w%s", addr, err, c.logTail(i))
			c.Stop()
			return nil, err
		}
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	var out bytes.Buffer
	create := exec.CommandContext(ctx, "redis-cli", args...)
	create.Stdout, create.Stderr = &out, &out
	if err := create.Run(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %w\n%s", err, out.String())
	}
	if err := c.waitReady(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// URL returns the cluster's address in the form scribe's Redis store takes:
// redis+cluster://host:port,host:port,host:port.
func (c *Cluster) URL() string { return "redis+cluster://" + strings.Join(c.Addrs, ",") }

// Client returns a new cluster client; the caller closes it.
func (c *Cluster) Client() *goredis.ClusterClient {
	return goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs})
}

// StopNode stops node i (0 <= i < Masters), leaving the others running, to
// test what clients see when a master is down.
func (c *Cluster) StopNode(i int) error {
	if i < 0 || i >= len(c.nodes) {
		return fmt.Errorf("no node %d", i)
	}
	return stopNode(c.nodes[i])
}

// stopNode stops one redis-server: SIGINT, then SIGKILL after stopTimeout.
// It does nothing to a node already stopped.
func stopNode(cmd *exec.Cmd) error {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return nil
	}
	_ = cmd.Process.Signal(os.Interrupt) // redis-server shuts down cleanly on SIGINT/SIGTERM
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return nil
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("redis-server pid %d did not stop in %v; killed", cmd.Process.Pid, stopTimeout)
	}
}

// Stop stops every node and removes the cluster's files if Start created
// the directory. It is safe to call more than once.
func (c *Cluster) Stop() error {
	var errs []error
	for _, cmd := range c.nodes {
		if err := stopNode(cmd); err != nil {
			errs = append(errs, err)
		}
	}
	c.nodes = nil
	if c.ownsDir && c.dir != "" {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, err)
		}
		c.dir = ""
	}
	return errors.Join(errs...)
}

// waitReady waits until every node reports cluster_state:ok and knows the
// owner of all 16384 slots, so clients never see CLUSTERDOWN.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for _, addr := range c.Addrs {
		cl := goredis.NewClient(&goredis.Options{Addr: addr})
		err := func() error {
			defer cl.Close()
			for {
				info, err := cl.ClusterInfo(ctx).Result()
				if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_slots_assigned:16384") && strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(Masters)) {
					return nil
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("node %s: cluster not ready: %v (last info: %q)", addr, ctx.Err(), info)
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

func waitPing(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	cl := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer cl.Close()
	for {
		err := cl.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *Cluster) logTail(i int) string {
	b, err := os.ReadFile(c.logs[i])
	if err != nil {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\nredis.log:\n" + string(b)
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
