package syslog_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/syslog"
)

// TestRFC3164Year checks how the year and zone of RFC 3164 stamps are
// settled from the receive time, through both readers: go-syslog (plain
// stamps) and the lenient scanner (stamps with a fraction).
func TestRFC3164Year(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	at := func(y int, mo time.Month, d, h, mi, s int) time.Time { return time.Date(y, mo, d, h, mi, s, 0, jst) }
	cases := []struct {
		name     string
		stamp    string
		received time.Time
		want     time.Time
	}{
		{"same day", "Jan 15 10:00:00", at(2025, 1, 15, 10, 0, 5), at(2025, 1, 15, 10, 0, 0)},
		{"late by five seconds across New Year", "Dec 31 23:59:58", at(2025, 1, 1, 0, 0, 3), at(2024, 12, 31, 23, 59, 58)},
		{"late by a day across New Year", "Dec 31 10:00:00", at(2025, 1, 1, 10, 0, 0), at(2024, 12, 31, 10, 0, 0)},
		{"sender clock ahead across New Year", "Jan  1 00:00:01", at(2024, 12, 31, 23, 59, 59), at(2025, 1, 1, 0, 0, 1)},
		{"sender clock six days ahead", "Jan  6 00:00:00", at(2024, 12, 31, 0, 0, 0), at(2025, 1, 6, 0, 0, 0)},
		{"beyond the tolerance is last year", "Jan  9 00:00:00", at(2024, 12, 31, 0, 0, 0), at(2024, 1, 9, 0, 0, 0)},
		{"half a year old", "Jul  1 12:00:00", at(2025, 1, 2, 0, 0, 0), at(2024, 7, 1, 12, 0, 0)},
		{"zone decides the receive year", "Dec 31 23:59:00", time.Date(2024, 12, 31, 15, 0, 30, 0, time.UTC), at(2024, 12, 31, 23, 59, 0)},
		{"leap day in a leap year", "Feb 29 12:00:00", at(2024, 2, 29, 12, 0, 1), at(2024, 2, 29, 12, 0, 0)},
		{"leap day received next day", "Feb 29 23:59:59", at(2024, 3, 1, 0, 0, 2), at(2024, 2, 29, 23, 59, 59)},
		{"leap day received the year after", "Feb 29 12:00:00", at(2025, 1, 10, 9, 0, 0), at(2024, 2, 29, 12, 0, 0)},
		{"leap day three years on goes back to the last leap year", "Feb 29 12:00:00", at(2027, 2, 28, 0, 0, 0), at(2024, 2, 29, 12, 0, 0)},
		{"leap day from a clock ahead into a leap year", "Feb 29 00:00:00", at(2028, 2, 28, 23, 59, 0), at(2028, 2, 29, 0, 0, 0)},
		{"leap day over the century rule", "Feb 29 00:00:00", at(2101, 6, 1, 0, 0, 0), at(2096, 2, 29, 0, 0, 0)},
		{"Feb 28 in a leap year stays put", "Feb 28 08:00:00", at(2024, 3, 1, 0, 0, 0), at(2024, 2, 28, 8, 0, 0)},
	}
	p, err := syslog.New(syslog.DefaultConfig())
	require.NoError(t, err)
	for _, tc := range cases {
		for _, variant := range []struct{ name, suffix string }{{"go-syslog", ""}, {"scanner", ".000"}} {
			t.Run(tc.name+"/"+variant.name, func(t *testing.T) {
				raw := "<13>" + tc.stamp + variant.suffix + " host app: text"
				var e event.Event
				require.NoError(t, p.Parse([]byte(raw), parsers.Meta{Received: tc.received}, &e))
				require.Equal(t, tc.want.UTC(), e.Timestamp, "got %s", e.Timestamp.In(jst))
				require.Equal(t, time.UTC, e.Timestamp.Location())
				require.Equal(t, "text", e.Message)
			})
		}
	}
}

// TestRFC3164ZoneFromConfig checks that zone-less stamps are read in the
// configured location, and zoned ones are not.
func TestRFC3164ZoneFromConfig(t *testing.T) {
	cfg := syslog.DefaultConfig()
	cfg.Location = "America/New_York"
	p, err := syslog.New(cfg)
	require.NoError(t, err)
	received := time.Date(2025, 7, 4, 16, 0, 0, 0, time.UTC)
	for raw, want := range map[string]time.Time{
		"<13>Jul  4 12:00:00 host app: summer time":        time.Date(2025, 7, 4, 16, 0, 0, 0, time.UTC),
		"<13>2025-07-04T12:00:00 host app: zone-less 3339": time.Date(2025, 7, 4, 16, 0, 0, 0, time.UTC),
		"<13>2025-07-04T12:00:00+09:00 host app: zoned":    time.Date(2025, 7, 4, 3, 0, 0, 0, time.UTC),
		"<13>1 2025-07-04T12:00:00.5Z host app - - - 5424": time.Date(2025, 7, 4, 12, 0, 0, 5e8, time.UTC),
	} {
		var e event.Event
		require.NoError(t, p.Parse([]byte(raw), parsers.Meta{Received: received}, &e), raw)
		require.Equal(t, want, e.Timestamp, raw)
	}
}

func TestNoTimestampUsesReceiveTime(t *testing.T) {
	p, err := syslog.New(syslog.DefaultConfig())
	require.NoError(t, err)
	received := time.Date(2025, 1, 15, 10, 0, 5, 123, time.FixedZone("JST", 9*3600))
	for _, raw := range []string{
		"<13>1 - host app - - - nil timestamp",
		"<13>no stamp at all",
		"<13>Apr 31 10:00:00 host app: a date no year has",
	} {
		var e event.Event
		require.NoError(t, p.Parse([]byte(raw), parsers.Meta{Received: received}, &e), raw)
		require.Equal(t, received.UTC(), e.Timestamp, raw)
	}
}
