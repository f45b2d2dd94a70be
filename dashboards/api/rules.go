package api

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/backtest"
	"github.com/mamori-soc/mamori/detections/ruletest"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/search"
	"github.com/mamori-soc/mamori/store"
)

// RulesProvider gives the API the configured detection rules. Package app
// fills it from the configuration (this package cannot import app). Each
// func is called once per request and reads the rule files afresh, as the
// mamori rules commands do: a rule added to detections.rules_dir is listed,
// tested and backtested without a restart, while the detect stage keeps
// running the rules it loaded at start. A nil func makes its route answer
// 501 Not Implemented.
type RulesProvider struct {
	// Load returns the configured rules that compile and one error per rule
	// file or rule that does not (GET /api/v1/rules). err reports a
	// configuration that keeps any rule from loading (a bad calendar, a
	// missing rules_dir).
	Load func() (rules []*detections.Rule, problems []error, err error)
	// Test runs the rule test files of each configured rule source (the
	// built-in pack, then rules_dir) against that source's rules (POST
	// /api/v1/rules/test). It must return when ctx is cancelled.
	Test func(ctx context.Context) ([]RuleTestRun, error)
	// Engine compiles the configured rules into a new engine, with empty
	// state, for one backtest (POST /api/v1/rules/backtest).
	Engine func() (*detections.Engine, error)
}

// RuleTestRun is the rule test result of one rule source.
type RuleTestRun struct {
	// Source names the source: "built-in" or the rules directory.
	Source string
	// LoadErrors are the source's rule files and rules that did not load
	// (their test files then fail with "rule is not loaded").
	LoadErrors []error
	// Report is the result of the source's test files.
	Report ruletest.Report
}

// Limits of POST /api/v1/rules/backtest.
const (
	// maxBacktestBody bounds the request body.
	maxBacktestBody = 64 << 10
	// maxBacktestRange bounds the time range read.
	maxBacktestRange = 366 * 24 * time.Hour
	// maxBacktests bounds the backtests running at once: each one reads
	// its whole range from the store.
	maxBacktests = 2
	// backtestProgressEvery is the least time between two progress lines.
	backtestProgressEvery = time.Second
	// backtestWriteTimeout is how long the client has to take each line;
	// every line moves the deadline, so a long backtest outlives the
	// server's WriteTimeout as long as it makes progress.
	backtestWriteTimeout = 5 * time.Minute
)

// RulesResponse is the body of GET /api/v1/rules.
type RulesResponse struct {
	// Rules are the configured rules that load, built-in pack first.
	Rules []RuleSummary `json:"rules"`
	// Errors name each rule file or rule that does not load.
	Errors []string `json:"errors"`
}

// RuleSummary describes one rule.
type RuleSummary struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version int    `json:"version"`
	// Kind is the rule type: the native kind (threshold, off_hours...),
	// "sigma", "sigma event_count"..., else "query" or "stateful".
	Kind        string   `json:"kind"`
	Severity    string   `json:"severity"`
	RiskScore   int      `json:"risk_score"`
	Description string   `json:"description"`
	Tactics     []Attack `json:"tactics"`
	Techniques  []Attack `json:"techniques"`
}

// Attack is a MITRE ATT&CK tactic or technique.
type Attack struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// listRules answers GET /api/v1/rules.
func (s *Server) listRules(w http.ResponseWriter, _ *http.Request) {
	if s.opts.Rules.Load == nil {
		writeError(w, http.StatusNotImplemented, "this server has no detection rules configured")
		return
	}
	rules, problems, err := s.opts.Rules.Load()
	if err != nil {
		s.opts.Logger.Error("rules not loaded", "err", err)
		writeError(w, http.StatusInternalServerError, "rules: "+err.Error())
		return
	}
	out := RulesResponse{Rules: make([]RuleSummary, 0, len(rules)), Errors: errorStrings(problems, "")}
	for _, r := range rules {
		rs := RuleSummary{ID: r.ID, Name: r.Name, Version: r.Version, Kind: ruleKind(r), Severity: r.Severity.String(),
			RiskScore: r.RiskScore, Description: r.Description,
			Tactics: make([]Attack, 0, len(r.Tactics)), Techniques: make([]Attack, 0, len(r.Techniques))}
		if rs.RiskScore == 0 {
			rs.RiskScore = r.Severity.RiskScore()
		}
		for _, t := range r.Tactics {
			rs.Tactics = append(rs.Tactics, Attack{ID: t.ID, Name: t.Name})
		}
		for _, t := range r.Techniques {
			rs.Techniques = append(rs.Techniques, Attack{ID: t.ID, Name: t.Name})
		}
		out.Rules = append(out.Rules, rs)
	}
	writeJSON(w, http.StatusOK, out)
}

