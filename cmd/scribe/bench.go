package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/scribe-notes/scribe/client/loadtest"
)

// runBench is `scribe bench`: the load tool (package loadtest). It prints
// the result as JSON on stdout and progress on stderr.
func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: scribe bench [flags]\n\nOpens --clients real websocket clients on one note of a running server and\nprints what they measured as JSON. Modes: typing, flood, idle, viewers. Each flag can\nalso be set with its SCRIBE_* environment variable (--clients: SCRIBE_CLIENTS).")
		fs.PrintDefaults()
	}
	var cfg loadtest.Config
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "the server's base URL")
	fs.StringVar(&cfg.Note, "note", "", "an existing note id (default: create one with POST /api/notes)")
	fs.IntVar(&cfg.Clients, "clients", 100, "websocket clients to open")
	fs.StringVar(&cfg.Mode, "mode", loadtest.Typing, "typing (a keystroke per client every 1/rate s), flood (one op in flight per client; --clients 1: one writer alone), idle (connections only), viewers (--clients typists and --viewers read-only viewers)")
	fs.DurationVar(&cfg.Duration, "duration", 15*time.Second, "how long the load runs")
	fs.Float64Var(&cfg.Rate, "rate", 0, "typing: keystrokes per second per client (default 10); flood: a cap per client (default none)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "read the server's memory and CPU time from /proc/<pid> (default: its /metrics)")
	fs.IntVar(&cfg.StorePID, "store-pid", 0, "also count this store process's CPU time per op, e.g. redis-server's pid (default: none)")
	fs.StringVar(&cfg.MetricsURL, "metrics", "", "the server's Prometheus metrics URL (default: <url>/metrics)")
	fs.IntVar(&cfg.Dialers, "dialers", 64, "connections opened at once")
	fs.IntVar(&cfg.Notes, "notes", 1, "idle mode: spread the clients over this many new notes")
	fs.IntVar(&cfg.Viewers, "viewers", 0, "viewers mode: read-only viewers watching the --clients typists, through a read-only link")
	fs.IntVar(&cfg.PerSource, "per-source", 1000, "clients per loopback source address in 127.0.0.0/8, when the server is on loopback (-1: all from one address)")
	fs.BoolVar(&cfg.ViewerGoroutines, "viewer-goroutines", false, "viewers mode: read each viewer from a goroutine of its own instead of the tool's epoll loops (Linux), to measure the difference")
	cpuProfile := fs.String("cpuprofile", "", "write the load tool's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	if err := flagsFromEnv(fs); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	cfg.Log = os.Stderr
	if os.Getenv("GOGC") == "" {
		// The tool shares the machine with the server it measures: trade
		// memory (plentiful: a few hundred MB) for fewer collections.
		debug.SetGCPercent(400)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	res, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
