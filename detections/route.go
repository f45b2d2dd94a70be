package detections

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/mamori-soc/mamori/bus"
)

// TopicMatches carries rule matches from the select step to the correlate
// step, keyed by rule and group so that every match of one group reaches
// the partition that owns the group's state and alert, and the progress of
// the select step's source partitions, broadcast to every partition.
const TopicMatches = "mamori.detect.matches"

// Headers of match-topic records.
const (
	headerKind  = "mamori.detect"       // "match", "summary" or "progress"
	headerRule  = "mamori.detect.rule"  // rule id
	headerCount = "mamori.detect.count" // summary: events merged
	headerFirst = "mamori.detect.first" // summary: first event time
	headerLast  = "mamori.detect.last"  // summary: last event time
)

const (
	kindMatch    = "match"
	kindSummary  = "summary"
	kindProgress = "progress"
)

// matchRecord is a decoded match-topic record.
type matchRecord struct {
	kind        string
	rule        string
	count       int64
	first, last time.Time
	value       []byte // the event (match, summary) or progress (JSON)
	offset      int64
}

func decodeMatch(r *bus.Record) (matchRecord, error) {
	m := matchRecord{value: r.Value, offset: r.Offset}
	m.kind, _ = r.Header(headerKind)
	switch m.kind {
	case kindMatch, kindSummary:
	case kindProgress:
		return m, nil
	default:
		return m, fmt.Errorf("match record without a known %s header (%q)", headerKind, m.kind)
	}
	m.rule, _ = r.Header(headerRule)
	if m.rule == "" {
		return m, fmt.Errorf("match record without %s header", headerRule)
	}
	if m.kind == kindSummary {
		c, _ := r.Header(headerCount)
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 1 {
			return m, fmt.Errorf("summary record with count %q", c)
		}
		m.count = n
		for _, x := range []struct {
			h string
			t *time.Time
		}{{headerFirst, &m.first}, {headerLast, &m.last}} {
			s, _ := r.Header(x.h)
			if *x.t, err = time.Parse(time.RFC3339Nano, s); err != nil {
				return m, fmt.Errorf("summary record %s: %w", x.h, err)
			}
		}
	}
	return m, nil
}

// record encodes a match or summary for the match topic.
func (m matchRecord) record(key []string, at time.Time) bus.Record {
	r := bus.Record{
		Topic: TopicMatches,
		Key:   routeKey(m.rule, key),
		Value: m.value,
		Time:  at,
		Headers: []bus.Header{
			{Key: headerKind, Value: []byte(m.kind)},
			{Key: headerRule, Value: []byte(m.rule)},
		},
	}
	if m.kind == kindSummary {
		r.Headers = append(r.Headers,
			bus.Header{Key: headerCount, Value: strconv.AppendInt(nil, m.count, 10)},
			bus.Header{Key: headerFirst, Value: []byte(m.first.UTC().Format(time.RFC3339Nano))},
			bus.Header{Key: headerLast, Value: []byte(m.last.UTC().Format(time.RFC3339Nano))},
		)
	}
	return r
}

// routeKey is the bus key of a match: the rule id and the group (or dedup)
// key, separated by NUL bytes.
func routeKey(rule string, key []string) []byte {
	n := len(rule)
	for _, k := range key {
		n += 1 + len(k)
	}
	b := make([]byte, 0, n)
	b = append(b, rule...)
	for _, k := range key {
		b = append(b, 0)
		b = append(b, k...)
	}
	return b
}

// progress is what a select worker reports after each batch and while idle:
// the latest event time it has processed per partition of mamori.events,
// and whether it is idle (has nothing to read).
type progress struct {
	Partitions map[int]time.Time `json:"partitions"`
	Idle       bool              `json:"idle,omitempty"`
}

// partitionKeys returns, for each of n partitions, a key the partitioner
// places in it, so a record can be addressed to every partition.
func partitionKeys(n int) [][]byte {
	keys := make([][]byte, n)
	found := 0
	for i := 0; found < n; i++ {
		k := []byte("progress-" + strconv.Itoa(i))
		if p := bus.PartitionFor(k, n); keys[p] == nil {
			keys[p] = k
			found++
		}
	}
	return keys
}

// progressRecords addresses the progress report to every partition.
func progressRecords(keys [][]byte, p progress, at time.Time) ([]bus.Record, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	out := make([]bus.Record, len(keys))
	for i, k := range keys {
		out[i] = bus.Record{
			Topic: TopicMatches, Key: k, Value: data, Time: at,
			Headers: []bus.Header{{Key: headerKind, Value: []byte(kindProgress)}},
		}
	}
	return out, nil
}
