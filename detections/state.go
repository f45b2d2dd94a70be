package detections

import (
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
)

// Stateful is the capability of detectors that aggregate over events
// (threshold, sequence, the Sigma correlations, new terms, rate anomaly,
// absence). Match stays the cheap stateless selection ("a failed logon");
// the rule's State does the aggregation ("ten of them for one user within
// five minutes").
//
// The detect stage routes every match of a stateful rule through the bus,
// keyed by the rule and its GroupKey, so that all events of one group reach
// the same State whatever the number of detect workers: results are the
// same with one worker or many.
type Stateful interface {
	Detector
	// GroupKey returns the values that select the group the event belongs
	// to (for example the user name), as canonical text; nil or empty puts
	// every event of the rule in one group. It is called only for events
	// Match accepted, and must be safe for concurrent use.
	GroupKey(e *event.Event) []string
	// NewState returns an empty state for the groups of one partition.
	NewState() State
}

// Summarizer is an optional capability of Stateful detectors that need only
// how many events a group had and when (rate anomaly, absence): the stage
// then merges a group's matches within each Bucket into one Observation
// whose Event holds only the group-by fields, instead of forwarding every
// event.
type Summarizer interface {
	// Bucket is the span merged into one observation (for example a
	// minute).
	Bucket() time.Duration
	// GroupFields names the fields GroupKey reads, in order: the summary
	// event carries them.
	GroupFields() []string
}

// Observation is one input of a State: one event of the group, or a summary
// of several.
type Observation struct {
	// Key is the group key (GroupKey of the event).
	Key []string
	// Event is the event; for a summary, an event with the group-by fields
	// and @timestamp = Last only. A State may keep it.
	Event *event.Event
	// Count is the number of events the observation stands for (1 unless a
	// summary).
	Count int64
	// First and Last bound the events' times (both the event's @timestamp
	// unless a summary).
	First, Last time.Time
}

// State is the aggregation state of one stateful rule for the groups of one
// bus partition. The stage calls it from one goroutine at a time:
//
//   - Observe with each observation in event-time order (by Last, ties by
//     event id), once the watermark has passed it, so that the order of
//     arrival from several workers never changes the result. An observation
//     older than the watermark when it arrives (later than the allowed
//     lateness) is observed at once, out of order.
//   - Advance with the watermark: the time up to which every observation is
//     believed to have arrived. Windows that close, silences that last too
//     long and baselines that roll over produce their hits here.
//
// Both return the hits to alert on (nil for none). All time is event time
// (observations and the watermark), never the wall clock, so a replay gives
// the same hits.
//
// Snapshot and Restore make the state durable: the stage snapshots the
// states of a partition with the bus offset they cover and, after a restart
// or when a partition moves to another worker, restores them and replays
// the records after that offset. Restore is called on a state fresh from
// NewState. Len reports the number of tracked entities (groups, values,
// windows), for metrics and for the memory bound each state keeps itself.
type State interface {
	Observe(o Observation) []Hit
	Advance(watermark time.Time) []Hit
	Snapshot() ([]byte, error)
	Restore(data []byte) error
	Len() int
}

// KeyOf returns the canonical text of each field's value in the event: the
// string itself, integers in decimal, booleans as true or false, array
// elements joined by commas, "" when absent. Stateful detectors use it for
// their GroupKey.
func KeyOf(e *event.Event, fields []string) []string {
	return keyInto(make([]string, 0, len(fields)), e, fields)
}

// keyInto appends KeyOf's values to dst.
func keyInto(dst []string, e *event.Event, fields []string) []string {
	var buf [32]byte
	for _, f := range fields {
		if tf := event.Lookup(f); tf != nil && tf.IsString() {
			s, _ := tf.StringOf(e)
			dst = append(dst, s)
			continue
		}
		v, ok := e.Get(f)
		if !ok {
			dst = append(dst, "")
			continue
		}
		if s, ok := v.(string); ok { // the event's own string
			dst = append(dst, s)
			continue
		}
		var parts []string
		// Numbers are formatted into buf: their text is cloned.
		forEachText(v, &buf, func(s string) { parts = append(parts, strings.Clone(s)) })
		dst = append(dst, strings.Join(parts, ","))
	}
	return dst
}

// Text returns the canonical text of a field's value (the first element of
// an array), "" when absent.
func Text(e *event.Event, field string) string { return text(e, field) }
