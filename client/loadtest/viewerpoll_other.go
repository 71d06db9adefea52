//go:build !linux

package loadtest

import (
	"context"
	"errors"
	"net"
)

// viewerPoll needs epoll: elsewhere every viewer has a reading goroutine.
type viewerPoll struct{}

// rawConn is a viewer read by a viewerPoll: none here.
type rawConn struct{}

func newViewerPoll(int) (*viewerPoll, error) {
	return nil, errors.New("no epoll on this system")
}

func (p *viewerPoll) close()               {}
func (p *viewerPoll) add(*botConn)         {}
func (c *rawConn) write(int, []byte) error { return errors.New("no raw connections here") }
func (c *rawConn) shutdown()               {}

func dialRawBot(context.Context, func(ctx context.Context, network, addr string) (net.Conn, error), string, string, *refLog) (*botConn, error) {
	return nil, errors.New("no raw connections here")
}
