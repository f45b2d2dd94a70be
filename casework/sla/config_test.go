package sla_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework/sla"
)

func TestDefaults(t *testing.T) {
	defs := sla.Defaults()
	items := map[int][]string{}
	for _, d := range defs {
		require.NoError(t, d.Validate())
		items[d.Item] = append(items[d.Item], d.Name)
	}
	// The seed's timed items (5, 7-11, 14-16, 18, 19, 23) each have a clock.
	for _, item := range []int{5, 7, 8, 9, 10, 11, 14, 15, 16, 18, 19, 23} {
		require.NotEmpty(t, items[item], "item %d", item)
	}
	names := func(defs []sla.ClockDef) []string {
		var out []string
		for _, d := range defs {
			out = append(out, d.Name)
		}
		return out
	}
	require.Equal(t, []string{"log_provision"}, names(sla.ForType(defs, "request/log_retrieval")))
	require.Equal(t, []string{"request_acknowledgement", "request_fulfilment"}, names(sla.ForType(defs, "request/password_reset")))
	require.Equal(t, []string{"failure_first_report", "failure_recovery", "failure_progress_report", "failure_written_report"}, names(sla.ForType(defs, "failure")))
	require.Len(t, sla.ForType(defs, "incident"), 3)
	require.Empty(t, sla.ForType(defs, "requests"))

	// Defaults returns a fresh copy.
	defs[0].AppliesTo[0] = "changed"
	require.NotEqual(t, "changed", sla.Defaults()[0].AppliesTo[0])
	require.Contains(t, sla.DefaultsYAML(), "clocks:")
}

func TestParse(t *testing.T) {
	defs, err := sla.Parse([]byte(`
clocks:
  - name: c
    applies_to: [incident]
    start: {kind: created, channel: email, fields: {priority: high}}
    stop: {kind: notification, notification: acknowledgement}
    pause: [{status: waiting_vendor}, {fields: {hold: "yes"}}]
    target: {next_business_day_at: "09:00"}
    business_hours: true
    warn_at: 0.5
  - name: r
    applies_to: [failure]
    start: {kind: created}
    stop: {kind: status, status: closed}
    repeat: 1h30m
    met_by: {kind: notification}
`))
	require.NoError(t, err)
	nine, err := calendar.ParseClock("09:00")
	require.NoError(t, err)
	require.Equal(t, []sla.ClockDef{{
		Name: "c", AppliesTo: []string{"incident"},
		Start:         sla.Condition{Kind: "created", Channel: "email", Fields: map[string]string{"priority": "high"}},
		Stop:          sla.Condition{Kind: "notification", Notification: "acknowledgement"},
		Pause:         []sla.Condition{{Status: "waiting_vendor"}, {Fields: map[string]string{"hold": "yes"}}},
		Target:        sla.NextBusinessDayAt(nine),
		BusinessHours: true, WarnAt: 0.5,
	}, {
		Name: "r", AppliesTo: []string{"failure"},
		Start: sla.Condition{Kind: "created"}, Stop: sla.Condition{Kind: "status", Status: "closed"},
		Repeat: 90 * time.Minute, MetBy: &sla.Condition{Kind: "notification"},
	}}, defs)

	defs, err = sla.Parse(nil)
	require.NoError(t, err)
	require.Empty(t, defs)
}

