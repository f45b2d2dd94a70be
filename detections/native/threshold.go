package native

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/mamori-soc/mamori/detections"
)

// maxDistinctEvents caps the event times a distinct-count group keeps to
// report how many events its window holds: a crossing hit's Count is at
// most this.
const maxDistinctEvents = 1024

// threshold is the threshold kind: a group that reaches count events (or
// count distinct values of a field) within a sliding window of event time
// ending at its newest event.
//
// A group that reaches the threshold makes one hit with every event in the
// window (for distinct values, one id per value; Count is the events);
// while it stays at or above the threshold, each further event is a hit of
// Count 1; when the window ending at a new event holds fewer than count
// before that event, the group re-arms. A count group keeps its newest count
// events; a distinct group its newest count values and at most
// maxDistinctEvents event times. Groups idle for longer than the window are
// dropped (they would start afresh anyway), and at most Options.MaxGroups
// groups are kept, the ones idle the longest evicted first.
type threshold struct {
	base
	window   time.Duration
	count    int
	distinct string
}

var _ detections.Stateful = (*threshold)(nil)

func newThreshold(s *thresholdSpec, b base) (*threshold, error) {
	w, err := positive("threshold.window", s.Window)
	if err != nil {
		return nil, err
	}
	if s.Count == nil {
		return nil, errAt("threshold.count", "missing")
	}
	if *s.Count < 1 {
		return nil, errAt("threshold.count", "%d: want an integer >= 1", *s.Count)
	}
	if err := checkFields("threshold.group_by", s.GroupBy); err != nil {
		return nil, err
	}
	if s.Distinct != "" {
		if err := checkFields("threshold.distinct", []string{s.Distinct}); err != nil {
			return nil, err
		}
	}
	b.groupBy = s.GroupBy
	return &threshold{base: b, window: w, count: *s.Count, distinct: s.Distinct}, nil
}

// NewState returns an empty threshold state.
func (d *threshold) NewState() detections.State {
	return &thresholdState{d: d, groups: newTable(d.max, func(g *thrGroup) int64 { return g.Last })}
}

type thresholdState struct {
	d      *threshold
	groups table[*thrGroup]
	swept  int64 // watermark of the last sweep
}

// thrGroup is one group's window.
type thrGroup struct {
	Last   int64      `json:"last"`             // newest event time
	Fired  bool       `json:"fired,omitempty"`  // at or above the threshold
	Events []thrEvent `json:"events,omitempty"` // count: newest events, by time
	Times  []int64    `json:"times,omitempty"`  // distinct: event times, sorted
	Values []thrEvent `json:"values,omitempty"` // distinct: newest event per value, by time
}

// thrEvent is an event time with the event's id, or a distinct value with
// its newest event's time and id.
type thrEvent struct {
	At    int64  `json:"at"`
	ID    string `json:"id,omitempty"`
	Value string `json:"v,omitempty"`
}

func (s *thresholdState) Len() int { return len(s.groups.m) }

func (s *thresholdState) Observe(o detections.Observation) []detections.Hit {
	d := s.d
	k := joinKey(o.Key)
	g := s.groups.m[k]
	t := nanos(o.Last)
	if g == nil {
		g = &thrGroup{Last: t} // before put: the new group is not the oldest
		s.groups.put(k, g)
	}
	g.Last = max(g.Last, t)
	lo := g.Last - int64(d.window)
	if d.distinct == "" {
		g.Events = dropBefore(g.Events, lo)
	} else {
		g.Values = dropBefore(g.Values, lo)
		i, _ := slices.BinarySearch(g.Times, lo)
		g.Times = g.Times[i:]
	}
	if g.Fired && s.measure(g) < d.count {
		g.Fired = false
	}
	if t < lo {
		return nil // later than the window: it counts in none
	}
	id := o.Event.Event.ID
	if d.distinct == "" {
		g.Events = insertByTime(g.Events, thrEvent{At: t, ID: id})
		if len(g.Events) > d.count {
			g.Events = slices.Delete(g.Events, 0, len(g.Events)-d.count)
		}
	} else {
		i, _ := slices.BinarySearch(g.Times, t+1)
		g.Times = slices.Insert(g.Times, i, t)
		if len(g.Times) > maxDistinctEvents {
			g.Times = slices.Delete(g.Times, 0, len(g.Times)-maxDistinctEvents)
		}
		if v := detections.Text(o.Event, d.distinct); v != "" {
			g.Values = addValue(g.Values, thrEvent{At: t, ID: id, Value: v}, d.count)
		}
	}
	if s.measure(g) < d.count {
		return nil
	}
	if g.Fired {
		return []detections.Hit{{Event: o.Event, Count: 1}}
	}
	g.Fired = true
	h := detections.Hit{Event: o.Event}
	ids := g.Events
	if d.distinct != "" {
		ids = g.Values
		h.Count = len(g.Times)
		h.First = fromNanos(min(g.Times[0], g.Values[0].At))
	} else {
		h.Count = len(g.Events)
		h.First = fromNanos(g.Events[0].At)
	}
	h.Last = fromNanos(g.Last)
	for _, e := range ids {
		if e.ID != "" {
			h.EventIDs = append(h.EventIDs, e.ID)
		}
	}
	return []detections.Hit{h}
}

