package loadtest_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/scribe-notes/scribe/client/loadtest"
	"github.com/scribe-notes/scribe/server"
	"github.com/scribe-notes/scribe/server/servertest"
)

// benchServer runs the real server on the embedded store on a loopback port.
func benchServer(t *testing.T, limits server.Limits) string {
	t.Helper()
	st := servertest.OpenBolt(t, t.TempDir())
	return servertest.Start(t, server.Config{Store: st, Limits: limits, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).URL
}

func runBench(t *testing.T, cfg loadtest.Config) *loadtest.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := loadtest.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Connected != cfg.Clients+cfg.Viewers {
		t.Fatalf("%d of %d clients connected: %v", res.Connected, cfg.Clients+cfg.Viewers, res.ErrorSamples)
	}
	if res.Errors != 0 {
		t.Fatalf("%d errors: %v", res.Errors, res.ErrorSamples)
	}
	if !res.Converged {
		t.Fatalf("not converged: %s", res.ConvergeNote)
	}
	if res.Memory.PeakRSS <= 0 {
		t.Fatalf("no server memory read: %+v", res.Memory)
	}
	return res
}

func TestRunTyping(t *testing.T) {
	url := benchServer(t, server.Limits{})
	res := runBench(t, loadtest.Config{URL: url, Clients: 5, Mode: loadtest.Typing, Duration: time.Second, Rate: 20})
	if res.Keystrokes == 0 || res.CommittedOps == 0 || res.CommittedOps > res.Keystrokes {
		t.Fatalf("keystrokes %d, committed %d", res.Keystrokes, res.CommittedOps)
	}
	// Every keystroke typed is in an acknowledged op once the run drains;
	// those acknowledged in the window are at least one per op.
	if res.UncommittedKeystrokes != 0 || res.CommittedKeystrokes < res.CommittedOps || res.CommittedKeystrokes > res.Keystrokes {
		t.Fatalf("keystrokes %d: %d committed in the window (%d ops), %d never", res.Keystrokes, res.CommittedKeystrokes, res.CommittedOps, res.UncommittedKeystrokes)
	}
	// Every committed op is seen by the 4 other clients.
	if res.BroadcastLatency.Samples < 4*uint64(res.CommittedOps)/2 {
		t.Fatalf("%d broadcast samples for %d committed ops to 4 peers", res.BroadcastLatency.Samples, res.CommittedOps)
	}
	if res.AckLatency.Samples == 0 || res.AckLatency.P50 > res.AckLatency.P99 || res.AckLatency.P99 > res.AckLatency.Max {
		t.Fatalf("ack latency %+v", res.AckLatency)
	}
	if res.FinalRevision < res.CommittedOps || res.TextUnits == 0 {
		t.Fatalf("final revision %d text %d units for %d committed ops", res.FinalRevision, res.TextUnits, res.CommittedOps)
	}
}

func TestRunFlood(t *testing.T) {
	url := benchServer(t, server.Limits{OpsPerSecond: 1e6})
	res := runBench(t, loadtest.Config{URL: url, Clients: 3, Mode: loadtest.Flood, Duration: time.Second})
	if res.CommittedOps == 0 || res.ServerOpsPerSecondLimit != 1e6 {
		t.Fatalf("committed %d, limit %v", res.CommittedOps, res.ServerOpsPerSecondLimit)
	}
	// One op in flight per client: no keystroke ever waits in a buffer.
	if res.Keystrokes < res.CommittedOps {
		t.Fatalf("keystrokes %d < committed %d", res.Keystrokes, res.CommittedOps)
	}
}

// One client flooding alone: the single-op path, with the CPU time per op of
// the server and of a store process (here both this test's own process).
func TestRunFloodAlone(t *testing.T) {
	url := benchServer(t, server.Limits{OpsPerSecond: 1e6})
	res := runBench(t, loadtest.Config{URL: url, Clients: 1, Mode: loadtest.Flood, Duration: time.Second, ServerPID: os.Getpid(), StorePID: os.Getpid()})
	if res.CommittedOps == 0 || res.AckLatency.Samples == 0 {
		t.Fatalf("committed %d, %d ack samples", res.CommittedOps, res.AckLatency.Samples)
	}
	if res.ServerCPUSeconds <= 0 || res.ServerCPUPerOp != 1e6*res.ServerCPUSeconds/float64(res.CommittedOps) {
		t.Fatalf("server CPU %v s, %v µs per op for %d ops", res.ServerCPUSeconds, res.ServerCPUPerOp, res.CommittedOps)
	}
	if res.StoreCPUSeconds <= 0 || res.StoreCPUPerOp != 1e6*res.StoreCPUSeconds/float64(res.CommittedOps) {
		t.Fatalf("store CPU %v s, %v µs per op for %d ops", res.StoreCPUSeconds, res.StoreCPUPerOp, res.CommittedOps)
	}
}

