package detections

import (
	"slices"
	"time"

	"github.com/mamori-soc/mamori/event"
)

// summaries merges the matches of volume rules (Summarizer) per rule, group
// and bucket, for the select step (per batch) and the Replayer (per
// bucket). Order is the order summaries were first added.
type summaries struct {
	m       map[summaryKey]*summary
	order   []summaryKey
	scratch []string
}

// summaryKey identifies the summary a match is merged into.
type summaryKey struct {
	rule   *compiled
	key    string // group key joined by NUL
	bucket int64
}

type summary struct {
	first, last time.Time
	count       int64
	group       []string
}

func newSummaries() *summaries { return &summaries{m: map[summaryKey]*summary{}} }

// add merges a match of a volume rule. Every event of such a rule lands
// here: its key is read into a scratch slice (GroupKey's, by the
// Summarizer contract) and copied only for a new summary.
func (s *summaries) add(c *compiled, sm Summarizer, e *event.Event) {
	s.scratch = keyInto(s.scratch[:0], e, sm.GroupFields())
	k := summaryKey{rule: c, key: joinKey(s.scratch), bucket: windowStart(e.Timestamp, sm.Bucket()).UnixNano()}
	x := s.m[k]
	if x == nil {
		x = &summary{first: e.Timestamp, last: e.Timestamp, group: slices.Clone(s.scratch)}
		s.m[k] = x
		s.order = append(s.order, k)
	}
	x.count++
	x.first = minTime(x.first, e.Timestamp)
	x.last = maxTime(x.last, e.Timestamp)
}

// take removes and returns the summaries whose bucket ended by t (all, for a
// zero t), each with its summary event, match record and group key.
func (s *summaries) take(t time.Time, fn func(c *compiled, e *event.Event, m matchRecord, group []string)) {
	keep := s.order[:0]
	for _, k := range s.order {
		sm := k.rule.stateful.(Summarizer)
		if !t.IsZero() && time.Unix(0, k.bucket).Add(sm.Bucket()).After(t) {
			keep = append(keep, k)
			continue
		}
		x := s.m[k]
		delete(s.m, k)
		fn(k.rule, summaryEvent(k.rule.rule.ID, sm.GroupFields(), x), matchRecord{kind: kindSummary, rule: k.rule.rule.ID, count: x.count, first: x.first, last: x.last}, x.group)
	}
	s.order = keep
}

// summaryEvent is the event of a summary: its id, last time and the group-by
// fields.
func summaryEvent(rule string, fields []string, x *summary) *event.Event {
	e := &event.Event{Timestamp: x.last, Event: event.Meta{ID: summaryID(rule, x.group, x.first)}}
	for i, f := range fields {
		if i < len(x.group) && x.group[i] != "" {
			_ = e.Set(f, x.group[i])
		}
	}
	return e
}
