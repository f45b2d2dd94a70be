package detections_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
)

func hitsOf(en *detections.Engine, e *event.Event) []string {
	var ids []string
	en.Evaluate(e, func(r *detections.Rule, h detections.Hit) {
		ids = append(ids, r.ID)
	})
	return ids
}

func TestDispatchReachesOnlyRulesThatCanMatch(t *testing.T) {
	failed := &always{}
	success := &always{}
	both := &always{}
	numeric := &always{}
	category := &always{}
	every := &always{}
	en, err := detections.New([]*detections.Rule{
		{ID: "failed", Name: "failed", Severity: detections.Low, Detector: failed,
			Prerequisites: []detections.Prerequisite{{Field: "event.code", Values: []string{"4625"}}}},
		{ID: "success", Name: "success", Severity: detections.Low, Detector: success,
			Prerequisites: []detections.Prerequisite{
				{Field: "winlog.channel", Values: []string{"Security", "System"}},
				{Field: "event.code", Values: []string{"4624"}},
			}},
		{ID: "both", Name: "both", Severity: detections.Low, Detector: both,
			Prerequisites: []detections.Prerequisite{{Field: "event.code", Values: []string{"4624", "4625"}}}},
		{ID: "numeric", Name: "numeric", Severity: detections.Low, Detector: numeric,
			Prerequisites: []detections.Prerequisite{{Field: "winlog.event_id", Values: []string{"4625"}}}},
		{ID: "category", Name: "category", Severity: detections.Low, Detector: category,
			Prerequisites: []detections.Prerequisite{{Field: "event.category", Values: []string{"authentication", "session"}}}},
		{ID: "every", Name: "every", Severity: detections.Low, Detector: every},
	}, detections.Config{})
	require.NoError(t, err)

	e := logon("e1", "4625", "tanaka", "ws-01", "10.0.0.5", t0)
	e.Event.Category = []string{"authentication", "session"} // both values index the same rule: one call
	require.ElementsMatch(t, []string{"failed", "both", "numeric", "category", "every"}, hitsOf(en, e))
	require.EqualValues(t, 0, success.calls.Load(), "a rule keyed on another code is never called")
	require.EqualValues(t, 1, category.calls.Load(), "a rule is called once even when several values lead to it")

	e = logon("e2", "4624", "tanaka", "ws-01", "10.0.0.5", t0)
	require.ElementsMatch(t, []string{"success", "both", "category", "every"}, hitsOf(en, e))

	e.Fields["winlog.channel"] = "Application" // the second prerequisite fails
	require.ElementsMatch(t, []string{"both", "category", "every"}, hitsOf(en, e))
	require.EqualValues(t, 1, success.calls.Load())

	require.Equal(t, []string{"every"}, hitsOf(en, &event.Event{Timestamp: t0}))
}

func TestRuleExceptions(t *testing.T) {
	r := bruteForce(t)
	r.Exceptions = []string{`user.name:svc_*`, `source.ip:192.168.0.0/16`}
	en, err := detections.New([]*detections.Rule{r}, detections.Config{Exceptions: []string{`host.name:lab-*`}})
	require.NoError(t, err)

	require.Len(t, hitsOf(en, logon("1", "4625", "tanaka", "ws-01", "10.0.0.5", t0)), 1)
	require.Empty(t, hitsOf(en, logon("2", "4625", "svc_backup", "ws-01", "10.0.0.5", t0)), "rule exception")
	require.Empty(t, hitsOf(en, logon("3", "4625", "tanaka", "ws-01", "192.168.1.9", t0)), "rule exception on an address")
	require.Empty(t, hitsOf(en, logon("4", "4625", "tanaka", "lab-07", "10.0.0.5", t0)), "global exception")
	require.Len(t, hitsOf(en, logon("5", "4625", "田中", "ws-01", "10.0.0.5", t0)), 1)
}

func TestLoadErrorsNameTheRule(t *testing.T) {
	bad := bruteForce(t)
	bad.Exceptions = []string{`user.name:(tanaka`}
	_, err := detections.New([]*detections.Rule{bad}, detections.Config{})
	require.ErrorIs(t, err, detections.ErrInvalidRule)
	require.ErrorContains(t, err, `mamori-failed-logon ("Failed logon"): exception 1`)

	_, err = detections.New([]*detections.Rule{bruteForce(t)}, detections.Config{Exceptions: []string{`host.name:"unterminated`}})
	require.ErrorContains(t, err, "global exception 1")

	cases := map[string]*detections.Rule{
		"no detector":    {ID: "x", Name: "x", Severity: detections.Low},
		"no id":          {Name: "x", Severity: detections.Low, Detector: &always{}},
		"severity 0":     {ID: "x", Name: "x", Detector: &always{}},
		"risk score 101": {ID: "x", Name: "x", Severity: detections.Low, RiskScore: 101, Detector: &always{}},
		`technique id "1110"`: {ID: "x", Name: "x", Severity: detections.Low, Detector: &always{},
			Techniques: []detections.Technique{{ID: "1110"}}},
		"needs a field and at least one value": {ID: "x", Name: "x", Severity: detections.Low, Detector: &always{},
			Prerequisites: []detections.Prerequisite{{Field: "event.code"}}},
	}
	for want, r := range cases {
		_, err := detections.New([]*detections.Rule{r}, detections.Config{})
		require.ErrorIs(t, err, detections.ErrInvalidRule, want)
		require.ErrorContains(t, err, want)
	}

	// Every bad rule is reported, not only the first; duplicate ids too.
	_, err = detections.New([]*detections.Rule{cases["no detector"], bruteForce(t), bruteForce(t), cases["no id"]}, detections.Config{})
	require.ErrorContains(t, err, "no detector")
	require.ErrorContains(t, err, "duplicate id")
	require.ErrorContains(t, err, "no id")
	require.True(t, errors.Is(err, detections.ErrInvalidRule))
}

func TestRuleDefaults(t *testing.T) {
	r := &detections.Rule{ID: "x", Name: "x", Severity: detections.High, Detector: &always{}}
	en, err := detections.New([]*detections.Rule{r}, detections.Config{})
	require.NoError(t, err)
	got := en.Rules()[0]
	require.Equal(t, 73, got.RiskScore)
	require.Equal(t, detections.DefaultSuppression, got.Suppression)
	require.Equal(t, []string{"user.name", "host.name", "source.ip"}, got.DedupKey)
	require.Zero(t, r.RiskScore, "the caller's rule is not changed")

	for s, score := range map[detections.Severity]int{detections.Low: 21, detections.Medium: 47, detections.High: 73, detections.Critical: 99} {
		require.Equal(t, score, s.RiskScore())
		parsed, err := detections.ParseSeverity(s.String())
		require.NoError(t, err)
		require.Equal(t, s, parsed)
	}
	_, err = detections.ParseSeverity("severe")
	require.Error(t, err)
}
