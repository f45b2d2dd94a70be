package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/dashboards/api"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/ruleset"
	"github.com/mamori-soc/mamori/detections/ruletest"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

const analystToken = "analyst-secret-token"

// ruleFiles is a rule source: a threshold rule (three failed logons of one
// account within ten minutes), its test file with a case that passes and
// one that fails on purpose, and a rule file that does not load.
var ruleFiles = fstest.MapFS{
	"windows/failed_logon_burst.yaml": {Data: []byte(`
id: test.win.failed_logon_burst
name: Failed logon burst
version: 2
description: Three failed logons of one account within ten minutes.
severity: high
threat:
  tactics: [{id: TA0006, name: Credential Access}]
  techniques: [{id: T1110.001, name: "Brute Force: Password Guessing"}]
kind: threshold
query: 'event.code:4625'
threshold:
  group_by: [user.name]
  window: 10m
  count: 3
entity: {user: user.name, host: host.name, source: source.ip}
`)},
	"windows/failed_logon_burst.test.yaml": {Data: []byte(`
rule: test.win.failed_logon_burst
defaults:
  event.code: "4625"
cases:
  - name: three failures alert
    events:
      - repeat: {count: 3, every: 1m}
        event: {"@timestamp": "2026-11-26T08:00:00+09:00", user.name: tanaka}
    expect:
      - {count: 3, user: tanaka}
  - name: two failures are expected to alert, wrongly
    events:
      - repeat: {count: 2, every: 1m}
        event: {"@timestamp": "2026-11-26T08:00:00+09:00", user.name: tanaka}
    expect:
      - {count: 2, user: tanaka}
`)},
	"windows/broken.yaml": {Data: []byte(`
id: test.win.broken
name: A threshold rule without its threshold
version: 1
description: Loads not.
severity: low
kind: threshold
query: 'event.code:4625'
`)},
}

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

// rulesProvider serves ruleFiles as the configured rules.
func rulesProvider() api.RulesProvider {
	load := func() ([]*detections.Rule, []error) { return ruleset.Load(ruleFiles, ruleset.Options{}) }
	return api.RulesProvider{
		Load: func() ([]*detections.Rule, []error, error) {
			rules, errs := load()
			return rules, errs, nil
		},
		Test: func(ctx context.Context) ([]api.RuleTestRun, error) {
			rules, errs := load()
			rep, err := ruletest.Run(ctx, ruleFiles, rules, detections.Config{Location: tokyo})
			return []api.RuleTestRun{{Source: "rules", LoadErrors: errs, Report: rep}}, err
		},
		Engine: func() (*detections.Engine, error) {
			rules, _ := load()
			return detections.New(rules, detections.Config{Location: tokyo})
		},
	}
}

// rulesServer serves a store holding events and alerts with ruleFiles as
// the rules, at 12:00 Tokyo on 2026-11-26, for a viewer and an analyst.
func rulesServer(t *testing.T, events, alerts []store.Doc) *httptest.Server {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	if len(events) > 0 {
		_, err = s.Index(context.Background(), store.Events, events)
		require.NoError(t, err)
	}
	if len(alerts) > 0 {
		_, err = s.Index(context.Background(), store.Alerts, alerts)
		require.NoError(t, err)
	}
	srv := httptest.NewServer(api.New(api.Options{
		Store: s, Location: tokyo, Now: func() time.Time { return time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC) },
		Tokens: []api.Token{token(t, "viewer", viewerToken, "viewer"), token(t, "analyst", analystToken, "analyst")},
		Rules:  rulesProvider(),
	}))
	t.Cleanup(srv.Close)
	return srv
}

// failedLogon is a stored Windows 4625 event.
func failedLogon(id string, at time.Time, user string) store.Doc {
	return store.Doc{ID: id, Source: fmt.Appendf(nil, `{"@timestamp":%q,"message":"An account failed to log on.",`+
		`"event":{"kind":"event","code":"4625","outcome":"failure","category":["authentication"]},`+
		`"host":{"name":"FS01"},"user":{"name":%q},"source":{"ip":"10.20.12.34"},"winlog":{"logon":{"type":"Network"}}}`,
		at.UTC().Format(time.RFC3339Nano), user)}
}

