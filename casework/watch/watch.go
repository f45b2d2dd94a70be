// Package watch runs the SLA clocks of open cases on a schedule: each sweep
// evaluates every open case's clocks, records on the case the first time a
// clock reaches its warning share or breaches (a timeline entry of kind
// "sla", so the audit trail and the ledger see it), and sends each such
// warning and breach notice once through the notifier.
package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/casework/sla"
)

// Options configure a Watcher.
type Options struct {
	Cases    *casework.Cases
	Clocks   []sla.ClockDef
	Calendar *calendar.Calendar
	// Sender and To say where warnings and breach notices go (e-mail
	// recipients, or Webhook); a nil Sender only records them.
	Sender  notify.Sender
	To      []string
	Webhook string
	Lang    notify.Lang
	// Lookback bounds the cases examined: opened within it (default 366
	// days).
	Lookback time.Duration
	Logger   *slog.Logger
}

// Watcher sweeps open cases.
type Watcher struct{ opts Options }

// New returns a watcher.
func New(opts Options) *Watcher {
	if opts.Lookback <= 0 {
		// The store selects the open cases, so a long lookback costs
		// only the cases still open.
		opts.Lookback = 366 * 24 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Watcher{opts: opts}
}

// Actor names the watcher in case timelines and audit trails.
const Actor = "mamori-sla"

// Sweep evaluates the clocks of every open case at now, records new
// warnings and breaches and notifies them. It returns how many it found.
func (w *Watcher) Sweep(ctx context.Context, now time.Time) (int, error) {
	cases, err := w.opts.Cases.Find(ctx, "not status:closed", now.Add(-w.opts.Lookback), now.Add(time.Minute))
	if err != nil {
		return 0, err
	}
	found := 0
	var errs []error
	for i := range cases {
		c := &cases[i]
		if c.Status == casework.Closed {
			continue
		}
		for _, k := range c.Clocks(w.opts.Clocks, now, w.opts.Calendar) {
			var what string
			switch k.State {
			case sla.Warning:
				what = "warning"
			case sla.Breached:
				what = "breach"
			default:
				continue
			}
			detail := what + " " + k.Name + " #" + strconv.Itoa(k.Repetition)
			if recorded(c, detail) {
				continue
			}
			found++
			if err := w.raise(ctx, c, k, what, detail, now); err != nil {
				errs = append(errs, fmt.Errorf("case %s: %w", c.ID, err))
			}
		}
	}
	return found, errors.Join(errs...)
}

// recorded reports whether the case already has the sla entry.
func recorded(c *casework.Case, detail string) bool {
	return slices.ContainsFunc(c.Timeline, func(e casework.Entry) bool { return e.Kind == "sla" && e.Detail == detail })
}

// raise records one warning or breach on the case, then notifies it.
func (w *Watcher) raise(ctx context.Context, c *casework.Case, k sla.Clock, what, detail string, now time.Time) error {
	at := now
	if what == "breach" && !k.BreachedAt.IsZero() {
		at = k.BreachedAt
	}
	// Of several watchers (one per casework process) that find the same
	// breach, the one whose write records it notifies it; the others find
	// it recorded when they write, and stay quiet.
	mine := false
	updated, _, err := w.opts.Cases.Modify(ctx, c.ID, Actor, func(c *casework.Case) error {
		mine = !recorded(c, detail)
		if mine {
			c.Timeline = append(c.Timeline, casework.Entry{At: at, Kind: "sla", Actor: Actor, Detail: detail})
		}
		return nil
	})
	if err != nil || !mine {
		return err
	}
	w.opts.Logger.Warn("SLA "+what, "case", c.ID, "clock", k.Name, "due", k.Due)
	if w.opts.Sender == nil {
		return nil
	}
	kind := notify.SLAWarning
	if what == "breach" {
		kind = notify.SLABreach
	}
	_, err = notify.SendAndRecord(ctx, w.opts.Sender, w.opts.Cases, notify.Notification{
		Kind: kind, Lang: w.opts.Lang, CaseID: c.ID, To: w.opts.To, Webhook: w.opts.Webhook,
		Data: notify.Data{Case: updated, Clock: k.Name, Due: k.Due},
	})
	return err
}
