package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/mamori-soc/mamori/bus"
)

// BatchConfig sets how a Batcher groups records and how much it may hold.
//
// The records a Batcher holds (queued or in flight) have been read from a
// socket but are not yet durable on the bus: they are lost if the process
// dies. QueueRecords and QueueBytes bound that window in size (a record is
// counted until the bus acknowledged it); MaxWait bounds it in time while
// the bus is healthy. When the bus is down the window stays full and Add
// blocks, which slows stream senders (back-pressure) instead of growing.
type BatchConfig struct {
	// MaxRecords is the most records published in one batch. Default 500.
	MaxRecords int `yaml:"max_records"`
	// MaxBytes is the most bytes (keys, values and headers) in one batch; a
	// single larger record is published alone. Default 1MiB.
	MaxBytes ByteSize `yaml:"max_bytes"`
	// MaxWait is the longest a record waits for its batch to fill before the
	// batch is published anyway (plus, for records left over from a full
	// batch, that batch's publish time). Default 200ms.
	MaxWait time.Duration `yaml:"max_wait"`
	// QueueRecords is the most records held (queued or being published) per
	// listener; at this limit Add blocks and TryAdd refuses. Default 10000.
	QueueRecords int `yaml:"queue_records"`
	// QueueBytes is the most bytes held per listener, as QueueRecords.
	// Default 32MiB.
	QueueBytes ByteSize `yaml:"queue_bytes"`
	// PublishTimeout bounds one Publish attempt; a timed-out attempt is
	// retried like any failure. Default 30s.
	PublishTimeout time.Duration `yaml:"publish_timeout"`
	// BackoffInitial is the wait after the first failed Publish; it doubles
	// (with jitter) after every further failure. Default 100ms.
	BackoffInitial time.Duration `yaml:"backoff_initial"`
	// BackoffMax caps the wait between Publish attempts. Default 10s.
	BackoffMax time.Duration `yaml:"backoff_max"`
}

// ApplyDefaults fills the zero fields with their defaults.
func (c *BatchConfig) ApplyDefaults() {
	setDefault(&c.MaxRecords, 500)
	setDefault(&c.MaxBytes, 1<<20)
	setDefault(&c.MaxWait, 200*time.Millisecond)
	setDefault(&c.QueueRecords, 10000)
	setDefault(&c.QueueBytes, 32<<20)
	setDefault(&c.PublishTimeout, 30*time.Second)
	setDefault(&c.BackoffInitial, 100*time.Millisecond)
	setDefault(&c.BackoffMax, 10*time.Second)
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// Validate checks a configuration after ApplyDefaults. prefix is the key
// of the batch section ("batch", "ingest.syslog.batch") used in messages.
func (c BatchConfig) Validate(prefix string) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s.%s: %s", ErrInvalidConfig, prefix, key, fmt.Sprintf(format, args...)))
	}
	if c.MaxRecords < 1 {
		bad("max_records", "%d is not positive; use at least 1 (default 500)", c.MaxRecords)
	}
	if c.MaxBytes < 1 {
		bad("max_bytes", "%d is not positive; use a size such as 1MiB", c.MaxBytes)
	}
	if c.MaxWait < 0 {
		bad("max_wait", "%s is negative; use a duration such as 200ms", c.MaxWait)
	}
	if c.QueueRecords < c.MaxRecords {
		bad("queue_records", "%d is below max_records (%d); the queue must hold at least one full batch", c.QueueRecords, c.MaxRecords)
	}
	if c.QueueBytes < c.MaxBytes {
		bad("queue_bytes", "%s is below max_bytes (%s); the queue must hold at least one full batch", c.QueueBytes, c.MaxBytes)
	}
	if c.PublishTimeout <= 0 {
		bad("publish_timeout", "%s is not positive; use a duration such as 30s", c.PublishTimeout)
	}
	if c.BackoffInitial <= 0 {
		bad("backoff_initial", "%s is not positive; use a duration such as 100ms", c.BackoffInitial)
	}
	if c.BackoffMax < c.BackoffInitial {
		bad("backoff_max", "%s is below backoff_initial (%s)", c.BackoffMax, c.BackoffInitial)
	}
	return errors.Join(errs...)
}

// Batcher collects the records of one listener and publishes them to a
// bus.Producer in batches, in the order they were added. A failed Publish
// is retried with exponential backoff, the batch kept whole, until it
// succeeds or the Batcher is closed and its deadline passes: a batch is
// never dropped on error. Methods are safe for concurrent use.
type Batcher struct {
	cfg  BatchConfig
	prod bus.Producer
	log  *slog.Logger
	m    *ListenerMetrics

	runCtx    context.Context
	cancelRun context.CancelFunc
	done      chan struct{} // closed when the publishing goroutine ends
	wake      chan struct{} // pokes the publishing goroutine (capacity 1)

	mu         sync.Mutex
	queue      []queued // added, not yet taken into a batch
	queueBytes int64
	oldest     time.Time // when the queue's first record started waiting
	pendRecs   int       // queued and in flight: not yet durable
	pendBytes  int64     //
	added      uint64
	durable    uint64
	flushTo    uint64        // publish without waiting while durable < flushTo
	closing    bool          //
	space      chan struct{} // closed when pend* shrink or closing is set
	progress   chan struct{} // closed when durable grows or the goroutine ends
}

