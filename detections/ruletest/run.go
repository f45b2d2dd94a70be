package ruletest

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
)

// IsTestFile reports whether a file name is a rule test file: it ends in
// .test.yaml or .test.yml. Rule loaders skip these files.
func IsTestFile(name string) bool {
	base := path.Base(name)
	return strings.HasSuffix(base, ".test.yaml") || strings.HasSuffix(base, ".test.yml")
}

// Report is the result of Run.
type Report struct {
	// Files are the test files found, in lexical order of their paths.
	Files []FileResult
	// Untested are the ids of the rules given to Run that no test file
	// names, sorted.
	Untested []string
}

// FileResult is the result of one test file.
type FileResult struct {
	// File is the test file's path in the file system given to Run.
	File string
	// Rule is the id of the rule under test ("" when the file could not be
	// decoded).
	Rule string
	// Err is why the file failed as a whole: it could not be read or
	// decoded, or its rule is not loaded. Cases is then empty.
	Err error
	// Cases are the results of the file's cases, in written order.
	Cases []CaseResult
}

// CaseResult is the result of one case.
type CaseResult struct {
	Name string
	// Passed reports whether the alerts were the ones expected.
	Passed bool
	// Diff says, for a failed case, how the alerts differ from the
	// expectations, one line each; empty when the case passed.
	Diff string
	// Alerts are the alert documents the case produced, in creation order.
	Alerts []*event.Event
	// Err is an error of the engine that kept the case from running (the
	// rule is invalid, the context ended); the case then failed.
	Err error
}

// Passed reports whether the file and all its cases passed.
func (f *FileResult) Passed() bool {
	if f.Err != nil {
		return false
	}
	for _, c := range f.Cases {
		if !c.Passed {
			return false
		}
	}
	return true
}

// Counts returns the number of cases that passed and failed; a file that
// failed as a whole counts as one failed case.
func (r *Report) Counts() (passed, failed int) {
	for _, f := range r.Files {
		if f.Err != nil {
			failed++
			continue
		}
		for _, c := range f.Cases {
			if c.Passed {
				passed++
			} else {
				failed++
			}
		}
	}
	return passed, failed
}

// OK reports whether every test file and case passed (and there was at
// least one).
func (r *Report) OK() bool {
	p, f := r.Counts()
	return f == 0 && p > 0
}

// Run runs every test file in fsys (files named *.test.yaml or *.test.yml,
// in any directory) against its rule among rules, each case through
// detections.Replay with cfg, and reports the result of every case. A test
// file that cannot be read or decoded or whose rule is not among rules
// fails; Run returns an error only when fsys cannot be walked or ctx ends.
func Run(ctx context.Context, fsys fs.FS, rules []*detections.Rule, cfg detections.Config) (Report, error) {
	var rep Report
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != "." && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if !d.IsDir() && IsTestFile(p) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("ruletest: finding test files: %w", err)
	}
	slices.Sort(files)
	byID := make(map[string]*detections.Rule, len(rules))
	for _, r := range rules {
		byID[r.ID] = r
	}
	tested := map[string]bool{}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		fr := FileResult{File: f}
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			fr.Err = err
			rep.Files = append(rep.Files, fr)
			continue
		}
		tf, err := decodeFile(data)
		if err != nil {
			fr.Err = err
			rep.Files = append(rep.Files, fr)
			continue
		}
		fr.Rule = tf.rule
		tested[tf.rule] = true
		rule := byID[tf.rule]
		if rule == nil {
			fr.Err = fmt.Errorf("rule %q is not loaded: check the id, and that the rule file loads without errors", tf.rule)
			rep.Files = append(rep.Files, fr)
			continue
		}
		for _, c := range tf.cases {
			cr, err := runCase(ctx, rule, cfg, c)
			if err != nil && ctx.Err() != nil {
				return rep, ctx.Err()
			}
			fr.Cases = append(fr.Cases, cr)
		}
		rep.Files = append(rep.Files, fr)
	}
	for _, r := range rules {
		if !tested[r.ID] {
			rep.Untested = append(rep.Untested, r.ID)
		}
	}
	slices.Sort(rep.Untested)
	return rep, nil
}

// runCase replays one case and compares its alerts with the expectations.
func runCase(ctx context.Context, rule *detections.Rule, cfg detections.Config, c *testCase) (CaseResult, error) {
	cr := CaseResult{Name: c.name}
	events := make([]*event.Event, len(c.events))
	var last time.Time
	for i, ev := range c.events {
		e, err := ev.build(fmt.Sprintf("t%07d", i+1))
		if err != nil { // checked at decoding already
			cr.Err = err
			cr.Diff = err.Error()
			return cr, err
		}
		events[i] = e
		if e.Timestamp.After(last) {
			last = e.Timestamp
		}
	}
	until := c.until.at
	if until.IsZero() && c.until.after > 0 {
		until = last.Add(c.until.after)
	}
	alerts, err := detections.Replay(ctx, []*detections.Rule{rule}, cfg, events, until)
	if err != nil {
		cr.Err = err
		cr.Diff = "the rule did not run: " + err.Error()
		return cr, err
	}
	cr.Alerts = alerts
	cr.Passed, cr.Diff = compare(c.expect, alerts, c.zone)
	return cr, nil
}
