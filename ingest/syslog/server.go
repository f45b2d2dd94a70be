package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/ingest"
)

// Format is the mamori.format header of every record this edge publishes.
const Format = "syslog"

// drainGrace is how long, at shutdown, listeners keep reading what senders
// already sent (kernel buffers, frames in progress) before closing.
const drainGrace = 250 * time.Millisecond

// kernelDropsEvery is how often a udp listener reads the kernel's drop
// count for its socket.
const kernelDropsEvery = 5 * time.Second

// ErrServerUsed: Run was called on a Server that already ran; make a new
// one.
var ErrServerUsed = errors.New("syslog: server already ran")

// Options are a Server's collaborators; all optional.
type Options struct {
	// Logger receives the edge's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the edge metrics (never the global default
	// unless passed here); nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Metrics, when set, is used instead of creating metrics on
	// Registerer (for sharing one set among edges).
	Metrics *ingest.Metrics
	// Now is the clock for receive times; nil means time.Now.
	Now func() time.Time
}

// Server serves the listeners of a Config.
type Server struct {
	cfg     Config
	prod    bus.Producer
	log     *slog.Logger
	metrics *ingest.Metrics
	now     func() time.Time

	mu        sync.Mutex
	listeners []*listener
	used      bool
}

// New checks cfg (applying defaults first) and returns a Server publishing
// to p. It binds nothing yet: see Listen and Run.
func New(cfg Config, p bus.Producer, opts Options) (*Server, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.New("syslog: nil bus.Producer")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := opts.Metrics
	if m == nil {
		var err error
		if m, err = ingest.NewMetrics(opts.Registerer); err != nil {
			return nil, fmt.Errorf("syslog: %w", err)
		}
	}
	return &Server{cfg: cfg, prod: p, log: log, metrics: m, now: opts.Now}, nil
}

// Listen binds every listener's socket and returns the bound addresses in
// configuration order (useful with port 0). Run calls it when it was not
// called before. On error nothing stays bound.
func (s *Server) Listen() ([]net.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used {
		return nil, ErrServerUsed
	}
	if s.listeners != nil {
		return s.addrsLocked(), nil
	}
	ls := make([]*listener, 0, len(s.cfg.Listeners))
	for i, lc := range s.cfg.Listeners {
		l, err := s.bind(i, lc)
		if err != nil {
			for _, l := range ls {
				l.closeSocket()
			}
			return nil, err
		}
		ls = append(ls, l)
	}
	s.listeners = ls
	return s.addrsLocked(), nil
}

// Addrs returns the bound addresses in configuration order, or nil before
// Listen.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrsLocked()
}

func (s *Server) addrsLocked() []net.Addr {
	if s.listeners == nil {
		return nil
	}
	out := make([]net.Addr, len(s.listeners))
	for i, l := range s.listeners {
		out[i] = l.addr
	}
	return out
}

// Run serves every listener until ctx ends, then shuts down gracefully: it
// stops accepting, reads for a short grace what senders already sent,
// closes the connections and publishes everything queued, all within
// Config.ShutdownTimeout. It returns nil after a complete shutdown, an
// error wrapping ingest.ErrAbandoned when records could not be published
// in time, or the error that stopped a listener. Run may be called once.
func (s *Server) Run(ctx context.Context) error {
	if _, err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.used {
		s.mu.Unlock()
		return ErrServerUsed
	}
	s.used = true
	ls := s.listeners
	s.mu.Unlock()

	// drainCtx outlives ctx by ShutdownTimeout: readers blocked on a full
	// queue and the final publish use it.
	drainCtx, cancelDrain := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelDrain()
	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	stopAfter := context.AfterFunc(serveCtx, func() {
		t := time.AfterFunc(s.cfg.ShutdownTimeout, cancelDrain)
		<-drainCtx.Done() // Run's end cancels it too
		t.Stop()
	})
	defer stopAfter()

	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		runErrs []error
	)
	for _, l := range ls {
		l.batch = ingest.NewBatcher(s.prod, s.cfg.Batch, l.m, l.log)
		wg.Go(func() {
			if err := l.serve(serveCtx, drainCtx); err != nil {
				errMu.Lock()
				runErrs = append(runErrs, err)
				errMu.Unlock()
				stopServing()
			}
		})
		l.log.Info("syslog listener started", "protocol", l.cfg.Protocol.String(), "address", l.addr.String(),
			"framing", l.framingName(), "max_message_size", int64(l.cfg.MaxMessageSize))
	}
	wg.Wait()

	for _, l := range ls {
		if err := l.batch.Close(drainCtx); err != nil {
			runErrs = append(runErrs, fmt.Errorf("syslog: listener %q: %w", l.cfg.Name, err))
		}
		l.log.Info("syslog listener stopped")
	}
	return errors.Join(runErrs...)
}