// measure is what is compared with the threshold: events or distinct
// values in the window.
func (s *thresholdState) measure(g *thrGroup) int {
	if s.d.distinct == "" {
		return len(g.Events)
	}
	return len(g.Values)
}

// dropBefore drops the entries older than lo from a slice sorted by time.
func dropBefore(es []thrEvent, lo int64) []thrEvent {
	i := 0
	for i < len(es) && es[i].At < lo {
		i++
	}
	if i == 0 {
		return es
	}
	return slices.Delete(es, 0, i)
}

// insertByTime inserts e after the entries not newer than it.
func insertByTime(es []thrEvent, e thrEvent) []thrEvent {
	i := len(es)
	for i > 0 && es[i-1].At > e.At {
		i--
	}
	return slices.Insert(es, i, e)
}

// addValue records the newest event of a distinct value, keeping the
// newest limit values, sorted by time.
func addValue(vs []thrEvent, e thrEvent, limit int) []thrEvent {
	if i := slices.IndexFunc(vs, func(x thrEvent) bool { return x.Value == e.Value }); i >= 0 {
		if vs[i].At > e.At {
			return vs // a late event of a value seen since
		}
		vs = slices.Delete(vs, i, i+1)
	}
	vs = insertByTime(vs, e)
	if len(vs) > limit {
		vs = slices.Delete(vs, 0, len(vs)-limit)
	}
	return vs
}

func (s *thresholdState) Advance(watermark time.Time) []detections.Hit {
	s.groups.sweep(&s.swept, nanos(watermark), s.d.window)
	return nil
}

// snapshot is the JSON form of a state: a version, the last sweep and the
// groups by key.
type snapshot[G any] struct {
	V      int        `json:"v"`
	Kind   string     `json:"kind"`
	Swept  int64      `json:"swept,omitempty"`
	Extra  *int64     `json:"extra,omitempty"` // kind-specific instant
	Groups []keyed[G] `json:"groups"`
}

type keyed[G any] struct {
	Key   []string `json:"key"`
	Group G        `json:"g"`
}

const snapshotVersion = 1

// marshalTable writes a table's groups in key order.
func marshalTable[G any](kind string, t *table[G], swept int64, extra *int64) ([]byte, error) {
	snap := snapshot[G]{V: snapshotVersion, Kind: kind, Swept: swept, Extra: extra, Groups: []keyed[G]{}}
	for _, k := range t.sortedKeys() {
		snap.Groups = append(snap.Groups, keyed[G]{Key: splitKey(k), Group: t.m[k]})
	}
	return json.Marshal(snap)
}

// unmarshalTable reads marshalTable's output into an empty table.
func unmarshalTable[G any](kind string, data []byte, t *table[G]) (swept int64, extra *int64, err error) {
	var snap snapshot[G]
	if err := json.Unmarshal(data, &snap); err != nil {
		return 0, nil, fmt.Errorf("native: restore %s state: %w", kind, err)
	}
	if snap.V != snapshotVersion || snap.Kind != kind {
		return 0, nil, fmt.Errorf("native: restore %s state: snapshot is version %d of kind %q", kind, snap.V, snap.Kind)
	}
	clear(t.m)
	for _, g := range snap.Groups {
		t.m[joinKey(g.Key)] = g.Group
	}
	if len(t.m) > t.max {
		t.evict(t.max)
	}
	return snap.Swept, snap.Extra, nil
}

func (s *thresholdState) Snapshot() ([]byte, error) {
	return marshalTable(KindThreshold, &s.groups, s.swept, nil)
}

func (s *thresholdState) Restore(data []byte) error {
	swept, _, err := unmarshalTable(KindThreshold, data, &s.groups)
	s.swept = swept
	return err
}
