package detections

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/dlq"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/pipeline"
	"github.com/mamori-soc/mamori/stage"
)

// StageName names the detect stage in dead letters, metrics and logs.
const StageName = "detect"

// Select is the first step of the detect stage: it reads mamori.events,
// runs every event through the engine and publishes each match to
// TopicMatches, keyed by the rule and the group key of a stateful rule (the
// dedup key of a stateless one), with the batch's dead letters, in one
// Publish. Matches of rules that only count (Summarizer) are merged per
// group and bucket first. After each batch, and every second while idle, it
// reports its progress (the latest event time per partition of
// mamori.events) to every partition of TopicMatches, from which the
// correlate step derives its watermark.
//
// Select keeps no state but its progress: any number of workers may run
// it, in any processes.
type Select struct {
	engine *Engine
	pub    bus.Producer
	keys   [][]byte          // one key per match partition
	proj   *event.Projection // the fields the rules read; nil: all
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	progress map[int]time.Time // partition of mamori.events → latest event time
	lastSent time.Time         // wall time of the last publish
}

var _ stage.Handler = (*Select)(nil)

// NewSelect returns the select step for the engine's rules, publishing to
// a TopicMatches with the given number of partitions.
func NewSelect(en *Engine, pub bus.Producer, matchPartitions int, log *slog.Logger) *Select {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Select{engine: en, pub: pub, keys: partitionKeys(max(matchPartitions, 1)), log: log, now: time.Now, progress: map[int]time.Time{}}
	if fields, ok := en.Reads(); ok {
		s.proj = event.NewProjection(fields)
	}
	return s
}

// Handle evaluates the batch. An undecodable event is dead-lettered; an
// error from Publish fails the batch, which the runner retries.
func (s *Select) Handle(ctx context.Context, batch []bus.Record) error {
	var out []bus.Record
	seen := map[int]time.Time{}
	sums := newSummaries()
	for i := range batch {
		rec := &batch[i]
		// Only what the rules read is decoded; the match carries the
		// record's bytes, whole, to the correlate step.
		var e event.Event
		if err := event.UnmarshalProjected(rec.Value, &e, s.proj); err != nil {
			out = append(out, dlq.Wrap(*rec, StageName, err, s.now().UTC()))
			s.log.Debug("event dead-lettered", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "err", err)
			continue
		}
		if e.Event.ID == "" {
			e.Event.ID, _ = rec.Header(pipeline.HeaderID)
		}
		if e.Timestamp.After(seen[rec.Partition]) {
			seen[rec.Partition] = e.Timestamp
		}
		s.engine.Evaluate(&e, func(r *Rule, _ Hit) {
			c := s.engine.byID[r.ID]
			if c.stateful == nil {
				out = append(out, matchRecord{kind: kindMatch, rule: r.ID, value: rec.Value}.record(KeyOf(&e, r.DedupKey), e.Timestamp))
				return
			}
			sm, ok := c.stateful.(Summarizer)
			if !ok {
				out = append(out, matchRecord{kind: kindMatch, rule: r.ID, value: rec.Value}.record(c.stateful.GroupKey(&e), e.Timestamp))
				return
			}
			sums.add(c, sm, &e)
		})
	}
	var encErr error
	sums.take(time.Time{}, func(_ *compiled, skel *event.Event, m matchRecord, group []string) {
		var err error
		if m.value, err = event.Marshal(skel); err != nil {
			encErr = err
			return
		}
		out = append(out, m.record(group, m.last))
	})
	if encErr != nil {
		return fmt.Errorf("detect: encode summary: %w", encErr)
	}
	s.mu.Lock()
	next := maps.Clone(s.progress)
	s.mu.Unlock()
	for p, t := range seen {
		next[p] = maxTime(next[p], t)
	}
	if len(next) > 0 {
		recs, err := progressRecords(s.keys, progress{Partitions: next}, s.now())
		if err != nil {
			return err
		}
		out = append(out, recs...)
	}
	if len(out) > 0 {
		if err := s.pub.Publish(ctx, out...); err != nil {
			return fmt.Errorf("detect: publish: %w", err)
		}
	}
	s.mu.Lock()
	for p, t := range seen {
		s.progress[p] = maxTime(s.progress[p], t)
	}
	s.lastSent = s.now()
	s.mu.Unlock()
	return nil
}

// Run reports the step's progress as idle every interval while no batch
// arrives, so that the correlate step's watermark moves on when the
// sources are quiet. It returns when ctx ends.
func (s *Select) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		quiet := s.now().Sub(s.lastSent) >= interval
		s.mu.Unlock()
		if !quiet {
			continue
		}
		if err := s.ReportIdle(ctx); err != nil && ctx.Err() == nil {
			s.log.Debug("idle progress report failed", "err", err)
		}
	}
}

// ReportIdle tells every correlate partition that this worker has read
// everything it was given: its partitions no longer hold the watermark
// back.
func (s *Select) ReportIdle(ctx context.Context) error {
	s.mu.Lock()
	p := progress{Partitions: maps.Clone(s.progress), Idle: true}
	s.mu.Unlock()
	if len(p.Partitions) == 0 {
		return nil
	}
	recs, err := progressRecords(s.keys, p, s.now())
	if err != nil {
		return err
	}
	return s.pub.Publish(ctx, recs...)
}

// joinKey joins a key's values with NUL bytes (one value: itself, no copy).
func joinKey(key []string) string {
	if len(key) == 1 {
		return key[0]
	}
	return strings.Join(key, "\x00")
}

// summaryID names a summary event: the rule, the group and the first time.
func summaryID(rule string, group []string, first time.Time) string {
	return AlertID("summary\x00"+rule, group, first)
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sortedPartitions returns the map's partitions in order.
func sortedPartitions[V any](m map[int]V) []int { return slices.Sorted(maps.Keys(m)) }
