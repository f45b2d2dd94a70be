package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/dlq"
	"github.com/mamori-soc/mamori/stage"
	"github.com/mamori-soc/mamori/store"
)

// Index is the index stage's handler: it writes a batch of events to the
// store by their deterministic ids, so a redelivered batch stores nothing
// twice.
type Index struct {
	store      store.Store
	collection string
	pub        bus.Producer
	log        *slog.Logger
	m          *Metrics
}

var _ stage.Handler = (*Index)(nil)

// NewIndex returns the index handler writing to collection. Documents the
// store rejects are published to the DLQ through pub. Metrics may be nil.
func NewIndex(s store.Store, collection string, pub bus.Producer, log *slog.Logger, m *Metrics) *Index {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Index{store: s, collection: collection, pub: pub, log: log, m: m}
}

// Handle indexes the batch. A store that cannot be reached fails the whole
// batch (the runner retries it); a document the store rejects is
// dead-lettered.
func (x *Index) Handle(ctx context.Context, batch []bus.Record) error {
	docs := make([]store.Doc, len(batch))
	for i := range batch {
		id, _ := batch[i].Header(HeaderID)
		docs[i] = store.Doc{ID: id, Source: batch[i].Value}
	}
	results, err := x.store.Index(ctx, x.collection, docs)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	var dead []bus.Record
	now := time.Now()
	for i, r := range results {
		if r.Err != nil {
			dead = append(dead, dlq.Wrap(batch[i], "index", r.Err, now))
			x.m.failed("index", r.Err)
			x.log.Debug("document dead-lettered", "id", r.ID, "err", r.Err)
		}
	}
	if len(dead) > 0 {
		if err := x.pub.Publish(ctx, dead...); err != nil {
			return fmt.Errorf("index: dead-letter: %w", err)
		}
	}
	return nil
}
