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
	for i, raw := range demo.DetectionStory() {
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
