package ingest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-soc/mamori/bus"
)

// Drop reasons (label "reason" of the dropped metrics).
const (
	// DropQueueFull: the batcher's queue was full and the edge could not
	// wait (UDP).
	DropQueueFull = "queue_full"
	// DropKernel: the kernel dropped datagrams before the edge read them
	// (socket receive buffer full), as reported by /proc/net/udp{,6}.
	DropKernel = "kernel"
	// DropShutdown: records read from a socket but abandoned because the
	// shutdown deadline passed before they were durable.
	DropShutdown = "shutdown"
	// DropOversize: bytes cut from messages longer than the maximum size
	// (only on the bytes metric; the message itself is kept, truncated).
	DropOversize = "oversize"
)

// Error kinds (label "type" of the errors metric).
const (
	ErrorAccept    = "accept"    // accepting a connection failed
	ErrorHandshake = "handshake" // TLS handshake failed
	ErrorRead      = "read"      // reading from a socket failed
	ErrorFraming   = "framing"   // the byte stream broke the framing rules
	ErrorPublish   = "publish"   // one Publish attempt failed (it is retried)
)

// Metrics are the edge metrics of Vector's component specification, for
// every listener of every edge: received, sent, dropped and errors, each in
// records and bytes where that makes sense, plus queue and connection gauges
// and publish latency. All series carry the label "listener".
type Metrics struct {
	received      *prometheus.CounterVec
	receivedBytes *prometheus.CounterVec
	sent          *prometheus.CounterVec
	sentBytes     *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	droppedBytes  *prometheus.CounterVec
	truncated     *prometheus.CounterVec
	errors        *prometheus.CounterVec
	retries       *prometheus.CounterVec
	publishSecs   *prometheus.HistogramVec
	queueRecords  *prometheus.GaugeVec
	queueBytes    *prometheus.GaugeVec
	connections   *prometheus.GaugeVec
	rejected      *prometheus.CounterVec
}

// NewMetrics creates the edge metrics and registers them on reg (never the
// global default unless the caller passes it). A nil reg leaves them
// unregistered, which tests may want. When the collectors are already
// registered on reg (a second edge in the same process), the registered
// ones are shared.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	const ns, sub = "mamori", "ingest"
	l := []string{"listener"}
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help}, labels)
	}
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help}, l)
	}
	m := &Metrics{
		received:      counter("received_records_total", "Messages read from the network, after framing.", l),
		receivedBytes: counter("received_bytes_total", "Bytes of messages read from the network (original size, before truncation).", l),
		sent:          counter("sent_records_total", "Records the bus acknowledged as durable.", l),
		sentBytes:     counter("sent_bytes_total", "Bytes of record values the bus acknowledged as durable.", l),
		dropped:       counter("dropped_records_total", "Messages lost at the edge, by reason (queue_full, kernel, shutdown).", []string{"listener", "reason"}),
		droppedBytes:  counter("dropped_bytes_total", "Bytes lost at the edge, by reason (queue_full, shutdown, and oversize for the tails cut from truncated messages).", []string{"listener", "reason"}),
		truncated:     counter("truncated_records_total", "Messages longer than the maximum size, published truncated with the mamori.truncated header.", l),
		errors:        counter("errors_total", "Errors by type (accept, handshake, read, framing, publish).", []string{"listener", "type"}),
		retries:       counter("publish_retries_total", "Publish attempts repeated after a failure.", l),
		publishSecs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "publish_duration_seconds",
			Help:    "Time from a batch's first publish attempt to its acknowledgement, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, l),
		queueRecords: gauge("queue_records", "Records accepted but not yet durable (queued or in flight)."),
		queueBytes:   gauge("queue_bytes", "Bytes of records accepted but not yet durable (queued or in flight)."),
		connections:  gauge("connections", "Open connections (stream listeners)."),
		rejected:     counter("connections_rejected_total", "Connections closed at once because the listener was at max_connections.", l),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	register := func(c prometheus.Collector) prometheus.Collector {
		err := reg.Register(c)
		if err == nil {
			return c
		}
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			return are.ExistingCollector
		}
		errs = append(errs, err)
		return c
	}
	m.received = register(m.received).(*prometheus.CounterVec)
	m.receivedBytes = register(m.receivedBytes).(*prometheus.CounterVec)
	m.sent = register(m.sent).(*prometheus.CounterVec)
	m.sentBytes = register(m.sentBytes).(*prometheus.CounterVec)
	m.dropped = register(m.dropped).(*prometheus.CounterVec)
	m.droppedBytes = register(m.droppedBytes).(*prometheus.CounterVec)
	m.truncated = register(m.truncated).(*prometheus.CounterVec)
	m.errors = register(m.errors).(*prometheus.CounterVec)
	m.retries = register(m.retries).(*prometheus.CounterVec)
	m.publishSecs = register(m.publishSecs).(*prometheus.HistogramVec)
	m.queueRecords = register(m.queueRecords).(*prometheus.GaugeVec)
	m.queueBytes = register(m.queueBytes).(*prometheus.GaugeVec)
	m.connections = register(m.connections).(*prometheus.GaugeVec)
	m.rejected = register(m.rejected).(*prometheus.CounterVec)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("ingest: register metrics: %w", err)
	}
	return m, nil
}