// searchAlerts answers GET /api/v1/alerts?query=KQL&from=&to=&sort=&size=&after=
// (q is the same as query, as in the events search): the alerts the detect
// stage raised, by first seen (@timestamp), newest first, from now-7d by
// default.
func (s *Server) searchAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, err := searchParams(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if q.Has("q") && q.Has("query") {
		writeError(w, http.StatusBadRequest, "give the KQL query as query or as q, not both")
		return
	}
	req.Query = cmp.Or(q.Get("query"), q.Get("q"))
	if req.From == "" {
		req.From = "now-7d"
	}
	s.search(w, r, store.Alerts, req)
}

// ruleKind names a rule's type, as `mamori rules list` does.
func ruleKind(r *detections.Rule) string {
	if k, ok := r.Detector.(interface{ Kind() string }); ok {
		return k.Kind()
	}
	if _, ok := r.Detector.(detections.Stateful); ok {
		return "stateful"
	}
	return "query"
}

// errorStrings writes errors as text, each after prefix; never nil.
func errorStrings(errs []error, prefix string) []string {
	out := make([]string, 0, len(errs))
	for _, err := range errs {
		out = append(out, prefix+err.Error())
	}
	return out
}

// RuleTestResponse is the body of POST /api/v1/rules/test.
type RuleTestResponse struct {
	// OK: every rule file loaded, every source has test files and every
	// test case passed.
	OK bool `json:"ok"`
	// Passed and Failed count test cases; a test file that failed as a
	// whole counts as one failed case.
	Passed int            `json:"passed"`
	Failed int            `json:"failed"`
	Files  []RuleTestFile `json:"files"`
	// Errors are the problems outside test cases: rule files that did not
	// load and sources without test files, each after its source's name.
	Errors []string `json:"errors"`
	// Untested are the ids of rules that no test file names.
	Untested []string `json:"untested"`
}

// RuleTestFile is the result of one rule test file.
type RuleTestFile struct {
	// Source is the rule source: "built-in" or the rules directory.
	Source string `json:"source"`
	// File is the test file's path within its source.
	File string `json:"file"`
	// Rule is the id of the rule under test ("" when the file could not be
	// read).
	Rule string `json:"rule"`
	// Error says why the file failed as a whole (then Cases is empty).
	Error string         `json:"error,omitempty"`
	Cases []RuleTestCase `json:"cases"`
}

// RuleTestCase is the result of one test case.
type RuleTestCase struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	// Diff says, for a failed case, how the alerts differ from those
	// expected, one line each.
	Diff string `json:"diff,omitempty"`
	// Error is an engine error that kept the case from running.
	Error string `json:"error,omitempty"`
}

