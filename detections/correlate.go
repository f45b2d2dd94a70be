package detections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/dlq"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/pipeline"
	"github.com/mamori-soc/mamori/stage"
	"github.com/mamori-soc/mamori/store"
)

// StateCollection is the store collection of the correlate step's
// snapshots, one document per partition of TopicMatches.
const StateCollection = "detect_state"

// CorrelateOptions configure the correlate step.
type CorrelateOptions struct {
	// Store keeps the snapshots (nil: no snapshots; a restart then
	// replays the match topic from its oldest record).
	Store store.Store
	// SnapshotEvery is the least wall time between two snapshots of a
	// partition (default 10 s). Close writes a final one.
	SnapshotEvery time.Duration
	// Sources is the number of partitions of mamori.events: the watermark
	// waits for all of them to report, or for StartupGrace (default 10 s).
	Sources      int
	StartupGrace time.Duration
	// Silent is how long a source may send no progress at all before it no
	// longer holds the watermark back (default 1 minute).
	Silent time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

func (o *CorrelateOptions) defaults() {
	if o.SnapshotEvery <= 0 {
		o.SnapshotEvery = 10 * time.Second
	}
	if o.StartupGrace <= 0 {
		o.StartupGrace = 10 * time.Second
	}
	if o.Silent <= 0 {
		o.Silent = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Correlate is the second step of the detect stage: it reads TopicMatches,
// where every match of one group (stateful rules) or dedup key (stateless
// rules) lands in one partition, feeds the observations to the rules'
// States in event-time order as the watermark passes them, aggregates hits
// into alerts and publishes the alerts that changed to mamori.alerts.
//
// The watermark of a partition is the earliest latest-event-time among the
// busy partitions of mamori.events (as the select workers report it),
// minus the allowed lateness; sources that report themselves idle do not
// hold it back, and when every source is idle it moves on with the wall
// clock, so silences are noticed when nothing arrives at all.
//
// State is per partition and snapshotted to the store with the offset it
// covers. When a partition is first seen (a start, a restart, a rebalance)
// or after a failed batch, its snapshot is restored and the records after
// the snapshot's offset are replayed from the bus, so a restart loses no
// open window and a retried batch is not counted twice.
type Correlate struct {
	engine *Engine
	bus    bus.Bus
	opts   CorrelateOptions

	mu    sync.Mutex
	parts map[int]*partState
}

// partState is a partition's detection state plus what the correlate step
// tracks about it.
type partState struct {
	mu       sync.Mutex
	p        *partition
	sources  map[int]*source
	created  time.Time
	snapshot time.Time // wall time of the last snapshot
	version  store.Version
	dirty    bool
}

// source is the progress of one partition of mamori.events.
type source struct {
	Time      time.Time `json:"time"`
	Idle      bool      `json:"idle,omitempty"`
	Reported  time.Time `json:"-"` // wall time of the last report
	IdleSince time.Time `json:"-"`
}

var _ stage.Handler = (*Correlate)(nil)

// NewCorrelate returns the correlate step.
func NewCorrelate(en *Engine, b bus.Bus, opts CorrelateOptions) *Correlate {
	opts.defaults()
	return &Correlate{engine: en, bus: b, opts: opts, parts: map[int]*partState{}}
}

// Handle applies the batch's records partition by partition and publishes
// the alerts they changed, with dead letters for undecodable records.
func (c *Correlate) Handle(ctx context.Context, batch []bus.Record) error {
	byPart := map[int][]*bus.Record{}
	for i := range batch {
		byPart[batch[i].Partition] = append(byPart[batch[i].Partition], &batch[i])
	}
	var out []bus.Record
	type open struct {
		pn int
		ps *partState
		b  *Batch
	}
	var opened []open
	fail := func(err error) error {
		for _, o := range opened {
			o.b.Abort()
			c.drop(o.ps)
			o.ps.mu.Unlock()
		}
		return err
	}
	for _, pn := range sortedPartitions(byPart) {
		ps, err := c.load(ctx, pn, byPart[pn][0].Offset)
		if err != nil {
			return fail(err)
		}
		b := ps.p.alerts.Begin()
		opened = append(opened, open{pn, ps, b})
		for _, rec := range byPart[pn] {
			if rec.Offset <= ps.p.offset {
				continue // applied before the snapshot this state came from
			}
			if dead := c.applyRecord(ps, rec, b); dead != nil {
				out = append(out, dlq.Wrap(*rec, StageName, dead, c.opts.Now().UTC()))
			}
			ps.p.offset = rec.Offset
		}
		ps.p.advance(c.watermark(ps), b)
		alerts, err := encodeAlerts(b)
		if err != nil {
			return fail(err)
		}
		out = append(out, alerts...)
	}
	if len(out) > 0 {
		if err := c.bus.Publish(ctx, out...); err != nil {
			return fail(fmt.Errorf("detect: publish: %w", err))
		}
	}
	for _, o := range opened {
		o.b.Commit()
		o.ps.dirty = true
		if c.opts.Now().Sub(o.ps.snapshot) >= c.opts.SnapshotEvery {
			if err := c.save(ctx, o.pn, o.ps); err != nil {
				c.opts.Logger.Warn("detection state snapshot failed; will retry", "partition", o.pn, "err", err)
			}
		}
		o.ps.mu.Unlock()
	}
	return nil
}

// applyRecord applies one record to its partition. It returns an error for
// a record that cannot be applied (to be dead-lettered).
func (c *Correlate) applyRecord(ps *partState, rec *bus.Record, b *Batch) error {
	m, err := decodeMatch(rec)
	if err != nil {
		return err
	}
	if m.kind == kindProgress {
		var p progress
		if err := json.Unmarshal(m.value, &p); err != nil {
			return fmt.Errorf("progress report: %w", err)
		}
		c.report(ps, p)
		return nil
	}
	cr := c.engine.byID[m.rule]
	if cr == nil {
		return nil // a rule this process does not run (removed, or not loaded yet): skipped
	}
	var e event.Event
	if err := event.Unmarshal(m.value, &e); err != nil {
		return err
	}
	if e.Event.ID == "" {
		e.Event.ID, _ = rec.Header(pipeline.HeaderID)
	}
	ps.p.apply(cr, m, &e, b)
	return nil
}

// report merges a select worker's progress report.
func (c *Correlate) report(ps *partState, p progress) {
	now := c.opts.Now()
	for n, t := range p.Partitions {
		s := ps.sources[n]
		if s == nil {
			s = &source{}
			ps.sources[n] = s
		}
		switch {
		case t.After(s.Time):
			s.Time, s.Idle, s.IdleSince = t, p.Idle, now
			s.Reported = now
		case !t.Before(s.Time): // a report as recent as what we know
			if p.Idle && !s.Idle {
				s.IdleSince = now
			}
			s.Idle = p.Idle
			s.Reported = now
		}
		// an older report (a worker that lost the partition) says nothing
	}
}

// watermark computes the partition's watermark from its sources.
func (c *Correlate) watermark(ps *partState) time.Time {
	now := c.opts.Now()
	if len(ps.sources) == 0 || (len(ps.sources) < c.opts.Sources && now.Sub(ps.created) < c.opts.StartupGrace) {
		return time.Time{}
	}
	var busy, latest time.Time
	var idleSince time.Time
	anyBusy := false
	for _, s := range ps.sources {
		latest = maxTime(latest, s.Time)
		if s.Idle {
			idleSince = maxTime(idleSince, s.IdleSince)
			continue
		}
		if now.Sub(s.Reported) > c.opts.Silent { // its worker is gone
			idleSince = maxTime(idleSince, s.Reported)
			continue
		}
		if !anyBusy || s.Time.Before(busy) {
			busy = s.Time
		}
		anyBusy = true
	}
	w := busy
	if !anyBusy { // all quiet: event time moves on with the wall clock
		w = latest.Add(max(now.Sub(idleSince), 0))
	}
	return w.Add(-c.engine.cfg.AllowedLateness)
}

// load returns the partition's state, locked, restoring its snapshot and
// replaying the records between the snapshot and offset when it is not in
// memory.
func (c *Correlate) load(ctx context.Context, pn int, offset int64) (*partState, error) {
	c.mu.Lock()
	ps := c.parts[pn]
	if ps == nil {
		ps = &partState{}
		c.parts[pn] = ps
	}
	c.mu.Unlock()
	ps.mu.Lock()
	if ps.p != nil && (ps.p.offset < 0 || ps.p.offset+1 >= offset) {
		return ps, nil
	}
	// Not in memory, or a gap (the partition was elsewhere meanwhile).
	if err := c.restore(ctx, pn, ps); err != nil {
		ps.p = nil
		ps.mu.Unlock()
		return nil, err
	}
	if err := c.replay(ctx, pn, ps, offset); err != nil {
		ps.p = nil
		ps.mu.Unlock()
		return nil, err
	}
	return ps, nil
}

// drop forgets a partition's state in memory (after a failed batch): the
// next batch restores it from the snapshot and the bus.
func (c *Correlate) drop(ps *partState) { ps.p = nil }

// replay applies the records from after the restored offset up to (not
// including) offset, read from the bus outside the consumer group; the
// alerts they produce are published again (same ids).
func (c *Correlate) replay(ctx context.Context, pn int, ps *partState, offset int64) error {
	from := ps.p.offset + 1
	if ps.p.offset < 0 {
		from = bus.OffsetOldest
	}
	replayed := 0
	for from == bus.OffsetOldest || from < offset {
		recs, err := c.bus.Read(ctx, TopicMatches, pn, from, 1000)
		if err != nil {
			return fmt.Errorf("detect: replay partition %d: %w", pn, err)
		}
		if len(recs) == 0 {
			break
		}
		b := ps.p.alerts.Begin()
		for i := range recs {
			rec := &recs[i]
			if rec.Offset >= offset {
				break
			}
			if rec.Offset > ps.p.offset {
				_ = c.applyRecord(ps, rec, b) // dead letters were written the first time
				ps.p.offset = rec.Offset
				replayed++
			}
		}
		ps.p.advance(c.watermark(ps), b)
		alerts, err := encodeAlerts(b)
		if err == nil && len(alerts) > 0 {
			err = c.bus.Publish(ctx, alerts...)
		}
		if err != nil {
			b.Abort()
			return fmt.Errorf("detect: replay partition %d: %w", pn, err)
		}
		b.Commit()
		from = ps.p.offset + 1
		if recs[len(recs)-1].Offset >= offset-1 {
			break
		}
	}
	if replayed > 0 {
		c.opts.Logger.Info("detection state replayed", "partition", pn, "records", replayed, "offset", ps.p.offset)
	}
	return nil
}

// Close writes a final snapshot of every partition in memory.
func (c *Correlate) Close(ctx context.Context) error {
	c.mu.Lock()
	parts := make(map[int]*partState, len(c.parts))
	for k, v := range c.parts {
		parts[k] = v
	}
	c.mu.Unlock()
	var errs []error
	for _, pn := range sortedPartitions(parts) {
		ps := parts[pn]
		ps.mu.Lock()
		if ps.p != nil && ps.dirty {
			errs = append(errs, c.save(ctx, pn, ps))
		}
		ps.mu.Unlock()
	}
	return errors.Join(errs...)
}

func stateID(topic string, pn int) string { return topic + "-" + strconv.Itoa(pn) }

// encodeAlerts returns the records of the alerts a batch changed.
func encodeAlerts(b *Batch) ([]bus.Record, error) {
	var out []bus.Record
	for _, a := range b.Alerts() {
		data, err := event.Marshal(a)
		if err != nil { // alerts hold only encodable values
			return nil, fmt.Errorf("detect: encode alert %s: %w", a.Event.ID, err)
		}
		end, _ := a.Fields["event.end"].(time.Time)
		out = append(out, bus.Record{
			Topic:   bus.TopicAlerts,
			Key:     []byte(a.Event.ID),
			Value:   data,
			Headers: []bus.Header{{Key: pipeline.HeaderID, Value: []byte(a.Event.ID)}},
			Time:    end,
		})
	}
	return out, nil
}
