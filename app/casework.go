package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/casework/retrieval"
	"github.com/mamori-soc/mamori/casework/sla"
	"github.com/mamori-soc/mamori/casework/watch"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/directory"
	"github.com/mamori-soc/mamori/stage"
)

// Sender returns the notifier of casework.notify, or nil when no channel
// is configured.
func Sender(cfg *config.Config) (notify.Sender, error) {
	c := cfg.Casework.Notify
	if c.SMTP == nil && len(c.Webhooks) == 0 {
		return nil, nil
	}
	n, err := notify.New(c, notify.Options{})
	if err != nil {
		return nil, fmt.Errorf("casework.notify: %w", err)
	}
	return n, nil
}

// caseworkParts is what the casework and api roles share: the business
// calendar, the SLA clocks and the notifier, built once per process.
type caseworkParts struct {
	cal    *calendar.Calendar
	clocks []sla.ClockDef
	sender notify.Sender
}

func (a *App) caseworkParts() (*caseworkParts, error) {
	if a.casework != nil {
		return a.casework, nil
	}
	cal, err := a.cfg.BusinessCalendar()
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	clocks, err := a.cfg.SLAClocks()
	if err != nil {
		return nil, err
	}
	sender, err := Sender(a.cfg)
	if err != nil {
		return nil, err
	}
	a.casework = &caseworkParts{cal: cal, clocks: clocks, sender: sender}
	return a.casework, nil
}

// ExportsDir is where log-retrieval exports are kept.
func ExportsDir(cfg *config.Config) string {
	if d := cfg.Casework.LogRetrieval.Dir; d != "" {
		return d
	}
	return filepath.Join(cfg.DataDir, "exports")
}

// startCasework starts the intake that turns alerts into cases, the duty
// scheduler, the SLA watcher and the log-retrieval fulfiller.
func (a *App) startCasework(ctx context.Context, g *errgroup.Group, sm *stage.Metrics) error {
	runbooks := casework.Runbooks{}
	if dir := a.cfg.Casework.RunbooksDir; dir != "" {
		var err error
		if runbooks, err = casework.LoadRunbooks(os.DirFS(dir)); err != nil {
			return fmt.Errorf("casework.runbooks_dir: %w", err)
		}
	}
	types := map[string]casework.Type{}
	for rule, t := range a.cfg.Casework.CaseTypes {
		types[rule] = casework.Type(t)
	}
	parts, err := a.caseworkParts()
	if err != nil {
		return err
	}
	cal, clocks, sender := parts.cal, parts.clocks, parts.sender
	cw := a.cfg.Casework
	// The SLA watcher records warnings and breaches of open cases' clocks
	// on the cases and sends them to sla_notices; the fulfiller delivers
	// log-retrieval requests. Both sweep every sweep_interval.
	cases := casework.NewCases(a.store, nil)
	in := casework.NewIntake(cases, casework.IntakeOptions{
		Window: time.Duration(cw.AlertWindow), Location: cal.Location(), Runbooks: runbooks, Types: types,
		DeadLetters: a.bus, Logger: a.log.With("stage", "casework"),
	})
	r := stage.New(stage.Config{Name: "casework", Topics: []string{bus.TopicAlerts}, Workers: 1, BatchSize: 500}, a.bus, in, a.log, sm)
	a.stages = append(a.stages, r)
	g.Go(func() error { return r.Run(ctx) })

	wo := watch.Options{Cases: cases, Clocks: clocks, Calendar: cal, Logger: a.log.With("component", "sla")}
	if n := cw.SLANotices; len(n.To) > 0 || n.Webhook != "" {
		wo.Sender, wo.To, wo.Webhook, wo.Lang = sender, n.To, n.Webhook, notify.Lang(n.Lang)
	}
	w := watch.New(wo)
	f := retrieval.New(retrieval.Options{
		Cases: cases, Store: a.store, Dir: ExportsDir(a.cfg), MaxEvents: cw.LogRetrieval.MaxEvents,
		Location: a.cfg.Location(), Sender: sender, Lang: notify.Lang(cw.LogRetrieval.Lang),
		MailOf: func(ctx context.Context, name string) (string, error) { return directory.MailOf(ctx, a.store, name) },
		Logger: a.log.With("component", "log-retrieval"),
	})
	duties, err := casework.NewScheduler(cases, cal, cw.Duties)
	if err != nil {
		return fmt.Errorf("casework.duties: %w", err)
	}
	sweeps := []struct {
		name  string
		sweep func(context.Context, time.Time) (int, error)
	}{{"duty", duties.Sweep}, {"SLA watch", w.Sweep}, {"log retrieval", f.Sweep}}
	g.Go(func() error {
		t := time.NewTicker(time.Duration(cw.SweepInterval))
		defer t.Stop()
		for {
			for _, s := range sweeps {
				if _, err := s.sweep(ctx, time.Now()); err != nil && ctx.Err() == nil {
					a.log.Warn(s.name+" sweep failed; trying again at the next sweep", "err", err)
				}
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
	a.log.Info("casework intake running", "runbooks", len(runbooks))
	return nil
}
