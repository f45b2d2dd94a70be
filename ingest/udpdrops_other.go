//go:build !linux

package ingest

import (
	"errors"
	"syscall"
)

// ErrNotSupported: the platform cannot report what was asked.
var ErrNotSupported = errors.New("ingest: not supported on this platform")

// UDPDrops is only implemented on Linux; elsewhere it returns
// ErrNotSupported.
func UDPDrops(conn syscall.Conn) (uint64, error) { return 0, ErrNotSupported }

// ReceiveBufferSize is only implemented on Linux; elsewhere it returns
// ErrNotSupported.
func ReceiveBufferSize(conn syscall.Conn) (int, error) { return 0, ErrNotSupported }
