// Package dlq keeps records that a stage could not process: it wraps a failed
// record whole, with the error and where it came from, for the dead-letter
// topic, and lists and replays dead letters to their source topic after a fix.
// A replayed record keeps its original headers, so it gets the same event id
// and a store that indexes by id never duplicates it.
package dlq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-soc/mamori/bus"
)

// dlqHeaders are added by Wrap and removed by Unwrap.
var dlqHeaders = []string{bus.HeaderError, bus.HeaderStage, bus.HeaderSourceTopic, bus.HeaderSourceOffset, bus.HeaderFailedAt}

// Wrap returns the dead letter for rec: the same key, value and headers, plus
// the error, the stage, the source topic and position, and the failure time.
func Wrap(rec bus.Record, stage string, cause error, now time.Time) bus.Record {
	out := bus.Record{
		Topic:   bus.TopicDLQ,
		Key:     rec.Key,
		Value:   rec.Value,
		Headers: append([]bus.Header(nil), rec.Headers...),
	}
	out.SetHeader(bus.HeaderError, cause.Error())
	out.SetHeader(bus.HeaderStage, stage)
	out.SetHeader(bus.HeaderSourceTopic, rec.Topic)
	out.SetHeader(bus.HeaderSourceOffset, fmt.Sprintf("%d/%d", rec.Partition, rec.Offset))
	out.SetHeader(bus.HeaderFailedAt, now.UTC().Format(time.RFC3339Nano))
	return out
}

// Letter is a dead letter as shown to people.
type Letter struct {
	Offset      string    `json:"offset"` // partition/offset in the DLQ
	Stage       string    `json:"stage"`
	Error       string    `json:"error"`
	SourceTopic string    `json:"source_topic"`
	Source      string    `json:"source_offset"`
	FailedAt    time.Time `json:"failed_at"`
	Value       []byte    `json:"value"`
}

// Describe reads a dead letter's headers.
func Describe(rec bus.Record) Letter {
	l := Letter{Offset: fmt.Sprintf("%d/%d", rec.Partition, rec.Offset), Value: rec.Value}
	l.Stage, _ = rec.Header(bus.HeaderStage)
	l.Error, _ = rec.Header(bus.HeaderError)
	l.SourceTopic, _ = rec.Header(bus.HeaderSourceTopic)
	l.Source, _ = rec.Header(bus.HeaderSourceOffset)
	if s, ok := rec.Header(bus.HeaderFailedAt); ok {
		l.FailedAt, _ = time.Parse(time.RFC3339Nano, s)
	}
	return l
}

// ErrNotDeadLetter reports a record on the DLQ without its source topic.
var ErrNotDeadLetter = errors.New("dlq: record has no source topic header")

// Unwrap returns the original record of a dead letter, ready to publish to
// its source topic again.
func Unwrap(rec bus.Record) (bus.Record, error) {
	topic, ok := rec.Header(bus.HeaderSourceTopic)
	if !ok || topic == "" {
		return bus.Record{}, fmt.Errorf("%w (offset %d/%d)", ErrNotDeadLetter, rec.Partition, rec.Offset)
	}
	out := bus.Record{Topic: topic, Key: rec.Key, Value: rec.Value}
	for _, h := range rec.Headers {
		if !isDLQHeader(h.Key) {
			out.Headers = append(out.Headers, h)
		}
	}
	return out, nil
}

func isDLQHeader(k string) bool {
	for _, d := range dlqHeaders {
		if k == d {
			return true
		}
	}
	return false
}

// List calls fn for every dead letter still retained, oldest first per
// partition.
func List(ctx context.Context, b bus.Bus, fn func(bus.Record) error) error {
	n, err := b.Partitions(ctx, bus.TopicDLQ)
	if err != nil {
		return fmt.Errorf("dlq: %w", err)
	}
	for p := range n {
		off := bus.OffsetOldest
		for {
			recs, err := b.Read(ctx, bus.TopicDLQ, p, off, 500)
			if err != nil {
				return fmt.Errorf("dlq: read partition %d: %w", p, err)
			}
			if len(recs) == 0 {
				break
			}
			for _, r := range recs {
				if err := fn(r); err != nil {
					return err
				}
			}
			off = recs[len(recs)-1].Offset + 1
		}
	}
	return nil
}

// ReplayGroup is the consumer group that remembers which dead letters were
// replayed, so each is replayed once unless the group is reset.
const ReplayGroup = "mamori-dlq-replay"

// Replay publishes every dead letter not yet replayed back to its source topic
// and returns how many were replayed and how many were skipped because they
// name no source topic. Only dead letters that failed before Replay started
// are taken: a replayed record that fails again comes back as a new dead
// letter, which the next replay takes, never this one. Replay stops when no
// older dead letter arrives within idle.
func Replay(ctx context.Context, b bus.Bus, idle time.Duration) (replayed, skipped int, err error) {
	start := time.Now()
	c, err := b.Subscribe(ctx, ReplayGroup, bus.TopicDLQ)
	if err != nil {
		return 0, 0, fmt.Errorf("dlq: %w", err)
	}
	defer c.Close()
	reachedNew := map[int]bool{} // partitions where a newer dead letter was met
	for {
		fctx, cancel := context.WithTimeout(ctx, idle)
		recs, err := c.Fetch(fctx, 500)
		cancel()
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				return replayed, skipped, nil
			}
			return replayed, skipped, fmt.Errorf("dlq: %w", err)
		}
		var out, done []bus.Record
		for _, r := range recs {
			if reachedNew[r.Partition] || !Describe(r).FailedAt.Before(start) {
				reachedNew[r.Partition] = true
				continue
			}
			done = append(done, r)
			orig, err := Unwrap(r)
			if err != nil {
				skipped++
				continue
			}
			out = append(out, orig)
		}
		if len(out) > 0 {
			if err := b.Publish(ctx, out...); err != nil {
				return replayed, skipped, fmt.Errorf("dlq: republish: %w", err)
			}
		}
		if len(done) > 0 {
			if err := c.Commit(ctx, done...); err != nil {
				return replayed, skipped, fmt.Errorf("dlq: commit: %w", err)
			}
		}
		replayed += len(out)
		if len(done) == 0 {
			return replayed, skipped, nil // only newer dead letters are left
		}
	}
}
