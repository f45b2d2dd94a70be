package detections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/dlq"
	"github.com/mamori-soc/mamori/pipeline"
	"github.com/mamori-soc/mamori/stage"
	"github.com/mamori-soc/mamori/store"
)

// AlertIndex writes alerts from mamori.alerts to the store's alerts
// collection. An alert is published again every time it grows, under the
// same id, so unlike events (created once) an alert is written with Update:
// a version replaces the stored one only when it is newer (a higher count,
// or the same count and a later end), so a redelivered or replayed older
// version never overwrites a newer one.
type AlertIndex struct {
	store store.Store
	pub   bus.Producer
	log   *slog.Logger
}

var _ stage.Handler = (*AlertIndex)(nil)

// NewAlertIndex returns the alert index handler. Alerts the store rejects
// are dead-lettered through pub.
func NewAlertIndex(s store.Store, pub bus.Producer, log *slog.Logger) *AlertIndex {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &AlertIndex{store: s, pub: pub, log: log}
}

// alertRank is what decides which version of an alert is newer.
type alertRank struct {
	Count int64     `json:"mamori.alert.count"`
	End   time.Time `json:"event.end"`
}

func (a alertRank) newer(b alertRank) bool {
	return a.Count > b.Count || a.Count == b.Count && a.End.After(b.End)
}

func rankOf(src []byte) (alertRank, error) {
	var r alertRank
	err := json.Unmarshal(src, &r)
	return r, err
}

// Handle writes the newest version in the batch of every alert.
func (x *AlertIndex) Handle(ctx context.Context, batch []bus.Record) error {
	latest := map[string]int{}
	var order []string
	var dead []bus.Record
	ranks := make([]alertRank, len(batch))
	for i := range batch {
		id, _ := batch[i].Header(pipeline.HeaderID)
		r, err := rankOf(batch[i].Value)
		if err != nil || id == "" {
			dead = append(dead, dlq.Wrap(batch[i], "index", fmt.Errorf("%w: alert without id, count or end: %v", store.ErrBadDocument, err), time.Now()))
			continue
		}
		ranks[i] = r
		j, ok := latest[id]
		if !ok {
			order = append(order, id)
		}
		if !ok || !ranks[j].newer(r) {
			latest[id] = i
		}
	}
	for _, id := range order {
		i := latest[id]
		err := x.write(ctx, id, batch[i].Value, ranks[i])
		if errors.Is(err, store.ErrBadDocument) {
			dead = append(dead, dlq.Wrap(batch[i], "index", err, time.Now()))
			continue
		}
		if err != nil {
			return fmt.Errorf("index alerts: %w", err)
		}
	}
	if len(dead) > 0 {
		if err := x.pub.Publish(ctx, dead...); err != nil {
			return fmt.Errorf("index alerts: dead-letter: %w", err)
		}
	}
	return nil
}

// write stores the alert unless the stored version is as new.
func (x *AlertIndex) write(ctx context.Context, id string, src []byte, r alertRank) error {
	for attempt := 0; attempt < 5; attempt++ {
		cur, err := x.store.Get(ctx, store.Alerts, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			cur = store.Doc{}
		case err != nil:
			return err
		default:
			if old, err := rankOf(cur.Source); err == nil && !r.newer(old) {
				return nil
			}
		}
		_, err = x.store.Update(ctx, store.Alerts, store.Doc{ID: id, Source: src, Version: cur.Version})
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("alert %s: %w after 5 attempts", id, store.ErrConflict)
}
