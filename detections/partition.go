package detections

import (
	"cmp"
	"container/heap"
	"time"

	"github.com/mamori-soc/mamori/event"
)

// partition is the detection state of one partition of the match topic:
// the states of the stateful rules for the groups routed to it, the
// observations waiting for the watermark, and the open alerts of the
// groups and dedup keys it owns. It is used by one goroutine at a time.
type partition struct {
	en      *Engine
	states  map[string]State // by rule id
	alerts  *Alerts
	pending obsHeap
	// watermark is the event time up to which observations were observed.
	watermark time.Time
	// offset is the last match-topic offset applied (-1: none).
	offset int64
	late   int64 // observations that arrived behind the watermark
}

func newPartition(en *Engine) *partition {
	return &partition{en: en, states: map[string]State{}, alerts: NewAlerts(en.cfg), offset: -1}
}

// state returns the rule's state, creating it on first use.
func (p *partition) state(c *compiled) State {
	s := p.states[c.rule.ID]
	if s == nil {
		s = c.stateful.NewState()
		p.states[c.rule.ID] = s
	}
	return s
}

// pendingObs is an observation waiting for the watermark.
type pendingObs struct {
	rule *compiled
	obs  Observation
	raw  matchRecord // kept for snapshots
}

type obsHeap []*pendingObs

func (h obsHeap) Len() int { return len(h) }
func (h obsHeap) Less(i, j int) bool {
	if c := h[i].obs.Last.Compare(h[j].obs.Last); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(h[i].obs.Event.Event.ID, h[j].obs.Event.Event.ID); c != 0 {
		return c < 0
	}
	return h[i].rule.rule.ID < h[j].rule.rule.ID
}
func (h obsHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *obsHeap) Push(x any)   { *h = append(*h, x.(*pendingObs)) }
func (h *obsHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}

// apply takes one match: a stateless rule's hit goes to its alert at once;
// a stateful rule's observation waits for the watermark, unless it is
// already behind it.
func (p *partition) apply(c *compiled, m matchRecord, e *event.Event, b *Batch) {
	if c.stateful == nil {
		b.Add(c.rule, Hit{Event: e}, nil)
		return
	}
	obs := Observation{Key: c.stateful.GroupKey(e), Event: e, Count: m.count, First: m.first, Last: m.last}
	if obs.Count <= 0 {
		obs.Count = 1
	}
	if obs.Last.IsZero() {
		obs.Last = e.Timestamp
	}
	if obs.First.IsZero() {
		obs.First = obs.Last
	}
	if !p.watermark.IsZero() && !obs.Last.After(p.watermark) {
		p.late++
		p.hits(c, p.state(c).Observe(obs), b)
		return
	}
	heap.Push(&p.pending, &pendingObs{rule: c, obs: obs, raw: m})
}

// advance observes, in event-time order, the pending observations the
// watermark w has passed, then lets every state see the watermark.
func (p *partition) advance(w time.Time, b *Batch) {
	if !w.After(p.watermark) {
		return
	}
	for p.pending.Len() > 0 && !p.pending[0].obs.Last.After(w) {
		x := heap.Pop(&p.pending).(*pendingObs)
		p.hits(x.rule, p.state(x.rule).Observe(x.obs), b)
	}
	p.watermark = w
	for _, ri := range p.en.stateful {
		c := p.en.rules[ri]
		if s := p.states[c.rule.ID]; s != nil {
			p.hits(c, s.Advance(w), b)
		}
	}
	b.See(w)
}

// hits records a stateful rule's hits; the alert's identity includes the
// group key, so that one alert is always owned by one partition.
func (p *partition) hits(c *compiled, hs []Hit, b *Batch) {
	for _, h := range hs {
		if h.Event == nil {
			continue
		}
		b.Add(c.rule, h, c.stateful.GroupKey(h.Event))
	}
}

// tracked returns the entities the partition's states track.
func (p *partition) tracked() int {
	n := 0
	for _, s := range p.states {
		n += s.Len()
	}
	return n
}
