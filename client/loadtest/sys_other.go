//go:build !unix

package loadtest

// raiseFileLimit does nothing where there is no RLIMIT_NOFILE.
func raiseFileLimit(n uint64) (uint64, error) { return n, nil }

// cpuTime is unknown here.
func cpuTime() float64 { return 0 }
