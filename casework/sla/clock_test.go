package sla_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework/sla"
)

var jst = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return loc
}()

func at(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, jst) }

func newCal(t testing.TB) *calendar.Calendar {
	t.Helper()
	c, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	return c
}

// def returns the default clock of that name.
func def(t testing.TB, name string) sla.ClockDef {
	t.Helper()
	for _, d := range sla.Defaults() {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no default clock %q", name)
	return sla.ClockDef{}
}

func created(t time.Time, channel string) sla.Entry {
	return sla.Entry{At: t, Kind: sla.KindCreated, Status: "new", Channel: channel}
}

func status(t time.Time, s string) sla.Entry {
	return sla.Entry{At: t, Kind: sla.KindStatus, Status: s}
}

func notified(t time.Time, n string) sla.Entry {
	return sla.Entry{At: t, Kind: sla.KindNotification, Notification: n, Channel: "email"}
}

// one evaluates a clock that has exactly one instance.
func one(t *testing.T, d sla.ClockDef, tl []sla.Entry, now time.Time) sla.Clock {
	t.Helper()
	cs := sla.Evaluate(d, tl, now, newCal(t))
	require.Len(t, cs, 1)
	return cs[0]
}

// twoHours is a 2-business-hour clock: the e-mail acknowledgement of
// incidents (SLA item 5).
func twoHours(t *testing.T) sla.ClockDef { return def(t, "incident_acknowledgement_email") }

func TestBusinessHoursAcrossHolidays(t *testing.T) {
	for _, tc := range []struct {
		name             string
		start, warn, due time.Time
	}{
		// Friday 2026-07-17 16:30: 45 minutes to 17:15. Saturday, Sunday and
		// Monday 07-20 (海の日) are closed; the remaining 1h15m run from
		// 08:30 on Tuesday 07-21.
		{"Friday before Marine Day", at(2026, 7, 17, 16, 30), at(2026, 7, 21, 9, 15), at(2026, 7, 21, 9, 45)},
		// Friday 2026-09-18 16:30, before the silver week: Monday 09-21
		// (敬老の日), Tuesday 09-22 (国民の休日, a citizens' holiday between
		// two holidays) and Wednesday 09-23 (秋分の日) are closed, so the
		// clock is due on Thursday 09-24.
		{"Friday before the silver week", at(2026, 9, 18, 16, 30), at(2026, 9, 24, 9, 15), at(2026, 9, 24, 9, 45)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := []sla.Entry{created(tc.start, "email")}
			c := one(t, twoHours(t), tl, tc.start)
			require.Equal(t, tc.due, c.Due)
			require.Equal(t, tc.warn, c.WarnAt)
			require.Equal(t, sla.Running, c.State)
			require.Equal(t, 2*time.Hour, c.Target)

			// A minute before the due time it warns; at the due time it
			// is still within target; after it, it is breached at Due.
			c = one(t, twoHours(t), tl, tc.due.Add(-time.Minute))
			require.Equal(t, sla.Warning, c.State)
			require.Equal(t, 2*time.Hour-time.Minute, c.Elapsed)
			c = one(t, twoHours(t), tl, tc.due)
			require.Equal(t, sla.Warning, c.State)
			c = one(t, twoHours(t), tl, tc.due.Add(15*time.Minute))
			require.Equal(t, sla.Breached, c.State)
			require.Equal(t, tc.due, c.BreachedAt)
			require.True(t, c.StoppedAt.IsZero())
			require.Equal(t, 2*time.Hour+15*time.Minute, c.Elapsed)

			// Acknowledged at the due minute: met, with the whole target used.
			c = one(t, twoHours(t), append(tl, notified(tc.due, "acknowledgement")), tc.due.Add(time.Hour))
			require.Equal(t, sla.Met, c.State)
			require.Equal(t, 2*time.Hour, c.Elapsed)
			require.Equal(t, tc.due, c.StoppedAt)
			require.True(t, c.BreachedAt.IsZero())
		})
	}
}

