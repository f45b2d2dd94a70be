package detections

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/mamori-soc/mamori/event"
)

// Replayer runs events through the rules in one process, exactly as the
// detect stage does with one partition and events arriving in event-time
// order: it is the engine of `mamori rules test` and `mamori rules
// backtest`. Add events in event-time order (an event older than the last
// one is observed late, as in the stage); Finish advances the watermark so
// that windows close and silences show, and returns the alerts.
type Replayer struct {
	en       *Engine
	p        *partition
	b        *Batch
	sums     *summaries
	last     time.Time
	advanced time.Time // event time of the last advance
	alerts   map[string]*event.Event
	ids      []string
	events   int64
}

// NewReplayer returns a replayer for the engine's rules.
func NewReplayer(en *Engine) *Replayer {
	r := &Replayer{en: en, p: newPartition(en), sums: newSummaries(), alerts: map[string]*event.Event{}}
	r.b = r.p.alerts.Begin()
	return r
}

// Add evaluates one event.
func (r *Replayer) Add(e *event.Event) {
	r.events++
	if e.Timestamp.After(r.last) {
		r.last = e.Timestamp
		// Summaries of buckets that ended are complete; observations the
		// lateness has passed are due. As the stage does once per batch,
		// the states see the watermark at most once per second of event
		// time (an Advance may visit every group).
		if e.Timestamp.Sub(r.advanced) >= time.Second {
			r.advanced = e.Timestamp
			r.flushSummaries(e.Timestamp)
			r.advance(e.Timestamp.Add(-r.en.cfg.AllowedLateness))
		}
	}
	r.en.Evaluate(e, func(rule *Rule, _ Hit) {
		c := r.en.byID[rule.ID]
		sm, ok := c.stateful.(Summarizer)
		if !ok {
			r.p.apply(c, matchRecord{kind: kindMatch, rule: rule.ID}, e, r.b)
			return
		}
		r.sums.add(c, sm, e)
	})
	r.collect()
}

// flushSummaries hands the summaries of buckets ended before t (all, for a
// zero t) to their states.
func (r *Replayer) flushSummaries(t time.Time) {
	r.sums.take(t, func(c *compiled, skel *event.Event, m matchRecord, _ []string) {
		r.p.apply(c, m, skel, r.b)
	})
}

func (r *Replayer) advance(w time.Time) {
	r.p.advance(w, r.b)
	r.collect()
}

// collect keeps the latest version of every alert the batch changed.
func (r *Replayer) collect() {
	for _, a := range r.b.Alerts() {
		if _, ok := r.alerts[a.Event.ID]; !ok {
			r.ids = append(r.ids, a.Event.ID)
		}
		r.alerts[a.Event.ID] = a
	}
	r.b.Commit()
	r.b = r.p.alerts.Begin()
}

// Events returns the number of events added.
func (r *Replayer) Events() int64 { return r.events }

// Tracked returns the entities the rules' states track (after Finish too).
func (r *Replayer) Tracked() int { return r.p.tracked() }

// Finish advances the watermark to until (zero: the last event's time) and
// returns every alert, in the order first created, each in its final
// version. The Replayer must not be used afterwards.
func (r *Replayer) Finish(until time.Time) []*event.Event {
	r.flushSummaries(time.Time{})
	if until.IsZero() {
		until = r.last
	}
	r.advance(until)
	r.b.Abort()
	out := make([]*event.Event, len(r.ids))
	for i, id := range r.ids {
		out[i] = r.alerts[id]
	}
	return out
}

// Replay runs the events (sorted by @timestamp, ties by event id, on a copy
// of the slice) through the rules as the detect stage would, advances the
// watermark to until (zero: the last event's time) and returns the alerts
// in creation order, each in its final version.
func Replay(ctx context.Context, rules []*Rule, cfg Config, events []*event.Event, until time.Time) ([]*event.Event, error) {
	en, err := New(rules, cfg)
	if err != nil {
		return nil, err
	}
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b *event.Event) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return cmp.Compare(a.Event.ID, b.Event.ID)
	})
	r := NewReplayer(en)
	for i, e := range sorted {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.Add(e)
	}
	return r.Finish(until), nil
}
