package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/dashboards/api"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/builtin"
	"github.com/mamori-soc/mamori/detections/ruleset"
	"github.com/mamori-soc/mamori/detections/ruletest"
	"github.com/mamori-soc/mamori/stage"
)

// LoadedRules is the rule set of a configuration: the rules that compiled
// (built-in pack and the organisation's own, minus the disabled ones) and
// one error per rule file or rule that did not.
type LoadedRules struct {
	Rules  []*detections.Rule
	Errors []error
}

// RuleSource is one place rules come from: the built-in pack or a
// directory.
type RuleSource struct {
	Name string // "built-in" or the directory
	FS   fs.FS
}

// RuleSources returns the configured rule sources: the built-in pack (unless
// turned off), then detections.rules_dir.
func RuleSources(cfg *config.Config) ([]RuleSource, error) {
	var out []RuleSource
	if cfg.Detections.BuiltinEnabled() {
		out = append(out, RuleSource{Name: "built-in", FS: builtin.FS()})
	}
	if dir := cfg.Detections.RulesDir; dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("detections.rules_dir: %s is not a directory", dir)
		}
		out = append(out, RuleSource{Name: dir, FS: os.DirFS(dir)})
	}
	return out, nil
}

// RuleOptions are the loading options of the configuration (its business
// calendar).
func RuleOptions(cfg *config.Config) (ruleset.Options, error) {
	cal, err := cfg.BusinessCalendar()
	if err != nil {
		return ruleset.Options{}, fmt.Errorf("calendar: %w", err)
	}
	return ruleset.Options{Calendar: cal}, nil
}

// LoadRules loads the configured rules. A rule that does not load is an
// error in the result, not a failure: the others still run.
func LoadRules(cfg *config.Config) (LoadedRules, error) {
	opts, err := RuleOptions(cfg)
	if err != nil {
		return LoadedRules{}, err
	}
	sources, err := RuleSources(cfg)
	if err != nil {
		return LoadedRules{}, err
	}
	var out LoadedRules
	seen := map[string]bool{}
	for _, src := range sources {
		rules, errs := ruleset.Load(src.FS, opts)
		out.Errors = append(out.Errors, errs...)
		for _, r := range rules {
			switch {
			case slices.Contains(cfg.Detections.Disabled, r.ID):
			case seen[r.ID]:
				out.Errors = append(out.Errors, fmt.Errorf("%w %s: the id of a built-in rule; give your rule another id", detections.ErrInvalidRule, r.ID))
			default:
				seen[r.ID] = true
				out.Rules = append(out.Rules, r)
			}
		}
	}
	return out, nil
}

// Engine compiles the configured rules into a detection engine.
func Engine(cfg *config.Config, log *slog.Logger) (*detections.Engine, error) {
	loaded, err := LoadRules(cfg)
	if err != nil {
		return nil, err
	}
	for _, err := range loaded.Errors {
		log.Error("detection rule not loaded", "err", err)
	}
	en, err := detections.New(loaded.Rules, detections.Config{
		Exceptions:      cfg.Detections.Exceptions,
		Location:        cfg.Location(),
		AllowedLateness: time.Duration(cfg.Detections.AllowedLateness),
	})
	if err != nil {
		return nil, fmt.Errorf("detections: %w", err)
	}
	return en, nil
}

// TestRules runs the rule test files of each configured rule source (the
// built-in pack, then detections.rules_dir) against the rules of that
// source, as `mamori rules test` does: POST /api/v1/rules/test.
func TestRules(ctx context.Context, cfg *config.Config) ([]api.RuleTestRun, error) {
	opts, err := RuleOptions(cfg)
	if err != nil {
		return nil, err
	}
	sources, err := RuleSources(cfg)
	if err != nil {
		return nil, err
	}
	runs := make([]api.RuleTestRun, len(sources))
	for i, src := range sources {
		var rules []*detections.Rule
		runs[i].Source = src.Name
		rules, runs[i].LoadErrors = ruleset.Load(src.FS, opts)
		if runs[i].Report, err = ruletest.Run(ctx, src.FS, rules, detections.Config{Location: cfg.Location()}); err != nil {
			return nil, err
		}
	}
	return runs, nil
}

// startDetect starts the detect stage's two steps.
func (a *App) startDetect(ctx context.Context, g *errgroup.Group, sm *stage.Metrics) error {
	en, err := Engine(a.cfg, a.log.With("stage", "detect"))
	if err != nil {
		return err
	}
	parts, err := a.bus.Partitions(ctx, detections.TopicMatches)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	sources, err := a.bus.Partitions(ctx, bus.TopicEvents)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	sc := a.cfg.Stages.Detect
	sel := detections.NewSelect(en, a.bus, parts, a.log.With("stage", "detect"))
	cor := detections.NewCorrelate(en, a.bus, detections.CorrelateOptions{
		Store: a.store, Sources: sources, Logger: a.log.With("stage", "correlate"),
	})
	cor.Register(a.reg)
	selectRunner := stage.New(stage.Config{Name: "detect", Topics: []string{bus.TopicEvents}, Workers: sc.Workers, BatchSize: sc.BatchSize}, a.bus, sel, a.log, sm)
	correlateRunner := stage.New(stage.Config{Name: "correlate", Topics: []string{detections.TopicMatches}, Workers: sc.Workers, BatchSize: sc.BatchSize}, a.bus, cor, a.log, sm)
	a.stages = append(a.stages, selectRunner, correlateRunner)
	g.Go(func() error { sel.Run(ctx, time.Second); return nil })
	g.Go(func() error { return selectRunner.Run(ctx) })
	g.Go(func() error {
		err := correlateRunner.Run(ctx)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if cerr := cor.Close(sctx); cerr != nil && !errors.Is(cerr, context.Canceled) {
			a.log.Warn("detection state not saved at stop; it will be replayed from the bus", "err", cerr)
		}
		return err
	})
	a.log.Info("detection rules loaded", "rules", len(en.Rules()))
	return nil
}