// Listener returns the metrics of one listener. Calling it twice with the
// same name returns views of the same series.
func (m *Metrics) Listener(name string) *ListenerMetrics {
	return &ListenerMetrics{
		m:             m,
		name:          name,
		received:      m.received.WithLabelValues(name),
		receivedBytes: m.receivedBytes.WithLabelValues(name),
		sent:          m.sent.WithLabelValues(name),
		sentBytes:     m.sentBytes.WithLabelValues(name),
		truncated:     m.truncated.WithLabelValues(name),
		retries:       m.retries.WithLabelValues(name),
		publishSecs:   m.publishSecs.WithLabelValues(name),
		queueRecords:  m.queueRecords.WithLabelValues(name),
		queueBytes:    m.queueBytes.WithLabelValues(name),
		connections:   m.connections.WithLabelValues(name),
		rejected:      m.rejected.WithLabelValues(name),
	}
}

// ListenerMetrics are the metrics of one listener. Its methods are safe for
// concurrent use.
type ListenerMetrics struct {
	m             *Metrics
	name          string
	received      prometheus.Counter
	receivedBytes prometheus.Counter
	sent          prometheus.Counter
	sentBytes     prometheus.Counter
	truncated     prometheus.Counter
	retries       prometheus.Counter
	publishSecs   prometheus.Observer
	queueRecords  prometheus.Gauge
	queueBytes    prometheus.Gauge
	connections   prometheus.Gauge
	rejected      prometheus.Counter

	kernelMu   sync.Mutex
	kernelLast uint64
}

// Received counts one message read from the network; size is its original
// size and kept how many bytes of it were kept (size > kept: truncated).
func (l *ListenerMetrics) Received(size, kept int64) {
	l.received.Inc()
	l.receivedBytes.Add(float64(size))
	if size > kept {
		l.truncated.Inc()
		l.m.droppedBytes.WithLabelValues(l.name, DropOversize).Add(float64(size - kept))
	}
}

// Dropped counts one message of size bytes lost for reason.
func (l *ListenerMetrics) Dropped(reason string, size int) {
	l.m.dropped.WithLabelValues(l.name, reason).Inc()
	l.m.droppedBytes.WithLabelValues(l.name, reason).Add(float64(size))
}

// KernelDrops reports the kernel's running total of datagrams dropped for
// the listener's socket; the increase since the last report through this
// ListenerMetrics value is counted (one value per socket).
func (l *ListenerMetrics) KernelDrops(total uint64) {
	l.kernelMu.Lock()
	defer l.kernelMu.Unlock()
	if total > l.kernelLast {
		l.m.dropped.WithLabelValues(l.name, DropKernel).Add(float64(total - l.kernelLast))
	}
	l.kernelLast = total
}

// Published counts records the bus acknowledged in one publish that took
// d, for edges that publish themselves instead of through a Batcher.
func (l *ListenerMetrics) Published(batch []bus.Record, d time.Duration) {
	l.sent.Add(float64(len(batch)))
	l.sentBytes.Add(float64(valueBytes(batch)))
	l.publishSecs.Observe(d.Seconds())
}

// Error counts one error of the given kind (ErrorAccept...).
func (l *ListenerMetrics) Error(kind string) {
	l.m.errors.WithLabelValues(l.name, kind).Inc()
}

// ConnectionOpened and ConnectionClosed track the open connections gauge.
func (l *ListenerMetrics) ConnectionOpened() { l.connections.Inc() }

// ConnectionClosed: see ConnectionOpened.
func (l *ListenerMetrics) ConnectionClosed() { l.connections.Dec() }

// ConnectionRejected counts a connection refused at max_connections.
func (l *ListenerMetrics) ConnectionRejected() { l.rejected.Inc() }
