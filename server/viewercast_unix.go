//go:build unix

package server

import (
	"net"
	"syscall"
)

// rawConnOf returns the socket under a viewer's connection, for the room's
// shared writer (viewercast.go), or nil when it is not a plain socket (a
// TLS connection must be written through its own Conn; it has no
// SyscallConn).
func rawConnOf(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// writeFD writes b to the non-blocking socket fd once, and returns how much
// it took (0 on EAGAIN or any error).
func writeFD(fd uintptr, b []byte) int {
	n, err := syscall.Write(int(fd), b)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
