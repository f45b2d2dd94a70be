package sigma

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
)

// corrState is the state of one correlation for the groups of one
// partition. See the package documentation for its semantics.
type corrState struct {
	c      *Correlation
	groups map[string]*group // by encoded group key
	// watermark is the latest watermark Advance saw.
	watermark time.Time
	// next is when Advance next has work: a window to close or events to
	// forget (zero: none).
	next time.Time
}

// group is the state of one group: its events within the timespan.
type group struct {
	key     []string
	entries []entry // in event-time order
	// open is the start of the group's window when the condition is
	// evaluated when the window closes (lt, lte); zero when none is open.
	open time.Time
	// last is the event of the latest entry; latest its time.
	last   *event.Event
	latest time.Time
	// nested are the states of chained correlations, by reference (nil
	// for a rule reference or before the first event).
	nested []detections.State
}

// entry is one event of a group, or one hit of a chained correlation.
type entry struct {
	T    time.Time `json:"t"`
	F    time.Time `json:"f,omitzero"`   // first event time when before T (a chained hit)
	ID   string    `json:"id,omitempty"` // the event's id
	IDs  []string  `json:"ids,omitempty"`
	N    int64     `json:"n"` // events the entry stands for
	W    int64     `json:"w"` // what it adds to an event count
	Mask uint64    `json:"m"` // the references it counts for
	Val  string    `json:"v,omitempty"`
	Done bool      `json:"d,omitempty"` // reported in a hit
}

func (x *entry) first() time.Time {
	if x.F.IsZero() {
		return x.T
	}
	return x.F
}

// closing reports whether the condition is evaluated when a window closes
// rather than at each event.
func (c *Correlation) closing() bool { return c.Condition.upperBounded() }