func TestParseErrors(t *testing.T) {
	const head = "clocks:\n  - name: c\n    applies_to: [incident]\n    start: {kind: created}\n    stop: {kind: status, status: closed}\n"
	cases := []struct{ name, yaml, err string }{
		{"unknown top key", "clock: []\n", `sla config: line 1: clock: unknown key (known: clocks)`},
		{"clocks not a list", "clocks: {}\n", `sla config: line 1: clocks: want a list of clock definitions`},
		{"unknown clock key", head + "    target: 1h\n    targte: 2h\n", `sla config: clock c: line 7: targte: unknown key (known: applies_to, business_hours, description, item, met_by, name, pause, repeat, start, stop, target, warn_at)`},
		{"unknown key before the name", "clocks:\n  - nmae: c\n", `sla config: line 2: nmae: unknown key (known: applies_to, business_hours, description, item, met_by, name, pause, repeat, start, stop, target, warn_at)`},
		{"unknown condition key", strings.Replace(head, "{kind: created}", "{kind: created, stauts: new}", 1) + "    target: 1h\n", `sla config: clock c: line 4: start.stauts: unknown key (known: channel, fields, kind, notification, status)`},
		{"unknown pause key", head + "    target: 1h\n    pause:\n      - status: waiting_vendor\n      - state: x\n", `sla config: clock c: line 9: pause[1].state: unknown key (known: channel, fields, kind, notification, status)`},
		{"bad duration", head + "    target: 4 hours\n", `sla config: clock c: line 6: target: "4 hours" is not a duration: write it like 15m, 4h or 1h30m`},
		{"negative duration", head + "    target: -1h\n", `sla config: clock c: line 6: target: -1h is negative: use a positive duration`},
		{"unknown target form", head + "    target: {days: 1}\n", `sla config: clock c: line 6: target.days: unknown key (known: business_days, day_of_month, months, next_business_day_at)`},
		{"two target forms", head + "    target: {days_of_month: 1}\n", `sla config: clock c: line 6: target.days_of_month: unknown key (known: business_days, day_of_month, months, next_business_day_at)`},
		{"two target keys", head + "    target: {business_days: 1, months: 1}\n", `sla config: clock c: line 6: target.months: a target has one form, and business_days is already given: keep one key`},
		{"bad time of day", head + "    target: {next_business_day_at: \"9:00\"}\n", `sla config: clock c: line 6: target.next_business_day_at: time of day "9:00": want HH:MM from 00:00 to 24:00, such as 10:00`},
		{"bad day of month", head + "    target: {day_of_month: 32}\n", `sla config: clock c: target.day_of_month 32: use a day from 1 to 31`},
		{"wrong type", head + "    target: 1h\n    business_hours: maybe\n", "sla config: clock c: line 7: business_hours: cannot unmarshal !!str `maybe` into bool"},
		{"warn_at out of range", head + "    target: 1h\n    warn_at: 1.5\n", `sla config: clock c: line 7: warn_at: 1.5 is not a share of the target: use a number more than 0 and at most 1, such as 0.75`},
		{"missing target", head, `sla config: clock c: target is missing: write a duration such as 4h, or a mapping such as {business_days: 1}`},
		{"missing start", "clocks:\n  - name: c\n    applies_to: [x]\n    stop: {kind: a}\n    target: 1h\n", `sla config: clock c: start.kind is missing: say which entry starts the clock, such as {kind: created}`},
		{"pause on an event", head + "    target: 1h\n    pause: [{kind: status}]\n", `sla config: clock c: pause[0] constrains kind, channel or notification: a pause condition is a state of the case and may only name status and fields`},
		{"repeat with target", head + "    target: 1h\n    repeat: 4h\n    met_by: {kind: notification}\n", `sla config: clock c: target is set on a repeating clock: its interval, repeat, is the target of each repetition; remove target`},
		{"repeat without met_by", head + "    repeat: 4h\n", `sla config: clock c: met_by.kind is missing: a repeating clock needs the entry that meets each repetition, such as {kind: notification, notification: progress_report}`},
		{"met_by without repeat", head + "    target: 1h\n    met_by: {kind: notification}\n", `sla config: clock c: met_by is set on a clock that does not repeat: set repeat, or remove met_by`},
		{"repeat too short", head + "    repeat: 1s\n    met_by: {kind: notification}\n", `sla config: clock c: repeat 1s is too short: use at least 1m0s`},
		{"bad applies_to", "clocks:\n  - name: c\n    applies_to: [request/]\n    start: {kind: a}\n    stop: {kind: a}\n    target: 1h\n", `sla config: clock c: applies_to[0] "request/" is not a case type: write type or type/subtype, such as request/log_retrieval`},
		{"duplicate key", head + "    target: 1h\n    target: 2h\n", `sla config: clock c: line 7: target: key given twice`},
		{"duplicate name", head + "    target: 1h\n" + strings.TrimPrefix(head, "clocks:\n") + "    target: 1h\n", `sla config: clocks[1]: name "c" is used twice: give each clock its own name`},
		{"syntax", "clocks: [\n", "sla config: line 1: did not find expected node content"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sla.Parse([]byte(tc.yaml))
			require.Error(t, err)
			require.True(t, errors.Is(err, sla.ErrConfig), err.Error())
			require.Equal(t, tc.err, err.Error())
		})
	}
}
