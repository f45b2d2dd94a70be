package detections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/journal"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/pipeline"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

// rig runs the two steps of the detect stage by hand on a real journal, so
// a test decides exactly which worker handles which records when.
type rig struct {
	t      testing.TB
	bus    *journal.Journal
	store  store.Store
	engine *detections.Engine
	sel    *detections.Select
	cor    *detections.Correlate
	parts  int
	read   map[string]map[int]int64 // topic → partition → next offset
	clock  time.Time
}

func newRig(t testing.TB, parts int, rules ...*detections.Rule) *rig {
	t.Helper()
	dir := t.TempDir()
	j, err := journal.Open(filepath.Join(dir, "journal.db"), journal.Options{Sync: journal.SyncNormal, PollInterval: -1, SweepInterval: -1})
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	ctx := context.Background()
	for _, tp := range []string{bus.TopicEvents, detections.TopicMatches, bus.TopicAlerts, bus.TopicDLQ} {
		require.NoError(t, j.EnsureTopic(ctx, bus.TopicConfig{Name: tp, Partitions: parts}))
	}
	s, err := sqlitestore.Open(filepath.Join(dir, "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	en, err := detections.New(rules, detections.Config{MaxEventIDs: 3, AllowedLateness: time.Minute})
	require.NoError(t, err)
	r := &rig{t: t, bus: j, store: s, engine: en, parts: parts, read: map[string]map[int]int64{}, clock: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	r.sel = detections.NewSelect(en, j, parts, nil)
	r.cor = r.newCorrelate()
	return r
}

func (r *rig) newCorrelate() *detections.Correlate {
	return detections.NewCorrelate(r.engine, r.bus, detections.CorrelateOptions{
		Store: r.store, Sources: r.parts, SnapshotEvery: time.Nanosecond, Now: func() time.Time { return r.clock },
	})
}

// publish puts events on mamori.events, keyed by id as the parse stage does.
func (r *rig) publish(events ...*event.Event) {
	for _, rec := range records(r.t, events...) {
		var e event.Event
		require.NoError(r.t, event.Unmarshal(rec.Value, &e))
		id := []byte(e.Event.ID)
		rec.Key = id
		rec.Headers = []bus.Header{{Key: pipeline.HeaderID, Value: id}}
		require.NoError(r.t, r.bus.Publish(context.Background(), rec))
	}
}

// next reads what is new on a topic partition.
func (r *rig) next(topic string, p int) []bus.Record {
	if r.read[topic] == nil {
		r.read[topic] = map[int]int64{}
	}
	recs, err := r.bus.Read(context.Background(), topic, p, r.read[topic][p], 100000)
	require.NoError(r.t, err)
	if len(recs) > 0 {
		r.read[topic][p] = recs[len(recs)-1].Offset + 1
	}
	return recs
}

// selectPartitions runs the select step over the new events of the
// partitions, in the order given.
func (r *rig) selectPartitions(ps ...int) {
	for _, p := range ps {
		if recs := r.next(bus.TopicEvents, p); len(recs) > 0 {
			require.NoError(r.t, r.sel.Handle(context.Background(), recs))
		}
	}
}

// idle reports the select worker idle and lets time pass.
func (r *rig) idle() {
	require.NoError(r.t, r.sel.ReportIdle(context.Background()))
	r.correlate()
	r.clock = r.clock.Add(time.Hour)
	require.NoError(r.t, r.sel.ReportIdle(context.Background()))
	r.correlate()
}

// correlate runs the correlate step over the new matches of every
// partition.
func (r *rig) correlate() {
	for p := range r.parts {
		if recs := r.next(detections.TopicMatches, p); len(recs) > 0 {
			require.NoError(r.t, r.cor.Handle(context.Background(), recs))
		}
	}
}

// alerts returns the latest version of every alert published, by id.
func (r *rig) alerts() map[string]*event.Event {
	out := map[string]*event.Event{}
	for p := range r.parts {
		recs, err := r.bus.Read(context.Background(), bus.TopicAlerts, p, bus.OffsetOldest, 100000)
		require.NoError(r.t, err)
		for _, rec := range recs {
			var e event.Event
			require.NoError(r.t, event.Unmarshal(rec.Value, &e))
			id, _ := rec.Header(pipeline.HeaderID)
			require.Equal(r.t, e.Event.ID, id)
			out[e.Event.ID] = &e
		}
	}
	return out
}

func summary(t testing.TB, alerts map[string]*event.Event) []string {
	var out []string
	for id, a := range alerts {
		out = append(out, fmt.Sprintf("%s %s %v %v %v", id, get(t, a, "rule.id"), a.User.Name, get(t, a, detections.FieldAlertCount), get(t, a, detections.FieldAlertEventIDs)))
	}
	slices.Sort(out)
	return out
}

func get(t testing.TB, e *event.Event, field string) any {
	t.Helper()
	v, ok := e.Get(field)
	require.True(t, ok, "alert has no %s", field)
	return v
}

func TestAlertDocument(t *testing.T) {
	r := newRig(t, 1, bruteForce(t))
	e := logon("ev-1", "4625", "田中", "ws-01", "10.0.0.5", t0)
	e.User.FullName = "田中 太郎"
	r.publish(e)
	r.selectPartitions(0)
	r.correlate()

	got := r.alerts()
	require.Len(t, got, 1)
	var a *event.Event
	for _, x := range got {
		a = x
	}
	require.Equal(t, "alert", a.Event.Kind)
	require.Equal(t, []string{"alert"}, a.Event.Category)
	require.Equal(t, []string{"info"}, a.Event.Type)
	require.Equal(t, "mamori.alert", a.Event.Dataset)
	require.EqualValues(t, 47, *a.Event.Severity)
	require.Equal(t, t0, a.Timestamp)
	require.Len(t, a.Event.ID, 32)

	require.Equal(t, "mamori-failed-logon", get(t, a, "rule.id"))
	require.Equal(t, "Failed logon", get(t, a, "rule.name"))
	require.Equal(t, "2", get(t, a, "rule.version"))
	require.Equal(t, "A logon failed.", get(t, a, "rule.description"))
	require.EqualValues(t, 47, get(t, a, "event.risk_score"))
	require.Equal(t, "medium", get(t, a, detections.FieldAlertSeverity))
	require.Equal(t, "MITRE ATT&CK", get(t, a, "threat.framework"))
	require.Equal(t, []any{"T1110.001"}, get(t, a, "threat.technique.id"))
	require.Equal(t, []any{"Password Guessing"}, get(t, a, "threat.technique.name"))
	require.Equal(t, []any{"https://attack.mitre.org/techniques/T1110/001/"}, get(t, a, "threat.technique.reference"))
	require.Equal(t, []any{"TA0006"}, get(t, a, "threat.tactic.id"))
	require.Equal(t, []any{"Credential Access"}, get(t, a, "threat.tactic.name"))
	require.Equal(t, t0, get(t, a, "event.start"))
	require.Equal(t, t0, get(t, a, "event.end"))
	require.EqualValues(t, 1, get(t, a, detections.FieldAlertCount))
	require.Equal(t, []any{"ev-1"}, get(t, a, detections.FieldAlertEventIDs))
	require.Equal(t, &event.User{Name: "田中", Domain: "CORP", FullName: "田中 太郎"}, a.User)
	require.Equal(t, &event.Host{Name: "ws-01"}, a.Host)
	require.Equal(t, &event.Endpoint{IP: "10.0.0.5"}, a.Source)
	require.Equal(t, "Failed logon: user 田中 on host ws-01 from 10.0.0.5 (1 event)", a.Message)
}

func TestDedupWithinAndAfterWindow(t *testing.T) {
	r := newRig(t, 1, bruteForce(t)) // 10-minute windows, at most 3 event ids
	base := t0.Add(time.Minute)      // 02:31, in the 02:30-02:40 window
	r.publish(
		logon("a1", "4625", "tanaka", "ws-01", "10.0.0.5", base),
		logon("a2", "4625", "tanaka", "ws-01", "10.0.0.5", base.Add(time.Minute)),
		logon("b1", "4625", "sato", "ws-01", "10.0.0.5", base.Add(2*time.Minute)),
	)
	r.selectPartitions(0)
	r.correlate()
	r.publish(
		logon("a3", "4625", "tanaka", "ws-01", "10.0.0.5", base.Add(3*time.Minute)),
		logon("a4", "4625", "tanaka", "ws-01", "10.0.0.5", base.Add(4*time.Minute)),
		logon("a0", "4625", "tanaka", "ws-01", "10.0.0.5", base.Add(-30*time.Second)), // late, same window
		logon("a2", "4625", "tanaka", "ws-01", "10.0.0.5", base.Add(time.Minute)),     // delivered twice
		logon("a5", "4625", "tanaka", "ws-01", "10.0.0.5", base.Add(9*time.Minute)),   // next window
	)
	r.selectPartitions(0)
	r.correlate()
	got := r.alerts()
	require.Len(t, got, 3)
	first := got[detections.AlertID("mamori-failed-logon", []string{"tanaka", "ws-01", "10.0.0.5"}, t0)]
	require.NotNil(t, first)
	require.EqualValues(t, 5, get(t, first, detections.FieldAlertCount))
	require.Equal(t, []any{"a0", "a1", "a2"}, get(t, first, detections.FieldAlertEventIDs), "the earliest ids, capped")
	require.Equal(t, base.Add(-30*time.Second), get(t, first, "event.start"))
	require.Equal(t, base.Add(4*time.Minute), get(t, first, "event.end"))
	require.Equal(t, "Failed logon: user tanaka on host ws-01 from 10.0.0.5 (5 events)", first.Message)
	next := got[detections.AlertID("mamori-failed-logon", []string{"tanaka", "ws-01", "10.0.0.5"}, t0.Add(10*time.Minute))]
	require.NotNil(t, next)
	require.EqualValues(t, 1, get(t, next, detections.FieldAlertCount))
}

func TestUndecodableEventsAreDeadLettered(t *testing.T) {
	r := newRig(t, 1, bruteForce(t))
	r.publish(logon("a1", "4625", "tanaka", "ws-01", "10.0.0.5", t0))
	ctx := context.Background()
	require.NoError(t, r.bus.Publish(ctx,
		bus.Record{Topic: bus.TopicEvents, Value: []byte(`{not json`)},
		bus.Record{Topic: bus.TopicEvents, Value: []byte(`{"message":"no time"}`)},
	))
	r.selectPartitions(0)
	r.correlate()
	dead, err := r.bus.Read(ctx, bus.TopicDLQ, 0, bus.OffsetOldest, 10)
	require.NoError(t, err)
	require.Len(t, dead, 2)
	st, _ := dead[0].Header(bus.HeaderStage)
	require.Equal(t, detections.StageName, st)
	src, _ := dead[1].Header(bus.HeaderSourceOffset)
	require.Equal(t, "0/2", src)
	require.Len(t, r.alerts(), 1)
}

// threeFailures is a minimal stateful detector: three failed logons of a
// user within ten minutes, in event time.
type threeFailures struct{}

func (threeFailures) Match(e *event.Event) bool { return e.Event.Code == "4625" }
func (threeFailures) GroupKey(e *event.Event) []string {
	return detections.KeyOf(e, []string{"user.name"})
}
func (threeFailures) NewState() detections.State        { return &failState{Seen: map[string][]seen{}} }
func (threeFailures) String() string                    { return "three failures" }
func (s *failState) Len() int                           { return len(s.Seen) }
func (s *failState) Advance(time.Time) []detections.Hit { return nil }
func (s *failState) Snapshot() ([]byte, error)          { return json.Marshal(s) }
func (s *failState) Restore(b []byte) error             { return json.Unmarshal(b, s) }
func (s *failState) hit(e *event.Event, w []seen) detections.Hit {
	ids := make([]string, len(w))
	for i, x := range w {
		ids[i] = x.ID
	}
	return detections.Hit{Event: e, First: w[0].At, Count: len(w), EventIDs: ids}
}

type seen struct {
	ID string
	At time.Time
}

type failState struct{ Seen map[string][]seen }

func (s *failState) Observe(o detections.Observation) []detections.Hit {
	u := o.Key[0]
	w := append(s.Seen[u], seen{o.Event.Event.ID, o.Last})
	for len(w) > 0 && o.Last.Sub(w[0].At) > 10*time.Minute {
		w = w[1:]
	}
	s.Seen[u] = w
	switch {
	case len(w) == 3:
		return []detections.Hit{s.hit(o.Event, w)}
	case len(w) > 3:
		return []detections.Hit{{Event: o.Event}}
	}
	return nil
}

func threshold(t testing.TB) *detections.Rule {
	r := bruteForce(t)
	r.ID, r.Name, r.Detector = "three-failures", "Three failures", threeFailures{}
	r.DedupKey = []string{"user.name"}
	return r
}

// story is failures of three users spread over time.
func story() []*event.Event {
	var out []*event.Event
	for i := range 30 {
		user := []string{"tanaka", "sato", "田中"}[i%3]
		out = append(out, logon(fmt.Sprintf("f%02d", i), "4625", user, fmt.Sprint("ws-", i%4), "10.0.0.5", t0.Add(time.Duration(i)*20*time.Second)))
	}
	return out
}

// TestSameAlertsWithOneOrThreeWorkers runs one story with one partition and
// with three partitions whose select workers run in different orders and
// batch sizes: the final alerts are the same.
func TestSameAlertsWithOneOrThreeWorkers(t *testing.T) {
	rules := func() []*detections.Rule { return []*detections.Rule{threshold(t), bruteForce(t)} }
	one := newRig(t, 1, rules()...)
	one.publish(story()...)
	one.selectPartitions(0)
	one.correlate()
	one.idle()
	want := summary(t, one.alerts())
	require.NotEmpty(t, want)

	three := newRig(t, 3, rules()...)
	evs := story()
	three.publish(evs[:10]...)
	three.selectPartitions(2, 0)
	three.correlate()
	three.publish(evs[10:]...)
	three.selectPartitions(1)
	three.correlate()
	three.selectPartitions(0, 2)
	three.correlate()
	three.idle()
	require.Equal(t, want, summary(t, three.alerts()))
}

// uninterrupted returns the alerts of the events told in one go.
func uninterrupted(t *testing.T, evs []*event.Event) []string {
	t.Helper()
	whole := newRig(t, 1, threshold(t))
	whole.publish(evs...)
	whole.selectPartitions(0)
	whole.correlate()
	whole.idle()
	return summary(t, whole.alerts())
}

// TestRestartLosesNoOpenWindow stops the correlate step in the middle of
// a window and starts a new one on the same bus and store.
func TestRestartLosesNoOpenWindow(t *testing.T) {
	evs := story()
	want := uninterrupted(t, evs)

	r := newRig(t, 1, threshold(t))
	r.publish(evs[:8]...)
	r.selectPartitions(0)
	r.correlate()
	require.NoError(t, r.cor.Close(context.Background()))
	r.cor = r.newCorrelate() // a new process: state from the snapshot
	r.publish(evs[8:]...)
	r.selectPartitions(0)
	r.correlate()
	r.idle()
	require.Equal(t, want, summary(t, r.alerts()))
}

// TestCrashReplaysFromSnapshot loses the in-memory state without a final
// snapshot: the records after the last snapshot are replayed from the bus.
func TestCrashReplaysFromSnapshot(t *testing.T) {
	evs := story()
	want := uninterrupted(t, evs)

	r := newRig(t, 1, threshold(t))
	r.publish(evs[:8]...)
	r.selectPartitions(0)
	r.correlate() // snapshot written (SnapshotEvery is tiny)
	r.publish(evs[8:16]...)
	r.selectPartitions(0)
	r.cor = detections.NewCorrelate(r.engine, r.bus, detections.CorrelateOptions{
		Store: r.store, Sources: 1, SnapshotEvery: time.Hour, Now: func() time.Time { return r.clock },
	})
	r.correlate()            // applied, not snapshotted
	r.cor = r.newCorrelate() // crash: the group resumes after the committed offset
	r.publish(evs[16:]...)
	r.selectPartitions(0)
	r.correlate()
	r.idle()
	require.Equal(t, want, summary(t, r.alerts()))
}

func TestReplayMatchesTheStage(t *testing.T) {
	evs := story()
	r := newRig(t, 1, threshold(t), bruteForce(t))
	r.publish(evs...)
	r.selectPartitions(0)
	r.correlate()
	r.idle()
	want := summary(t, r.alerts())

	slices.Reverse(evs) // Replay sorts
	got, err := detections.Replay(context.Background(), []*detections.Rule{threshold(t), bruteForce(t)}, detections.Config{MaxEventIDs: 3}, evs, time.Time{})
	require.NoError(t, err)
	m := map[string]*event.Event{}
	for _, a := range got {
		m[a.Event.ID] = a
	}
	require.Equal(t, want, summary(t, m))
}

func TestAlertIndexKeepsTheNewestVersion(t *testing.T) {
	r := newRig(t, 1, threshold(t))
	r.publish(story()...)
	r.selectPartitions(0)
	r.correlate()
	var recs []bus.Record
	for p := range r.parts {
		x, err := r.bus.Read(context.Background(), bus.TopicAlerts, p, bus.OffsetOldest, 1000)
		require.NoError(t, err)
		recs = append(recs, x...)
	}
	require.NotEmpty(t, recs)
	ix := detections.NewAlertIndex(r.store, r.bus, nil)
	require.NoError(t, ix.Handle(context.Background(), recs))
	// Older versions delivered again, one by one, change nothing.
	for i := range recs {
		require.NoError(t, ix.Handle(context.Background(), recs[i:i+1]))
	}
	for id, a := range r.alerts() {
		doc, err := r.store.Get(context.Background(), store.Alerts, id)
		require.NoError(t, err)
		var stored event.Event
		require.NoError(t, event.Unmarshal(doc.Source, &stored))
		require.Equal(t, get(t, a, detections.FieldAlertCount), get(t, &stored, detections.FieldAlertCount))
	}
}

func TestCorrelateMetrics(t *testing.T) {
	r := newRig(t, 1, threshold(t))
	reg := prometheus.NewRegistry()
	r.cor.Register(reg)
	r.publish(story()...)
	r.selectPartitions(0)
	r.correlate()
	r.idle()
	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch {
			case m.GetGauge() != nil:
				got[f.GetName()] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				got[f.GetName()] = m.GetCounter().GetValue()
			}
		}
	}
	require.Equal(t, float64(3), got["mamori_detect_tracked_entities"], "three users' windows")
	require.Zero(t, got["mamori_detect_late_observations_total"])
	require.Zero(t, got["mamori_detect_pending_observations"])
	require.Greater(t, got["mamori_detect_watermark_seconds"], float64(t0.Unix()))
}
