package kafkabus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mamori-soc/mamori/bus"
)

// Publishing. A Publish call is already a batch (the edges and stages batch
// their output), so the bus sends it at once instead of handing it to
// kafka-go's Writer, which would wait for its batch timer on every call and
// look up topic metadata per message: one produce request per partition
// (split at MaxMessageBytes), partitions in parallel, each partition's
// requests in order, with acks=all. A partition whose request fails with a
// retriable error is sent again (only that partition) a few times before
// Publish reports the error; the caller then retries the whole batch, and
// deterministic ids downstream make a record written twice harmless.

// produceAttempts bounds the attempts per partition within one Publish.
// With the doubling backoff (100 ms, 200 ms, ... 1.6 s) the retries span
// more than metadataTTL, so a leadership change the shared transport's
// metadata cache has not seen yet (Not Leader For Partition right after a
// topic is created) is retried past the cache's refresh.
const produceAttempts = 6

// stickyNext picks the partition of unkeyed records, one per Publish call.
var stickyNext atomic.Uint32

type partitionKey struct {
	topic     string
	partition int
}

// produce sends records grouped by topic and partition.
func (b *Bus) produce(ctx context.Context, records []bus.Record, partitions map[string]int) error {
	groups := map[partitionKey][]*bus.Record{}
	var order []partitionKey
	sticky := int(stickyNext.Add(1))
	for i := range records {
		r := &records[i]
		n := partitions[r.Topic]
		p := sticky % n
		if r.Key != nil {
			p = bus.PartitionFor(r.Key, n)
		}
		k := partitionKey{r.Topic, p}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	for i, k := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.producePartition(ctx, k, groups[k])
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// producePartition sends one partition's records in requests of at most
// MaxMessageBytes (before compression), in order.
func (b *Bus) producePartition(ctx context.Context, k partitionKey, recs []*bus.Record) error {
	for len(recs) > 0 {
		n, size := 0, 0
		for n < len(recs) {
			s := recs[n].Size() + 32 // plus the record's own overhead
			if n > 0 && size+s > b.cfg.MaxMessageBytes {
				break
			}
			size += s
			n++
		}
		if err := b.produceRequest(ctx, k, recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// produceRequest sends one request, again while it fails for a retriable
// reason (at most produceAttempts times).
func (b *Bus) produceRequest(ctx context.Context, k partitionKey, recs []*bus.Record) error {
	for attempt := 1; ; attempt++ {
		res, err := b.client.Produce(ctx, &kafka.ProduceRequest{
			Topic:        k.topic,
			Partition:    k.partition,
			RequiredAcks: kafka.RequireAll,
			Compression:  b.compression,
			Records:      kafka.NewRecordReader(kafkaRecords(recs)...),
		})
		if err == nil && res != nil {
			err = res.Error
			for _, e := range res.RecordErrors {
				err = errors.Join(err, e)
			}
		}
		if err == nil {
			return nil
		}
		err = classify(err)
		if !errors.Is(err, bus.ErrUnavailable) || attempt == produceAttempts || ctx.Err() != nil {
			return fmt.Errorf("%s/%d: %w", k.topic, k.partition, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond << (attempt - 1)):
		}
	}
}

// kafkaRecords converts records for one request (a request reads their
// bytes, so every attempt needs its own). Readers and headers come from one
// allocation each, not one per record.
func kafkaRecords(recs []*bus.Record) []kafka.Record {
	out := make([]kafka.Record, len(recs))
	readers := make([]bytesReader, 0, 2*len(recs))
	nh := 0
	for _, r := range recs {
		nh += len(r.Headers)
	}
	headers := make([]kafka.Header, 0, nh)
	bytesOf := func(b []byte) kafka.Bytes {
		if b == nil {
			return nil
		}
		readers = append(readers, bytesReader{})
		rd := &readers[len(readers)-1]
		rd.Reset(b)
		return rd
	}
	for i, r := range recs {
		out[i] = kafka.Record{Time: r.Time, Key: bytesOf(r.Key), Value: bytesOf(r.Value)}
		if len(r.Headers) > 0 {
			start := len(headers)
			for _, h := range r.Headers {
				headers = append(headers, kafka.Header{Key: h.Key, Value: h.Value})
			}
			out[i].Headers = headers[start:len(headers):len(headers)]
		}
	}
	return out
}

// bytesReader is kafka.Bytes over a byte slice (as kafka.NewBytes, which
// allocates one per call).
type bytesReader struct{ bytes.Reader }

func (*bytesReader) Close() error { return nil }
