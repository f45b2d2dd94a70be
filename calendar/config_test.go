package calendar_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/calendar"
)

func TestConfigYAML(t *testing.T) {
	no := false
	good := []struct {
		name, yaml string
		want       calendar.Config
	}{
		{"empty mapping leaves zeros, which stand for the defaults", "{}", calendar.Config{}},
		{"sample config", calendar.SampleConfig(), calendar.DefaultConfig()},
		{"all keys", `
location: UTC
business_hours: {start: "09:00", end: "24:00"}
working_weekdays: [Mon, tue, SATURDAY]
japanese_holidays: false
closures: [{from: "08-13", to: "08-16", name: お盆}]
closed_dates: ["2025-06-02"]
open_dates: ["2025-06-07"]
`, calendar.Config{
			Location:         "UTC",
			BusinessHours:    calendar.Hours{Start: "09:00", End: "24:00"},
			WorkingWeekdays:  []string{"Mon", "tue", "SATURDAY"},
			JapaneseHolidays: &no,
			Closures:         []calendar.Closure{{From: "08-13", To: "08-16", Name: "お盆"}},
			ClosedDates:      []string{"2025-06-02"},
			OpenDates:        []string{"2025-06-07"},
		}},
		{"no closures", "closures: []\n", calendar.Config{Closures: []calendar.Closure{}}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			var c calendar.Config
			require.NoError(t, yaml.Unmarshal([]byte(tc.yaml), &c))
			require.Equal(t, tc.want, c)
			_, err := calendar.New(c)
			require.NoError(t, err)
		})
	}

	bad := []struct{ name, yaml, err string }{
		{"unknown key", "locaton: UTC\n", `calendar config: line 1: unknown key "locaton" (known: location, business_hours, working_weekdays, japanese_holidays, closures, closed_dates, open_dates)`},
		{"unknown hours key", "business_hours:\n  begin: \"09:00\"\n", `calendar config: line 2: unknown key "business_hours.begin" (known: start, end)`},
		{"unknown closure key", "closures:\n  - from: 12-29\n    until: 01-03\n", `calendar config: line 3: unknown key "closures[].until" (known: from, to, name)`},
		{"not a mapping", "- a\n", "calendar config: line 1: want a mapping of keys to values"},
		{"hours not a mapping", "business_hours: 9-5\n", "calendar config: line 1: business_hours: want a mapping of keys to values"},
		{"unknown zone", "location: Asia/Tokio\n", `calendar config: location "Asia/Tokio": unknown time zone Asia/Tokio (use an IANA zone name such as Asia/Tokyo or UTC; a binary without the system zoneinfo must import time/tzdata)`},
		{"bad start", "business_hours: {start: \"8:30\"}\n", `calendar config: business_hours.start "8:30" is not a time of day: use HH:MM from 00:00 to 23:59, such as 08:30`},
		{"start 24:00", "business_hours: {start: \"24:00\"}\n", `calendar config: business_hours.start "24:00" is not a time of day: use HH:MM from 00:00 to 23:59, such as 08:30`},
		{"bad end", "business_hours: {end: \"25:00\"}\n", `calendar config: business_hours.end "25:00" is not a time of day: use HH:MM from 00:00 to 24:00, such as 17:15`},
		{"end before start", "business_hours: {start: \"22:00\", end: \"06:00\"}\n", `calendar config: business_hours.end 06:00 is not after business_hours.start 22:00: business hours cannot cross midnight; use an end after the start, up to 24:00`},
		{"bad weekday", "working_weekdays: [monday, funday]\n", `calendar config: working_weekdays[1] "funday" is not a day of the week: use an English name such as monday or mon`},
		{"bad closure", "closures: [{from: \"12-32\", to: \"1-3\"}]\n", "calendar config: closures[0].from \"12-32\" is not a month-day: use MM-DD, such as 12-29\ncalendar config: closures[0].to \"1-3\" is not a month-day: use MM-DD, such as 01-03"},
		{"bad closed date", "closed_dates: [\"2025-02-30\"]\n", `calendar config: closed_dates[0]: date "2025-02-30": want YYYY-MM-DD, such as 2025-06-02: parsing time "2025-02-30": day out of range`},
		{"bad open date", "open_dates: [\"6/7\"]\n", `calendar config: open_dates[0]: date "6/7": want YYYY-MM-DD, such as 2025-06-02: parsing time "6/7" as "2006-01-02": cannot parse "6/7" as "2006"`},
		{"wrong type", "japanese_holidays: maybe\n", "calendar config: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `maybe` into bool"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var c calendar.Config
			err := yaml.Unmarshal([]byte(tc.yaml), &c)
			require.EqualError(t, err, tc.err)
			require.True(t, errors.Is(err, calendar.ErrConfig), "errors.Is(err, ErrConfig)")
		})
	}
	require.NoError(t, calendar.Config{}.Validate(), "the zero Config stands for the defaults")
	_, err := calendar.New(calendar.Config{Location: "Nowhere/City"})
	require.ErrorIs(t, err, calendar.ErrConfig)
}
