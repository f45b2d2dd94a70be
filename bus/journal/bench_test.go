package journal_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/journal"
)

const benchBatch = 1000

// cpuClock measures the process's CPU time (user+system), which the
// benchmarks report per record next to wall-clock throughput: on a shared
// machine it is the steadier figure.
type cpuClock struct{ start time.Duration }

func startCPU(b *testing.B) *cpuClock {
	b.ResetTimer()
	return &cpuClock{start: cpuNow()}
}

// report adds records/s and CPU µs per record.
func (c *cpuClock) report(b *testing.B, records int) {
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpuNow()-c.start)/float64(time.Microsecond)/float64(records), "cpu-µs/record")
}

// benchRecords returns a batch shaped like edge output: a 16-byte key, a
// ~200-byte value and two headers.
func benchRecords(topic string, from int) []bus.Record {
	recs := make([]bus.Record, benchBatch)
	val := bytes.Repeat([]byte("<134>1 2025-04-01T09:30:15.123+09:00 fw01 sshd 42 - - Failed password for "), 3)[:200]
	for i := range recs {
		recs[i] = bus.Record{
			Topic: topic,
			Key:   fmt.Appendf(nil, "host-%011d", (from+i)%97),
			Value: val,
			Headers: []bus.Header{
				{Key: bus.HeaderReceiver, Value: []byte("syslog-udp")},
				{Key: bus.HeaderPeer, Value: []byte("192.0.2.10:514")},
			},
		}
	}
	return recs
}

func benchOpen(b *testing.B, sync journal.SyncMode, partitions int, topics ...string) *journal.Journal {
	j, err := journal.Open(filepath.Join(b.TempDir(), "bench.db"), journal.Options{Sync: sync, SweepInterval: -1})
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, j.Close()) })
	for _, t := range topics {
		require.NoError(b, j.EnsureTopic(context.Background(), bus.TopicConfig{Name: t, Partitions: partitions}))
	}
	return j
}

func syncModes() []journal.SyncMode { return []journal.SyncMode{journal.SyncFull, journal.SyncNormal} }

// BenchmarkPublish publishes batches of 1000 ~200-byte records.
func BenchmarkPublish(b *testing.B) {
	for _, sm := range syncModes() {
		b.Run("sync="+sm.String(), func(b *testing.B) {
			j := benchOpen(b, sm, 4, "t")
			ctx := context.Background()
			recs := benchRecords("t", 0)
			b.SetBytes(int64(benchBatch * 200))
			clock := startCPU(b)
			for i := 0; i < b.N; i++ {
				if err := j.Publish(ctx, recs...); err != nil {
					b.Fatal(err)
				}
			}
			clock.report(b, b.N*benchBatch)
		})
	}
}

// BenchmarkFetchCommit fetches 1000 records and commits them, per op.
func BenchmarkFetchCommit(b *testing.B) {
	for _, sm := range syncModes() {
		b.Run("sync="+sm.String(), func(b *testing.B) {
			j := benchOpen(b, sm, 4, "t")
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				require.NoError(b, j.Publish(ctx, benchRecords("t", i*benchBatch)...))
			}
			c, err := j.Subscribe(ctx, "bench", "t")
			require.NoError(b, err)
			clock := startCPU(b)
			got := 0
			for got < b.N*benchBatch {
				recs, err := c.Fetch(ctx, benchBatch)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Commit(ctx, recs...); err != nil {
					b.Fatal(err)
				}
				got += len(recs)
			}
			clock.report(b, got)
		})
	}
}

// BenchmarkTwoStages is the embedded pipeline's bus load: a producer
// publishes to "raw", a stage moves each fetched batch to "events" and
// commits, a last stage consumes "events" and commits. Per op, 1000 records
// pass end to end.
func BenchmarkTwoStages(b *testing.B) {
	for _, sm := range syncModes() {
		b.Run("sync="+sm.String(), func(b *testing.B) {
			j := benchOpen(b, sm, 4, "raw", "events")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			total := b.N * benchBatch
			errc := make(chan error, 3)
			clock := startCPU(b)
			go func() {
				for i := 0; i < b.N; i++ {
					if err := j.Publish(ctx, benchRecords("raw", i*benchBatch)...); err != nil {
						errc <- err
						return
					}
				}
			}()
			go func() {
				c, err := j.Subscribe(ctx, "parse", "raw")
				if err != nil {
					errc <- err
					return
				}
				for moved := 0; moved < total; {
					recs, err := c.Fetch(ctx, benchBatch)
					if err != nil {
						errc <- err
						return
					}
					out := make([]bus.Record, len(recs))
					for i, r := range recs {
						out[i] = bus.Record{Topic: "events", Key: r.Key, Value: r.Value, Headers: r.Headers}
					}
					if err := j.Publish(ctx, out...); err != nil {
						errc <- err
						return
					}
					if err := c.Commit(ctx, recs...); err != nil {
						errc <- err
						return
					}
					moved += len(recs)
				}
			}()
			done := make(chan struct{})
			go func() {
				defer close(done)
				c, err := j.Subscribe(ctx, "index", "events")
				if err != nil {
					errc <- err
					return
				}
				for got := 0; got < total; {
					recs, err := c.Fetch(ctx, benchBatch)
					if err != nil {
						errc <- err
						return
					}
					if err := c.Commit(ctx, recs...); err != nil {
						errc <- err
						return
					}
					got += len(recs)
				}
			}()
			select {
			case <-done:
			case err := <-errc:
				b.Fatal(err)
			}
			clock.report(b, total)
		})
	}
}
