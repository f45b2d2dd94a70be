package builtin_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
)

// TestProjectionAgrees checks that the select step may decode only the
// fields the built-in pack reads: on simulated office traffic and the
// detection story's kind of events, every event matches the same rules
// with the same group keys as when decoded whole.
func TestProjectionAgrees(t *testing.T) {
	en, err := detections.New(load(t), detections.Config{})
	require.NoError(t, err)
	fields, ok := en.Reads()
	require.True(t, ok, "every built-in rule says what it reads")
	require.NotContains(t, fields, "event.original")
	proj := event.NewProjection(fields)
	matches := func(e *event.Event) []string {
		var out []string
		en.Evaluate(e, func(r *detections.Rule, _ detections.Hit) {
			key := ""
			if s, ok := r.Detector.(detections.Stateful); ok {
				key = strings.Join(s.GroupKey(e), "|")
			} else {
				key = strings.Join(detections.KeyOf(e, r.DedupKey), "|")
			}
			out = append(out, r.ID+" "+key)
		})
		slices.Sort(out)
		return out
	}
	n := 0
	for _, rec := range traffic(t, 5000) {
		var full, part event.Event
		require.NoError(t, event.Unmarshal(rec.Value, &full))
		require.NoError(t, event.UnmarshalProjected(rec.Value, &part, proj))
		want := matches(&full)
		require.Equal(t, want, matches(&part))
		n += len(want)
	}
	require.Greater(t, n, 1000, "the traffic exercises the rules")
}
