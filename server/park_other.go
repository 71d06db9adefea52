//go:build !linux

package server

// ready reports that there may be something to read at once: outside Linux
// a connection does not park, its read pump waits in gorilla's reader.
func (p *parker) ready(uintptr) bool { return true }

// canPark: connections park only on Linux (park_linux.go).
const canPark = false

// poller: none outside Linux.
type poller struct{}

func openPoller() *poller { return nil }

func (*poller) add(*parker, uintptr) bool { return false }

func (*parker) unpark(bool) {}
