package casework_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/sla"
)

func TestDutyPeriods(t *testing.T) {
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	jst := cal.Location()
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, jst) }
	for _, tc := range []struct {
		duty  string
		at    time.Time
		start time.Time
		title string
	}{
		{"daily_report", at(2026, 11, 27, 10), at(2026, 11, 27, 0), "日報 2026-11-27"},
		{"daily_report", at(2026, 11, 28, 10), time.Time{}, ""},                                           // Saturday
		{"daily_report", at(2026, 11, 23, 10), time.Time{}, ""},                                           // 勤労感謝の日
		{"daily_report", at(2026, 12, 30, 10), time.Time{}, ""},                                           // year-end closure
		{"weekly_security_report", at(2026, 11, 23, 10), at(2026, 11, 23, 0), "週次セキュリティ報告 2026-11-23 の週"}, // a holiday Monday still starts the week
		{"weekly_security_report", at(2026, 11, 29, 23), at(2026, 11, 23, 0), "週次セキュリティ報告 2026-11-23 の週"}, // Sunday
		{"monthly_report", at(2026, 11, 30, 23), at(2026, 11, 1, 0), "月次報告 2026-11"},
		{"sla_review", at(2026, 11, 27, 10), at(2026, 10, 1, 0), "SLA 見直し 2026-10 からの半期"},
		{"sla_review", at(2027, 2, 1, 10), at(2026, 10, 1, 0), "SLA 見直し 2026-10 からの半期"},
		{"sla_review", at(2027, 4, 1, 0), at(2027, 4, 1, 0), "SLA 見直し 2027-04 からの半期"},
	} {
		start, title, ok := casework.DutyPeriod(tc.duty, tc.at, cal)
		require.Equal(t, !tc.start.IsZero(), ok, "%s at %s", tc.duty, tc.at)
		require.True(t, start.Equal(tc.start), "%s at %s: start %s", tc.duty, tc.at, start)
		require.Equal(t, tc.title, title)
	}
}

// TestScheduler: duties open once per period, however many schedulers
// sweep however often; the daily report's clock runs from the day's start
// to noon of the next business day.
func TestScheduler(t *testing.T) {
	cs, now := newCases(t)
	ctx := context.Background()
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	jst := cal.Location()
	*now = time.Date(2026, 11, 27, 9, 0, 0, 0, jst) // a Friday
	var wg sync.WaitGroup
	opened := make([]int, 3)
	for i := range opened {
		wg.Go(func() {
			s, err := casework.NewScheduler(cs, cal, nil)
			require.NoError(t, err)
			for range 2 {
				n, err := s.Sweep(ctx, *now)
				require.NoError(t, err)
				opened[i] += n
			}
		})
	}
	wg.Wait()
	require.Equal(t, 7, opened[0]+opened[1]+opened[2], "every duty once")

	daily, _, err := cs.Get(ctx, casework.DutyCaseID("daily_report", time.Date(2026, 11, 27, 0, 0, 0, 0, jst)))
	require.NoError(t, err)
	require.Equal(t, casework.Duty, daily.Type)
	require.Equal(t, "日報 2026-11-27", daily.Title)
	clock, _ := daily.Clock(sla.Defaults(), "daily_report", *now, cal)
	require.Equal(t, time.Date(2026, 11, 30, 12, 0, 0, 0, jst), clock.Due.In(jst), "Monday noon")

	s, err := casework.NewScheduler(cs, cal, []string{"daily_report"})
	require.NoError(t, err)
	n, err := s.Sweep(ctx, time.Date(2026, 11, 28, 9, 0, 0, 0, jst))
	require.NoError(t, err)
	require.Zero(t, n, "no daily report on Saturday")
	n, err = s.Sweep(ctx, time.Date(2026, 11, 30, 0, 0, 1, 0, jst))
	require.NoError(t, err)
	require.Equal(t, 1, n, "Monday's")

	_, err = casework.NewScheduler(cs, cal, []string{"weekly_report"})
	require.ErrorContains(t, err, `duty "weekly_report": want one of`)
}
