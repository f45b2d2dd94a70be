package stage_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/journal"
	"github.com/mamori-soc/mamori/stage"
)

func openJournal(t *testing.T) (*journal.Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := journal.Open(path, journal.Options{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	require.NoError(t, j.EnsureTopic(context.Background(), bus.TopicConfig{Name: "in", Partitions: 2}))
	return j, path
}

func publish(t *testing.T, b bus.Bus, from, to int) {
	t.Helper()
	var recs []bus.Record
	for i := from; i < to; i++ {
		recs = append(recs, bus.Record{Topic: "in", Key: []byte(fmt.Sprint(i % 7)), Value: []byte(fmt.Sprint(i))})
	}
	require.NoError(t, b.Publish(context.Background(), recs...))
}

// collector records what it handled; it fails while failing is set.
type collector struct {
	mu      sync.Mutex
	seen    map[string]int
	failing atomic.Bool
	calls   atomic.Int32
}

func (c *collector) Handle(_ context.Context, batch []bus.Record) error {
	c.calls.Add(1)
	if c.failing.Load() {
		return errors.New("store unreachable")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range batch {
		c.seen[string(r.Value)]++
	}
	return nil
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 30*time.Second, 10*time.Millisecond, msg)
}

func TestRunnerProcessesEverythingOnceWithSeveralWorkers(t *testing.T) {
	j, _ := openJournal(t)
	h := &collector{seen: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	r := stage.New(stage.Config{Name: "test", Topics: []string{"in"}, Workers: 2, BatchSize: 50}, j, h, nil, stage.NewMetrics(prometheus.NewRegistry()))
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	// A worker joining after another has taken a batch moves partitions,
	// and the batch is delivered again (at least once, by design): start
	// publishing once both have joined.
	eventually(t, r.Joined, "both workers joined")
	publish(t, j, 0, 1000)
	eventually(t, func() bool { return h.count() == 1000 }, "every record handled")
	cancel()
	require.NoError(t, <-done)
	for v, n := range h.seen {
		require.Equal(t, 1, n, "record %s handled once", v)
	}
}

func TestRunnerRetriesAndCommitsOnlyAfterSuccess(t *testing.T) {
	j, path := openJournal(t)
	h := &collector{seen: map[string]int{}}
	h.failing.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	r := stage.New(stage.Config{Name: "test", Topics: []string{"in"}, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, j, h, nil, nil)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	publish(t, j, 0, 10)
	eventually(t, func() bool { return h.calls.Load() >= 3 }, "the failing batch is retried")
	require.False(t, r.Healthy(), "a backing-off stage is not healthy")
	cancel()
	require.NoError(t, <-done)
	require.Zero(t, h.count())

	// Nothing was committed: a new runner on a reopened journal gets every
	// record again, and this time succeeds.
	require.NoError(t, j.Close())
	j2, err := journal.Open(path, journal.Options{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	defer j2.Close()
	h.failing.Store(false)
	ctx2, cancel2 := context.WithCancel(context.Background())
	r2 := stage.New(stage.Config{Name: "test", Topics: []string{"in"}}, j2, h, nil, nil)
	done2 := make(chan error, 1)
	go func() { done2 <- r2.Run(ctx2) }()
	eventually(t, func() bool { return h.count() == 10 }, "redelivered after the failed attempts")
	require.True(t, r2.Healthy())
	cancel2()
	require.NoError(t, <-done2)
}

// slow holds the batch in hand until released, to test a graceful stop.
type slow struct {
	collector
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *slow) Handle(ctx context.Context, batch []bus.Record) error {
	s.once.Do(func() { close(s.started) })
	<-s.release
	return s.collector.Handle(ctx, batch)
}

func TestGracefulStopFinishesAndCommitsTheBatchInHand(t *testing.T) {
	j, path := openJournal(t)
	h := &slow{collector: collector{seen: map[string]int{}}, started: make(chan struct{}), release: make(chan struct{})}
	publish(t, j, 0, 20)
	ctx, cancel := context.WithCancel(context.Background())
	r := stage.New(stage.Config{Name: "test", Topics: []string{"in"}, BatchSize: 100, DrainTimeout: 30 * time.Second}, j, h, nil, nil)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-h.started
	cancel() // stop while the batch is in hand
	close(h.release)
	require.NoError(t, <-done)
	handled := h.count()
	require.Positive(t, handled)

	// What was handled was committed: a fresh runner sees only the rest.
	require.NoError(t, j.Close())
	j2, err := journal.Open(path, journal.Options{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	defer j2.Close()
	again := &collector{seen: map[string]int{}}
	ctx2, cancel2 := context.WithCancel(context.Background())
	r2 := stage.New(stage.Config{Name: "test", Topics: []string{"in"}}, j2, again, nil, nil)
	go func() { _ = r2.Run(ctx2) }()
	defer cancel2()
	if handled < 20 {
		eventually(t, func() bool { return again.count() == 20-handled }, "the rest is delivered")
	}
	time.Sleep(100 * time.Millisecond) // nothing more may arrive
	again.mu.Lock()
	defer again.mu.Unlock()
	for v := range again.seen {
		_, dup := h.seen[v]
		require.False(t, dup, "record %s was committed before the stop and must not come again", v)
	}
}
