package syslog

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/mamori-soc/mamori/ingest"
)

// serveStream accepts tcp or tls connections until ctx ends, then lets every
// connection read for drainGrace and waits for them.
func (l *listener) serveStream(ctx, drainCtx context.Context) error {
	var (
		mu      sync.Mutex
		conns   = map[net.Conn]struct{}{}
		closing bool
		wg      sync.WaitGroup
	)
	stop := context.AfterFunc(ctx, func() {
		deadline := time.Now().Add(drainGrace)
		l.shutdownAt.Store(deadline.UnixNano())
		_ = l.ln.Close()
		mu.Lock()
		closing = true
		for c := range conns {
			_ = c.SetReadDeadline(deadline)
		}
		mu.Unlock()
	})
	defer stop()
	defer l.ln.Close()

	sem := make(chan struct{}, l.cfg.MaxConnections)
	backoff := 5 * time.Millisecond
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				break
			}
			// Out of file descriptors and the like: wait and retry, as
			// net/http does.
			l.m.Error(ingest.ErrorAccept)
			l.warnLimited("accept failed; retrying", "retry_in", backoff, "error", err)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		select {
		case sem <- struct{}{}:
		default:
			l.m.ConnectionRejected()
			l.warnLimited("too many connections; closing new ones", "peer", c.RemoteAddr().String(), "max_connections", l.cfg.MaxConnections)
			_ = c.Close()
			continue
		}
		mu.Lock()
		conns[c] = struct{}{}
		if closing {
			_ = c.SetReadDeadline(time.Unix(0, l.shutdownAt.Load()))
		}
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				<-sem
			}()
			l.serveConn(ctx, drainCtx, c)
		})
	}
	wg.Wait()
	return nil
}

// serveConn frames and publishes one connection's messages.
func (l *listener) serveConn(ctx, drainCtx context.Context, c net.Conn) {
	defer c.Close()
	l.m.ConnectionOpened()
	defer l.m.ConnectionClosed()
	peer := ingest.NewPeer(peerOf(c.RemoteAddr()))
	log := l.log.With("peer", peer.String())

	var r io.Reader = c
	if l.tlsConf != nil {
		tc := tls.Server(c, l.tlsConf)
		hctx, cancel := context.WithTimeout(ctx, l.cfg.TLS.HandshakeTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				l.m.Error(ingest.ErrorHandshake)
				log.Warn("tls handshake failed", "error", err)
			}
			return
		}
		r = tc
	}
	dr := &deadlineReader{r: r, conn: c, idle: l.cfg.IdleTimeout, l: l}
	sc := NewScanner(dr, l.cfg.Framing, int(l.cfg.MaxMessageSize))
	for sc.Scan() {
		msg := bytes.Clone(sc.Message())
		l.m.Received(sc.Size(), int64(len(msg)))
		if err := l.batch.Add(drainCtx, l.stamp.Stamp(peer, msg, sc.Size())); err != nil {
			l.m.Dropped(ingest.DropShutdown, len(msg))
			log.Warn("message dropped: shutdown deadline passed with the queue full", "error", err)
			return
		}
	}
	err := sc.Err()
	switch {
	case err == nil:
		log.Debug("connection closed by the sender")
	case errors.Is(err, os.ErrDeadlineExceeded) && l.shutdownAt.Load() != 0, errors.Is(err, net.ErrClosed):
		log.Debug("connection closed for shutdown")
	case errors.Is(err, os.ErrDeadlineExceeded):
		log.Info("closing idle connection", "idle_timeout", l.cfg.IdleTimeout)
	case errors.Is(err, ErrFraming), errors.Is(err, io.ErrUnexpectedEOF):
		l.m.Error(ingest.ErrorFraming)
		log.Warn("closing connection: framing error", "framing", l.cfg.Framing.String(), "error", err)
	default:
		l.m.Error(ingest.ErrorRead)
		log.Info("connection read failed", "error", err)
	}
}

// deadlineReader sets the read deadline before every read from the
// socket: now plus the idle timeout, but never past the shutdown deadline.
type deadlineReader struct {
	r    io.Reader
	conn net.Conn
	idle time.Duration
	l    *listener
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if d.idle > 0 {
		deadline := time.Now().Add(d.idle)
		_ = d.conn.SetReadDeadline(deadline)
		// Shutdown may have set its deadline just before ours: restore it.
		if at := d.l.shutdownAt.Load(); at != 0 && at < deadline.UnixNano() {
			_ = d.conn.SetReadDeadline(time.Unix(0, at))
		}
	}
	return d.r.Read(p)
}
