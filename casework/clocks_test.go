package casework_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/sla"
)

// TestCaseClocks runs the default SLA clocks on a failure case as it is
// worked: detected from monitoring, first report sent, waiting on the
// vendor, recovered.
func TestCaseClocks(t *testing.T) {
	cs, now := newCases(t)
	ctx := context.Background()
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	tokyo := cal.Location()
	*now = time.Date(2026, 11, 24, 10, 0, 0, 0, tokyo) // a Tuesday, business hours
	c, _, err := cs.Open(ctx, "monitoring", casework.Case{Type: casework.Failure, Title: "本庁舎 コアスイッチ応答なし", Channel: "monitoring"})
	require.NoError(t, err)

	clock := func(c casework.Case, name string, at time.Time) sla.Clock {
		k, ok := c.Clock(sla.Defaults(), name, at, cal)
		require.True(t, ok, "no clock %s", name)
		return k
	}
	first := clock(c, "failure_first_report", *now)
	require.Equal(t, time.Date(2026, 11, 24, 10, 15, 0, 0, tokyo), first.Due.In(tokyo), "15 minutes from detection")

	*now = now.Add(10 * time.Minute)
	c, _, err = cs.Modify(ctx, c.ID, "suzuki", func(c *casework.Case) error {
		c.Timeline = append(c.Timeline, casework.Entry{At: *now, Kind: "notification", Notification: "first_report"})
		c.Status = casework.InProgress
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, sla.Met, clock(c, "failure_first_report", *now).State)

	*now = now.Add(50 * time.Minute) // 11:00: the vendor takes over for an hour
	c, _, err = cs.Modify(ctx, c.ID, "suzuki", func(c *casework.Case) error { c.Status = casework.WaitingVendor; return nil })
	require.NoError(t, err)
	*now = now.Add(time.Hour)
	c, _, err = cs.Modify(ctx, c.ID, "suzuki", func(c *casework.Case) error { c.Status = casework.InProgress; return nil })
	require.NoError(t, err)
	rec := clock(c, "failure_recovery", *now)
	require.Equal(t, time.Date(2026, 11, 24, 15, 0, 0, 0, tokyo), rec.Due.In(tokyo), "4 hours, plus the hour of vendor time")

	*now = now.Add(2 * time.Hour) // 14:00: recovered
	c, _, err = cs.Modify(ctx, c.ID, "suzuki", func(c *casework.Case) error { c.Status = casework.Resolved; return nil })
	require.NoError(t, err)
	rec = clock(c, "failure_recovery", *now)
	require.Equal(t, sla.Met, rec.State)
	require.Equal(t, 3*time.Hour, rec.Elapsed, "10:00 to 14:00 less the vendor's hour")
}

// TestDefaultClocksApply: every default clock names case types casework
// has, so none is silently never run.
func TestDefaultClocksApply(t *testing.T) {
	require.NoError(t, casework.CheckClocks(sla.Defaults()))
	err := casework.CheckClocks([]sla.ClockDef{{Name: "x", AppliesTo: []string{"outage", "request/log_retreival"}}})
	require.ErrorContains(t, err, `clock x: applies_to "outage": no case type "outage"`)
	require.ErrorContains(t, err, `request has no subtype "log_retreival"`)
}
