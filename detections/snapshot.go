package detections

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/store"
)

// snapshotVersion is the format of partition snapshots; a snapshot of
// another version is ignored (the state starts again from the bus).
const snapshotVersion = 1

// partSnapshot is the stored form of a partition's state.
type partSnapshot struct {
	Timestamp time.Time                `json:"@timestamp"`
	Format    int                      `json:"format"`
	Topic     string                   `json:"topic"`
	Partition int                      `json:"partition"`
	Offset    int64                    `json:"offset"`
	Watermark time.Time                `json:"watermark"`
	Sources   map[int]*source          `json:"sources,omitempty"`
	Pending   []pendingSnapshot        `json:"pending,omitempty"`
	States    map[string]stateSnapshot `json:"states,omitempty"`
	Alerts    []alertSnapshot          `json:"alerts,omitempty"`
}

type pendingSnapshot struct {
	Rule  string          `json:"rule"`
	Kind  string          `json:"kind"`
	Count int64           `json:"count,omitempty"`
	First time.Time       `json:"first,omitzero"`
	Last  time.Time       `json:"last,omitzero"`
	Event json.RawMessage `json:"event"`
}

type stateSnapshot struct {
	Version int    `json:"version"` // the rule's version: another version starts afresh
	Data    []byte `json:"data"`
}

// save writes the partition's snapshot to the store.
func (c *Correlate) save(ctx context.Context, pn int, ps *partState) error {
	if c.opts.Store == nil || ps.p == nil {
		return nil
	}
	p := ps.p
	snap := partSnapshot{
		Timestamp: c.opts.Now().UTC(), Format: snapshotVersion, Topic: TopicMatches, Partition: pn,
		Offset: p.offset, Watermark: p.watermark, Sources: ps.sources,
		States: map[string]stateSnapshot{}, Alerts: p.alerts.snapshot(),
	}
	for _, x := range p.pending {
		snap.Pending = append(snap.Pending, pendingSnapshot{Rule: x.rule.rule.ID, Kind: x.raw.kind, Count: x.raw.count, First: x.raw.first, Last: x.raw.last, Event: x.raw.value})
	}
	for id, s := range p.states {
		data, err := s.Snapshot()
		if err != nil {
			return fmt.Errorf("snapshot of rule %s: %w", id, err)
		}
		snap.States[id] = stateSnapshot{Version: c.engine.byID[id].rule.Version, Data: data}
	}
	src, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	id := stateID(TopicMatches, snap.Partition)
	v, err := c.opts.Store.Update(ctx, StateCollection, store.Doc{ID: id, Source: src, Version: ps.version})
	if errors.Is(err, store.ErrConflict) { // another worker held the partition meanwhile: ours is newer
		var cur store.Doc
		if cur, err = c.opts.Store.Get(ctx, StateCollection, id); err == nil {
			v, err = c.opts.Store.Update(ctx, StateCollection, store.Doc{ID: id, Source: src, Version: cur.Version})
		}
	}
	if err != nil {
		return err
	}
	ps.version, ps.snapshot, ps.dirty = v, c.opts.Now(), false
	return nil
}

// restore replaces the partition's state by its snapshot, or by an empty
// state when there is none.
func (c *Correlate) restore(ctx context.Context, pn int, ps *partState) error {
	ps.p = newPartition(c.engine)
	ps.sources = map[int]*source{}
	ps.created = c.opts.Now()
	ps.snapshot = c.opts.Now()
	ps.version = store.Version{}
	if c.opts.Store == nil {
		return nil
	}
	doc, err := c.opts.Store.Get(ctx, StateCollection, stateID(TopicMatches, pn))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("detect: read state of partition %d: %w", pn, err)
	}
	ps.version = doc.Version
	var snap partSnapshot
	if err := json.Unmarshal(doc.Source, &snap); err != nil || snap.Format != snapshotVersion {
		c.opts.Logger.Warn("detection state snapshot unreadable; starting the partition afresh", "partition", pn, "err", err)
		return nil
	}
	if err := ps.p.restore(&snap, c.opts.Logger); err != nil {
		return err
	}
	if snap.Sources != nil {
		now := c.opts.Now()
		for _, s := range snap.Sources {
			s.Reported, s.IdleSince = now, now
		}
		ps.sources = snap.Sources
	}
	c.opts.Logger.Info("detection state restored", "partition", pn, "offset", snap.Offset, "tracked", ps.p.tracked())
	return nil
}

// restore loads a snapshot into an empty partition. States of rules that
// are gone or changed version start afresh.
func (p *partition) restore(snap *partSnapshot, log interface{ Warn(string, ...any) }) error {
	p.offset, p.watermark = snap.Offset, snap.Watermark
	for id, ss := range snap.States {
		c := p.en.byID[id]
		if c == nil || c.stateful == nil || c.rule.Version != ss.Version {
			continue
		}
		s := c.stateful.NewState()
		if err := s.Restore(ss.Data); err != nil {
			log.Warn("rule state unreadable; starting it afresh", "rule", id, "err", err)
			continue
		}
		p.states[id] = s
	}
	for _, x := range snap.Pending {
		c := p.en.byID[x.Rule]
		if c == nil || c.stateful == nil {
			continue
		}
		var e event.Event
		if err := event.Unmarshal(x.Event, &e); err != nil {
			continue
		}
		m := matchRecord{kind: x.Kind, rule: x.Rule, count: x.Count, first: x.First, last: x.Last, value: x.Event}
		obs := Observation{Key: c.stateful.GroupKey(&e), Event: &e, Count: max(x.Count, 1), First: x.First, Last: x.Last}
		if obs.Last.IsZero() {
			obs.Last, obs.First = e.Timestamp, e.Timestamp
		}
		heap.Push(&p.pending, &pendingObs{rule: c, obs: obs, raw: m})
	}
	p.alerts.restore(snap.Alerts, p.en)
	return nil
}