func TestStartOutsideBusinessHours(t *testing.T) {
	cases := []struct {
		name       string
		start, due time.Time
	}{
		// An e-mail on Saturday night counts from Monday 08:30.
		{"Saturday night", at(2026, 10, 17, 22, 0), at(2026, 10, 19, 10, 30)},
		// Monday 2026-10-12 is Sports Day (スポーツの日): from Tuesday 08:30.
		{"Saturday night before a holiday", at(2026, 10, 10, 22, 0), at(2026, 10, 13, 10, 30)},
		// Before opening on a business day: from 08:30 that day.
		{"early morning", at(2026, 10, 19, 6, 0), at(2026, 10, 19, 10, 30)},
		// After closing: from 08:30 the next business day.
		{"evening", at(2026, 10, 19, 19, 0), at(2026, 10, 20, 10, 30)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tl := []sla.Entry{created(tc.start, "email")}
			c := one(t, twoHours(t), tl, tc.due.Add(-2*time.Hour))
			require.Equal(t, tc.due, c.Due)
			require.Equal(t, tc.start, c.StartedAt)
			require.Equal(t, time.Duration(0), c.Elapsed)
			require.Equal(t, sla.Running, c.State)

			// Acknowledged before business opens: met, nothing counted.
			c = one(t, twoHours(t), append(tl, notified(tc.start.Add(time.Minute), "acknowledgement")), tc.due)
			require.Equal(t, sla.Met, c.State)
			require.Equal(t, time.Duration(0), c.Elapsed)
		})
	}
}

func TestPauseAndResume(t *testing.T) {
	d := def(t, "failure_recovery") // 4 business hours, paused while waiting_vendor
	start := at(2026, 10, 5, 9, 0)  // Monday
	tl := []sla.Entry{
		created(start, "monitoring"),
		status(at(2026, 10, 5, 9, 5), "in_progress"),
		status(at(2026, 10, 5, 10, 0), "waiting_vendor"),
		status(at(2026, 10, 5, 11, 30), "in_progress"),
	}

	// Before the pause: due 13:00.
	c := one(t, d, tl, at(2026, 10, 5, 9, 30))
	require.Equal(t, at(2026, 10, 5, 13, 0), c.Due)
	require.Equal(t, sla.Running, c.State)

	// During the pause: paused, one hour counted, and due where the target
	// would run out if the clock resumed now.
	c = one(t, d, tl, at(2026, 10, 5, 11, 0))
	require.Equal(t, sla.Paused, c.State)
	require.True(t, c.Paused)
	require.Equal(t, time.Hour, c.Elapsed)
	require.Equal(t, at(2026, 10, 5, 14, 0), c.Due)

	// After it: the 90 minutes of vendor time move the due time to 14:30.
	c = one(t, d, tl, at(2026, 10, 5, 12, 0))
	require.Equal(t, sla.Running, c.State)
	require.False(t, c.Paused)
	require.Equal(t, at(2026, 10, 5, 14, 30), c.Due)
	require.Equal(t, at(2026, 10, 5, 13, 30), c.WarnAt) // 3 of 4 hours
	require.Equal(t, 90*time.Minute, c.Elapsed)

	// Recovered at 14:20: met, 3h50m counted.
	done := append(tl, status(at(2026, 10, 5, 14, 20), "resolved"), status(at(2026, 10, 5, 15, 0), "waiting_vendor"))
	c = one(t, d, done, at(2026, 10, 6, 12, 0))
	require.Equal(t, sla.Met, c.State)
	require.Equal(t, at(2026, 10, 5, 14, 20), c.StoppedAt)
	require.Equal(t, 3*time.Hour+50*time.Minute, c.Elapsed)
	require.Equal(t, at(2026, 10, 5, 14, 30), c.Due)

	// A pause over the night moves the due time by its business time only:
	// 16:00-17:15 and 08:30-10:00, 2h45m.
	night := []sla.Entry{
		created(at(2026, 10, 5, 15, 0), "monitoring"),
		status(at(2026, 10, 5, 16, 0), "waiting_vendor"),
		status(at(2026, 10, 6, 10, 0), "in_progress"),
	}
	c = one(t, d, night, at(2026, 10, 6, 10, 0))
	// 1h before the pause, 3h after it: 10:00 + 3h = 13:00 on Tuesday.
	require.Equal(t, at(2026, 10, 6, 13, 0), c.Due)
	require.Equal(t, time.Hour, c.Elapsed)

	// Recovered while paused: stopped at recovery, the pause not counted.
	c = one(t, d, append(night[:2:2], status(at(2026, 10, 6, 9, 0), "resolved")), at(2026, 10, 7, 9, 0))
	require.Equal(t, sla.Met, c.State)
	require.Equal(t, time.Hour, c.Elapsed)
}

