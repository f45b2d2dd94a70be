package native_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/native"
)

const hostSilent = `kind: absence
absence:
  group_by: [host.name]
  after: 30m
`

func TestAbsence(t *testing.T) {
	r := parse(t, hostSilent)
	sum, ok := r.Detector.(detections.Summarizer)
	require.True(t, ok)
	require.Equal(t, time.Minute, sum.Bucket())
	require.Equal(t, []string{"host.name"}, sum.GroupFields())

	m := func(d int) time.Time { return at(time.Duration(d) * time.Minute) }
	steps := []step{
		summary("a", 5, m(0), m(0).Add(40*time.Second)),
		summary("b", 1, m(10), m(10)),
		advance(m(30)), // a: 29m20s silent
		advance(m(31)), // a: silent for 30m20s
		advance(m(39)),
		advance(m(40)), // b
		advance(m(120)),
		summary("a", 1, m(121), m(121)), // a is back: re-armed
		advance(m(150)),
		advance(m(151)), // a again
	}
	hits := play(t, r, steps, -1)
	require.Len(t, hits, 3)
	for i, want := range []struct {
		host   string
		last   time.Time
		silent string
	}{
		{"a", m(0).Add(40 * time.Second), "30m20s"},
		{"b", m(10), "30m0s"},
		{"a", m(121), "30m0s"},
	} {
		h := hits[i]
		require.Equal(t, want.last, h.First, "hit %d", i)
		require.Equal(t, want.last, h.Last)
		require.Equal(t, 1, h.Count)
		require.NotEmpty(t, h.Event)
		require.Equal(t, want.last, h.Fields[native.FieldAbsenceLastSeen])
		require.Equal(t, want.silent, h.Fields[native.FieldAbsenceSilentFor])
	}
	require.NotEqual(t, hits[0].Event, hits[2].Event, "each silence has its own id")
	requireRestartable(t, r, steps)

	// The hit event carries the group-by fields.
	run := newRunner(t, r)
	run.state.Observe(*summary("ws01", 1, m(0), m(0)).o)
	hs := run.state.Advance(m(30))
	require.Len(t, hs, 1)
	require.Equal(t, "ws01", hs[0].Event.Host.Name)
	require.Equal(t, m(0), hs[0].Event.Timestamp)
}

func TestAbsenceExpected(t *testing.T) {
	r := parse(t, "kind: absence\nabsence: {group_by: [host.name], after: 30m, expected: [dc01, dc02]}\n")
	m := func(d int) time.Time { return at(time.Duration(d) * time.Minute) }
	steps := []step{
		advance(m(0)),
		summary("dc01", 3, m(5), m(5)),
		advance(m(29)),
		advance(m(30)), // dc02 never came
		advance(m(35)), // dc01
	}
	hits := play(t, r, steps, -1)
	require.Len(t, hits, 2)
	require.Equal(t, m(0), hits[0].Last)
	require.Equal(t, m(5), hits[1].Last)
	requireRestartable(t, r, steps)
}

func TestAbsenceBounds(t *testing.T) {
	r := parse(t, hostSilent)
	run := newRunner(t, r)
	run.state.Observe(*summary("a", 1, t0, t0).o)
	run.state.Observe(*summary("b", 1, t0.Add(time.Hour), t0.Add(time.Hour)).o)
	require.Len(t, run.state.Advance(t0.Add(2*time.Hour)), 2)
	require.Equal(t, 2, run.state.Len())
	run.state.Advance(t0.Add(7*24*time.Hour + 30*time.Minute)) // a silent for more than 7 days
	require.Equal(t, 1, run.state.Len())
	run.state.Advance(t0.Add(8 * 24 * time.Hour))
	require.Zero(t, run.state.Len())
}

func TestAbsenceErrors(t *testing.T) {
	for body, want := range map[string]string{
		"kind: absence\nabsence: {after: 30m}\n":                                    "absence.group_by: missing",
		"kind: absence\nabsence: {group_by: [a]}\n":                                 "absence.after: missing",
		"kind: absence\nabsence: {group_by: [a, b], after: 1m, expected: [x]}\n":    "absence.expected: needs exactly one group_by field (group_by has 2)",
		"kind: absence\nabsence: {group_by: [a], after: 1m}\nanomaly: {spike: 2}\n": "anomaly: only allowed with kind anomaly (kind is absence)",
	} {
		_, err := parseErr(body)
		require.ErrorContains(t, err, "test.yaml: test.rule: "+want, body)
	}
}
