package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/demo"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/builtin"
	"github.com/mamori-soc/mamori/detections/ruleset"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// TestDetectionStory checks the story against the built-in pack in one
// process: parsed as the parse stage parses Winlogbeat JSON, replayed as the
// detect stage runs, exactly StoryAlerts come out. The end-to-end tests run
// the same story through the real pipelines.
func TestDetectionStory(t *testing.T) {
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	rules, errs := ruleset.Load(builtin.FS(), ruleset.Options{Calendar: cal})
	require.Empty(t, errs)
	p := winevent.NewWinlogbeatParser()
	var events []*event.Event
	day := demo.StoryDay(cal, time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	require.Equal(t, "2026-11-23", day.Format(time.DateOnly), "勤労感謝の日, a Monday")
	require.Equal(t, day, demo.StoryDay(cal, time.Date(2026, 11, 24, 0, 0, 0, 0, cal.Location())), "a holiday counts once it is over")
	for i, raw := range demo.DetectionStory(day) {
		var e event.Event
		require.NoError(t, p.Parse(raw, parsers.Meta{}, &e))
		e.Event.ID = string(rune('a'+i/676)) + string(rune('a'+i/26%26)) + string(rune('a'+i%26))
		events = append(events, &e)
	}
	alerts, err := detections.Replay(context.Background(), rules, detections.Config{}, events, time.Time{})
	require.NoError(t, err)
	var got []demo.StoryAlert
	for _, a := range alerts {
		got = append(got, demo.StoryAlertOf(a))
	}
	require.ElementsMatch(t, demo.StoryAlerts, got)
}
