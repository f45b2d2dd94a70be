package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/sla"
	"github.com/mamori-soc/mamori/casework/watch"
	"github.com/mamori-soc/mamori/stage"
)

// startCasework starts the intake that turns alerts into cases.
func (a *App) startCasework(ctx context.Context, g *errgroup.Group, sm *stage.Metrics) error {
	runbooks := casework.Runbooks{}
	if dir := a.cfg.Casework.RunbooksDir; dir != "" {
		var err error
		if runbooks, err = casework.LoadRunbooks(os.DirFS(dir)); err != nil {
			return fmt.Errorf("casework.runbooks_dir: %w", err)
		}
	}
	in := casework.NewIntake(casework.NewCases(a.store, nil), casework.IntakeOptions{
		Window: time.Duration(a.cfg.Casework.AlertWindow), Runbooks: runbooks,
		DeadLetters: a.bus, Logger: a.log.With("stage", "casework"),
	})
	r := stage.New(stage.Config{Name: "casework", Topics: []string{bus.TopicAlerts}, Workers: 1, BatchSize: 500}, a.bus, in, a.log, sm)
	a.stages = append(a.stages, r)
	g.Go(func() error { return r.Run(ctx) })

	// The SLA watcher: every minute, warnings and breaches of open cases'
	// clocks are recorded on the cases (notifications come with the
	// notifier's configuration).
	cal, err := a.cfg.BusinessCalendar()
	if err != nil {
		return fmt.Errorf("calendar: %w", err)
	}
	w := watch.New(watch.Options{Cases: casework.NewCases(a.store, nil), Clocks: sla.Defaults(), Calendar: cal, Logger: a.log.With("component", "sla")})
	g.Go(func() error {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			if _, err := w.Sweep(ctx, time.Now()); err != nil && ctx.Err() == nil {
				a.log.Warn("SLA sweep failed; next in a minute", "err", err)
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
