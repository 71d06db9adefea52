package server

import "time"

// Every test of the package parks an idle connection almost at once, so
// that the whole suite runs through the node's poller (park.go), not only
// TestParkInPoller.
func init() { parkAfter = time.Millisecond }
