package native_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/native"
)

const hostRate = `kind: anomaly
anomaly:
  group_by: [host.name]
  bucket: 1h
  learning: 14d
  spike: 3
  silence: 0.1
  min_count: 50
`

func TestAnomaly(t *testing.T) {
	r := parse(t, hostRate)
	sum, ok := r.Detector.(detections.Summarizer)
	require.True(t, ok)
	require.Equal(t, time.Hour, sum.Bucket())

	hour := func(h int) time.Time { return at(time.Duration(h) * time.Hour) }
	const (
		learningSpike = 3*24 + 10  // ignored: still learning
		spike         = 15*24 + 5  // a: 400 instead of 100
		silence       = 16*24 + 7  // a: nothing instead of 100
		quiet         = 17*24 + 1  // b: nothing, but its mean is below min_count
		smallSpike    = 17*24 + 2  // b: 20 instead of 5, below min_count
		late          = 18*24 + 20 // a: a late observation of a closed bucket
	)
	var steps []step
	for h := range 21 * 24 {
		start := hour(h)
		a, b := int64(100), int64(5)
		switch h {
		case learningSpike, spike:
			a = 400
		case silence:
			a = 0
		case quiet:
			b = 0
		case smallSpike:
			b = 20
		}
		if a > 0 {
			steps = append(steps, summary("a", a, start, start.Add(30*time.Minute)))
		}
		if b > 0 {
			steps = append(steps, summary("b", b, start, start.Add(45*time.Minute)))
		}
		if h == late {
			steps = append(steps, summary("a", 1000, hour(h-2), hour(h-2).Add(time.Minute)))
		}
		steps = append(steps, advance(start.Add(time.Hour)))
	}
	hits := play(t, r, steps, -1)
	require.Len(t, hits, 2)
	require.Equal(t, hitSummary{
		Event: hits[0].Event, First: hour(spike), Last: hour(spike + 1), Count: 400,
		Fields: map[string]any{native.FieldAnomalyExpected: 100.0, native.FieldAnomalyObserved: int64(400), native.FieldAnomalyKind: "spike"},
	}, hits[0])
	require.Equal(t, hitSummary{
		Event: hits[1].Event, First: hour(silence), Last: hour(silence + 1), Count: 1,
		Fields: map[string]any{native.FieldAnomalyExpected: 100.0, native.FieldAnomalyObserved: int64(0), native.FieldAnomalyKind: "silence"},
	}, hits[1])
	require.NotEmpty(t, hits[0].Event)
	require.NotEqual(t, hits[0].Event, hits[1].Event)
	requireRestartableEvery(t, r, steps, 37)
}

func TestAnomalySlotsFollowTheWeek(t *testing.T) {
	// Busy on weekday business hours, idle at night and on weekends: a
	// Monday morning is no spike, a Sunday morning as busy is.
	r := parse(t, "kind: anomaly\nanomaly: {group_by: [host.name], learning: 14d, spike: 3, min_count: 50}\n")
	monday := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) // 09:00 Monday in Tokyo
	var steps []step
	for h := range 4 * 7 * 24 {
		start := monday.Add(time.Duration(h) * time.Hour)
		local := start.In(time.FixedZone("JST", 9*3600))
		busy := local.Weekday() != time.Saturday && local.Weekday() != time.Sunday && local.Hour() >= 9 && local.Hour() < 18
		if h == 3*7*24+6*24 { // the fourth Sunday, 09:00 in Tokyo
			busy = true
		}
		if busy {
			steps = append(steps, summary("srv", 200, start, start.Add(time.Minute)))
		}
		steps = append(steps, advance(start.Add(time.Hour)))
	}
	hits := play(t, r, steps, -1)
	require.Len(t, hits, 1)
	require.Equal(t, monday.Add(time.Duration(3*7*24+6*24)*time.Hour), hits[0].First)
	require.Equal(t, 0.0, hits[0].Fields[native.FieldAnomalyExpected])
}

func TestAnomalyBounds(t *testing.T) {
	r := parseOpts(t, hostRate, native.Options{MaxGroups: 10})
	run := newRunner(t, r)
	for i := range 30 {
		host := string(rune('a' + i))
		run.state.Observe(*summary(host, 1, at(time.Duration(i)*time.Minute), at(time.Duration(i)*time.Minute)).o)
		require.LessOrEqual(t, run.state.Len(), 10)
	}
	run.state.Advance(at(8 * 24 * time.Hour))
	require.Zero(t, run.state.Len())
}

func TestAnomalyErrors(t *testing.T) {
	for body, want := range map[string]string{
		"kind: anomaly\nanomaly: {group_by: [a]}\n":           "anomaly: set spike (such as 3), silence (such as 0.1) or both",
		"kind: anomaly\nanomaly: {spike: 1}\n":                "anomaly.spike: 1: want a factor > 1",
		"kind: anomaly\nanomaly: {silence: 1.5}\n":            "anomaly.silence: 1.5: want a factor between 0 and 1",
		"kind: anomaly\nanomaly: {spike: 2, bucket: 7m}\n":    "anomaly.bucket: 7m0s: want a span from 1m to 24h that divides a day",
		"kind: anomaly\nanomaly: {spike: 2, min_count: 0}\n":  "anomaly.min_count: 0: want an integer >= 1",
		"kind: anomaly\nanomaly: {spike: 2, learning: -1h}\n": "anomaly.learning: line 7: duration \"-1h\"",
	} {
		_, err := parseErr(body)
		require.ErrorContains(t, err, "test.yaml: test.rule: "+want, body)
	}
}
