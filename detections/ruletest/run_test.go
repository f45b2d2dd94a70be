package ruletest_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/ruletest"
	"github.com/mamori-soc/mamori/event"
)

// failedLogon matches every Windows failed logon: each one is an alert.
type failedLogon struct{}

func (failedLogon) Match(e *event.Event) bool { return e.Event.Code == "4625" }

func rules() []*detections.Rule {
	return []*detections.Rule{
		{ID: "test.failed_logon", Name: "Failed logon", Version: 1, Severity: detections.Low,
			DedupKey: []string{"user.name"}, Detector: failedLogon{}},
		{ID: "test.untested", Name: "Untested", Version: 1, Severity: detections.Low, Detector: failedLogon{}},
	}
}

const good = `
rule: test.failed_logon
defaults:
  event.code: "4625"
  host.name: FS01
cases:
  - name: one alert per user
    events:
      - {"@timestamp": "2026-09-24T10:00:00+09:00", user.name: 田中, source.ip: 10.20.12.34}
      - {"@timestamp": "2026-09-24T10:01:00+09:00", user.name: 田中}
      - {"@timestamp": "2026-09-24T10:02:00+09:00", user: {name: 鈴木}}
    expect:
      - {user: 鈴木, count: 1}
      - {rule: test.failed_logon, count: 2, user: 田中, host: FS01, source: 10.20.12.34,
         first: "2026-09-24T01:00:00Z", last: "2026-09-24T10:01:00+09:00"}
  - name: successes are not failures
    defaults: {event.code: "4624"}
    events:
      - {"@timestamp": "2026-09-24T10:00:00+09:00", user.name: 田中}
    expect: []
  - name: repeat
    events:
      - repeat: {count: 6, every: 1m}
        event: {"@timestamp": "2026-09-24T10:00:00+09:00", user.name: "u{{n%3}}"}
    expect:
      - {user: u1, count: 2, first: "2026-09-24T10:00:00+09:00", last: "2026-09-24T10:03:00+09:00"}
      - {user: u2, count: 2}
      - {user: u0, count: 2, last: "2026-09-24T10:05:00+09:00"}
`

const bad = `
rule: test.failed_logon
defaults: {event.code: "4625"}
cases:
  - name: wrong count and a missing alert
    events:
      - {"@timestamp": "2026-09-24T10:00:00+09:00", user.name: 田中}
    expect:
      - {user: 田中, count: 2}
      - {user: 佐藤}
  - name: unexpected alert
    events:
      - {"@timestamp": "2026-09-24T10:00:00+09:00", user.name: 田中}
    expect: []
  - name: an entity that must be absent
    events:
      - {"@timestamp": "2026-09-24T10:00:00+09:00", user.name: 田中, source.ip: 10.0.0.1}
    expect:
      - {user: 田中, source: ""}
`

