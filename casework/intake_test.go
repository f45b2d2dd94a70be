package casework_test

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/sla"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/internal/fakebus"
	"github.com/mamori-soc/mamori/pipeline"
)

const bruteForceRunbook = `# パスワード推測への対応 (Brute force against one account)

Check who the account belongs to before anything else.

1. 対象アカウントの所有者に連絡し、本人の操作か確認する
2. Look up the source address in the asset ledger
- [ ] Lock the account if the owner did not try to log on
- Report to the system staff

` + "```" + `
- not a step: inside a code block
` + "```\n"

func alertRecord(t *testing.T, id, rule, user string, first time.Time, count int64) bus.Record {
	t.Helper()
	a := &event.Event{
		Timestamp: first, Message: "Repeated failed logons for one account: user " + user,
		Event:  event.Meta{ID: id, Kind: "alert", Reason: "At least 10 failed logons within 10 minutes."},
		User:   &event.User{Name: user},
		Fields: map[string]any{"rule.id": rule, "rule.name": "Brute force", "mamori.alert.severity": "high", "mamori.alert.count": count, "mamori.alert.dedup_key": []string{user}},
	}
	data, err := event.Marshal(a)
	require.NoError(t, err)
	return bus.Record{Topic: bus.TopicAlerts, Value: data, Headers: []bus.Header{{Key: pipeline.HeaderID, Value: []byte(id)}}}
}

func TestAlertsBecomeCases(t *testing.T) {
	cs, _ := newCases(t)
	ctx := context.Background()
	rb, err := casework.LoadRunbooks(fstest.MapFS{"mamori.win.brute_force_account.md": {Data: []byte(bruteForceRunbook)}})
	require.NoError(t, err)
	dead := &fakebus.Producer{}
	in := casework.NewIntake(cs, casework.IntakeOptions{Runbooks: rb, DeadLetters: dead})

	t0 := time.Date(2026, 11, 23, 16, 10, 0, 0, time.UTC) // 01:10 in Tokyo
	require.NoError(t, in.Handle(ctx, []bus.Record{
		alertRecord(t, "a1", "mamori.win.brute_force_account", "suzuki", t0, 10),
		alertRecord(t, "a1", "mamori.win.brute_force_account", "suzuki", t0, 12), // the alert grew
		alertRecord(t, "a2", "mamori.win.brute_force_account", "suzuki", t0.Add(2*time.Hour), 10),
		alertRecord(t, "a3", "mamori.win.brute_force_account", "田中", t0.Add(time.Hour), 10),
		{Topic: bus.TopicAlerts, Value: []byte(`{"@timestamp":"2026-11-23T00:00:00Z","message":"no rule"}`)},
	}))
	// Redelivery files nothing twice.
	require.NoError(t, in.Handle(ctx, []bus.Record{alertRecord(t, "a2", "mamori.win.brute_force_account", "suzuki", t0.Add(2*time.Hour), 10)}))
	require.Len(t, dead.Records(), 1, "the record that is not an alert is dead-lettered")

	suzuki, _, err := cs.Get(ctx, casework.CaseIDForAlert("mamori.win.brute_force_account", []string{"suzuki"}, t0, 0, nil))
	require.NoError(t, err)
	require.Equal(t, casework.SecurityIncident, suzuki.Type)
	require.Equal(t, casework.P2, suzuki.Priority)
	require.Equal(t, t0, suzuki.Timestamp, "opened at detection time")
	require.Equal(t, []casework.Link{{Kind: "alert", ID: "a1"}, {Kind: "alert", ID: "a2"}}, suzuki.Links, "same rule and entity in the window: one case")
	require.Equal(t, "mamori.win.brute_force_account", suzuki.Runbook)
	require.Equal(t, []casework.Step{
		{Text: "対象アカウントの所有者に連絡し、本人の操作か確認する"},
		{Text: "Look up the source address in the asset ledger"},
		{Text: "Lock the account if the owner did not try to log on"},
		{Text: "Report to the system staff"},
	}, suzuki.Checklist)
	require.Equal(t, "suzuki", suzuki.Fields["entity"])

	tanaka, _, err := cs.Get(ctx, casework.CaseIDForAlert("mamori.win.brute_force_account", []string{"田中"}, t0, 0, nil))
	require.NoError(t, err)
	require.NotEqual(t, suzuki.ID, tanaka.ID, "another entity: another case")
	require.Len(t, tanaka.Links, 1)
}

// TestCaseWindowsAreLocalDays: with the calendar's zone, a day's window is
// the local day: 23:59 and 00:01 Tokyo are two cases, 00:01 and 23:59 one,
// and the id carries the local date.
func TestCaseWindowsAreLocalDays(t *testing.T) {
	jst := time.FixedZone("Asia/Tokyo", 9*60*60)
	id := func(at time.Time) string {
		return casework.CaseIDForAlert("r", []string{"suzuki"}, at, 24*time.Hour, jst)
	}
	early, late := time.Date(2026, 11, 23, 0, 1, 0, 0, jst), time.Date(2026, 11, 23, 23, 59, 0, 0, jst)
	require.Equal(t, id(early), id(late))
	require.Regexp(t, `^SEC-20261123-`, id(early))
	require.NotEqual(t, id(late), id(late.Add(2*time.Minute)))
	require.Regexp(t, `^SEC-20261124-`, id(late.Add(2*time.Minute)))
	require.Regexp(t, `^SEC-20261122-`, casework.CaseIDForAlert("r", nil, early, 24*time.Hour, nil), "UTC windows: the UTC date")
}

func TestRunbookWithoutSteps(t *testing.T) {
	_, err := casework.LoadRunbooks(fstest.MapFS{"empty.md": {Data: []byte("# Nothing to do\n\nJust prose.\n")}})
	require.ErrorContains(t, err, "runbook empty: no steps")
}

// TestFailureAlertsStartTheFirstReportClock: a rule configured to open
// failure cases does; the case opens at detection time, so its 15-minute
// first-report clock runs from then, not from when anyone looked.
func TestFailureAlertsStartTheFirstReportClock(t *testing.T) {
	cs, _ := newCases(t)
	ctx := context.Background()
	in := casework.NewIntake(cs, casework.IntakeOptions{Types: map[string]casework.Type{"mamori.host.log_source_silent": casework.Failure}})
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	detected := time.Date(2026, 11, 24, 10, 0, 0, 0, cal.Location()) // a Tuesday, business hours
	rec := alertRecord(t, "s1", "mamori.host.log_source_silent", "-", detected, 1)
	require.NoError(t, in.Handle(ctx, []bus.Record{rec, alertRecord(t, "b1", "mamori.win.brute_force_account", "suzuki", detected, 10)}))

	list, err := cs.Opened(ctx, detected.Add(-time.Hour), detected.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, list, 2)
	types := map[casework.Type]casework.Case{}
	for _, c := range list {
		types[c.Type] = c
	}
	failure := types[casework.Failure]
	require.Regexp(t, `^FAIL-20261124-[0-9a-f]{10}$`, failure.ID)
	require.Equal(t, casework.SecurityIncident, types[casework.SecurityIncident].Type, "other rules still open security incidents")
	first, _ := failure.Clock(sla.Defaults(), "failure_first_report", detected.Add(16*time.Minute), cal)
	require.True(t, first.StartedAt.Equal(detected), "started at detection: %v", first.StartedAt)
	require.Equal(t, sla.Breached, first.State, "16 minutes after detection without a first report")
}
