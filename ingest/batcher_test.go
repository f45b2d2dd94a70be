package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/ingest"
	"github.com/mamori-soc/mamori/internal/fakebus"
	"github.com/mamori-soc/mamori/internal/metrictest"
)

func rec(v string) bus.Record { return bus.Record{Topic: "t", Value: []byte(v)} }

func seq(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

// fast is a config that never publishes on time alone and retries at once.
func fast() ingest.BatchConfig {
	return ingest.BatchConfig{MaxRecords: 10, MaxWait: time.Hour, BackoffInitial: time.Millisecond, BackoffMax: 2 * time.Millisecond}
}

func newMetrics(t *testing.T) (*prometheus.Registry, *ingest.ListenerMetrics) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := ingest.NewMetrics(reg)
	require.NoError(t, err)
	return reg, m.Listener("l1")
}

func TestBatcherBatchesByCountAndFlushesTheRest(t *testing.T) {
	p := &fakebus.Producer{}
	b := ingest.NewBatcher(p, fast(), nil, nil)
	ctx := t.Context()
	want := seq("m", 25)
	for _, v := range want {
		require.NoError(t, b.Add(ctx, rec(v)))
	}
	// Two full batches go without waiting; the last five wait for max_wait.
	require.Eventually(t, func() bool { return len(p.Values()) == 20 }, 10*time.Second, time.Millisecond)
	require.NoError(t, b.Flush(ctx))
	require.Equal(t, want, p.Values())
	require.Equal(t, []int{10, 10, 5}, p.BatchSizes())
	require.NoError(t, b.Close(ctx))
}

func TestBatcherBatchesByBytes(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := fast()
	cfg.MaxBytes = 30 // records of 1 topic-less key + 10-byte value: 10 bytes each
	b := ingest.NewBatcher(p, cfg, nil, nil)
	for _, v := range seq("value-", 7) { // "value-0" is 7 bytes
		require.NoError(t, b.Add(t.Context(), bus.Record{Value: []byte(v + "xyz")}))
	}
	require.NoError(t, b.Close(t.Context()))
	require.Equal(t, []int{3, 3, 1}, p.BatchSizes())
}

func TestBatcherPublishesAfterMaxWait(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := fast()
	cfg.MaxWait = 5 * time.Millisecond
	b := ingest.NewBatcher(p, cfg, nil, nil)
	defer b.Close(t.Context())
	require.NoError(t, b.Add(t.Context(), rec("lonely")))
	require.Eventually(t, func() bool { return len(p.Values()) == 1 }, 10*time.Second, time.Millisecond)
}

func TestBatcherRetriesAFailedBatchWhole(t *testing.T) {
	p := &fakebus.Producer{Failures: 3}
	reg, m := newMetrics(t)
	b := ingest.NewBatcher(p, fast(), m, nil)
	want := seq("r", 10)
	for _, v := range want {
		require.NoError(t, b.Add(t.Context(), rec(v)))
	}
	require.NoError(t, b.Flush(t.Context()))
	require.Equal(t, want, p.Values(), "the batch is published once, whole, in order")
	require.Equal(t, []int{10}, p.BatchSizes())
	require.Equal(t, 3.0, metrictest.Value(t, reg, "mamori_ingest_errors_total", "listener", "l1", "type", "publish"))
	require.Equal(t, 3.0, metrictest.Value(t, reg, "mamori_ingest_publish_retries_total", "listener", "l1"))
	require.Equal(t, 10.0, metrictest.Value(t, reg, "mamori_ingest_sent_records_total", "listener", "l1"))
	require.Equal(t, 20.0, metrictest.Value(t, reg, "mamori_ingest_sent_bytes_total", "listener", "l1"))
	require.NoError(t, b.Close(t.Context()))
	require.Equal(t, 0.0, metrictest.Value(t, reg, "mamori_ingest_queue_records", "listener", "l1"))
}

func TestBatcherBackPressureWhileTheBusIsDown(t *testing.T) {
	gate := make(chan struct{})
	p := &fakebus.Producer{Gate: gate}
	cfg := fast()
	cfg.MaxRecords, cfg.QueueRecords = 2, 4
	reg, m := newMetrics(t)
	b := ingest.NewBatcher(p, cfg, m, nil)
	for _, v := range seq("q", 4) {
		require.NoError(t, b.Add(t.Context(), rec(v)))
	}
	require.Equal(t, 4.0, metrictest.Value(t, reg, "mamori_ingest_queue_records", "listener", "l1"))

	// Full: TryAdd refuses, Add waits until its context ends.
	require.False(t, b.TryAdd(rec("refused")))
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, b.Add(cancelled, rec("gave-up")), context.Canceled)

	added := make(chan error, 1)
	go func() { added <- b.Add(t.Context(), rec("q4")) }()
	select {
	case err := <-added:
		t.Fatalf("Add returned %v while the queue was full", err)
	default:
	}
	close(gate) // the bus comes back
	require.NoError(t, <-added)
	require.NoError(t, b.Close(t.Context()))
	require.Equal(t, seq("q", 5), p.Values())
}

func TestBatcherCloseDrainsAndRefusesMore(t *testing.T) {
	p := &fakebus.Producer{}
	b := ingest.NewBatcher(p, fast(), nil, nil)
	for _, v := range seq("c", 7) {
		require.True(t, b.TryAdd(rec(v)))
	}
	require.NoError(t, b.Close(t.Context()))
	require.Equal(t, seq("c", 7), p.Values())
	require.ErrorIs(t, b.Add(t.Context(), rec("late")), ingest.ErrClosed)
	require.False(t, b.TryAdd(rec("late")))
	require.NoError(t, b.Close(t.Context()), "Close twice")
}

