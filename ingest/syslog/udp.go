package syslog

import (
	"bytes"
	"context"
	"errors"
	"net"
	"time"

	"github.com/mamori-soc/mamori/ingest"
)

// maxDatagram holds any UDP payload (65,507 bytes over IPv4, 65,527 over
// IPv6 without jumbograms).
const maxDatagram = 1 << 16

// serveUDP reads datagrams until ctx ends. Each datagram is one message
// (RFC 5426 3.1), published exactly as received. Datagrams are never
// waited for: when the queue is full they are dropped and counted, and the
// kernel's own drops (receive buffer full) are counted too.
func (l *listener) serveUDP(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		// Read what the kernel already holds, then stop.
		_ = l.udp.SetReadDeadline(time.Now().Add(drainGrace))
	})
	defer stop()
	defer l.udp.Close()

	pollDone := make(chan struct{})
	defer func() { <-pollDone }()
	pollCtx, stopPoll := context.WithCancel(context.Background())
	defer stopPoll()
	go func() {
		defer close(pollDone)
		l.pollKernelDrops(pollCtx)
	}()

	buf := make([]byte, maxDatagram)
	maxSize := int(l.cfg.MaxMessageSize)
	for {
		n, peer, err := l.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			l.m.Error(ingest.ErrorRead)
			l.warnLimited("udp read failed", "error", err)
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		if n == 0 {
			// An empty datagram holds no message.
			l.m.Error(ingest.ErrorFraming)
			continue
		}
		msg := bytes.Clone(buf[:min(n, maxSize)])
		l.m.Received(int64(n), int64(len(msg)))
		if !l.batch.TryAdd(l.stamp.Stamp(ingest.NewPeer(peer), msg, int64(n))) {
			l.m.Dropped(ingest.DropQueueFull, n)
		}
	}
}

// pollKernelDrops copies the kernel's drop count for the socket into the
// metrics until ctx ends, and once more then.
func (l *listener) pollKernelDrops(ctx context.Context) {
	poll := func() bool {
		n, err := ingest.UDPDrops(l.udp)
		if err != nil {
			if errors.Is(err, ingest.ErrNotSupported) {
				l.log.Debug("kernel drop count not available", "error", err)
				return false
			}
			return true
		}
		l.m.KernelDrops(n)
		return true
	}
	if !poll() {
		return
	}
	t := time.NewTicker(kernelDropsEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			poll()
			return
		case <-t.C:
			poll()
		}
	}
}