func TestRepeatingClock(t *testing.T) {
	d := def(t, "failure_progress_report") // every 4 business hours until closed
	tl := []sla.Entry{
		created(at(2026, 10, 6, 9, 0), "monitoring"), // Tuesday
		notified(at(2026, 10, 6, 12, 0), "progress_report"),
		// 4 hours after 12:00 is 16:00: the report at 16:10 is late.
		notified(at(2026, 10, 6, 16, 10), "progress_report"),
		status(at(2026, 10, 7, 10, 0), "closed"),
		notified(at(2026, 10, 7, 10, 5), "progress_report"), // after the stop: ignored
	}

	type rep struct {
		state                    sla.State
		start, due, stop, breach time.Time
	}
	check := func(t *testing.T, cs []sla.Clock, want []rep) {
		t.Helper()
		require.Len(t, cs, len(want))
		for i, w := range want {
			c := cs[i]
			require.Equal(t, i, c.Repetition, "repetition %d", i)
			require.Equal(t, w.state, c.State, "repetition %d", i)
			require.Equal(t, w.start, c.StartedAt, "repetition %d", i)
			require.Equal(t, w.due, c.Due, "repetition %d", i)
			require.Equal(t, w.stop, c.StoppedAt, "repetition %d", i)
			require.Equal(t, w.breach, c.BreachedAt, "repetition %d", i)
		}
	}
	var zero time.Time

	// Closed: four repetitions. The second ran out at 16:00 without a
	// report, and the third started there; the late report at 16:10 meets
	// it. The fourth, due at 11:25 the next day (1h05m to closing, then
	// 2h55m from 08:30), is met by the close at 10:00.
	check(t, sla.Evaluate(d, tl, at(2026, 10, 8, 9, 0), newCal(t)), []rep{
		{sla.Met, at(2026, 10, 6, 9, 0), at(2026, 10, 6, 13, 0), at(2026, 10, 6, 12, 0), zero},
		{sla.Breached, at(2026, 10, 6, 12, 0), at(2026, 10, 6, 16, 0), at(2026, 10, 6, 16, 0), at(2026, 10, 6, 16, 0)},
		{sla.Met, at(2026, 10, 6, 16, 0), at(2026, 10, 7, 11, 15), at(2026, 10, 6, 16, 10), zero},
		{sla.Met, at(2026, 10, 6, 16, 10), at(2026, 10, 7, 11, 25), at(2026, 10, 7, 10, 0), zero},
	})

	// While open: the second repetition runs and warns after 3 hours.
	cs := sla.Evaluate(d, tl, at(2026, 10, 6, 15, 30), newCal(t))
	check(t, cs, []rep{
		{sla.Met, at(2026, 10, 6, 9, 0), at(2026, 10, 6, 13, 0), at(2026, 10, 6, 12, 0), zero},
		{sla.Warning, at(2026, 10, 6, 12, 0), at(2026, 10, 6, 16, 0), zero, zero},
	})
	require.Equal(t, 3*time.Hour+30*time.Minute, cs[1].Elapsed)

	// Silence: every 4 business hours without a report is one breach.
	silent := tl[:1]
	check(t, sla.Evaluate(d, silent, at(2026, 10, 7, 12, 0), newCal(t)), []rep{
		{sla.Breached, at(2026, 10, 6, 9, 0), at(2026, 10, 6, 13, 0), at(2026, 10, 6, 13, 0), at(2026, 10, 6, 13, 0)},
		{sla.Breached, at(2026, 10, 6, 13, 0), at(2026, 10, 6, 17, 0), at(2026, 10, 6, 17, 0), at(2026, 10, 6, 17, 0)},
		{sla.Warning, at(2026, 10, 6, 17, 0), at(2026, 10, 7, 12, 15), zero, zero},
	})

	// Not started: no clocks.
	require.Empty(t, sla.Evaluate(d, []sla.Entry{status(at(2026, 10, 6, 9, 0), "closed")}, at(2026, 10, 7, 12, 0), newCal(t)))
}