// post sends body to path; the answer is decoded when it is JSON, returned
// as lines when NDJSON.
func post(t *testing.T, srv *httptest.Server, path, tok, body string) (*http.Response, map[string]any, []map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var obj map[string]any
	var lines []map[string]any
	switch ct := resp.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/json"):
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&obj))
	case ct == "application/x-ndjson":
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &line), sc.Text())
			lines = append(lines, line)
		}
		require.NoError(t, sc.Err())
	}
	return resp, obj, lines
}

func errorMessage(t *testing.T, body map[string]any) string {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	require.True(t, ok, "an error body: %v", body)
	return e["message"].(string)
}

func TestRulesRoutesCheckRoles(t *testing.T) {
	srv := rulesServer(t, nil, nil)
	for _, path := range []string{"/api/v1/rules/test", "/api/v1/rules/backtest"} {
		resp, body, _ := post(t, srv, path, viewerToken, `{}`)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, path)
		require.Contains(t, errorMessage(t, body), "token viewer may not do this")
		resp, _, _ = post(t, srv, path, "", `{}`)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
	}
	for _, path := range []string{"/api/v1/rules", "/api/v1/alerts"} {
		resp, _ := get(t, srv, path, "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
		resp, body := get(t, srv, path, viewerToken)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %v", path, body)
	}
}

func TestRulesRoutesWithoutRules(t *testing.T) {
	srv, _ := server(t, nil) // no RulesProvider
	resp, body := get(t, srv, "/api/v1/rules", viewerToken)
	require.Equal(t, http.StatusNotImplemented, resp.StatusCode)
	require.Contains(t, errorMessage(t, body), "no detection rules")
}

func TestListRules(t *testing.T) {
	srv := rulesServer(t, nil, nil)
	resp, body := get(t, srv, "/api/v1/rules", viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, []any{map[string]any{
		"id": "test.win.failed_logon_burst", "name": "Failed logon burst", "version": 2.0, "kind": "threshold",
		"severity": "high", "risk_score": 73.0, "description": "Three failed logons of one account within ten minutes.",
		"tactics":    []any{map[string]any{"id": "TA0006", "name": "Credential Access"}},
		"techniques": []any{map[string]any{"id": "T1110.001", "name": "Brute Force: Password Guessing"}},
	}}, body["rules"])
	errs := body["errors"].([]any)
	require.Len(t, errs, 1)
	require.Contains(t, errs[0], "windows/broken.yaml", "the load error names the file")
	require.Contains(t, errs[0], "threshold")
}

func TestTestRules(t *testing.T) {
	srv := rulesServer(t, nil, nil)
	resp, body, _ := post(t, srv, "/api/v1/rules/test", analystToken, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, false, body["ok"])
	require.Equal(t, 1.0, body["passed"])
	require.Equal(t, 1.0, body["failed"])
	require.Equal(t, []any{}, body["untested"])
	errs := body["errors"].([]any)
	require.Len(t, errs, 1)
	require.True(t, strings.HasPrefix(errs[0].(string), "rules: "), "a load error after its source: %s", errs[0])
	require.Contains(t, errs[0], "windows/broken.yaml")

	files := body["files"].([]any)
	require.Len(t, files, 1)
	f := files[0].(map[string]any)
	require.Equal(t, "rules", f["source"])
	require.Equal(t, "windows/failed_logon_burst.test.yaml", f["file"])
	require.Equal(t, "test.win.failed_logon_burst", f["rule"])
	require.NotContains(t, f, "error")
	cases := f["cases"].([]any)
	require.Len(t, cases, 2)
	require.Equal(t, map[string]any{"name": "three failures alert", "passed": true}, cases[0])
	failed := cases[1].(map[string]any)
	require.Equal(t, "two failures are expected to alert, wrongly", failed["name"])
	require.Equal(t, false, failed["passed"])
	require.NotEmpty(t, failed["diff"], "a failed case says how the alerts differ")
}