func TestBatcherCloseAbandonsWhenTheDeadlinePasses(t *testing.T) {
	p := &fakebus.Producer{Failures: 1 << 30}
	reg, m := newMetrics(t)
	b := ingest.NewBatcher(p, fast(), m, nil)
	for _, v := range seq("x", 3) {
		require.NoError(t, b.Add(t.Context(), rec(v)))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := b.Close(ctx)
	require.ErrorIs(t, err, ingest.ErrAbandoned)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Contains(t, err.Error(), "3 records")
	require.Empty(t, p.Values())
	require.Equal(t, 3.0, metrictest.Value(t, reg, "mamori_ingest_dropped_records_total", "listener", "l1", "reason", "shutdown"))
}

func TestBatcherFlushTimeoutKeepsTheRecords(t *testing.T) {
	gate := make(chan struct{})
	p := &fakebus.Producer{Gate: gate}
	b := ingest.NewBatcher(p, fast(), nil, nil)
	require.NoError(t, b.Add(t.Context(), rec("kept")))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, b.Flush(ctx), context.DeadlineExceeded)
	close(gate)
	require.NoError(t, b.Flush(t.Context()))
	require.Equal(t, []string{"kept"}, p.Values())
	require.NoError(t, b.Close(t.Context()))
}

func TestBatcherTakesARecordLargerThanTheQueueWhenEmpty(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := fast()
	cfg.MaxBytes, cfg.QueueBytes = 8, 8
	b := ingest.NewBatcher(p, cfg, nil, nil)
	big := string(make([]byte, 100))
	require.True(t, b.TryAdd(rec(big)))
	require.NoError(t, b.Close(t.Context()))
	require.Equal(t, []string{big}, p.Values())
}

func TestBatcherConcurrentAddersKeepTheirOrder(t *testing.T) {
	p := &fakebus.Producer{Failures: 2}
	cfg := fast()
	cfg.QueueRecords = 25
	b := ingest.NewBatcher(p, cfg, nil, nil)
	const writers, each = 8, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				require.NoError(t, b.Add(t.Context(), rec(fmt.Sprintf("%d/%d", w, i))))
			}
		})
	}
	wg.Wait()
	require.NoError(t, b.Close(t.Context()))
	got := p.Values()
	require.Len(t, got, writers*each)
	next := make([]int, writers)
	for _, v := range got {
		var w, i int
		_, err := fmt.Sscanf(v, "%d/%d", &w, &i)
		require.NoError(t, err)
		require.Equal(t, next[w], i, "writer %d out of order", w)
		next[w]++
	}
}

func TestBatchConfigValidateNamesTheKey(t *testing.T) {
	cfg := ingest.BatchConfig{MaxRecords: 100, QueueRecords: 10}
	cfg.ApplyDefaults()
	err := cfg.Validate("ingest.batch")
	require.ErrorIs(t, err, ingest.ErrInvalidConfig)
	require.Contains(t, err.Error(), "ingest.batch.queue_records: 10 is below max_records (100)")

	ok := ingest.BatchConfig{}
	ok.ApplyDefaults()
	require.NoError(t, ok.Validate("batch"))
}

func TestNewMetricsSharesCollectorsOnOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	m1, err := ingest.NewMetrics(reg)
	require.NoError(t, err)
	m2, err := ingest.NewMetrics(reg)
	require.NoError(t, err)
	m1.Listener("a").Received(10, 10)
	m2.Listener("a").Received(5, 3)
	m2.Listener("a").Dropped(ingest.DropQueueFull, 7)
	la := m1.Listener("a")
	la.KernelDrops(4)
	la.KernelDrops(4)
	la.KernelDrops(6)
	require.Equal(t, 2.0, metrictest.Value(t, reg, "mamori_ingest_received_records_total", "listener", "a"))
	require.Equal(t, 15.0, metrictest.Value(t, reg, "mamori_ingest_received_bytes_total", "listener", "a"))
	require.Equal(t, 1.0, metrictest.Value(t, reg, "mamori_ingest_truncated_records_total", "listener", "a"))
	require.Equal(t, 2.0, metrictest.Value(t, reg, "mamori_ingest_dropped_bytes_total", "listener", "a", "reason", "oversize"))
	require.Equal(t, 1.0, metrictest.Value(t, reg, "mamori_ingest_dropped_records_total", "listener", "a", "reason", "queue_full"))
	require.Equal(t, 7.0, metrictest.Value(t, reg, "mamori_ingest_dropped_bytes_total", "listener", "a", "reason", "queue_full"))
	require.Equal(t, 6.0, metrictest.Value(t, reg, "mamori_ingest_dropped_records_total", "listener", "a", "reason", "kernel"))
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ingest.ByteSize{
		"65536": 65536, "64KiB": 64 << 10, "1 MiB": 1 << 20, "2MB": 2e6, "512kB": 512e3, "10B": 10,
	} {
		got, err := ingest.ParseByteSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1", "1.5MiB", "lots", "99999999999GiB"} {
		_, err := ingest.ParseByteSize(in)
		require.Error(t, err, in)
	}
	require.Equal(t, "64KiB", ingest.ByteSize(64<<10).String())
	require.Equal(t, "1000", ingest.ByteSize(1000).String())
	require.True(t, errors.Is(ingest.ErrClosed, ingest.ErrClosed))
}
