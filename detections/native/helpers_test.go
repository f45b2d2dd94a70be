package native_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/native"
	"github.com/mamori-soc/mamori/event"
)

// header is the metadata every test rule needs.
const header = `id: test.rule
name: Test rule
version: 1
description: A rule for tests.
severity: medium
`

// fixedNow anchors relative dates in tests.
var fixedNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// parse parses a test rule made of header and body.
func parse(t testing.TB, body string) *detections.Rule {
	t.Helper()
	return parseOpts(t, body, native.Options{})
}

func parseOpts(t testing.TB, body string, opts native.Options) *detections.Rule {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	r, err := native.Parse([]byte(header+body), "test.yaml", opts)
	require.NoError(t, err)
	return r
}

// logon returns a Windows logon event.
func logon(id, code, user, src string, at time.Time) *event.Event {
	return &event.Event{
		Timestamp: at,
		Event:     event.Meta{ID: id, Code: code, Kind: "event"},
		User:      &event.User{Name: user},
		Host:      &event.Host{Name: "ws01"},
		Source:    &event.Endpoint{IP: src},
		Fields:    map[string]any{"winlog.logon.type": "Interactive"},
	}
}

// runner drives a stateful rule's state the way the stage does: every
// event that passes Match is observed with its group key.
type runner struct {
	t     testing.TB
	det   detections.Stateful
	state detections.State
}

func newRunner(t testing.TB, r *detections.Rule) *runner {
	t.Helper()
	det, ok := r.Detector.(detections.Stateful)
	require.True(t, ok, "detector %T is not stateful", r.Detector)
	return &runner{t: t, det: det, state: det.NewState()}
}

// event observes e if the rule matches it.
func (r *runner) event(e *event.Event) []detections.Hit {
	if !r.det.Match(e) {
		return nil
	}
	return r.state.Observe(detections.Observation{Key: r.det.GroupKey(e), Event: e, Count: 1, First: e.Timestamp, Last: e.Timestamp})
}

// restart snapshots the state and restores it into a fresh one.
func (r *runner) restart() {
	r.t.Helper()
	data, err := r.state.Snapshot()
	require.NoError(r.t, err)
	r.state = r.det.NewState()
	require.NoError(r.t, r.state.Restore(data))
}

// hitSummary is a hit without the event pointer, for comparisons.
type hitSummary struct {
	Event       string
	First, Last time.Time
	Count       int
	IDs         []string
	Fields      map[string]any // of the event, for summary hits
}

func summarize(hs []detections.Hit) []hitSummary {
	var out []hitSummary
	for _, h := range hs {
		s := hitSummary{Event: h.Event.Event.ID, First: h.First, Last: h.Last, Count: h.Count, IDs: h.EventIDs}
		if h.Event.Event.Kind == "" { // a summary event built by the state
			s.Fields = h.Event.Fields
		}
		out = append(out, s)
	}
	return out
}

// step is one input of a state: an event to observe, or (with a nil event)
// the watermark to advance to.
type step struct {
	e  *event.Event
	o  *detections.Observation // a summary, as the stage makes for a Summarizer
	wm time.Time
}

// summary is an observation standing for count events of the group of one
// field (host.name) between first and last.
func summary(host string, count int64, first, last time.Time) step {
	e := &event.Event{Timestamp: last, Host: &event.Host{Name: host}}
	return step{o: &detections.Observation{Key: []string{host}, Event: e, Count: count, First: first, Last: last}}
}

func ev(e *event.Event) step    { return step{e: e} }
func advance(wm time.Time) step { return step{wm: wm} }

// play runs the steps, restarting the state (snapshot, restore into a fresh
// state) after the step with index restartAfter (-1: never), and returns
// the hits.
func play(t testing.TB, r *detections.Rule, steps []step, restartAfter int) []hitSummary {
	t.Helper()
	run := newRunner(t, r)
	var out []hitSummary
	for i, s := range steps {
		switch {
		case s.e != nil:
			out = append(out, summarize(run.event(s.e))...)
		case s.o != nil:
			out = append(out, summarize(run.state.Observe(*s.o))...)
		default:
			out = append(out, summarize(run.state.Advance(s.wm))...)
		}
		if i == restartAfter {
			run.restart()
		}
	}
	return out
}

// requireRestartable checks that a snapshot and restore after any step
// gives the hits of an uninterrupted run.
func requireRestartable(t *testing.T, r *detections.Rule, steps []step) {
	t.Helper()
	requireRestartableEvery(t, r, steps, 1)
}

// requireRestartableEvery checks restarts after every stride-th step.
func requireRestartableEvery(t *testing.T, r *detections.Rule, steps []step, stride int) {
	t.Helper()
	want := play(t, r, steps, -1)
	for i := 0; i < len(steps); i += stride {
		require.Equal(t, want, play(t, r, steps, i), "restart after step %d", i)
	}
}

// parseErr parses a test rule that may be invalid.
func parseErr(body string) (*detections.Rule, error) {
	return native.Parse([]byte(header+body), "test.yaml", native.Options{Now: func() time.Time { return fixedNow }})
}
