package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/backtest"
	"github.com/mamori-soc/mamori/detections/ruleset"
	"github.com/mamori-soc/mamori/detections/ruletest"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/search"
)

const rulesUsage = `usage: mamori rules COMMAND

  validate [DIR]   load every native and Sigma rule file of DIR (default: the configured
                   rules: built-in pack and detections.rules_dir) and report each one
                   that does not load, with its file, rule and the construct at fault
  test [DIR]       run the rule test files (NAME.test.yaml) of DIR against its rules
                   (default: the built-in pack and detections.rules_dir)
  list             list the configured rules
  backtest         run the configured rules over stored events: --from, --to, optional
                   KQL filter; prints the alerts they would have raised`

// cmdRules is the rule tooling.
func cmdRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, rulesUsage)
		return errUsage
	}
	switch args[0] {
	case "validate":
		return rulesValidate(args[1:], stdout, stderr)
	case "test":
		return rulesTest(ctx, args[1:], stdout, stderr)
	case "list":
		return rulesList(args[1:], stdout, stderr)
	case "backtest":
		return rulesBacktest(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, rulesUsage)
	return errUsage
}

// ruleSource is a directory argument or the configured rules.
type ruleSource struct {
	name  string
	fsys  fs.FS
	rules []*detections.Rule
	errs  []error
}

// loadRuleSources loads DIR (one argument) or, without one, the rules the
// configuration runs (built-in pack and rules_dir, each its own source).
func loadRuleSources(cfgPath string, positional []string) (*config.Config, []ruleSource, error) {
	if len(positional) > 1 {
		return nil, nil, fmt.Errorf("give one directory")
	}
	cfg, err := config.Load(cfgPathOrDefault(cfgPath))
	if err != nil {
		return nil, nil, err
	}
	opts, err := app.RuleOptions(cfg)
	if err != nil {
		return nil, nil, err
	}
	var sources []ruleSource
	if len(positional) == 1 {
		dir := positional[0]
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, nil, fmt.Errorf("%s is not a directory of rule files", dir)
		}
		sources = append(sources, ruleSource{name: dir, fsys: os.DirFS(dir)})
	} else {
		configured, err := app.RuleSources(cfg)
		if err != nil {
			return nil, nil, err
		}
		for _, src := range configured {
			sources = append(sources, ruleSource{name: src.Name, fsys: src.FS})
		}
	}
	for i := range sources {
		sources[i].rules, sources[i].errs = ruleset.Load(sources[i].fsys, opts)
	}
	return cfg, sources, nil
}

// cfgPathOrDefault reads the configuration file when it exists; the
// default path may be absent (defaults apply).
func cfgPathOrDefault(path string) string {
	if path == "mamori.yaml" {
		if _, err := os.Stat(path); err != nil {
			return ""
		}
	}
	return path
}

func rulesValidate(args []string, stdout, stderr io.Writer) error {
	fs := flags("rules validate", stderr)
	cfgPath := fs.String("c", "mamori.yaml", "configuration `file` (calendar, rules_dir)")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, sources, err := loadRuleSources(*cfgPath, fs.Args())
	if err != nil {
		return err
	}
	ok, bad := 0, 0
	for _, src := range sources {
		for _, r := range src.rules {
			fmt.Fprintf(stdout, "ok     %s  %s (%s, %s)\n", r.ID, r.Name, kindOf(r), r.Severity)
		}
		for _, err := range src.errs {
			fmt.Fprintf(stdout, "error  %v\n", err)
		}
		// The engine's own checks (ids, ATT&CK ids, exceptions) too.
		if _, err := detections.New(src.rules, detections.Config{}); err != nil {
			fmt.Fprintf(stdout, "error  %v\n", err)
			bad++
		}
		ok += len(src.rules)
		bad += len(src.errs)
	}
	fmt.Fprintf(stdout, "\n%d rules load, %d do not\n", ok, bad)
	if bad > 0 {
		return fmt.Errorf("%d rule files or rules do not load", bad)
	}
	return nil
}