func TestBacktest(t *testing.T) {
	at := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC) // 10:00 Tokyo
	events := []store.Doc{
		failedLogon("f1", at, "tanaka"),
		failedLogon("f2", at.Add(time.Minute), "tanaka"),
		failedLogon("f3", at.Add(2*time.Minute), "tanaka"),
		failedLogon("f4", at.Add(3*time.Minute), "tanaka"),
		failedLogon("f5", at.Add(3*time.Minute), "sato"),
		failedLogon("old", at.Add(-48*time.Hour), "suzuki"),
	}
	srv := rulesServer(t, events, nil)
	resp, body, lines := post(t, srv, "/api/v1/rules/backtest", analystToken, `{"from": "now-24h", "to": "now"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "application/x-ndjson", resp.Header.Get("Content-Type"))
	require.Len(t, lines, 2, "%v", lines)
	require.Equal(t, map[string]any{"progress": map[string]any{"done": 5.0, "total": 5.0}}, lines[0])
	res := lines[1]["result"].(map[string]any)
	require.Equal(t, 5.0, res["events"])
	require.Equal(t, "2026-11-25T12:00:00+09:00", res["from"])
	require.Equal(t, "2026-11-26T12:00:00+09:00", res["to"])
	alerts := res["alerts"].([]any)
	require.Len(t, alerts, 1)
	a := alerts[0].(map[string]any)
	require.Equal(t, "alert", a["event"].(map[string]any)["kind"])
	require.Equal(t, "test.win.failed_logon_burst", a["rule.id"])
	require.Equal(t, "tanaka", a["user"].(map[string]any)["name"])
	require.Equal(t, "high", a["mamori.alert.severity"])
	require.Equal(t, 4.0, a["mamori.alert.count"])
	require.Equal(t, []any{"f1", "f2", "f3", "f4"}, a["mamori.alert.event_ids"])

	// A filter narrows the events read; sato alone is no burst.
	_, _, lines = post(t, srv, "/api/v1/rules/backtest", analystToken, `{"from": "2026-11-26", "to": "2026-11-27", "query": "user.name:sato"}`)
	require.Len(t, lines, 2, "%v", lines)
	res = lines[1]["result"].(map[string]any)
	require.Equal(t, 1.0, res["events"])
	require.Equal(t, []any{}, res["alerts"])
}

func TestBacktestStreamsProgress(t *testing.T) {
	// Enough events for backtest.Run to report progress twice (every 4096
	// events) and once at the end; lines within a second of the last one
	// wait, so the second count is replaced by the final one.
	const n = 8200
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	events := make([]store.Doc, n)
	for i := range events {
		events[i] = failedLogon(fmt.Sprint("e", i), start.Add(time.Duration(i)*100*time.Millisecond), fmt.Sprint("user", i))
	}
	srv := rulesServer(t, events, nil)
	resp, body, lines := post(t, srv, "/api/v1/rules/backtest", analystToken, `{"from": "now-1d"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.GreaterOrEqual(t, len(lines), 3, "%v", lines)
	require.LessOrEqual(t, len(lines), 4, "at most one line per progress call and the result")
	require.Equal(t, map[string]any{"done": 4096.0, "total": float64(n)}, lines[0]["progress"], "the first count is sent at once")
	require.Equal(t, map[string]any{"done": float64(n), "total": float64(n)}, lines[len(lines)-2]["progress"], "the last count is always sent")
	res := lines[len(lines)-1]["result"].(map[string]any)
	require.Equal(t, float64(n), res["events"])
	require.Equal(t, []any{}, res["alerts"], "every user failed once")
}

// slowStore takes its time to export, as a store does over a long range:
// delay, or until gate is closed after telling entered.
type slowStore struct {
	store.Store
	delay   time.Duration
	entered chan<- struct{}
	gate    <-chan struct{}
}

func (s slowStore) Export(ctx context.Context, req store.SearchRequest, fn func(store.Hit) error) error {
	time.Sleep(s.delay)
	if s.gate != nil {
		s.entered <- struct{}{}
		<-s.gate
	}
	return s.Store.Export(ctx, req, fn)
}

func TestBacktestsAtOnceAreBounded(t *testing.T) {
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	entered, gate := make(chan struct{}, 4), make(chan struct{})
	srv := httptest.NewServer(api.New(api.Options{
		Store: slowStore{Store: s, entered: entered, gate: gate}, Location: tokyo,
		Tokens: []api.Token{token(t, "analyst", analystToken, "analyst")}, Rules: rulesProvider(),
	}))
	t.Cleanup(srv.Close)
	done := make(chan string, 2) // the answers
	for range 2 {
		go func() {
			req, _ := http.NewRequest("POST", srv.URL+"/api/v1/rules/backtest", strings.NewReader(`{"from": "now-1h"}`))
			req.Header.Set("Authorization", "Bearer "+analystToken)
			resp, err := srv.Client().Do(req)
			if err != nil {
				done <- err.Error()
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			done <- fmt.Sprint(resp.StatusCode, " ", string(b), err)
		}()
	}
	<-entered
	<-entered
	resp, body, _ := post(t, srv, "/api/v1/rules/backtest", analystToken, `{"from": "now-1h"}`)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, "60", resp.Header.Get("Retry-After"))
	require.Contains(t, errorMessage(t, body), "2 backtests are running")
	close(gate)
	for range 2 {
		answer := <-done
		require.True(t, strings.HasPrefix(answer, "200 "), answer)
		require.Contains(t, answer, `{"result":`)
	}
	resp, _, _ = post(t, srv, "/api/v1/rules/backtest", analystToken, `{"from": "now-1h"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the next one runs once they ended")
}

func TestBacktestOutlivesTheServerTimeouts(t *testing.T) {
	// A backtest may take longer than the server's ReadTimeout and
	// WriteTimeout (1 and 5 minutes in mamori run): each line it sends
	// moves the write deadline.
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	at := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	_, err = s.Index(context.Background(), store.Events, []store.Doc{failedLogon("f1", at, "tanaka")})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(api.New(api.Options{
		Store: slowStore{Store: s, delay: 600 * time.Millisecond}, Location: tokyo,
		Now:    func() time.Time { return time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC) },
		Tokens: []api.Token{token(t, "analyst", analystToken, "analyst")}, Rules: rulesProvider(),
	}))
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	resp, _, lines := post(t, srv, "/api/v1/rules/backtest", analystToken, `{"from": "now-1d"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, lines)
	require.Contains(t, lines[len(lines)-1], "result", "%v", lines)
}

func TestBacktestBadRequests(t *testing.T) {
	srv := rulesServer(t, nil, nil)
	for _, tc := range []struct{ body, want string }{
		{``, "request body: empty"},
		{`[]`, "request body: not a JSON object"},
		{`{"from": "now-7d", "frm": "now-8d"}`, `unknown field "frm"`},
		{`{"from": 7}`, "request body: from: want a string, not a number"},
		{`{"from": "now-1d"`, "request body: not valid JSON"},
		{`{"from": "now-1d"} {}`, "more than one JSON value"},
		{`{"from": "yesterday"}`, `from: "yesterday" is not a time`},
		{`{"to": "someday"}`, `to: "someday" is not a time`},
		{`{"from": "now", "to": "now-1h"}`, "from (2026-11-26T12:00:00+09:00) must be before to (2026-11-26T11:00:00+09:00)"},
		{`{"from": "now-1h", "to": "now-1h"}`, "must be before"},
		{`{"from": "now-400d"}`, "is 400 days: backtest at most 366 days at a time"},
		{`{"from": "now-1d", "query": "user.name:(tanaka"}`, "query: kql"},
		{`{"from": "now-1d", "query": "source.ip:nope"}`, `query: kql: ip field source.ip: "nope" is not an IP address`},
	} {
		resp, body, _ := post(t, srv, "/api/v1/rules/backtest", analystToken, tc.body)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, tc.body)
		require.Contains(t, errorMessage(t, body), tc.want, tc.body)
	}
	resp, body, _ := post(t, srv, "/api/v1/rules/backtest", analystToken, `{"query": "`+strings.Repeat("x", 70_000)+`"}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Contains(t, errorMessage(t, body), "request body: larger than 64 KiB")

	resp, _, lines := post(t, srv, "/api/v1/rules/backtest", analystToken, `{"from": "now-366d"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "366 days is allowed")
	require.Contains(t, lines[len(lines)-1], "result")
}

func TestSearchAlerts(t *testing.T) {
	// Alert documents as the detect stage writes them (event.Marshal).
	alert := func(id, at, rule, severity, user string) store.Doc {
		return store.Doc{ID: id, Source: fmt.Appendf(nil, `{"@timestamp":%q,"message":"%s: %s",`+
			`"event":{"kind":"alert","category":["alert"]},"event.start":%q,"event.end":%q,"rule.id":%q,"rule.name":%q,`+
			`"mamori.alert.severity":%q,"mamori.alert.count":4,"user":{"name":%q}}`, at, rule, user, at, at, rule, rule, severity, user)}
	}
	srv := rulesServer(t,
		[]store.Doc{failedLogon("f1", time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC), "tanaka")},
		[]store.Doc{
			alert("a1", "2026-11-26T01:00:00Z", "test.win.failed_logon_burst", "high", "tanaka"),
			alert("a2", "2026-11-25T20:00:00Z", "mamori.win.password_spray", "medium", "sato"),
			alert("a3", "2026-11-10T20:00:00Z", "mamori.win.password_spray", "medium", "suzuki"),
		})
	ids := func(body map[string]any) []string {
		var out []string
		for _, h := range body["hits"].([]any) {
			out = append(out, h.(map[string]any)["id"].(string))
		}
		return out
	}
	resp, body := get(t, srv, "/api/v1/alerts", viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, []string{"a1", "a2"}, ids(body), "the last seven days, newest first; no events")
	require.Equal(t, "2026-11-19T12:00:00+09:00", body["from"])
	src := body["hits"].([]any)[0].(map[string]any)["source"].(map[string]any)
	require.Equal(t, "alert", src["event"].(map[string]any)["kind"])

	_, body = get(t, srv, "/api/v1/alerts?query="+url.QueryEscape("mamori.alert.severity:high"), viewerToken)
	require.Equal(t, []string{"a1"}, ids(body))
	_, body = get(t, srv, "/api/v1/alerts?q="+url.QueryEscape("user.name:sato"), viewerToken)
	require.Equal(t, []string{"a2"}, ids(body), "q works as in the events search")

	_, body = get(t, srv, "/api/v1/alerts?from=2026-11-01&size=2", viewerToken)
	require.Equal(t, 3.0, body["total"])
	require.Equal(t, []string{"a1", "a2"}, ids(body))
	_, body = get(t, srv, "/api/v1/alerts?from=2026-11-01&size=2&after="+body["next"].(string), viewerToken)
	require.Equal(t, []string{"a3"}, ids(body))

	for q, want := range map[string]string{
		"query=" + url.QueryEscape("user.name:(tanaka"): "position",
		"from=yesterday":                "not a time",
		"size=ten":                      "size",
		"q=rule.id:x&query=user.name:y": "not both",
	} {
		resp, body := get(t, srv, "/api/v1/alerts?"+q, viewerToken)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
		require.Contains(t, errorMessage(t, body), want, q)
	}
}