type queued struct {
	rec  bus.Record
	size int64
}

// NewBatcher starts a Batcher publishing to p. Zero fields of cfg take their
// defaults. m may be nil (no metrics) and log may be nil (no logs). The
// caller must Close it.
func NewBatcher(p bus.Producer, cfg BatchConfig, m *ListenerMetrics, log *slog.Logger) *Batcher {
	cfg.ApplyDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		nm, _ := NewMetrics(nil)
		m = nm.Listener("")
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Batcher{
		cfg: cfg, prod: p, log: log, m: m,
		runCtx: ctx, cancelRun: cancel,
		done:     make(chan struct{}),
		wake:     make(chan struct{}, 1),
		space:    make(chan struct{}),
		progress: make(chan struct{}),
	}
	go b.run()
	return b
}

// RecordSize is the size a record counts for in the byte limits: its key,
// value and headers.
func RecordSize(r *bus.Record) int64 { return int64(r.Size()) }

// Add queues rec, blocking while the queue is full (stream edges: the
// reader stops reading, so the sender slows down). It returns ctx's error
// if ctx ends first and ErrClosed after Close; the record is then not
// queued. Add keeps rec.Value: the caller must not reuse it.
func (b *Batcher) Add(ctx context.Context, rec bus.Record) error {
	size := RecordSize(&rec)
	for {
		b.mu.Lock()
		if b.closing {
			b.mu.Unlock()
			return ErrClosed
		}
		if b.fits(size) {
			poke := b.enqueue(rec, size)
			b.mu.Unlock()
			if poke {
				b.poke()
			}
			return nil
		}
		space := b.space
		b.mu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return fmt.Errorf("ingest: waiting for queue space: %w", ctx.Err())
		}
	}
}

// TryAdd queues rec if there is room and reports whether it did; it never
// blocks (datagram edges: the caller counts a refused record as dropped).
func (b *Batcher) TryAdd(rec bus.Record) bool {
	size := RecordSize(&rec)
	b.mu.Lock()
	if b.closing || !b.fits(size) {
		b.mu.Unlock()
		return false
	}
	poke := b.enqueue(rec, size)
	b.mu.Unlock()
	if poke {
		b.poke()
	}
	return true
}

// fits reports whether a record of size bytes may be queued. An empty
// Batcher takes any record, so one record larger than QueueBytes still
// goes through. Callers hold mu.
func (b *Batcher) fits(size int64) bool {
	if b.pendRecs == 0 {
		return true
	}
	return b.pendRecs < b.cfg.QueueRecords && b.pendBytes+size <= int64(b.cfg.QueueBytes)
}

// enqueue appends and reports whether the publishing goroutine must be
// poked (first record of a batch, or a batch just became full). Callers
// hold mu.
func (b *Batcher) enqueue(rec bus.Record, size int64) bool {
	if len(b.queue) == 0 {
		b.oldest = time.Now()
	}
	b.queue = append(b.queue, queued{rec: rec, size: size})
	b.queueBytes += size
	b.pendRecs++
	b.pendBytes += size
	b.added++
	b.m.queueRecords.Set(float64(b.pendRecs))
	b.m.queueBytes.Set(float64(b.pendBytes))
	return len(b.queue) == 1 || len(b.queue) == b.cfg.MaxRecords ||
		(b.queueBytes >= int64(b.cfg.MaxBytes) && b.queueBytes-size < int64(b.cfg.MaxBytes))
}

func (b *Batcher) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Flush publishes every record added before the call and returns once they
// are durable. If ctx ends first it returns ctx's error; the records stay
// queued and are still published later.
func (b *Batcher) Flush(ctx context.Context) error {
	b.mu.Lock()
	target := b.added
	if target > b.flushTo {
		b.flushTo = target
	}
	b.mu.Unlock()
	b.poke()
	for {
		b.mu.Lock()
		durable, progress := b.durable, b.progress
		b.mu.Unlock()
		if durable >= target {
			return nil
		}
		select {
		case <-progress:
		case <-b.done:
			b.mu.Lock()
			durable = b.durable
			b.mu.Unlock()
			if durable >= target {
				return nil
			}
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("ingest: flush: %d records not yet durable: %w", target-durable, ctx.Err())
		}
	}
}

