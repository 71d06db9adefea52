package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memSample is one reading of the server's memory and CPU.
type memSample struct {
	rss    int64   // resident set size, bytes
	hwm    int64   // peak RSS so far (VmHWM), bytes; 0 when unknown
	heap   int64   // Go heap in use, bytes; 0 when unknown
	cpuSec float64 // CPU seconds used so far; -1 when unknown
}

// memReader reads the server's memory: from /proc/<pid>/status when pid is
// set, else from the Prometheus /metrics endpoint.
type memReader struct {
	pid     int
	metrics string
	client  *http.Client
}

func (m *memReader) source() string {
	if m.pid > 0 {
		return fmt.Sprintf("/proc/%d/status", m.pid)
	}
	return m.metrics
}

func (m *memReader) read(ctx context.Context) (memSample, error) {
	if m.pid > 0 {
		return readProc(m.pid)
	}
	return m.readMetrics(ctx)
}

func readProc(pid int) (memSample, error) {
	s := memSample{cpuSec: -1}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("read server memory: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch k {
		case "VmRSS":
			s.rss = parseKB(v)
		case "VmHWM":
			s.hwm = parseKB(v)
		}
	}
	s.cpuSec = procCPU(pid)
	return s, nil
}

// procCPU returns the CPU seconds (user + system) process pid has used, from
// /proc/<pid>/stat; -1 when pid is 0 or it cannot be read.
func procCPU(pid int) float64 {
	if pid <= 0 {
		return -1
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name (which may hold spaces): utime and
	// stime are the 14th and 15th fields overall, in clock ticks (100/s).
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(stat)[i+1:])
	if len(f) <= 13 {
		return -1
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100
}

func parseKB(v string) int64 {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n * 1024
}

func (m *memReader) readMetrics(ctx context.Context) (memSample, error) {
	s := memSample{cpuSec: -1}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.metrics, nil)
	if err != nil {
		return s, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return s, fmt.Errorf("read server metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return s, fmt.Errorf("read server metrics: %s", resp.Status)
	}
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, val, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			s.rss, found = int64(f), true
		case "go_memstats_heap_inuse_bytes":
			s.heap = int64(f)
		case "process_cpu_seconds_total":
			s.cpuSec = f
		}
	}
	if !found {
		return s, fmt.Errorf("read server metrics: no process_resident_memory_bytes at %s", m.metrics)
	}
	return s, sc.Err()
}

// memSampler samples the server's memory periodically and keeps the peak.
type memSampler struct {
	r       *memReader
	mu      sync.Mutex
	peakRSS int64
	peakHWM int64
	peakHp  int64
	last    memSample
	err     error
	n       int
}

func (s *memSampler) sample(ctx context.Context) {
	m, err := s.r.read(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.err == nil && ctx.Err() == nil {
			s.err = err
		}
		return
	}
	s.n++
	s.last = m
	s.peakRSS = max(s.peakRSS, m.rss)
	s.peakHWM = max(s.peakHWM, m.hwm)
	s.peakHp = max(s.peakHp, m.heap)
}

// run samples every period until ctx is done.
func (s *memSampler) run(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		s.sample(ctx)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// lastCPU returns the server's CPU seconds at the last sample, -1 if unknown.
func (s *memSampler) lastCPU() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		return -1
	}
	return s.last.cpuSec
}
