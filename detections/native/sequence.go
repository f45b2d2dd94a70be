package native

import (
	"fmt"
	"time"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/kql"
)

// maxSteps is the most steps a sequence may have.
const maxSteps = 64

// sequence is the sequence kind: events of one group matching the steps in
// event-time order, each step at least its count times, all within a span
// of event time.
//
// The state keeps, per group, the step events of the last `within` of event
// time (at most 4 × the events the sequence needs + 16, the oldest dropped
// first) and, after each event, matches the steps greedily from the oldest:
// a step is done as soon as it has its count, and events of the step before
// the current one that come later still belong to the sequence ("at least
// count"). When the last step is done the hit holds every event of the
// sequence (Count, EventIDs, First = its first event) with the current
// event as Hit.Event, and the group starts again after the last event
// used. Groups idle for longer than `within` are dropped, and at most
// Options.MaxGroups groups are kept, the ones idle the longest evicted
// first.
type sequence struct {
	base
	within time.Duration
	steps  []seqStep
	keep   int // step events kept per group
}

type seqStep struct {
	match kql.Matcher
	count int
}

var _ detections.Stateful = (*sequence)(nil)

// newSequence builds the detector; it returns the condition the rule's
// prerequisites come from: any step, each ANDed with the top-level query.
func newSequence(s *sequenceSpec, b base, top kql.Cond, opts kql.Options) (*sequence, kql.Cond, error) {
	w, err := positive("sequence.within", s.Within)
	if err != nil {
		return nil, nil, err
	}
	if err := checkFields("sequence.group_by", s.GroupBy); err != nil {
		return nil, nil, err
	}
	switch {
	case len(s.Steps) == 0:
		return nil, nil, errAt("sequence.steps", "missing")
	case len(s.Steps) > maxSteps:
		return nil, nil, errAt("sequence.steps", "%d steps: at most %d", len(s.Steps), maxSteps)
	}
	d := &sequence{within: w}
	anyStep := &kql.AnyOf{}
	var matchers kql.AnyMatch
	need := 0
	for i, st := range s.Steps {
		key := fmt.Sprintf("sequence.steps[%d]", i)
		if st.Query == nil || *st.Query == "" {
			return nil, nil, errAt(key+".query", "missing")
		}
		c, err := compileQuery(*st.Query, key+".query", opts)
		if err != nil {
			return nil, nil, err
		}
		c = &kql.AllOf{Conds: []kql.Cond{top, c}}
		count := 1
		if st.Count != nil {
			if *st.Count < 1 {
				return nil, nil, errAt(key+".count", "%d: want an integer >= 1", *st.Count)
			}
			count = *st.Count
		}
		need += count
		m := kql.Compile(c)
		d.steps = append(d.steps, seqStep{match: m, count: count})
		anyStep.Conds = append(anyStep.Conds, c)
		matchers = append(matchers, m)
	}
	d.keep = 4*need + 16
	b.groupBy = s.GroupBy
	b.query = matchers
	d.base = b
	return d, anyStep, nil
}

// NewState returns an empty sequence state.
func (d *sequence) NewState() detections.State {
	return &sequenceState{d: d, groups: newTable(d.max, func(g *seqGroup) int64 { return g.Last })}
}

type sequenceState struct {
	d      *sequence
	groups table[*seqGroup]
	swept  int64
}

// seqGroup is one group's step events, by time.
type seqGroup struct {
	Last   int64      `json:"last"`
	Events []seqEvent `json:"events,omitempty"`
}

type seqEvent struct {
	At   int64  `json:"at"`
	ID   string `json:"id,omitempty"`
	Mask uint64 `json:"m"` // the steps the event matches
}

func (s *sequenceState) Len() int { return len(s.groups.m) }

func (s *sequenceState) Observe(o detections.Observation) []detections.Hit {
	d := s.d
	var mask uint64
	for i, st := range d.steps {
		if st.match.Match(o.Event) {
			mask |= 1 << i
		}
	}
	if mask == 0 {
		return nil
	}
	t := nanos(o.Last)
	k := joinKey(o.Key)
	g := s.groups.m[k]
	if g == nil {
		g = &seqGroup{Last: t}
		s.groups.put(k, g)
	}
	g.Last = max(g.Last, t)
	lo := g.Last - int64(d.within)
	i := 0
	for i < len(g.Events) && g.Events[i].At < lo {
		i++
	}
	g.Events = g.Events[i:]
	if t < lo {
		return nil
	}
	j := len(g.Events)
	for j > 0 && g.Events[j-1].At > t {
		j--
	}
	g.Events = append(g.Events, seqEvent{})
	copy(g.Events[j+1:], g.Events[j:])
	g.Events[j] = seqEvent{At: t, ID: o.Event.Event.ID, Mask: mask}
	if len(g.Events) > d.keep {
		g.Events = g.Events[len(g.Events)-d.keep:]
	}

	used, end := d.match(g.Events)
	if end < 0 {
		return nil
	}
	h := detections.Hit{Event: o.Event, Count: len(used), First: fromNanos(g.Events[used[0]].At), Last: fromNanos(g.Events[end].At)}
	for _, u := range used {
		if id := g.Events[u].ID; id != "" {
			h.EventIDs = append(h.EventIDs, id)
		}
	}
	g.Events = append([]seqEvent(nil), g.Events[end+1:]...)
	return []detections.Hit{h}
}

// match runs the steps greedily over the events: it returns the indices of
// the sequence's events and the index of the event that completes it, or
// -1.
func (d *sequence) match(events []seqEvent) (used []int, end int) {
	step, n := 0, 0
	for i, e := range events {
		switch {
		case e.Mask&(1<<step) != 0:
			used = append(used, i)
			if n++; n >= d.steps[step].count {
				step, n = step+1, 0
				if step == len(d.steps) {
					return used, i
				}
			}
		case step > 0 && e.Mask&(1<<(step-1)) != 0:
			used = append(used, i) // one more of the step before
		}
	}
	return nil, -1
}

func (s *sequenceState) Advance(watermark time.Time) []detections.Hit {
	s.groups.sweep(&s.swept, nanos(watermark), s.d.within)
	return nil
}

func (s *sequenceState) Snapshot() ([]byte, error) {
	return marshalTable(KindSequence, &s.groups, s.swept, nil)
}

func (s *sequenceState) Restore(data []byte) error {
	swept, _, err := unmarshalTable(KindSequence, data, &s.groups)
	s.swept = swept
	return err
}
