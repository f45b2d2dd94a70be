package sla_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework/sla"
)

func TestWarning(t *testing.T) {
	d := twoHours(t)
	tl := []sla.Entry{created(at(2026, 10, 5, 10, 0), "email")}
	c := one(t, d, tl, at(2026, 10, 5, 11, 29))
	require.Equal(t, sla.Running, c.State)
	require.Equal(t, at(2026, 10, 5, 11, 30), c.WarnAt) // 75 % of 2h
	require.Equal(t, sla.Warning, one(t, d, tl, at(2026, 10, 5, 11, 30)).State)

	// A configured share.
	d.WarnAt = 0.5
	c = one(t, d, tl, at(2026, 10, 5, 11, 0))
	require.Equal(t, at(2026, 10, 5, 11, 0), c.WarnAt)
	require.Equal(t, sla.Warning, c.State)
}

func TestWallClockAcrossMidnight(t *testing.T) {
	d := sla.ClockDef{
		Name: "wall", AppliesTo: []string{"failure"},
		Start:  sla.Condition{Kind: sla.KindCreated},
		Stop:   sla.Condition{Kind: sla.KindNotification, Notification: "first_report"},
		Target: sla.Within(15 * time.Minute),
	}
	// Saturday 23:55: wall-clock time runs at night and at weekends.
	tl := []sla.Entry{created(at(2026, 10, 17, 23, 55), "monitoring")}
	c := one(t, d, tl, at(2026, 10, 18, 0, 5))
	require.Equal(t, at(2026, 10, 18, 0, 10), c.Due)
	require.Equal(t, 10*time.Minute, c.Elapsed)
	require.Equal(t, sla.Running, c.State)
	c = one(t, d, tl, at(2026, 10, 18, 0, 11))
	require.Equal(t, sla.Breached, c.State)
	require.Equal(t, at(2026, 10, 18, 0, 10), c.BreachedAt)

	// Phone acknowledgement (item 5, 10 wall-clock minutes) at night.
	phone := def(t, "incident_acknowledgement_phone")
	call := []sla.Entry{created(at(2026, 10, 17, 23, 58), "phone"), notified(at(2026, 10, 18, 0, 4), "acknowledgement")}
	c = one(t, phone, call, at(2026, 10, 18, 1, 0))
	require.Equal(t, sla.Met, c.State)
	require.Equal(t, 6*time.Minute, c.Elapsed)
	require.Equal(t, at(2026, 10, 18, 0, 8), c.Due)
	// An e-mail incident does not start the phone clock.
	require.Empty(t, sla.Evaluate(phone, []sla.Entry{created(at(2026, 10, 17, 23, 58), "email")}, at(2026, 10, 18, 1, 0), nil))
}

func TestDeadlineTargets(t *testing.T) {
	cases := []struct {
		name       string
		clock      string
		start, due time.Time
	}{
		// Item 15: received Monday 10:00, due at the end of business on
		// Tuesday.
		{"one business day", "request_fulfilment", at(2026, 10, 5, 10, 0), at(2026, 10, 6, 17, 15)},
		// Item 23: received Friday 2026-07-17: Monday is a holiday, so the 3
		// business days after it are Tuesday, Wednesday and Thursday 07-23.
		{"three business days", "maintenance_information", at(2026, 7, 17, 11, 0), at(2026, 7, 23, 17, 15)},
		// Item 18: the duty for Friday 2026-07-17 is due by noon on Tuesday
		// 07-21, after the Monday holiday.
		{"next business morning", "daily_report", at(2026, 7, 17, 17, 15), at(2026, 7, 21, 12, 0)},
		// Item 19: October's report by the end of 10 November.
		{"10th of the next month", "monthly_report", at(2026, 10, 30, 17, 0), at(2026, 11, 11, 0, 0)},
		// Item 16: within a month; 31 January runs to 28 February.
		{"a month", "outage_plan", at(2026, 1, 31, 10, 0), at(2026, 2, 28, 10, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := one(t, def(t, tc.clock), []sla.Entry{created(tc.start, "")}, tc.start)
			require.Equal(t, tc.due, c.Due)
			require.Equal(t, sla.Running, c.State)
		})
	}

	// Finished after closing on the due day: no business time was counted
	// past the target, so it is met. The next morning it is breached, at
	// the opening.
	d := def(t, "request_fulfilment")
	tl := []sla.Entry{created(at(2026, 10, 5, 10, 0), "email")}
	c := one(t, d, append(tl, notified(at(2026, 10, 6, 19, 0), "completion")), at(2026, 10, 7, 9, 0))
	require.Equal(t, sla.Met, c.State)
	c = one(t, d, append(tl, notified(at(2026, 10, 7, 8, 40), "completion")), at(2026, 10, 7, 9, 0))
	require.Equal(t, sla.Breached, c.State)
	require.Equal(t, at(2026, 10, 7, 8, 30), c.BreachedAt)
	require.Equal(t, at(2026, 10, 6, 17, 15), c.Due)

	// Waiting on the requester for an hour moves the deadline by an hour.
	c = one(t, d, append(tl, status(at(2026, 10, 5, 11, 0), "waiting_requester"), status(at(2026, 10, 5, 12, 0), "in_progress")), at(2026, 10, 5, 13, 0))
	require.Equal(t, at(2026, 10, 7, 9, 30), c.Due)
}

func TestTimelineOrderAndFuture(t *testing.T) {
	d := twoHours(t)
	start := at(2026, 10, 5, 10, 0)
	ack := notified(at(2026, 10, 5, 10, 30), "acknowledgement")
	// Unsorted entries are sorted; entries after now are not seen yet.
	c := one(t, d, []sla.Entry{ack, created(start, "email")}, at(2026, 10, 5, 10, 20))
	require.Equal(t, sla.Running, c.State)
	require.Equal(t, 20*time.Minute, c.Elapsed)
	c = one(t, d, []sla.Entry{ack, created(start, "email")}, at(2026, 10, 5, 10, 40))
	require.Equal(t, sla.Met, c.State)
	// The same stop entry before the start does not stop the clock.
	c = one(t, d, []sla.Entry{notified(start.Add(-time.Minute), "acknowledgement"), created(start, "email")}, at(2026, 10, 5, 10, 40))
	require.Equal(t, sla.Running, c.State)
	// Field constraints.
	d.Start.Fields = map[string]string{"priority": "high"}
	require.Empty(t, sla.Evaluate(d, []sla.Entry{created(start, "email")}, start, nil))
	e := created(start, "email")
	e.Fields = map[string]string{"priority": "high", "x": "y"}
	require.Len(t, sla.Evaluate(d, []sla.Entry{e}, start, nil), 1)
	// A definition that does not validate gives nothing.
	require.Nil(t, sla.Evaluate(sla.ClockDef{}, []sla.Entry{e}, start, nil))
}

func TestStateNames(t *testing.T) {
	for s, name := range map[sla.State]string{sla.Running: "running", sla.Paused: "paused", sla.Warning: "warning", sla.Met: "met", sla.Breached: "breached"} {
		require.Equal(t, name, s.String())
		b, err := s.MarshalText()
		require.NoError(t, err)
		require.Equal(t, name, string(b))
	}
}