func TestRun(t *testing.T) {
	fsys := fstest.MapFS{
		"windows/good.test.yaml":    {Data: []byte(good)},
		"windows/bad.test.yml":      {Data: []byte(bad)},
		"windows/rule.yaml":         {Data: []byte("not a test file")},
		"orphan.test.yaml":          {Data: []byte("rule: test.gone\ncases: [{name: x, events: [], expect: []}]\n")},
		"broken.test.yaml":          {Data: []byte("rule: test.failed_logon\ncases: [{name: x, events: []}]\n")},
		".hidden/skipped.test.yaml": {Data: []byte("garbage: [")},
	}
	rep, err := ruletest.Run(context.Background(), fsys, rules(), detections.Config{})
	require.NoError(t, err)
	require.Equal(t, []string{"test.untested"}, rep.Untested)

	files := map[string]ruletest.FileResult{}
	var order []string
	for _, f := range rep.Files {
		files[f.File] = f
		order = append(order, f.File)
	}
	require.Equal(t, []string{"broken.test.yaml", "orphan.test.yaml", "windows/bad.test.yml", "windows/good.test.yaml"}, order)

	g := files["windows/good.test.yaml"]
	require.NoError(t, g.Err)
	require.True(t, g.Passed())
	require.Len(t, g.Cases, 3)
	for _, c := range g.Cases {
		require.Truef(t, c.Passed, "%s: %s", c.Name, c.Diff)
	}
	require.Len(t, g.Cases[2].Alerts, 3)

	require.ErrorContains(t, files["orphan.test.yaml"].Err, `rule "test.gone" is not loaded`)
	require.ErrorIs(t, files["broken.test.yaml"].Err, ruletest.ErrTestFile)
	require.ErrorContains(t, files["broken.test.yaml"].Err, "cases[0].expect: missing")

	b := files["windows/bad.test.yml"]
	require.NoError(t, b.Err)
	require.False(t, b.Passed())
	require.Equal(t, `expected 2 alerts, got 1
missing  rule=test.failed_logon count=2 user=田中
         nearest alert #1 differs: count: want 2, got 1
missing  rule=test.failed_logon user=佐藤
         nearest alert #1 differs: user: want 佐藤, got 田中
extra    #1 rule=test.failed_logon count=1 user=田中 host="" source="" first=2026-09-24T10:00:00+09:00 last=2026-09-24T10:00:00+09:00`, b.Cases[0].Diff)
	require.Equal(t, `expected no alert, got 1
extra    #1 rule=test.failed_logon count=1 user=田中 host="" source="" first=2026-09-24T10:00:00+09:00 last=2026-09-24T10:00:00+09:00`, b.Cases[1].Diff)
	require.Contains(t, b.Cases[2].Diff, `source: want "", got 10.0.0.1`)

	passed, failed := rep.Counts()
	require.Equal(t, 3, passed)
	require.Equal(t, 5, failed)
	require.False(t, rep.OK())

	var out bytes.Buffer
	require.NoError(t, rep.Write(&out, false))
	s := out.String()
	require.Contains(t, s, "FAIL  orphan.test.yaml (test.gone)\n")
	require.Contains(t, s, "FAIL  windows/bad.test.yml (test.failed_logon): 3 of 3 cases failed\n")
	require.Contains(t, s, "      --- FAIL: unexpected alert\n          expected no alert, got 1\n")
	require.Contains(t, s, "ok    windows/good.test.yaml (test.failed_logon): 3 cases\n")
	require.NotContains(t, s, "--- ok:")
	require.Contains(t, s, "rules without a test file: test.untested\n")
	require.Contains(t, s, "4 test files, 8 cases: 3 passed, 5 failed\n")

	out.Reset()
	require.NoError(t, rep.Write(&out, true))
	require.Contains(t, out.String(), "      --- ok: repeat (3 alerts)\n")
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fsys := fstest.MapFS{"a.test.yaml": {Data: []byte(good)}}
	_, err := ruletest.Run(ctx, fsys, rules(), detections.Config{})
	require.True(t, errors.Is(err, context.Canceled))
}

func TestInvalidRuleFailsItsCases(t *testing.T) {
	r := []*detections.Rule{{ID: "test.failed_logon", Name: "no severity", Detector: failedLogon{}}}
	fsys := fstest.MapFS{"a.test.yaml": {Data: []byte(good)}}
	rep, err := ruletest.Run(context.Background(), fsys, r, detections.Config{})
	require.NoError(t, err)
	require.Len(t, rep.Files, 1)
	for _, c := range rep.Files[0].Cases {
		require.False(t, c.Passed)
		require.ErrorIs(t, c.Err, detections.ErrInvalidRule)
		require.Contains(t, c.Diff, "the rule did not run")
	}
}

func TestIsTestFile(t *testing.T) {
	for name, want := range map[string]bool{
		"a.test.yaml": true, "x/a.test.yml": true, "a.yaml": false, "test.yaml": false, "a.test.json": false,
	} {
		require.Equal(t, want, ruletest.IsTestFile(name), name)
	}
}
