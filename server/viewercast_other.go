//go:build !unix

package server

import (
	"net"
	"syscall"
)

// rawConnOf returns nil: the shared writer is for unix sockets only, and
// every viewer here is written by its own pump.
func rawConnOf(net.Conn) syscall.RawConn { return nil }

func writeFD(uintptr, []byte) int { return 0 }