// Close stops accepting records (Add returns ErrClosed, TryAdd false),
// publishes everything queued and returns once it is durable. If ctx ends
// first, Close stops retrying and returns an error wrapping ErrAbandoned
// and ctx's error, saying how many records were lost; they are counted as
// dropped (reason shutdown). Close may be called more than once.
func (b *Batcher) Close(ctx context.Context) error {
	b.mu.Lock()
	if !b.closing {
		b.closing = true
		close(b.space)
		b.space = make(chan struct{})
	}
	b.mu.Unlock()
	b.poke()
	select {
	case <-b.done:
	case <-ctx.Done():
		b.cancelRun()
		<-b.done
	}
	b.cancelRun()
	b.mu.Lock()
	lostRecs, lostBytes := b.pendRecs, b.pendBytes
	b.pendRecs, b.pendBytes = 0, 0
	b.queue, b.queueBytes = nil, 0
	b.m.queueRecords.Set(0)
	b.m.queueBytes.Set(0)
	b.mu.Unlock()
	if lostRecs == 0 {
		return nil
	}
	b.m.m.dropped.WithLabelValues(b.m.name, DropShutdown).Add(float64(lostRecs))
	b.m.m.droppedBytes.WithLabelValues(b.m.name, DropShutdown).Add(float64(lostBytes))
	err := ctx.Err()
	if err == nil {
		err = context.Canceled
	}
	return fmt.Errorf("%w: %d records (%d bytes): %w", ErrAbandoned, lostRecs, lostBytes, err)
}

// run is the publishing goroutine.
func (b *Batcher) run() {
	defer func() {
		b.mu.Lock()
		close(b.progress)
		b.progress = make(chan struct{})
		b.mu.Unlock()
		close(b.done)
	}()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			closing := b.closing
			b.mu.Unlock()
			if closing {
				return
			}
			select {
			case <-b.wake:
			case <-b.runCtx.Done():
				return
			}
			continue
		}
		waited := time.Since(b.oldest)
		ready := len(b.queue) >= b.cfg.MaxRecords || b.queueBytes >= int64(b.cfg.MaxBytes) ||
			b.closing || b.durable < b.flushTo || waited >= b.cfg.MaxWait
		if !ready {
			b.mu.Unlock()
			timer.Reset(b.cfg.MaxWait - waited)
			select {
			case <-b.wake:
			case <-timer.C:
			case <-b.runCtx.Done():
				timer.Stop()
				return
			}
			timer.Stop()
			continue
		}
		batch, bytes := b.take()
		b.mu.Unlock()

		if !b.publish(batch, bytes) {
			return
		}

		b.mu.Lock()
		b.durable += uint64(len(batch))
		b.pendRecs -= len(batch)
		b.pendBytes -= bytes
		b.m.queueRecords.Set(float64(b.pendRecs))
		b.m.queueBytes.Set(float64(b.pendBytes))
		close(b.space)
		b.space = make(chan struct{})
		close(b.progress)
		b.progress = make(chan struct{})
		b.mu.Unlock()
	}
}

// take removes the next batch from the queue. Callers hold mu.
func (b *Batcher) take() ([]bus.Record, int64) {
	n := 0
	var bytes int64
	for n < len(b.queue) && n < b.cfg.MaxRecords {
		s := b.queue[n].size
		if n > 0 && bytes+s > int64(b.cfg.MaxBytes) {
			break
		}
		bytes += s
		n++
	}
	batch := make([]bus.Record, n)
	for i := range n {
		batch[i] = b.queue[i].rec
	}
	rest := copy(b.queue, b.queue[n:])
	clear(b.queue[rest:])
	b.queue = b.queue[:rest]
	b.queueBytes -= bytes
	if rest > 0 {
		// What is left waits for the next batch from now: a record waits at
		// most max_wait plus the publish of the batch before it.
		b.oldest = time.Now()
	}
	return batch, bytes
}

// publish publishes one batch, retrying with backoff until it is durable
// (true) or the Batcher is told to give up (false).
func (b *Batcher) publish(batch []bus.Record, bytes int64) bool {
	start := time.Now()
	backoff := b.cfg.BackoffInitial
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(b.runCtx, b.cfg.PublishTimeout)
		err := b.prod.Publish(ctx, batch...)
		cancel()
		if err == nil {
			b.m.Published(batch, time.Since(start))
			if attempt > 1 {
				b.log.Info("publish succeeded after retries", "listener", b.m.name, "records", len(batch), "attempts", attempt)
			}
			return true
		}
		if b.runCtx.Err() != nil {
			return false
		}
		b.m.Error(ErrorPublish)
		wait := backoff/2 + rand.N(backoff/2+1)
		b.log.Warn("publish failed; keeping the batch and retrying",
			"listener", b.m.name, "records", len(batch), "bytes", bytes,
			"attempt", attempt, "retry_in", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-b.runCtx.Done():
			t.Stop()
			return false
		}
		b.m.retries.Inc()
		backoff = min(backoff*2, b.cfg.BackoffMax)
	}
}

func valueBytes(batch []bus.Record) int {
	n := 0
	for i := range batch {
		n += len(batch[i].Value)
	}
	return n
}
