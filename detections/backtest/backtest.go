// Package backtest runs detection rules over events already in the store, as
// the detect stage would have run them when the events arrived: `mamori
// rules backtest` and POST /api/v1/rules/backtest. It reads the events in
// event-time order, page by page (memory stays flat however many there
// are), through a detections.Replayer, and returns the alerts the rules
// would have raised. Nothing is written.
package backtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
)

// Request says what to backtest.
type Request struct {
	// From and To bound the events' @timestamp (From inclusive, To
	// exclusive); both are required.
	From, To time.Time
	// Filter narrows the events read (nil: all); rules still see only what
	// they match.
	Filter kql.Cond
	// Progress, when set, is called every few thousand events with how
	// many were read and how many there are.
	Progress func(done, total int64)
}

// Result is what a backtest found.
type Result struct {
	Events int64          // events read
	Alerts []*event.Event // in the order first raised, final versions
	// Undecodable counts stored documents that are not events.
	Undecodable int64
}

// ErrRange reports a missing or empty time range.
var ErrRange = errors.New("backtest: want a time range with from before to")

// Run replays the events of the range through the engine's rules.
func Run(ctx context.Context, s store.Store, en *detections.Engine, req Request) (Result, error) {
	if req.From.IsZero() || req.To.IsZero() || !req.From.Before(req.To) {
		return Result{}, ErrRange
	}
	q := store.Query{Collection: store.Events, Filter: req.Filter, From: req.From, To: req.To}
	total, err := s.Count(ctx, q)
	if err != nil {
		return Result{}, fmt.Errorf("backtest: %w", err)
	}
	var res Result
	r := detections.NewReplayer(en)
	err = s.Export(ctx, store.SearchRequest{Query: q, Sort: []store.SortField{{Field: "@timestamp"}}, Size: 5000}, func(h store.Hit) error {
		var e event.Event
		if err := event.Unmarshal(h.Source, &e); err != nil {
			res.Undecodable++
			return nil
		}
		if e.Event.ID == "" {
			e.Event.ID = h.ID
		}
		r.Add(&e)
		res.Events++
		if req.Progress != nil && res.Events%4096 == 0 {
			req.Progress(res.Events, total)
		}
		return ctx.Err()
	})
	if err != nil {
		return Result{}, fmt.Errorf("backtest: %w", err)
	}
	if req.Progress != nil {
		req.Progress(res.Events, max(total, res.Events))
	}
	// The watermark goes to the end of the range: windows that the range
	// closes are evaluated, and sources silent at its end are found.
	res.Alerts = r.Finish(req.To)
	return res, nil
}
