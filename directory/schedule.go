package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/pipeline"
	"github.com/mamori-soc/mamori/store"
)

// DefaultInterval is how often the directory is synced by default.
const DefaultInterval = time.Hour

// Source gives snapshots of a directory; *Client is one.
type Source interface {
	Sync(ctx context.Context) (*Snapshot, error)
}

var _ Source = (*Client)(nil)

// SyncerOptions configure a Syncer.
type SyncerOptions struct {
	// Store holds the records; Publisher takes the change events (to
	// bus.TopicEvents, from where the index stage stores them and the
	// detection engine sees them).
	Store     store.Store
	Publisher bus.Producer
	// Privileged decides which groups are privileged (nil: the defaults).
	Privileged *Privileged
	// Interval between syncs (default DefaultInterval).
	Interval time.Duration
	// OnSynced is called after each sync that stored its records (for
	// example Enricher.Nudge).
	OnSynced func()
	Logger   *slog.Logger
	Now      func() time.Time
}

// Syncer syncs a directory on a schedule: it stores every user, group and
// computer as a record and publishes what changed since the last sync as
// events.
type Syncer struct {
	src  Source
	opts SyncerOptions
}

// NewSyncer returns a syncer reading src.
func NewSyncer(src Source, opts SyncerOptions) (*Syncer, error) {
	if opts.Store == nil || opts.Publisher == nil {
		return nil, errors.New("directory: a syncer needs a store and a publisher")
	}
	if opts.Privileged == nil {
		p, err := NewPrivileged(nil)
		if err != nil {
			return nil, err
		}
		opts.Privileged = p
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Syncer{src: src, opts: opts}, nil
}

// Result says what one sync did.
type Result struct {
	Baseline bool
	Objects  int      // users, groups and computers in the directory
	Written  int      // records written
	Changes  []Change // change events published
	// Conflicts counts records another writer changed meanwhile (another
	// Mamori process syncing the same directory); the next sync retries.
	Conflicts int
}

// SyncOnce syncs once: read the directory, compare with the stored records,
// publish the change events, then write the records. Events go first, so a
// crash in between only repeats them at the next sync, under the same ids
// (stored once).
func (s *Syncer) SyncOnce(ctx context.Context) (*Result, error) {
	snap, err := s.src.Sync(ctx)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now().UTC()
	prev, err := LoadRecords(ctx, s.opts.Store)
	if err != nil {
		return nil, err
	}
	plan, err := Compare(prev, BuildRecords(snap, s.opts.Privileged), now)
	if err != nil {
		return nil, err
	}
	res := &Result{Baseline: plan.Baseline, Objects: len(snap.Users) + len(snap.Groups) + len(snap.Computers), Changes: plan.Changes}
	if err := s.publish(ctx, plan.Changes, now); err != nil {
		return nil, err
	}
	for i := range plan.Writes {
		w := &plan.Writes[i]
		src, err := json.Marshal(&w.Record)
		if err != nil {
			return nil, fmt.Errorf("directory: encode record %s: %w", w.GUID, err)
		}
		_, err = s.opts.Store.Update(ctx, Collection, store.Doc{ID: w.GUID, Source: src, Version: w.Version})
		switch {
		case errors.Is(err, store.ErrConflict):
			res.Conflicts++
		case err != nil:
			return nil, fmt.Errorf("directory: write record %s (%s): %w", w.GUID, w.DN, err)
		default:
			res.Written++
		}
	}
	if plan.Baseline {
		s.opts.Logger.Info("directory baseline recorded: no change events for objects that existed before the first sync",
			"objects", res.Objects, "records", res.Written)
	}
	if res.Conflicts > 0 {
		s.opts.Logger.Warn("directory records changed by another writer during the sync; the next sync retries them", "conflicts", res.Conflicts)
	}
	if s.opts.OnSynced != nil {
		s.opts.OnSynced()
	}
	return res, nil
}

// publish sends the change events to the events topic, as the parse stage
// publishes parsed events.
func (s *Syncer) publish(ctx context.Context, changes []Change, now time.Time) error {
	const batch = 1000
	recs := make([]bus.Record, 0, min(len(changes), batch))
	flush := func() error {
		if len(recs) == 0 {
			return nil
		}
		if err := s.opts.Publisher.Publish(ctx, recs...); err != nil {
			return fmt.Errorf("directory: publish change events: %w", err)
		}
		recs = recs[:0]
		return nil
	}
	for i := range changes {
		e := changes[i].Event(now)
		data, err := event.Marshal(e)
		if err != nil {
			return fmt.Errorf("directory: encode change event: %w", err)
		}
		recs = append(recs, bus.Record{
			Topic:   bus.TopicEvents,
			Key:     []byte(changes[i].Record.GUID), // one object's changes stay in order
			Value:   data,
			Headers: []bus.Header{{Key: pipeline.HeaderID, Value: []byte(e.Event.ID)}},
			Time:    e.Timestamp,
		})
		if len(recs) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// Run syncs at once and then every Interval until ctx ends. A failed sync
// is logged and retried after a shorter wait (a tenth of the interval, at
// least a minute); it never stops Mamori.
func (s *Syncer) Run(ctx context.Context) error {
	retry := max(s.opts.Interval/10, time.Minute)
	for {
		wait := s.opts.Interval
		start := time.Now()
		res, err := s.SyncOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			wait = min(retry, s.opts.Interval)
			s.opts.Logger.Warn("directory sync failed", "err", err, "retry_in", wait)
		default:
			s.opts.Logger.Info("directory sync done", "objects", res.Objects, "changes", len(res.Changes),
				"records_written", res.Written, "baseline", res.Baseline, "took", time.Since(start).Round(time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
