package native_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/native"
)

var t0 = time.Date(2026, 6, 10, 3, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

const bruteForce = `kind: threshold
query: 'event.code:4625'
threshold:
  group_by: [user.name]
  window: 5m
  count: 3
`

func TestThresholdCount(t *testing.T) {
	r := parse(t, bruteForce)
	steps := []step{
		ev(logon("a", "4625", "taro", "10.0.0.1", at(0))),
		ev(logon("x", "4625", "hanako", "10.0.0.1", at(30*time.Second))),
		ev(logon("b", "4625", "taro", "10.0.0.1", at(time.Minute))),
		ev(logon("y", "4624", "taro", "10.0.0.1", at(90*time.Second))), // not selected
		ev(logon("c", "4625", "taro", "10.0.0.2", at(2*time.Minute))),  // crosses
		ev(logon("d", "4625", "taro", "10.0.0.2", at(3*time.Minute))),  // stays above
		ev(logon("e", "4625", "taro", "10.0.0.2", at(20*time.Minute))), // window dropped: re-armed
		ev(logon("f", "4625", "taro", "10.0.0.2", at(21*time.Minute))),
		ev(logon("g", "4625", "taro", "10.0.0.2", at(22*time.Minute))), // crosses again
	}
	want := []hitSummary{
		{Event: "c", First: at(0), Last: at(2 * time.Minute), Count: 3, IDs: []string{"a", "b", "c"}},
		{Event: "d", Count: 1},
		{Event: "g", First: at(20 * time.Minute), Last: at(22 * time.Minute), Count: 3, IDs: []string{"e", "f", "g"}},
	}
	require.Equal(t, want, play(t, r, steps, -1))
	requireRestartable(t, r, steps)
}

func TestThresholdWindowEdges(t *testing.T) {
	r := parse(t, "kind: threshold\nquery: 'event.code:4625'\nthreshold: {window: 5m, count: 2}\n")
	// Exactly the window apart: within it.
	hits := play(t, r, []step{
		ev(logon("a", "4625", "taro", "10.0.0.1", at(0))),
		ev(logon("b", "4625", "jiro", "10.0.0.1", at(5*time.Minute))),
	}, -1)
	require.Len(t, hits, 1, "no group_by: one group for the rule")
	require.Equal(t, 2, hits[0].Count)
	// A nanosecond more: not.
	hits = play(t, r, []step{
		ev(logon("a", "4625", "taro", "10.0.0.1", at(0))),
		ev(logon("b", "4625", "jiro", "10.0.0.1", at(5*time.Minute+1))),
	}, -1)
	require.Empty(t, hits)
}

func TestThresholdStaysAboveWhileWindowSlides(t *testing.T) {
	r := parse(t, "kind: threshold\nquery: 'event.code:4625'\nthreshold: {window: 5m, count: 2}\n")
	var steps []step
	for i := range 6 { // one event a minute: always two in five minutes
		steps = append(steps, ev(logon(fmt.Sprint(i), "4625", "taro", "10.0.0.1", at(time.Duration(i)*time.Minute))))
	}
	hits := play(t, r, steps, -1)
	require.Len(t, hits, 5)
	require.Equal(t, 2, hits[0].Count)
	require.Equal(t, []string{"0", "1"}, hits[0].IDs)
	for _, h := range hits[1:] {
		require.Equal(t, 1, h.Count)
	}
}

func TestThresholdDistinct(t *testing.T) {
	r := parse(t, `kind: threshold
query: 'event.code:4625'
threshold: {group_by: [user.name], window: 10m, count: 3, distinct: source.ip}
`)
	steps := []step{
		ev(logon("a", "4625", "taro", "10.0.0.1", at(0))),
		ev(logon("b", "4625", "taro", "10.0.0.1", at(time.Minute))),
		ev(logon("c", "4625", "taro", "10.0.0.1", at(2*time.Minute))),
		ev(logon("d", "4625", "taro", "10.0.0.2", at(3*time.Minute))),
		ev(logon("e", "4625", "taro", "10.0.0.2", at(4*time.Minute))),
		ev(logon("f", "4625", "taro", "10.0.0.3", at(5*time.Minute))), // third address
		ev(logon("g", "4625", "taro", "10.0.0.1", at(6*time.Minute))),
		ev(logon("h", "4625", "taro", "10.0.0.4", at(30*time.Minute))), // re-armed
	}
	want := []hitSummary{
		{Event: "f", First: at(0), Last: at(5 * time.Minute), Count: 6, IDs: []string{"c", "e", "f"}},
		{Event: "g", Count: 1},
	}
	require.Equal(t, want, play(t, r, steps, -1))
	requireRestartable(t, r, steps)
}

func TestThresholdLateEvents(t *testing.T) {
	r := parse(t, bruteForce)
	hits := play(t, r, []step{
		ev(logon("c", "4625", "taro", "10.0.0.1", at(2*time.Minute))),
		ev(logon("a", "4625", "taro", "10.0.0.1", at(0))),              // late, within the window
		ev(logon("z", "4625", "taro", "10.0.0.1", at(-time.Hour))),     // late, outside any window
		ev(logon("b", "4625", "taro", "10.0.0.1", at(1*time.Minute))),  // late: completes
		ev(logon("d", "4625", "taro", "10.0.0.1", at(90*time.Second))), // late, still above
	}, -1)
	require.Equal(t, []hitSummary{
		{Event: "b", First: at(0), Last: at(2 * time.Minute), Count: 3, IDs: []string{"a", "b", "c"}},
		{Event: "d", Count: 1},
	}, hits)
}

func TestThresholdBounds(t *testing.T) {
	r := parseOpts(t, bruteForce, native.Options{MaxGroups: 10})
	run := newRunner(t, r)
	for i := range 25 {
		run.event(logon(fmt.Sprint(i), "4625", fmt.Sprintf("user%02d", i), "10.0.0.1", at(time.Duration(i)*time.Second)))
		require.LessOrEqual(t, run.state.Len(), 10)
	}
	// The newest groups survive eviction: user24 reaches the threshold with
	// two more events.
	hits := run.event(logon("x", "4625", "user24", "10.0.0.1", at(30*time.Second)))
	require.Empty(t, hits)
	hits = run.event(logon("y", "4625", "user24", "10.0.0.1", at(31*time.Second)))
	require.Len(t, hits, 1)
	require.Equal(t, []string{"24", "x", "y"}, hits[0].EventIDs)

	// Idle groups go when the watermark passes their window.
	require.Empty(t, run.state.Advance(at(5*time.Minute+30*time.Second)))
	require.Equal(t, 1, run.state.Len()) // user24, last seen at 31s
	run.state.Advance(at(time.Hour))
	require.Zero(t, run.state.Len())
}

func TestThresholdRestoreRejectsOtherKinds(t *testing.T) {
	r := parse(t, bruteForce)
	st := r.Detector.(detections.Stateful).NewState()
	require.Error(t, st.Restore([]byte(`{"v":1,"kind":"new_terms","groups":[]}`)))
	require.Error(t, st.Restore([]byte(`{"v":2,"kind":"threshold","groups":[]}`)))
	require.Error(t, st.Restore([]byte(`not json`)))
}