func TestRunIdleReadsProc(t *testing.T) {
	url := benchServer(t, server.Limits{})
	res := runBench(t, loadtest.Config{URL: url, Clients: 50, Mode: loadtest.Idle, Duration: 300 * time.Millisecond, ServerPID: os.Getpid(), Notes: 5})
	if res.Notes != 5 {
		t.Fatalf("spread over %d notes, want 5", res.Notes)
	}
	if res.Memory.PeakHWM <= 0 || res.Memory.Source != "/proc/"+strconv.Itoa(os.Getpid())+"/status" {
		t.Fatalf("memory %+v", res.Memory)
	}
	if res.CommittedOps != 0 {
		t.Fatalf("idle clients committed %d ops", res.CommittedOps)
	}
}

// Viewers watch through a read-only link: every committed op reaches each
// of them, and their latency is reported apart from the typists'.
func TestRunViewers(t *testing.T) {
	url := benchServer(t, server.Limits{})
	res := runBench(t, loadtest.Config{URL: url, Clients: 2, Viewers: 6, Mode: loadtest.Viewers, Duration: time.Second, Rate: 20})
	if res.CommittedOps == 0 || res.ViewerLatency == nil {
		t.Fatalf("committed %d, viewer latency %v", res.CommittedOps, res.ViewerLatency)
	}
	if res.ViewerLatency.Samples < 6*uint64(res.CommittedOps)/2 {
		t.Fatalf("%d viewer samples for %d committed ops to 6 viewers", res.ViewerLatency.Samples, res.CommittedOps)
	}
	if res.ViewerFrames <= 0 {
		t.Fatalf("viewers received %g frames a second each while %d ops were committed", res.ViewerFrames, res.CommittedOps)
	}
	// The typists see each other's ops only: one peer each.
	if res.BroadcastLatency.Samples > 2*uint64(res.Keystrokes) {
		t.Fatalf("%d typist broadcast samples for %d keystrokes by 2 typists", res.BroadcastLatency.Samples, res.Keystrokes)
	}
}

// Against a loopback server the clients dial from several source addresses,
// PerSource each, so a per-peer connection cap does not stop a large run.
func TestRunSpreadsSourceAddresses(t *testing.T) {
	st := servertest.OpenBolt(t, t.TempDir())
	srv := servertest.Start(t, server.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	hs := httptest.NewUnstartedServer(srv.Srv.Handler())
	hs.Listener = server.ConfigureHTTP(hs.Config, hs.Listener, server.HTTPLimits{MaxConnsPerPeer: 10})
	hs.Start()
	t.Cleanup(func() { hs.CloseClientConnections(); hs.Close() })
	res := runBench(t, loadtest.Config{URL: hs.URL, Clients: 30, PerSource: 10, Mode: loadtest.Idle, Duration: 100 * time.Millisecond})
	if res.SourceAddrs != 3 {
		t.Fatalf("%d source addresses, want 3", res.SourceAddrs)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	for _, cfg := range []loadtest.Config{
		{URL: "http://127.0.0.1:1", Clients: 2, Mode: "dance", Duration: time.Second},
		{URL: "http://127.0.0.1:1", Clients: 0, Mode: loadtest.Idle, Duration: time.Second},
		{URL: "http://127.0.0.1:1", Clients: 1, Mode: loadtest.Typing, Duration: time.Second},
		{URL: "http://127.0.0.1:1", Clients: 2, Mode: loadtest.Typing},
		{URL: "", Clients: 2, Mode: loadtest.Typing, Duration: time.Second},
		{URL: "http://127.0.0.1:1", Clients: 2, Mode: loadtest.Typing, Duration: time.Second, Notes: 2},
		{URL: "http://127.0.0.1:1", Clients: 1, Mode: loadtest.Flood, Duration: time.Second, StorePID: -1},
		{URL: "http://127.0.0.1:1", Clients: 2, Mode: loadtest.Viewers, Duration: time.Second},
		{URL: "http://127.0.0.1:1", Clients: 2, Viewers: 5, Mode: loadtest.Typing, Duration: time.Second},
	} {
		if _, err := loadtest.Run(context.Background(), cfg); err == nil {
			t.Errorf("Run(%+v) succeeded", cfg)
		}
	}
}