// listener is one bound socket and what serves it.
type listener struct {
	cfg     ListenerConfig
	log     *slog.Logger
	m       *ingest.ListenerMetrics
	stamp   *ingest.Stamper
	batch   *ingest.Batcher
	addr    net.Addr
	udp     *net.UDPConn
	ln      net.Listener
	tlsConf *tls.Config

	// shutdownAt is when stream reads must end (unix ns), 0 while serving.
	shutdownAt atomic.Int64
	// lastWarn limits repeated warnings (rejected connections, accept and
	// read errors) to one a second; the metrics count every one.
	lastWarn atomic.Int64
}

// warnLimited logs a warning unless one was logged in the last second.
func (l *listener) warnLimited(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if now-last < int64(time.Second) || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	l.log.Warn(msg, args...)
}

func (s *Server) bind(i int, lc ListenerConfig) (*listener, error) {
	l := &listener{
		cfg: lc,
		log: s.log.With("listener", lc.Name),
		m:   s.metrics.Listener(lc.Name),
		stamp: ingest.NewStamper(ingest.StamperConfig{
			Topic: bus.TopicRawSyslog, Receiver: lc.Name, Transport: lc.Protocol.String(), Format: Format, Now: s.now,
		}),
	}
	var lcfg net.ListenConfig
	switch lc.Protocol {
	case ProtocolUDP:
		pc, err := lcfg.ListenPacket(context.Background(), "udp", lc.Address)
		if err != nil {
			return nil, fmt.Errorf("syslog: listener %q: %w", lc.Name, err)
		}
		l.udp = pc.(*net.UDPConn)
		l.addr = l.udp.LocalAddr()
		if err := l.udp.SetReadBuffer(int(lc.ReadBufferSize)); err != nil {
			_ = l.udp.Close()
			return nil, fmt.Errorf("syslog: listener %q: read_buffer_size %s: %w", lc.Name, lc.ReadBufferSize, err)
		}
		if got, err := ingest.ReceiveBufferSize(l.udp); err == nil && got/2 < int(lc.ReadBufferSize) {
			l.log.Warn("kernel capped the socket receive buffer; raise net.core.rmem_max to get read_buffer_size",
				"read_buffer_size", int64(lc.ReadBufferSize), "effective", got/2)
		}
	case ProtocolTCP, ProtocolTLS:
		if lc.Protocol == ProtocolTLS {
			conf, err := lc.TLS.Build(fmt.Sprintf("listeners[%d].tls", i))
			if err != nil {
				return nil, err
			}
			l.tlsConf = conf
		}
		ln, err := lcfg.Listen(context.Background(), "tcp", lc.Address)
		if err != nil {
			return nil, fmt.Errorf("syslog: listener %q: %w", lc.Name, err)
		}
		l.ln = ln
		l.addr = ln.Addr()
	}
	return l, nil
}

func (l *listener) framingName() string {
	if l.cfg.Protocol == ProtocolUDP {
		return "datagram"
	}
	return l.cfg.Framing.String()
}

func (l *listener) closeSocket() {
	if l.udp != nil {
		_ = l.udp.Close()
	}
	if l.ln != nil {
		_ = l.ln.Close()
	}
}

func (l *listener) serve(ctx, drainCtx context.Context) error {
	if l.udp != nil {
		return l.serveUDP(ctx)
	}
	return l.serveStream(ctx, drainCtx)
}

// peerOf returns the address of a net.Addr as a netip.AddrPort.
func peerOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case *net.UDPAddr:
		return a.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
