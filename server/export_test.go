package server

import "time"

// SetTimingForTest shortens the session's timers for a test and returns a
// function that restores them.
func SetTimingForTest(grace, resync, refresh, expiry, revokeCheck time.Duration) (restore func()) {
	old := []time.Duration{sessionGrace, resyncPeriod, presenceRefresh, presenceExpiry, revokeCheckPeriod}
	sessionGrace, resyncPeriod, presenceRefresh, presenceExpiry, revokeCheckPeriod = grace, resync, refresh, expiry, revokeCheck
	return func() {
		sessionGrace, resyncPeriod, presenceRefresh, presenceExpiry, revokeCheckPeriod = old[0], old[1], old[2], old[3], old[4]
	}
}
