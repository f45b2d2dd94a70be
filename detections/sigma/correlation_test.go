package sigma_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/sigma"
	"github.com/mamori-soc/mamori/event"
)

// streamEvent is one input event of a correlation case: its id, its time
// as an offset from base, and its fields.
type streamEvent struct {
	ID    string         `yaml:"id"`
	At    string         `yaml:"at"`
	Event map[string]any `yaml:"event"`
}

// wantHit is one expected hit: the rule, the count and the event ids.
type wantHit struct {
	Rule  string   `yaml:"rule"`
	Count int      `yaml:"count"`
	IDs   []string `yaml:"ids"`
}

func (h wantHit) String() string { return fmt.Sprintf("%s %d %v", h.Rule, h.Count, h.IDs) }

var base = time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)

// driver runs engine rules the way the detect stage does, in one
// partition: prerequisites, Match, then for a stateful rule GroupKey and
// one State per rule, observed in event-time order and advanced to each
// event's time.
type driver struct {
	rules  []*detections.Rule
	states map[string]detections.State
	hits   []wantHit
}

func newDriver(rules []*detections.Rule) *driver {
	return &driver{rules: rules, states: map[string]detections.State{}}
}

func (d *driver) state(r *detections.Rule) detections.State {
	s := d.states[r.ID]
	if s == nil {
		s = r.Detector.(detections.Stateful).NewState()
		d.states[r.ID] = s
	}
	return s
}

func (d *driver) record(r *detections.Rule, hs []detections.Hit) {
	for _, h := range hs {
		n := h.Count
		if n == 0 {
			n = 1
		}
		ids := h.EventIDs
		if ids == nil {
			ids = []string{h.Event.Event.ID}
		}
		d.hits = append(d.hits, wantHit{Rule: r.ID, Count: n, IDs: slices.Clone(ids)})
	}
}

// observe hands one event to every rule.
func (d *driver) observe(e *event.Event) {
	for _, r := range d.rules {
		if !prerequisites(r, e) || !r.Detector.Match(e) {
			continue
		}
		st, ok := r.Detector.(detections.Stateful)
		if !ok {
			d.record(r, []detections.Hit{{Event: e}})
			continue
		}
		o := detections.Observation{Key: st.GroupKey(e), Event: e, Count: 1, First: e.Timestamp, Last: e.Timestamp}
		d.record(r, d.state(r).Observe(o))
	}
}

// advance moves every state's watermark, in rule order.
func (d *driver) advance(w time.Time) {
	for _, r := range d.rules {
		if s := d.states[r.ID]; s != nil {
			d.record(r, s.Advance(w))
		}
	}
}

// prerequisites checks a rule's prerequisites as the engine does.
func prerequisites(r *detections.Rule, e *event.Event) bool {
	for _, p := range r.Prerequisites {
		v, _ := e.Get(p.Field)
		ok := false
		for _, s := range flatten(v) {
			ok = ok || slices.Contains(p.Values, s)
		}
		if !ok {
			return false
		}
	}
	return true
}

// streamEvents builds the events of a case.
func streamEvents(t testing.TB, stream []streamEvent) []*event.Event {
	t.Helper()
	out := make([]*event.Event, len(stream))
	for i, s := range stream {
		at, err := time.ParseDuration(s.At)
		require.NoError(t, err, "event %s", s.ID)
		e := buildEvent(t, s.Event)
		e.Event.ID = s.ID
		e.Timestamp = base.Add(at)
		out[i] = e
	}
	slices.SortStableFunc(out, func(a, b *event.Event) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return strings.Compare(a.Event.ID, b.Event.ID)
	})
	return out
}

// runStream loads the files' engine rules and checks the hits of the
// stream, advanced at last far past every timespan.
func runStream(t *testing.T, files map[string]string, cfg *sigma.Config, stream []streamEvent, want []wantHit) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	rules, errs := sigma.Detections(fsys, cfg)
	require.Empty(t, errs)
	d := newDriver(rules)
	for _, e := range streamEvents(t, stream) {
		d.observe(e)
		d.advance(e.Timestamp)
	}
	d.advance(base.Add(1000 * time.Hour))
	if want == nil {
		want = []wantHit{}
	}
	got := d.hits
	if got == nil {
		got = []wantHit{}
	}
	require.Equal(t, want, got)
}
