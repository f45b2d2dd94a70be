package detections_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
)

// kqlDetector is a stateless detector written in KQL, counting its calls.
type kqlDetector struct {
	m     kql.Matcher
	calls atomic.Int64
}

func (d *kqlDetector) Match(e *event.Event) bool {
	d.calls.Add(1)
	return d.m.Match(e)
}

func newKQL(t testing.TB, q string) *kqlDetector {
	t.Helper()
	n, err := kql.Parse(q)
	require.NoError(t, err)
	c, err := kql.Plan(n, kql.Options{Location: time.UTC})
	require.NoError(t, err)
	return &kqlDetector{m: kql.Compile(c)}
}

// always matches every event, counting calls.
type always struct{ calls atomic.Int64 }

func (a *always) Match(*event.Event) bool { a.calls.Add(1); return true }

var t0 = time.Date(2026, 5, 4, 2, 30, 0, 0, time.UTC) // a holiday (みどりの日), 11:30 in Tokyo

// logon returns a Windows logon event.
func logon(id, code, user, host, src string, at time.Time) *event.Event {
	e := &event.Event{
		Timestamp: at,
		Event:     event.Meta{ID: id, Code: code, Kind: "event", Category: []string{"authentication"}},
		User:      &event.User{Name: user, Domain: "CORP"},
		Host:      &event.Host{Name: host},
		Source:    &event.Endpoint{IP: src},
		Fields:    map[string]any{"winlog.channel": "Security", "winlog.event_id": mustInt(code)},
	}
	return e
}

func mustInt(s string) int64 {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}

// records encodes events as mamori.events records.
func records(t testing.TB, events ...*event.Event) []bus.Record {
	t.Helper()
	out := make([]bus.Record, len(events))
	for i, e := range events {
		data, err := event.Marshal(e)
		require.NoError(t, err)
		out[i] = bus.Record{Topic: bus.TopicEvents, Partition: 0, Offset: int64(i), Value: data, Time: e.Timestamp}
	}
	return out
}

// bruteForce is a typical rule on failed logons.
func bruteForce(t testing.TB) *detections.Rule {
	return &detections.Rule{
		ID:          "mamori-failed-logon",
		Name:        "Failed logon",
		Version:     2,
		Description: "A logon failed.",
		Severity:    detections.Medium,
		Tactics:     []detections.Tactic{{ID: "TA0006", Name: "Credential Access"}},
		Techniques:  []detections.Technique{{ID: "T1110.001", Name: "Password Guessing"}},
		Suppression: 10 * time.Minute,
		Prerequisites: []detections.Prerequisite{
			{Field: "event.code", Values: []string{"4625"}},
			{Field: "winlog.channel", Values: []string{"Security"}},
		},
		Detector: newKQL(t, "event.category:authentication"),
	}
}