// kindOf names a rule's kind for listings.
func kindOf(r *detections.Rule) string {
	if k, ok := r.Detector.(interface{ Kind() string }); ok {
		return k.Kind()
	}
	if _, ok := r.Detector.(detections.Stateful); ok {
		return "stateful"
	}
	return "query"
}

func rulesTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("rules test", stderr)
	cfgPath := fs.String("c", "mamori.yaml", "configuration `file` (calendar, rules_dir)")
	verbose := fs.Bool("v", false, "list every case, not only failures")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, sources, err := loadRuleSources(*cfgPath, fs.Args())
	if err != nil {
		return err
	}
	failed := 0
	for _, src := range sources {
		for _, err := range src.errs {
			fmt.Fprintf(stdout, "error  %v\n", err)
			failed++
		}
		rep, err := ruletest.Run(ctx, src.fsys, src.rules, detections.Config{Location: cfg.Location()})
		if err != nil {
			return err
		}
		if err := rep.Write(stdout, *verbose); err != nil {
			return err
		}
		if !rep.OK() {
			_, f := rep.Counts()
			failed += max(f, 1)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d rule tests or rule files failed", failed)
	}
	return nil
}

func rulesList(args []string, stdout, stderr io.Writer) error {
	fs := flags("rules list", stderr)
	cfgPath := fs.String("c", "mamori.yaml", "configuration `file`")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(cfgPathOrDefault(*cfgPath))
	if err != nil {
		return err
	}
	loaded, err := app.LoadRules(cfg)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSEVERITY\tATT&CK\tNAME")
	for _, r := range loaded.Rules {
		var tech []string
		for _, t := range r.Techniques {
			tech = append(tech, t.ID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, kindOf(r), r.Severity, strings.Join(tech, ","), r.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, err := range loaded.Errors {
		fmt.Fprintf(stdout, "error  %v\n", err)
	}
	if len(loaded.Errors) > 0 {
		return fmt.Errorf("%d rule files or rules do not load", len(loaded.Errors))
	}
	return nil
}

func rulesBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("rules backtest", stderr)
	qf := addQueryFlags(fs, "@timestamp:asc")
	output := fs.String("output", "table", "table or ndjson (the alert documents)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mamori rules backtest --from TIME --to TIME [flags] ['KQL filter']\n\nRuns the configured rules over the stored events of the range, in event-time order,\nas the detect stage would have, and prints the alerts they would have raised.\nNothing is written.\n\nFlags:")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *output != "table" && *output != "ndjson" {
		return fmt.Errorf("--output %q: want table or ndjson", *output)
	}
	q, err := qf.open(rest, search.Request{})
	if err != nil {
		return err
	}
	defer q.store.Close()
	en, err := app.Engine(q.cfg, app.Logger(q.cfg, os.Stderr))
	if err != nil {
		return err
	}
	var prog *progress
	res, err := backtest.Run(ctx, q.store, en, backtest.Request{
		From: q.resolved.From, To: q.resolved.To, Filter: q.resolved.Filter,
		Progress: func(done, total int64) {
			if prog == nil {
				prog = newProgress(stderr, total, "backtest", false)
			}
			prog.update(done, 0)
		},
	})
	if prog != nil {
		prog.finish()
	}
	if errors.Is(err, backtest.ErrRange) {
		return fmt.Errorf("--from must be before --to")
	}
	if err != nil {
		return err
	}
	if *output == "ndjson" {
		for _, a := range res.Alerts {
			data, err := event.Marshal(a)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s\n", data)
		}
		return nil
	}
	loc := q.cfg.Location()
	printAlerts(stdout, res.Alerts, loc)
	fmt.Fprintf(stdout, "\n%d events from %s to %s, %d alerts\n", res.Events,
		q.resolved.From.In(loc).Format(time.RFC3339), q.resolved.To.In(loc).Format(time.RFC3339), len(res.Alerts))
	if res.Undecodable > 0 {
		fmt.Fprintf(stdout, "%d stored documents could not be read as events\n", res.Undecodable)
	}
	return nil
}

// encodeJSON writes v indented.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
