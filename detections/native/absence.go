package native

import (
	"math"
	"time"

	"github.com/mamori-soc/mamori/detections"
)

// Absence and anomaly hit fields, in Hit.Event.Fields.
const (
	FieldAbsenceLastSeen  = "mamori.absence.last_seen"  // time.Time: the group's last event
	FieldAbsenceSilentFor = "mamori.absence.silent_for" // string: watermark minus last seen, as a Go duration
	FieldAnomalyExpected  = "mamori.anomaly.expected"   // float64: the baseline mean
	FieldAnomalyObserved  = "mamori.anomaly.observed"   // int64: the bucket's count
	FieldAnomalyKind      = "mamori.anomaly.kind"       // string: spike or silence
)

// absenceTTL is how long a group that fell silent is remembered (at least
// twice `after`); expected groups are never forgotten.
const absenceTTL = 7 * 24 * time.Hour

// absence is the absence kind: a group that was seen and then has no event
// for `after` of event time (measured against the watermark) is a hit,
// once per silence; an event of the group re-arms it. Groups listed in
// `expected` (one group_by field) are tracked from the first observation or
// watermark the state sees, as if seen then.
//
// Hits come from Advance: Hit.Event is the group's summary event (the
// group-by fields, @timestamp = last seen) with FieldAbsenceLastSeen and
// FieldAbsenceSilentFor and a deterministic event id; First = Last = last
// seen; Count 1. Groups silent for longer than max(7 days, 2 × after) are
// dropped (expected ones are kept), and at most Options.MaxGroups groups are
// kept, the ones silent the longest evicted first.
type absence struct {
	base
	after    time.Duration
	expected []string
}

var (
	_ detections.Stateful   = (*absence)(nil)
	_ detections.Summarizer = (*absence)(nil)
)

func newAbsence(s *absenceSpec, b base) (*absence, error) {
	if len(s.GroupBy) == 0 {
		return nil, errAt("absence.group_by", "missing")
	}
	if err := checkFields("absence.group_by", s.GroupBy); err != nil {
		return nil, err
	}
	a, err := positive("absence.after", s.After)
	if err != nil {
		return nil, err
	}
	if len(s.Expected) > 0 && len(s.GroupBy) != 1 {
		return nil, errAt("absence.expected", "needs exactly one group_by field (group_by has %d)", len(s.GroupBy))
	}
	for i, v := range s.Expected {
		if v == "" {
			return nil, errAt("absence.expected", "entry %d is empty", i)
		}
	}
	b.groupBy = s.GroupBy
	return &absence{base: b, after: a, expected: s.Expected}, nil
}

// Bucket is one minute: the state needs only when a group was last seen.
func (d *absence) Bucket() time.Duration { return time.Minute }

func (d *absence) ttl() int64 { return int64(max(absenceTTL, 2*d.after)) }

// NewState returns an empty absence state.
func (d *absence) NewState() detections.State {
	return &absenceState{d: d, groups: newTable(d.max, func(g *absGroup) int64 { return g.Last }), next: math.MinInt64}
}

type absenceState struct {
	d       *absence
	groups  table[*absGroup]
	started bool  // expected groups are in
	next    int64 // no group's deadline is before this
}

// absGroup is one group: when it was last seen and whether its silence was
// reported.
type absGroup struct {
	Last     int64 `json:"last"`
	Alerted  bool  `json:"alerted,omitempty"`
	Expected bool  `json:"expected,omitempty"`
}

// deadline is when the group next needs attention: its silence alert, or
// its expiry.
func (s *absenceState) deadline(g *absGroup) int64 {
	switch {
	case !g.Alerted:
		return g.Last + int64(s.d.after)
	case g.Expected:
		return math.MaxInt64
	}
	return g.Last + s.d.ttl()
}

// start adds the expected groups, as seen at t.
func (s *absenceState) start(t int64) {
	if s.started {
		return
	}
	s.started = true
	for _, v := range s.d.expected {
		k := joinKey([]string{v})
		if _, ok := s.groups.m[k]; !ok {
			s.groups.m[k] = &absGroup{Last: t, Expected: true}
		}
	}
	s.next = min(s.next, t+int64(s.d.after))
}

func (s *absenceState) Len() int { return len(s.groups.m) }

func (s *absenceState) Observe(o detections.Observation) []detections.Hit {
	t := nanos(o.Last)
	s.start(t)
	k := joinKey(o.Key)
	g := s.groups.m[k]
	switch {
	case g == nil:
		g = &absGroup{Last: t}
		s.groups.put(k, g)
	case t > g.Last:
		g.Last, g.Alerted = t, false
	default:
		return nil // late: nothing new about the group
	}
	s.next = min(s.next, s.deadline(g))
	return nil
}

func (s *absenceState) Advance(watermark time.Time) []detections.Hit {
	wm := nanos(watermark)
	s.start(wm)
	if wm < s.next {
		return nil
	}
	var hits []detections.Hit
	next := int64(math.MaxInt64)
	for _, k := range s.groups.sortedKeys() {
		g := s.groups.m[k]
		if !g.Alerted && wm-g.Last >= int64(s.d.after) {
			g.Alerted = true
			hits = append(hits, s.hit(splitKey(k), g, wm))
		}
		if g.Alerted && !g.Expected && wm-g.Last > s.d.ttl() {
			delete(s.groups.m, k)
			continue
		}
		next = min(next, s.deadline(g))
	}
	s.next = next
	return hits
}

// hit reports a group's silence.
func (s *absenceState) hit(key []string, g *absGroup, wm int64) detections.Hit {
	last := fromNanos(g.Last)
	e := s.d.summaryEvent(key, last)
	e.Event.ID = syntheticID(KindAbsence, s.d.rule, key, last)
	if e.Fields == nil {
		e.Fields = map[string]any{}
	}
	e.Fields[FieldAbsenceLastSeen] = last
	e.Fields[FieldAbsenceSilentFor] = time.Duration(wm - g.Last).String()
	return detections.Hit{Event: e, First: last, Last: last, Count: 1}
}

func (s *absenceState) Snapshot() ([]byte, error) {
	var started *int64
	if s.started {
		one := int64(1)
		started = &one
	}
	return marshalTable(KindAbsence, &s.groups, 0, started)
}

func (s *absenceState) Restore(data []byte) error {
	_, started, err := unmarshalTable(KindAbsence, data, &s.groups)
	if err != nil {
		return err
	}
	s.started = started != nil
	s.next = math.MaxInt64
	for _, g := range s.groups.m {
		s.next = min(s.next, s.deadline(g))
	}
	return nil
}