// testRules answers POST /api/v1/rules/test.
func (s *Server) testRules(w http.ResponseWriter, r *http.Request) {
	if s.opts.Rules.Test == nil {
		writeError(w, http.StatusNotImplemented, "this server has no detection rules configured")
		return
	}
	runs, err := s.opts.Rules.Test(r.Context())
	if err != nil {
		if r.Context().Err() == nil {
			s.opts.Logger.Error("rule tests failed", "err", err)
		}
		writeError(w, http.StatusInternalServerError, "rule tests: "+err.Error())
		return
	}
	out := RuleTestResponse{OK: true, Files: []RuleTestFile{}, Errors: []string{}, Untested: []string{}}
	for _, run := range runs {
		out.Errors = append(out.Errors, errorStrings(run.LoadErrors, run.Source+": ")...)
		if len(run.Report.Files) == 0 {
			out.Errors = append(out.Errors, run.Source+": no rule test files (write NAME.test.yaml beside each rule NAME.yaml)")
		}
		if len(run.LoadErrors) > 0 || !run.Report.OK() {
			out.OK = false
		}
		p, f := run.Report.Counts()
		out.Passed += p
		out.Failed += f
		out.Untested = append(out.Untested, run.Report.Untested...)
		for _, fr := range run.Report.Files {
			tf := RuleTestFile{Source: run.Source, File: fr.File, Rule: fr.Rule, Cases: make([]RuleTestCase, 0, len(fr.Cases))}
			if fr.Err != nil {
				tf.Error = fr.Err.Error()
			}
			for _, c := range fr.Cases {
				tc := RuleTestCase{Name: c.Name, Passed: c.Passed, Diff: c.Diff}
				if c.Err != nil {
					tc.Error = c.Err.Error()
				}
				tf.Cases = append(tf.Cases, tc)
			}
			out.Files = append(out.Files, tf)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// BacktestRequest is the body of POST /api/v1/rules/backtest. Times take
// the forms of the search API (now-7d, 2026-11-26, 2026-11-26 09:00, RFC
// 3339); the range is at most 366 days.
type BacktestRequest struct {
	// From is the start of the range (inclusive; default now-24h).
	From string `json:"from"`
	// To is the end of the range (exclusive; default now).
	To string `json:"to"`
	// Query is an optional KQL filter on the events read; rules still see
	// only the events they match.
	Query string `json:"query"`
}

// BacktestLine is one line of the NDJSON answer of POST
// /api/v1/rules/backtest: progress lines, then one result or error line.
type BacktestLine struct {
	Progress *BacktestProgress `json:"progress,omitempty"`
	Result   *BacktestResult   `json:"result,omitempty"`
	Error    string            `json:"error,omitempty"`
}

// BacktestProgress counts the events read so far and the events in range.
type BacktestProgress struct {
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
}

// BacktestResult is what a backtest found.
type BacktestResult struct {
	// Events is the number of events read.
	Events int64 `json:"events"`
	// Undecodable counts stored documents that are not events.
	Undecodable int64 `json:"undecodable,omitempty"`
	// Alerts are the alert documents the rules would have raised, in the
	// order first raised.
	Alerts []json.RawMessage `json:"alerts"`
	// From and To are the range read, in the configured zone.
	From string `json:"from"`
	To   string `json:"to"`
}

// backtest answers POST /api/v1/rules/backtest with NDJSON: progress lines
// at most every second (and the last count), then a result or an error
// line. Problems with the request are answered with 400 before the stream
// starts.
func (s *Server) backtest(w http.ResponseWriter, r *http.Request) {
	if s.opts.Rules.Engine == nil {
		writeError(w, http.StatusNotImplemented, "this server has no detection rules configured")
		return
	}
	req, err := s.readBacktest(w, r)
	if err != nil {
		status := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(w, status, err.Error())
		return
	}
	select {
	case s.backtests <- struct{}{}:
		defer func() { <-s.backtests }()
	default:
		w.Header().Set("Retry-After", "60")
		writeError(w, http.StatusTooManyRequests, strconv.Itoa(maxBacktests)+" backtests are running; try again when one ends")
		return
	}
	en, err := s.opts.Rules.Engine()
	if err != nil {
		s.opts.Logger.Error("backtest: rules not loaded", "err", err)
		writeError(w, http.StatusInternalServerError, "rules: "+err.Error())
		return
	}
	if tok, ok := r.Context().Value(ctxKey{}).(*Token); ok {
		s.opts.Logger.Info("backtest started", "token", tok.Name, "from", req.from, "to", req.to, "query", req.query, "rules", len(en.Rules()))
	}

	rc := http.NewResponseController(w)
	// Every write moves the write deadline. Not every writer has one
	// (ErrNotSupported): then there is none to move.
	_ = rc.SetWriteDeadline(time.Now().Add(backtestWriteTimeout))
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush() // the headers: the backtest has started
	enc := json.NewEncoder(w)
	send := func(line BacktestLine) error {
		_ = rc.SetWriteDeadline(time.Now().Add(backtestWriteTimeout))
		if err := enc.Encode(line); err != nil {
			return err
		}
		return rc.Flush()
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var (
		last    time.Time
		pending *BacktestProgress // the latest count, when not sent yet
		sendErr error
	)
	progress := func(done, total int64) {
		pending = &BacktestProgress{Done: done, Total: total}
		if time.Since(last) < backtestProgressEvery || sendErr != nil {
			return
		}
		last = time.Now()
		if sendErr = send(BacktestLine{Progress: pending}); sendErr != nil {
			cancel() // the client is gone: stop reading the store
		}
		pending = nil
	}
	res, err := backtest.Run(ctx, s.opts.Store, en, backtest.Request{From: req.from, To: req.to, Filter: req.filter, Progress: progress})
	if sendErr != nil || r.Context().Err() != nil {
		s.opts.Logger.Info("backtest stopped: the client went away", "err", cmp.Or(sendErr, r.Context().Err()))
		return
	}
	if pending != nil {
		_ = send(BacktestLine{Progress: pending})
	}
	if err != nil {
		if !errors.Is(err, store.ErrBadQuery) {
			s.opts.Logger.Error("backtest failed", "err", err)
		}
		_ = send(BacktestLine{Error: err.Error()})
		return
	}
	out := &BacktestResult{Events: res.Events, Undecodable: res.Undecodable, Alerts: make([]json.RawMessage, 0, len(res.Alerts)),
		From: req.from.In(s.opts.Location).Format(time.RFC3339), To: req.to.In(s.opts.Location).Format(time.RFC3339)}
	for _, a := range res.Alerts {
		data, err := event.Marshal(a)
		if err != nil {
			s.opts.Logger.Error("backtest: alert not encoded", "err", err)
			_ = send(BacktestLine{Error: fmt.Sprintf("alert of rule %v not encoded: %v", a.Fields["rule.id"], err)})
			return
		}
		out.Alerts = append(out.Alerts, data)
	}
	_ = send(BacktestLine{Result: out})
}

// backtestParams is a checked backtest request.
type backtestParams struct {
	from, to time.Time
	query    string
	filter   kql.Cond
}

// readBacktest reads and checks the body of a backtest request.
func (s *Server) readBacktest(w http.ResponseWriter, r *http.Request) (*backtestParams, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBacktestBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, fmt.Errorf("request body: larger than %d KiB: %w", maxBacktestBody>>10, err)
		}
		return nil, fmt.Errorf("request body: %w", err)
	}
	var req BacktestRequest
	if err := decodeStrict(data, &req); err != nil {
		return nil, err
	}
	now := s.opts.Now()
	from, err := search.ParseTime(cmp.Or(strings.TrimSpace(req.From), "now-24h"), now, s.opts.Location)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	to, err := search.ParseTime(cmp.Or(strings.TrimSpace(req.To), "now"), now, s.opts.Location)
	if err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("from (%s) must be before to (%s)", from.In(s.opts.Location).Format(time.RFC3339), to.In(s.opts.Location).Format(time.RFC3339))
	}
	if d := to.Sub(from); d > maxBacktestRange {
		return nil, fmt.Errorf("from %s to %s is %.0f days: backtest at most %d days at a time", from.In(s.opts.Location).Format(time.RFC3339),
			to.In(s.opts.Location).Format(time.RFC3339), math.Ceil(d.Hours()/24), int(maxBacktestRange.Hours()/24))
	}
	node, err := kql.Parse(req.Query)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	filter, err := kql.Plan(node, kql.Options{Location: s.opts.Location, Now: now})
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return &backtestParams{from: from, to: to, query: req.Query, filter: filter}, nil
}

// decodeStrict decodes one JSON object into v, rejecting unknown fields
// and anything after the object, with messages that name the problem.
func decodeStrict(data []byte, v any) error {
	const example = `send a JSON object such as {"from": "now-7d", "to": "now", "query": "event.code:4625"}`
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return errors.New("request body: empty; " + example)
	}
	if trimmed[0] != '{' {
		return errors.New("request body: not a JSON object; " + example)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return fmt.Errorf("request body: %s: want a %s, not a %s", strings.TrimPrefix(te.Field, "."), te.Type, te.Value)
		}
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if strings.HasPrefix(msg, "unknown field") {
			return fmt.Errorf("request body: %s; %s", msg, example)
		}
		return fmt.Errorf("request body: not valid JSON: %s", msg)
	}
	var rest json.RawMessage
	if err := dec.Decode(&rest); err != io.EOF {
		return errors.New("request body: more than one JSON value; " + example)
	}
	return nil
}
