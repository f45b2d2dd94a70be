package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// ErrNotSupported: the platform cannot report what was asked.
var ErrNotSupported = errors.New("ingest: not supported on this platform")

// procNetUDP lists the tables searched by UDPDrops; tests may replace it.
var procNetUDP = []string{"/proc/net/udp", "/proc/net/udp6"}

// UDPDrops returns the kernel's count of datagrams dropped on the socket
// (receive buffer full, bad checksum...), from the "drops" column of
// /proc/net/udp and /proc/net/udp6, found by the socket's inode. The count
// only grows while the socket is open.
func UDPDrops(conn syscall.Conn) (uint64, error) {
	ino, err := socketInode(conn)
	if err != nil {
		return 0, err
	}
	want := strconv.AppendUint(nil, ino, 10)
	for _, path := range procNetUDP {
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return 0, fmt.Errorf("ingest: udp drops: %w", err)
		}
		drops, found, err := scanUDPTable(f, want)
		_ = f.Close()
		if err != nil {
			return 0, fmt.Errorf("ingest: udp drops: %s: %w", path, err)
		}
		if found {
			return drops, nil
		}
	}
	return 0, fmt.Errorf("ingest: udp drops: socket inode %d not in /proc/net/udp{,6}: %w", ino, ErrNotSupported)
}

// scanUDPTable finds the row with the inode and returns its drops column.
// Columns: sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref
// pointer drops.
func scanUDPTable(f *os.File, inode []byte) (uint64, bool, error) {
	sc := bufio.NewScanner(f)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		fields := bytes.Fields(sc.Bytes())
		if len(fields) < 13 || !bytes.Equal(fields[9], inode) {
			continue
		}
		n, err := strconv.ParseUint(string(fields[12]), 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("drops column %q: %w", fields[12], err)
		}
		return n, true, nil
	}
	return 0, false, sc.Err()
}

func socketInode(conn syscall.Conn) (uint64, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("ingest: socket inode: %w", err)
	}
	var st syscall.Stat_t
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = syscall.Fstat(int(fd), &st) }); err != nil {
		return 0, fmt.Errorf("ingest: socket inode: %w", err)
	}
	if serr != nil {
		return 0, fmt.Errorf("ingest: socket inode: fstat: %w", serr)
	}
	return st.Ino, nil
}

// ReceiveBufferSize returns the socket's effective SO_RCVBUF as the kernel
// reports it (Linux doubles the requested value for bookkeeping and caps
// the request at net.core.rmem_max).
func ReceiveBufferSize(conn syscall.Conn) (int, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("ingest: receive buffer: %w", err)
	}
	var n int
	var serr error
	if err := raw.Control(func(fd uintptr) { n, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF) }); err != nil {
		return 0, fmt.Errorf("ingest: receive buffer: %w", err)
	}
	if serr != nil {
		return 0, fmt.Errorf("ingest: receive buffer: getsockopt: %w", serr)
	}
	return n, nil
}
