package native_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
)

// jst is a Tokyo wall-clock time, given to events in UTC.
func jst(y int, m time.Month, d, hh, mm, ss int) time.Time {
	tokyo := time.FixedZone("JST", 9*3600)
	return time.Date(y, m, d, hh, mm, ss, 0, tokyo).UTC()
}

func TestOffHours(t *testing.T) {
	rules := map[string]string{
		"outside": "outside_business_hours: true",
		"closed":  "closed_days: true",
		"night":   `night: "22:00-05:00"`,
	}
	tests := []struct {
		name string
		at   time.Time
		want map[string]bool // by rule; missing means false
	}{
		// Night window edges, on an ordinary Wednesday.
		{"21:59:59 is before the night", jst(2026, 6, 10, 21, 59, 59), map[string]bool{"outside": true}},
		{"22:00:00 starts the night", jst(2026, 6, 10, 22, 0, 0), map[string]bool{"outside": true, "night": true}},
		{"04:59:59 is still night", jst(2026, 6, 11, 4, 59, 59), map[string]bool{"outside": true, "night": true}},
		{"05:00:00 ends the night", jst(2026, 6, 11, 5, 0, 0), map[string]bool{"outside": true}},
		{"midnight is night", jst(2026, 6, 11, 0, 0, 0), map[string]bool{"outside": true, "night": true}},
		// Business hours 08:30 to 17:15 on a business day.
		{"08:29:59 before opening", jst(2026, 6, 10, 8, 29, 59), map[string]bool{"outside": true}},
		{"08:30:00 at opening", jst(2026, 6, 10, 8, 30, 0), nil},
		{"17:14:59 before closing", jst(2026, 6, 10, 17, 14, 59), nil},
		{"17:15:00 at closing", jst(2026, 6, 10, 17, 15, 0), map[string]bool{"outside": true}},
		// Closed days.
		{"Saturday noon", jst(2026, 6, 13, 12, 0, 0), map[string]bool{"outside": true, "closed": true}},
		{"敬老の日 Monday 2026-09-21 noon", jst(2026, 9, 21, 12, 0, 0), map[string]bool{"outside": true, "closed": true}},
		{"国民の休日 Tuesday 2026-09-22 noon", jst(2026, 9, 22, 12, 0, 0), map[string]bool{"outside": true, "closed": true}},
		{"Thursday 2026-09-24 after the holidays", jst(2026, 9, 24, 12, 0, 0), nil},
		{"スポーツの日 Monday 2026-10-12 noon", jst(2026, 10, 12, 12, 0, 0), map[string]bool{"outside": true, "closed": true}},
		{"Tuesday 2026-10-13 noon", jst(2026, 10, 13, 12, 0, 0), nil},
		{"Tuesday 2026-10-13 00:30 JST is スポーツの日 in UTC: not closed", jst(2026, 10, 13, 0, 30, 0), map[string]bool{"outside": true, "night": true}},
		{"Monday 2026-12-28 before the closure", jst(2026, 12, 28, 12, 0, 0), nil},
		{"2026-12-29 year-end closure", jst(2026, 12, 29, 12, 0, 0), map[string]bool{"outside": true, "closed": true}},
		{"2027-01-03 last closed day", jst(2027, 1, 3, 12, 0, 0), map[string]bool{"outside": true, "closed": true}},
		{"2027-01-04 first business day", jst(2027, 1, 4, 12, 0, 0), nil},
		// A Tokyo date differs from the UTC date: 2026-09-21 00:30 JST is
		// 2026-09-20 15:30 UTC, a Sunday in UTC but 敬老の日 in Tokyo;
		// 2026-09-24 08:45 JST is 2026-09-23 23:45 UTC (秋分の日 in UTC).
		{"Tokyo date decides the holiday", jst(2026, 9, 24, 8, 45, 0), nil},
	}
	for name, section := range rules {
		r := parse(t, "kind: off_hours\nquery: 'event.code:4624'\noff_hours:\n  "+section+"\n")
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				e := logon("e1", "4624", "taro", "10.0.0.1", tt.at)
				require.Equal(t, tt.want[name], r.Detector.Match(e), "at %s", tt.at.In(time.FixedZone("JST", 9*3600)))
			})
		}
	}
}

func TestOffHoursNeedsQueryMatch(t *testing.T) {
	r := parse(t, "kind: off_hours\nquery: 'event.code:4624'\noff_hours: {closed_days: true}\n")
	require.False(t, r.Detector.Match(logon("e", "4625", "taro", "10.0.0.1", jst(2026, 6, 13, 12, 0, 0))))
	require.True(t, r.Detector.Match(logon("e", "4624", "taro", "10.0.0.1", jst(2026, 6, 13, 12, 0, 0))))
}

func TestOffHoursCombined(t *testing.T) {
	r := parse(t, "kind: off_hours\nquery: 'event.code:4624'\noff_hours:\n  closed_days: true\n  night: \"22:00-05:00\"\n")
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{jst(2026, 6, 10, 12, 0, 0), false}, // business day, daytime
		{jst(2026, 6, 10, 19, 0, 0), false}, // business day, evening: neither
		{jst(2026, 6, 10, 23, 0, 0), true},  // night
		{jst(2026, 6, 13, 12, 0, 0), true},  // Saturday
	} {
		require.Equal(t, tc.want, r.Detector.Match(logon("e", "4624", "u", "10.0.0.1", tc.at)), "%s", tc.at)
	}
}

func TestNightWindowNotWrapping(t *testing.T) {
	r := parse(t, "kind: off_hours\nquery: 'event.code:4624'\noff_hours: {night: \"12:00-13:00\"}\n")
	match := func(at time.Time) bool { return r.Detector.Match(logon("e", "4624", "u", "10.0.0.1", at)) }
	require.False(t, match(jst(2026, 6, 10, 11, 59, 59)))
	require.True(t, match(jst(2026, 6, 10, 12, 0, 0)))
	require.True(t, match(jst(2026, 6, 10, 12, 59, 59)))
	require.False(t, match(jst(2026, 6, 10, 13, 0, 0)))
}

func BenchmarkOffHoursMatch(b *testing.B) {
	r := parse(b, "kind: off_hours\nquery: 'event.code:4624 and winlog.logon.type:(Interactive or RemoteInteractive)'\noff_hours:\n  outside_business_hours: true\n  night: \"22:00-05:00\"\n")
	events := []*event.Event{
		logon("a", "4624", "taro", "10.0.0.1", jst(2026, 6, 10, 12, 0, 0)),
		logon("b", "4624", "taro", "10.0.0.1", jst(2026, 6, 13, 23, 0, 0)),
		logon("c", "4625", "taro", "10.0.0.1", jst(2026, 6, 10, 12, 0, 0)),
	}
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if r.Detector.Match(events[i%len(events)]) {
			n++
		}
	}
	_ = n
}