// encodeKey makes a map key of group-by values.
func encodeKey(k []string) string {
	var b strings.Builder
	for _, s := range k {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	return b.String()
}

// Observe adds one event to its group and returns the hits it completes.
func (s *corrState) Observe(o detections.Observation) []detections.Hit {
	e := o.Event
	if e == nil {
		return nil
	}
	t := o.Last
	if t.IsZero() {
		t = e.Timestamp
	}
	if !s.watermark.IsZero() && t.Before(s.watermark.Add(-s.c.Timespan)) {
		return nil // older than any window still held
	}
	n := o.Count
	if n <= 0 {
		n = 1
	}
	var hits []detections.Hit
	var mask uint64
	var g *group
	ref := -1
	for i, r := range s.c.refs {
		if !r.Match(e) || !slices.Equal(s.c.keyFor(i, e), o.Key) {
			continue
		}
		if g == nil {
			g = s.group(o.Key)
		}
		if inner := r.Correlation; inner != nil {
			if g.nested == nil {
				g.nested = make([]detections.State, len(s.c.refs))
			}
			if g.nested[i] == nil {
				g.nested[i] = inner.NewState()
			}
			ins := g.nested[i].Observe(detections.Observation{Key: inner.GroupKey(e), Event: e, Count: n, First: o.First, Last: t})
			for _, h := range ins {
				hits = append(hits, s.add(g, fromHit(h, i, s.c.valueFor(i, h.Event)), h.Event)...)
			}
			continue
		}
		if ref < 0 {
			ref = i
		}
		mask |= 1 << i
	}
	if mask != 0 {
		x := entry{T: t, ID: e.Event.ID, N: n, W: n, Mask: mask, Val: s.c.valueFor(ref, e)}
		if o.First.Before(t) && !o.First.IsZero() {
			x.F = o.First
		}
		hits = append(hits, s.add(g, x, e)...)
	}
	s.bound()
	return hits
}

// fromHit makes the entry of a chained correlation's hit.
func fromHit(h detections.Hit, ref int, val string) entry {
	last, first := h.Last, h.First
	if last.IsZero() {
		last = h.Event.Timestamp
	}
	n := int64(h.Count)
	if n <= 0 {
		n = 1
	}
	ids := h.EventIDs
	if ids == nil && h.Event.Event.ID != "" {
		ids = []string{h.Event.Event.ID}
	}
	x := entry{T: last, IDs: slices.Clone(ids), N: n, W: 1, Mask: 1 << ref, Val: val}
	if !first.IsZero() && first.Before(last) {
		x.F = first
	}
	return x
}

// group returns the group of key k, creating it.
func (s *corrState) group(k []string) *group {
	ek := encodeKey(k)
	g := s.groups[ek]
	if g == nil {
		g = &group{key: slices.Clone(k)}
		s.groups[ek] = g
	}
	return g
}

// add inserts an entry (of event e) into its group and evaluates the
// condition.
func (s *corrState) add(g *group, x entry, e *event.Event) []detections.Hit {
	span := s.c.Timespan
	var hits []detections.Hit
	if s.c.closing() {
		if !g.open.IsZero() && x.T.After(g.open.Add(span)) {
			hits = s.close(g)
		}
		switch {
		case g.open.IsZero():
			g.open = x.T
		case x.T.Before(g.open):
			return hits // late, its window is closed
		}
		s.insert(g, x, e)
		s.trim(g)
		s.schedule(g.open.Add(span))
		return hits
	}
	if !x.T.Before(g.latest) {
		drop := sort.Search(len(g.entries), func(i int) bool { return !g.entries[i].T.Before(x.T.Add(-span)) })
		g.entries = slices.Delete(g.entries, 0, drop)
	}
	// The windows ending at x and at every later entry within the timespan
	// (there are some only when x is late) now hold x.
	end := x.T.Add(span)
	for q := s.insert(g, x, e); q < len(g.entries) && !g.entries[q].T.After(end); q++ {
		hits = append(hits, s.evaluate(g, q, e)...)
	}
	s.trim(g)
	if len(g.entries) > 0 {
		s.schedule(g.entries[0].T.Add(span + 1))
	}
	return hits
}

// insert puts x after every entry at or before its time and returns its
// index.
func (s *corrState) insert(g *group, x entry, e *event.Event) int {
	p := sort.Search(len(g.entries), func(i int) bool { return g.entries[i].T.After(x.T) })
	g.entries = slices.Insert(g.entries, p, x)
	if !x.T.Before(g.latest) {
		g.latest, g.last = x.T, e
	}
	return p
}

// schedule makes Advance look at the groups again at t.
func (s *corrState) schedule(t time.Time) {
	if s.next.IsZero() || t.Before(s.next) {
		s.next = t
	}
}

// evaluate tests the window of timespan ending at entry p and reports the
// entries of a match that were not reported yet.
func (s *corrState) evaluate(g *group, p int, e *event.Event) []detections.Hit {
	x := g.entries[p]
	lo := sort.Search(p+1, func(i int) bool { return !g.entries[i].T.Before(x.T.Add(-s.c.Timespan)) })
	if s.c.Type == TemporalOrdered {
		chain := s.chain(g.entries, lo, p)
		if chain == nil {
			return nil
		}
		return s.report(g, chain, e, x.T)
	}
	if !s.c.Condition.Holds(s.metric(g.entries[lo : p+1])) {
		return nil
	}
	idx := make([]int, 0, p+1-lo)
	for i := lo; i <= p; i++ {
		idx = append(idx, i)
	}
	return s.report(g, idx, e, x.T)
}

// chain finds, within entries[lo:p+1], the latest-starting sequence of the
// referenced rules in their order that ends with entry p, or nil.
func (s *corrState) chain(entries []entry, lo, p int) []int {
	k := len(s.c.refs)
	if entries[p].Mask&(1<<(k-1)) == 0 {
		return nil
	}
	out := []int{p}
	pos := p
	for j := k - 2; j >= 0; j-- {
		q := pos - 1
		for q >= lo && entries[q].Mask&(1<<j) == 0 {
			q--
		}
		if q < lo {
			return nil
		}
		out = append(out, q)
		pos = q
	}
	slices.Reverse(out)
	return out
}

// metric is the number the condition tests: events, distinct values or
// distinct rules in the window.
func (s *corrState) metric(win []entry) int64 {
	var n int64
	switch s.c.Type {
	case EventCount:
		for _, x := range win {
			n += x.W
		}
	case ValueCount:
		seen := map[string]bool{}
		for _, x := range win {
			if x.Val != "" && !seen[x.Val] {
				seen[x.Val] = true
				n++
			}
		}
	default:
		var m uint64
		for _, x := range win {
			m |= x.Mask
		}
		n = popcount(m)
	}
	return n
}

// report makes one hit of the entries idx not reported yet, and marks them.
func (s *corrState) report(g *group, idx []int, e *event.Event, last time.Time) []detections.Hit {
	h := detections.Hit{Event: e, Last: last}
	var count int64
	for _, i := range idx {
		x := &g.entries[i]
		if x.Done {
			continue
		}
		x.Done = true
		count += x.N
		if f := x.first(); h.First.IsZero() || f.Before(h.First) {
			h.First = f
		}
		if x.ID != "" {
			h.EventIDs = append(h.EventIDs, x.ID)
		}
		h.EventIDs = append(h.EventIDs, x.IDs...)
	}
	if count == 0 {
		return nil
	}
	h.Count = int(count)
	if h.EventIDs == nil {
		h.EventIDs = []string{}
	}
	return []detections.Hit{h}
}

// close evaluates and closes the open window of a group (lt, lte).
func (s *corrState) close(g *group) []detections.Hit {
	var hits []detections.Hit
	if len(g.entries) > 0 && s.c.Condition.Holds(s.metric(g.entries)) {
		idx := make([]int, len(g.entries))
		for i := range idx {
			idx[i] = i
		}
		hits = s.report(g, idx, g.last, g.entries[len(g.entries)-1].T)
	}
	g.entries, g.open = nil, time.Time{}
	return hits
}

// trim keeps a group within MaxGroupEvents: it forgets the oldest entry
// that does not change the metric (a value or rule seen again later), or
// else the oldest. Condition values are below the bound, so a capped count
// compares to them as the true count would.
func (s *corrState) trim(g *group) {
	for len(g.entries) > s.c.limits.events {
		drop := 0
		switch s.c.Type {
		case ValueCount:
			later := map[string]bool{}
			for i := len(g.entries) - 1; i >= 0; i-- {
				v := g.entries[i].Val
				if v == "" || later[v] {
					drop = i // keep looking for an older one
				}
				later[v] = true
			}
		case Temporal:
			var later uint64
			for i := len(g.entries) - 1; i >= 0; i-- {
				if m := g.entries[i].Mask; m&^later == 0 {
					drop = i
				}
				later |= g.entries[i].Mask
			}
		}
		g.entries = slices.Delete(g.entries, drop, drop+1)
	}
}

// bound forgets the groups with the oldest events when there are more than
// MaxGroups: down to nine tenths of it, so that eviction is rare.
func (s *corrState) bound() {
	max := s.c.limits.groups
	if len(s.groups) <= max {
		return
	}
	type aged struct {
		key    string
		latest time.Time
	}
	all := make([]aged, 0, len(s.groups))
	for k, g := range s.groups {
		all = append(all, aged{k, g.latest})
	}
	slices.SortFunc(all, func(a, b aged) int {
		if c := a.latest.Compare(b.latest); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	keep := max * 9 / 10
	for _, a := range all[:len(all)-keep] {
		delete(s.groups, a.key)
	}
}

// Advance closes the windows the watermark passed (lt, lte), forgets
// events older than the timespan, and advances chained correlations.
func (s *corrState) Advance(w time.Time) []detections.Hit {
	if w.After(s.watermark) {
		s.watermark = w
	}
	w = s.watermark
	nested := slices.ContainsFunc(s.c.refs, func(r *Rule) bool { return r.Correlation != nil })
	if !nested && (s.next.IsZero() || w.Before(s.next)) {
		return nil
	}
	s.next = time.Time{}
	var hits []detections.Hit
	horizon := w.Add(-s.c.Timespan)
	for k, g := range s.groups {
		for i, ns := range g.nested {
			if ns == nil {
				continue
			}
			for _, h := range ns.Advance(w) {
				hits = append(hits, s.add(g, fromHit(h, i, s.c.valueFor(i, h.Event)), h.Event)...)
			}
		}
		if s.c.closing() {
			if !g.open.IsZero() && !w.Before(g.open.Add(s.c.Timespan)) {
				hits = append(hits, s.close(g)...)
			}
		} else {
			drop := sort.Search(len(g.entries), func(i int) bool { return !g.entries[i].T.Before(horizon) })
			g.entries = slices.Delete(g.entries, 0, drop)
		}
		if len(g.entries) == 0 && g.open.IsZero() && nestedLen(g) == 0 {
			delete(s.groups, k)
			continue
		}
		switch {
		case !g.open.IsZero():
			s.schedule(g.open.Add(s.c.Timespan))
		case len(g.entries) > 0 && !s.c.closing():
			s.schedule(g.entries[0].T.Add(s.c.Timespan + 1))
		}
	}
	slices.SortStableFunc(hits, func(a, b detections.Hit) int {
		if c := a.Last.Compare(b.Last); c != 0 {
			return c
		}
		return strings.Compare(a.Event.Event.ID, b.Event.Event.ID)
	})
	return hits
}

func nestedLen(g *group) int {
	n := 0
	for _, ns := range g.nested {
		if ns != nil {
			n += ns.Len()
		}
	}
	return n
}

// Len returns the number of groups, those of chained correlations included.
func (s *corrState) Len() int {
	n := len(s.groups)
	for _, g := range s.groups {
		n += nestedLen(g)
	}
	return n
}

// snapshotVersion is the version of the snapshot format.
const snapshotVersion = 1

type stateSnapshot struct {
	V         int             `json:"v"`
	Watermark time.Time       `json:"watermark,omitzero"`
	Next      time.Time       `json:"next,omitzero"`
	Groups    []groupSnapshot `json:"groups"`
}

type groupSnapshot struct {
	Key     []string          `json:"key"`
	Entries []entry           `json:"entries,omitempty"`
	Open    time.Time         `json:"open,omitzero"`
	Latest  time.Time         `json:"latest,omitzero"`
	Last    json.RawMessage   `json:"last,omitempty"`
	Nested  []json.RawMessage `json:"nested,omitempty"` // by reference; null for none
}

// Snapshot encodes the state as versioned JSON, groups in key order.
func (s *corrState) Snapshot() ([]byte, error) {
	snap := stateSnapshot{V: snapshotVersion, Watermark: s.watermark, Next: s.next, Groups: []groupSnapshot{}}
	keys := make([]string, 0, len(s.groups))
	for k := range s.groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		g := s.groups[k]
		gs := groupSnapshot{Key: g.key, Entries: g.entries, Open: g.open, Latest: g.latest}
		if g.last != nil {
			b, err := event.Marshal(g.last)
			if err != nil {
				return nil, fmt.Errorf("sigma: correlation snapshot: %w", err)
			}
			gs.Last = b
		}
		if g.nested != nil {
			gs.Nested = make([]json.RawMessage, len(g.nested))
			for i, ns := range g.nested {
				if ns == nil {
					gs.Nested[i] = json.RawMessage("null")
					continue
				}
				b, err := ns.Snapshot()
				if err != nil {
					return nil, err
				}
				gs.Nested[i] = b
			}
		}
		snap.Groups = append(snap.Groups, gs)
	}
	return json.Marshal(snap)
}

// ErrSnapshot reports a correlation snapshot that cannot be restored.
var ErrSnapshot = errors.New("sigma: bad correlation snapshot")

// Restore replaces the state with a snapshot's. It is called on a fresh
// state of the same correlation.
func (s *corrState) Restore(data []byte) error {
	var snap stateSnapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	if snap.V != snapshotVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrSnapshot, snap.V, snapshotVersion)
	}
	groups := make(map[string]*group, len(snap.Groups))
	for _, gs := range snap.Groups {
		if len(gs.Key) != len(s.c.GroupBy) {
			return fmt.Errorf("%w: group key %q does not fit group-by %v", ErrSnapshot, gs.Key, s.c.GroupBy)
		}
		g := &group{key: gs.Key, entries: gs.Entries, open: gs.Open, latest: gs.Latest}
		if len(gs.Last) > 0 {
			g.last = &event.Event{}
			if err := event.Unmarshal(gs.Last, g.last); err != nil {
				return fmt.Errorf("%w: %v", ErrSnapshot, err)
			}
		}
		if gs.Nested != nil {
			if len(gs.Nested) != len(s.c.refs) {
				return fmt.Errorf("%w: %d chained states for %d references", ErrSnapshot, len(gs.Nested), len(s.c.refs))
			}
			g.nested = make([]detections.State, len(gs.Nested))
			for i, raw := range gs.Nested {
				if string(raw) == "null" {
					continue
				}
				inner := s.c.refs[i].Correlation
				if inner == nil {
					return fmt.Errorf("%w: chained state for rule %q, which is not a correlation", ErrSnapshot, s.c.Rules[i])
				}
				ns := inner.NewState()
				if err := ns.Restore(raw); err != nil {
					return err
				}
				g.nested[i] = ns
			}
		}
		groups[encodeKey(g.key)] = g
	}
	s.groups, s.watermark, s.next = groups, snap.Watermark, snap.Next
	return nil
}
