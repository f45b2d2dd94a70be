// Package stage runs Mamori's pipeline stages. A stage is a consumer group on
// the bus: it fetches a batch, hands it to its Handler, and commits the batch
// only after the handler reports its work durable. A failing handler is retried
// on the same batch with exponential backoff, so an unreachable store stops the
// stage from committing instead of losing records (back-pressure, not loss).
package stage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-soc/mamori/bus"
)

// Handler does a stage's work on a batch of records.
type Handler interface {
	// Handle processes every record of the batch and returns nil only when the
	// results are durable (published, stored or dead-lettered). A record that
	// cannot be processed must be dead-lettered by the handler, not returned
	// as an error: an error means "nothing of this batch may be committed" and
	// the runner calls Handle again with the same batch after a backoff.
	// Handle must return promptly when ctx is cancelled.
	Handle(ctx context.Context, batch []bus.Record) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, batch []bus.Record) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, batch []bus.Record) error { return f(ctx, batch) }

// Config describes one stage.
type Config struct {
	Name    string   // stage name, used in metrics and logs ("parse", "index")
	Group   string   // consumer group (default "mamori-" + Name)
	Topics  []string // topics consumed
	Workers int      // group members in this process (default 1)
	// BatchSize is the most records handed to Handle at once (default 500).
	BatchSize int
	// MinBackoff and MaxBackoff bound the wait between retries of a failed
	// batch (defaults 100 ms and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// DrainTimeout bounds how long a stopping stage may take to finish and
	// commit the batch in hand (default 10 s).
	DrainTimeout time.Duration
}

func (c *Config) defaults() {
	if c.Group == "" {
		c.Group = "mamori-" + c.Name
	}
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 10 * time.Second
	}
}

// Runner runs one stage.
type Runner struct {
	cfg     Config
	bus     bus.Bus
	handler Handler
	log     *slog.Logger
	m       *Metrics

	failing atomic.Int32 // workers currently backing off
	joined  atomic.Int32 // workers subscribed to the group
}

// New returns a runner for the stage. Metrics may be nil.
func New(cfg Config, b bus.Bus, h Handler, log *slog.Logger, m *Metrics) *Runner {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, bus: b, handler: h, log: log.With("stage", cfg.Name), m: m}
}

// Name returns the stage name.
func (r *Runner) Name() string { return r.cfg.Name }

// Healthy reports whether no worker is backing off after a failure.
func (r *Runner) Healthy() bool { return r.failing.Load() == 0 }

// Joined reports whether every worker has subscribed to the stage's consumer
// group (so no worker joining later will move partitions).
func (r *Runner) Joined() bool { return r.joined.Load() == int32(r.cfg.Workers) }

// Run runs the stage's workers until ctx is cancelled. Each worker finishes
// and commits the batch in hand before it returns. Run returns nil after a
// clean stop and the first worker error otherwise.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, r.cfg.Workers)
	for i := range r.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.work(ctx, i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (r *Runner) work(ctx context.Context, worker int) error {
	c, err := r.bus.Subscribe(ctx, r.cfg.Group, r.cfg.Topics...)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("stage %s: subscribe: %w", r.cfg.Name, err)
	}
	defer c.Close()
	r.joined.Add(1)
	defer r.joined.Add(-1)
	log := r.log.With("worker", worker)
	for {
		batch, err := c.Fetch(ctx, r.cfg.BatchSize)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, bus.ErrClosed) {
				return nil
			}
			log.Warn("fetch failed; retrying", "err", err)
			if !sleep(ctx, r.cfg.MinBackoff) {
				return nil
			}
			continue
		}
		if len(batch) == 0 {
			continue
		}
		// The batch in hand is finished even when ctx ends meanwhile, within
		// DrainTimeout, so a graceful stop commits what was processed.
		work, cancel := drainContext(ctx, r.cfg.DrainTimeout)
		ok := r.handle(work, log, batch)
		if ok {
			if err := c.Commit(work, batch...); err != nil {
				log.Warn("commit failed; the batch will be delivered again", "err", err, "records", len(batch))
			}
		}
		cancel()
		if !ok || ctx.Err() != nil {
			return nil
		}
	}
}

// handle calls the handler until it succeeds or ctx ends; false means the
// batch was not processed and must not be committed.
func (r *Runner) handle(ctx context.Context, log *slog.Logger, batch []bus.Record) bool {
	backoff := r.cfg.MinBackoff
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := r.handler.Handle(ctx, batch)
		if r.m != nil {
			r.m.batchSeconds.WithLabelValues(r.cfg.Name).Observe(time.Since(start).Seconds())
		}
		if err == nil {
			if attempt > 1 {
				r.failing.Add(-1)
				log.Info("stage recovered", "attempts", attempt)
			}
			if r.m != nil {
				r.m.records.WithLabelValues(r.cfg.Name).Add(float64(len(batch)))
			}
			return true
		}
		if attempt == 1 {
			r.failing.Add(1)
		}
		if r.m != nil {
			r.m.retries.WithLabelValues(r.cfg.Name).Inc()
		}
		log.Warn("batch failed; retrying after backoff", "err", err, "attempt", attempt, "backoff", backoff, "records", len(batch))
		if !sleep(ctx, backoff) {
			r.failing.Add(-1)
			return false
		}
		backoff = min(2*backoff, r.cfg.MaxBackoff)
	}
}

// drainContext returns a context that ends DrainTimeout after parent ends.
func drainContext(parent context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	stop := context.AfterFunc(parent, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(ctx, func() { t.Stop() })
	})
	return ctx, func() { stop(); cancel() }
}

// sleep waits d with ±20 % jitter; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Metrics are the counters every stage exposes.
type Metrics struct {
	records      *prometheus.CounterVec
	retries      *prometheus.CounterVec
	batchSeconds *prometheus.HistogramVec
}

// NewMetrics registers the stage metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mamori_stage_records_total", Help: "Records processed and committed by each stage.",
		}, []string{"stage"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mamori_stage_retries_total", Help: "Batches that failed and were retried after a backoff.",
		}, []string{"stage"}),
		batchSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mamori_stage_batch_seconds", Help: "Time to handle one batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 9),
		}, []string{"stage"}),
	}
	reg.MustRegister(m.records, m.retries, m.batchSeconds)
	return m
}
