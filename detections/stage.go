package detections

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/dlq"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/pipeline"
	"github.com/mamori-soc/mamori/stage"
)

// StageName names the detect stage in dead letters, metrics and logs.
const StageName = "detect"

// Stage is the detect stage's handler: it reads events from mamori.events,
// runs them through the engine and publishes the alerts they create or
// update to mamori.alerts, with the batch's dead letters, in one Publish.
//
// The dedup state is committed only after that Publish succeeded, so a
// retried batch starts from the same state. Decoding and matching run
// concurrently across the runner's workers; updating alerts and publishing
// them is serialised, because a batch's alerts must be published before the
// next batch may update them.
//
// Stateful rules (Observer detectors) are observed once per delivery: a
// retried batch is observed again. Making their state transactional like the
// dedup state (or idempotent by event id), and re-keying their events by
// group-by value so that N workers agree, comes with the first stateful rule
// type.
type Stage struct {
	engine *Engine
	alerts *Alerts
	pub    bus.Producer
	log    *slog.Logger
	now    func() time.Time
}

var _ stage.Handler = (*Stage)(nil)

// NewStage returns the detect handler for the engine's rules, publishing
// through pub. The dedup state takes the limits of cfg (the engine's Config).
func NewStage(en *Engine, pub bus.Producer, log *slog.Logger) *Stage {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Stage{engine: en, alerts: NewAlerts(en.cfg), pub: pub, log: log, now: time.Now}
}

type ruleHit struct {
	rule *Rule
	hit  Hit
}

// Handle evaluates the batch. An undecodable event is dead-lettered; an
// error from Publish fails the batch, which the runner retries.
func (s *Stage) Handle(ctx context.Context, batch []bus.Record) error {
	events := make([]event.Event, len(batch))
	var out []bus.Record
	var hits []ruleHit
	emit := func(r *Rule, h Hit) { hits = append(hits, ruleHit{r, h}) }
	for i := range batch {
		rec := &batch[i]
		e := &events[i]
		if err := event.Unmarshal(rec.Value, e); err != nil {
			out = append(out, dlq.Wrap(*rec, StageName, err, s.now().UTC()))
			s.log.Debug("event dead-lettered", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "err", err)
			continue
		}
		if e.Event.ID == "" {
			e.Event.ID, _ = rec.Header(pipeline.HeaderID)
		}
		s.engine.Evaluate(e, emit)
	}

	b := s.alerts.Begin()
	for i := range events {
		b.See(events[i].Timestamp) // zero for dead letters: no effect
	}
	for _, h := range hits {
		b.Add(h.rule, h.hit)
	}
	if len(s.engine.observers) > 0 {
		hits = hits[:0]
		s.engine.Advance(b.Watermark().Add(-s.engine.cfg.AllowedLateness), emit)
		for _, h := range hits {
			b.Add(h.rule, h.hit)
		}
	}
	for _, a := range b.Alerts() {
		data, err := event.Marshal(a)
		if err != nil { // alerts hold only encodable values
			b.Abort()
			return fmt.Errorf("detect: encode alert %s: %w", a.Event.ID, err)
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
	if len(out) > 0 {
		if err := s.pub.Publish(ctx, out...); err != nil {
			b.Abort()
			return fmt.Errorf("detect: publish: %w", err)
		}
	}
	b.Commit()
	return nil
}
