package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/scribe-notes/scribe"
	"github.com/scribe-notes/scribe/store/bolt"
	"github.com/scribe-notes/scribe/store/redis"
)

// storeConfig says which Store a command opens: Redis when redisURL is set,
// else the embedded store in dataDir. scribe serve and scribe export share
// it, so both read the same flags the same way.
type storeConfig struct {
	dataDir     string
	redisURL    string
	redisPrefix string
	// maxHistoryBytes is each note's history budget, minFreeBytes the free
	// space the embedded store's disk must keep (0: the stores' defaults;
	// negative: off). Export opens the store with the defaults.
	maxHistoryBytes int64
	minFreeBytes    int64
}

// open opens the configured store and returns it with a short description
// for the log. With create, a missing data directory is created (serve);
// without, it is an error (export reads an existing note, it never creates
// a store). openTimeout bounds the wait for the embedded store's file lock,
// which another process (a running scribe serve) may hold; zero means the
// store's default.
func (c storeConfig) open(ctx context.Context, log *slog.Logger, create bool, openTimeout time.Duration) (scribe.Store, string, error) {
	if c.redisURL != "" {
		s, err := redis.New(c.redisURL, redis.Options{Prefix: c.redisPrefix, Logger: log, MaxHistoryBytes: c.maxHistoryBytes})
		if err != nil {
			return nil, "", err
		}
		if err := s.Open(ctx); err != nil {
			return nil, "", fmt.Errorf("open redis store: %w", err)
		}
		return s, "redis", nil
	}
	if create {
		if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
			return nil, "", fmt.Errorf("data dir: %w", err)
		}
	} else if _, err := os.Stat(c.dataDir); err != nil {
		return nil, "", fmt.Errorf("no embedded store in %s: %w", c.dataDir, err)
	}
	s := bolt.New(c.dataDir, bolt.Options{OpenTimeout: openTimeout, MaxHistoryBytes: c.maxHistoryBytes, MinFreeBytes: c.minFreeBytes})
	if err := s.Open(ctx); err != nil {
		return nil, "", fmt.Errorf("open embedded store: %w", err)
	}
	return s, "embedded " + s.Path(), nil
}
