package native

import (
	"time"

	"github.com/mamori-soc/mamori/detections"
)

// newTerms is the new_terms kind: an event whose values of the term fields
// were not seen for its group within the history is a hit; the term is
// recorded either way. No hit comes before the state covers `learning` of
// event time from the earliest event it observed.
//
// The state keeps one entry per group and term: the term's last event
// time. Entries older than the history are dropped, and at most
// Options.MaxGroups entries are kept, the ones seen least recently evicted
// first (an evicted term counts as new when it comes back). An event whose
// term fields are all absent is ignored.
type newTerms struct {
	base
	fields   []string
	history  time.Duration
	learning time.Duration
}

var _ detections.Stateful = (*newTerms)(nil)

func newNewTerms(s *newTermsSpec, b base) (*newTerms, error) {
	if err := checkFields("new_terms.group_by", s.GroupBy); err != nil {
		return nil, err
	}
	if len(s.Fields) == 0 {
		return nil, errAt("new_terms.fields", "missing")
	}
	if err := checkFields("new_terms.fields", s.Fields); err != nil {
		return nil, err
	}
	h, err := positive("new_terms.history", s.History)
	if err != nil {
		return nil, err
	}
	d := &newTerms{fields: s.Fields, history: h}
	if s.Learning != nil {
		if *s.Learning < 0 {
			return nil, errAt("new_terms.learning", "want a duration >= 0")
		}
		d.learning = time.Duration(*s.Learning)
	}
	b.groupBy = s.GroupBy
	d.base = b
	return d, nil
}

// NewState returns an empty new_terms state.
func (d *newTerms) NewState() detections.State {
	return &newTermsState{d: d, terms: newTable(d.max, func(t int64) int64 { return t })}
}

type newTermsState struct {
	d     *newTerms
	terms table[int64] // group key and term values -> last event time
	first *int64       // earliest event time observed
	swept int64
}

func (s *newTermsState) Len() int { return len(s.terms.m) }

func (s *newTermsState) Observe(o detections.Observation) []detections.Hit {
	d := s.d
	term := detections.KeyOf(o.Event, d.fields)
	empty := true
	for _, v := range term {
		empty = empty && v == ""
	}
	if empty {
		return nil
	}
	t := nanos(o.Last)
	if s.first == nil || t < *s.first {
		s.first = &t
	}
	k := joinKey(append(append(make([]string, 0, len(o.Key)+len(term)), o.Key...), term...))
	prev, seen := s.terms.m[k]
	isNew := !seen || t-prev > int64(d.history)
	if !seen || t > prev {
		s.terms.put(k, t)
	}
	if !isNew || t-*s.first < int64(d.learning) {
		return nil
	}
	return []detections.Hit{{Event: o.Event}}
}

func (s *newTermsState) Advance(watermark time.Time) []detections.Hit {
	wm := nanos(watermark)
	if wm-s.swept < int64(min(s.d.history, time.Hour)) {
		return nil
	}
	s.swept = wm
	for k, t := range s.terms.m {
		if t < wm-int64(s.d.history) {
			delete(s.terms.m, k)
		}
	}
	return nil
}

func (s *newTermsState) Snapshot() ([]byte, error) {
	return marshalTable(KindNewTerms, &s.terms, s.swept, s.first)
}

func (s *newTermsState) Restore(data []byte) error {
	swept, first, err := unmarshalTable(KindNewTerms, data, &s.terms)
	s.swept, s.first = swept, first
	return err
}
