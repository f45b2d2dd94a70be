package detections_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/internal/fakebus"
	"github.com/mamori-soc/mamori/pipeline"
)

func newStage(t testing.TB, pub *fakebus.Producer, rules ...*detections.Rule) *detections.Stage {
	t.Helper()
	en, err := detections.New(rules, detections.Config{MaxEventIDs: 3})
	require.NoError(t, err)
	return detections.NewStage(en, pub, nil)
}

// alerts decodes the published alerts, the latest version of each id last.
func alerts(t testing.TB, pub *fakebus.Producer) []*event.Event {
	t.Helper()
	var out []*event.Event
	for _, r := range pub.Topic(bus.TopicAlerts) {
		var e event.Event
		require.NoError(t, event.Unmarshal(r.Value, &e))
		id, _ := r.Header(pipeline.HeaderID)
		require.Equal(t, e.Event.ID, id)
		require.Equal(t, e.Event.ID, string(r.Key))
		out = append(out, &e)
	}
	return out
}

func get(t testing.TB, e *event.Event, field string) any {
	t.Helper()
	v, ok := e.Get(field)
	require.True(t, ok, "alert has no %s", field)
	return v
}

func TestAlertDocument(t *testing.T) {
	pub := &fakebus.Producer{}
	s := newStage(t, pub, bruteForce(t))
	e := logon("ev-1", "4625", "田中", "ws-01", "10.0.0.5", t0)
	e.User.FullName = "田中 太郎"
	require.NoError(t, s.Handle(context.Background(), records(t, e)))

	got := alerts(t, pub)
	require.Len(t, got, 1)
	a := got[0]
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
	require.Equal(t, t0.Format(time.RFC3339Nano), get(t, a, "event.start"))
	require.Equal(t, t0.Format(time.RFC3339Nano), get(t, a, "event.end"))
	require.EqualValues(t, 1, get(t, a, detections.FieldAlertCount))
	require.Equal(t, []any{"ev-1"}, get(t, a, detections.FieldAlertEventIDs))

	require.Equal(t, &event.User{Name: "田中", Domain: "CORP", FullName: "田中 太郎"}, a.User)
	require.Equal(t, &event.Host{Name: "ws-01"}, a.Host)
	require.Equal(t, &event.Endpoint{IP: "10.0.0.5"}, a.Source)
	require.Equal(t, "Failed logon: user 田中 on host ws-01 from 10.0.0.5 (1 event)", a.Message)
	require.Contains(t, string(pub.Topic(bus.TopicAlerts)[0].Value), `"user":{"name":"田中"`, "Japanese names are not escaped")
}

func TestEntityFromOtherFields(t *testing.T) {
	r := bruteForce(t)
	r.Entity = detections.Entity{User: "winlog.event_data.TargetUserName", Source: "winlog.event_data.IpAddress"}
	pub := &fakebus.Producer{}
	s := newStage(t, pub, r)
	e := logon("ev-1", "4625", "-", "dc-01", "", t0)
	e.Source = nil
	e.Fields["winlog.event_data.TargetUserName"] = "鈴木"
	e.Fields["winlog.event_data.IpAddress"] = "10.1.2.3"
	require.NoError(t, s.Handle(context.Background(), records(t, e)))
	a := alerts(t, pub)[0]
	require.Equal(t, &event.User{Name: "鈴木"}, a.User)
	require.Equal(t, &event.Endpoint{IP: "10.1.2.3"}, a.Source)
	require.Equal(t, []any{"鈴木", "dc-01", "10.1.2.3"}, get(t, a, detections.FieldAlertDedupKey))
}

func TestDedupWithinAndAfterWindow(t *testing.T) {
	pub := &fakebus.Producer{}
	s := newStage(t, pub, bruteForce(t)) // 10-minute windows, at most 3 event ids
	ctx := context.Background()
	base := t0.Add(time.Minute) // 02:31, in the 02:30-02:40 window

	require.NoError(t, s.Handle(ctx, records(t,
		logon("a1", "4625", "tanaka", "ws-01", "10.0.0.5", base),
		logon("a2", "4625", "tanaka", "ws-01", "10.0.0.5", base.Add(time.Minute)),
		logon("b1", "4625", "sato", "ws-01", "10.0.0.5", base.Add(2*time.Minute)),
	)))
	require.NoError(t, s.Handle(ctx, records(t,
		logon("a3", "4625", "tanaka", "ws-01", "10.0.0.5", base.Add(3*time.Minute)),
		logon("a4", "4625", "tanaka", "ws-01", "10.0.0.5", base.Add(4*time.Minute)),
		logon("a0", "4625", "tanaka", "ws-01", "10.0.0.5", base.Add(-30*time.Second)), // late, same window
		logon("a5", "4625", "tanaka", "ws-01", "10.0.0.5", base.Add(9*time.Minute)),   // next window
	)))
	got := alerts(t, pub)
	// Batch 1: tanaka's and sato's alerts; batch 2: tanaka's updated, then a new one.
	require.Len(t, got, 4)
	require.Equal(t, []int{2, 2}, pub.BatchSizes())
	first, sato, updated, next := got[0], got[1], got[2], got[3]
	require.Equal(t, first.Event.ID, updated.Event.ID, "same rule, key and window: one alert")
	require.NotEqual(t, first.Event.ID, sato.Event.ID, "another user: another alert")
	require.NotEqual(t, first.Event.ID, next.Event.ID, "after the window: a new alert")

	require.EqualValues(t, 2, get(t, first, detections.FieldAlertCount))
	require.EqualValues(t, 5, get(t, updated, detections.FieldAlertCount))
	require.Equal(t, []any{"a1", "a2", "a3"}, get(t, updated, detections.FieldAlertEventIDs), "ids are capped")
	require.Equal(t, base.Add(-30*time.Second).Format(time.RFC3339Nano), get(t, updated, "event.start"))
	require.Equal(t, base.Add(4*time.Minute).Format(time.RFC3339Nano), get(t, updated, "event.end"))
	require.Equal(t, "Failed logon: user tanaka on host ws-01 from 10.0.0.5 (5 events)", updated.Message)
	require.EqualValues(t, 1, get(t, next, detections.FieldAlertCount))
	require.Equal(t, t0.Add(10*time.Minute).Format(time.RFC3339Nano), get(t, next, detections.FieldAlertWindow))
}

func TestSameEventTwiceCountsOnce(t *testing.T) {
	pub := &fakebus.Producer{}
	s := newStage(t, pub, bruteForce(t))
	e := logon("dup", "4625", "tanaka", "ws-01", "10.0.0.5", t0)
	require.NoError(t, s.Handle(context.Background(), records(t, e, e)))
	require.NoError(t, s.Handle(context.Background(), records(t, e)))
	got := alerts(t, pub)
	require.EqualValues(t, 1, get(t, got[len(got)-1], detections.FieldAlertCount))
}

func TestFailedPublishIsRetriedFromTheSameState(t *testing.T) {
	pub := &fakebus.Producer{Failures: 1}
	s := newStage(t, pub, bruteForce(t))
	batch := records(t,
		logon("a1", "4625", "tanaka", "ws-01", "10.0.0.5", t0),
		logon("a2", "4625", "tanaka", "ws-01", "10.0.0.5", t0.Add(time.Second)),
	)
	require.ErrorIs(t, s.Handle(context.Background(), batch), bus.ErrUnavailable)
	require.NoError(t, s.Handle(context.Background(), batch))
	got := alerts(t, pub)
	require.Len(t, got, 1)
	require.EqualValues(t, 2, get(t, got[0], detections.FieldAlertCount), "the failed attempt left no trace")
}

func TestDeterministicAlertIDs(t *testing.T) {
	events := []*event.Event{
		logon("a1", "4625", "tanaka", "ws-01", "10.0.0.5", t0.Add(time.Second)),
		logon("a2", "4625", "tanaka", "ws-01", "10.0.0.5", t0.Add(2*time.Second)),
		logon("a3", "4625", "tanaka", "ws-01", "10.0.0.5", t0.Add(3*time.Second)),
	}
	// Worker 1 sees the first event, worker 2 the later ones; a replay sees
	// all of them in reverse order. All agree on the id.
	ids := map[string]bool{}
	for _, part := range [][]*event.Event{events[:1], events[1:], {events[2], events[1], events[0]}} {
		pub := &fakebus.Producer{}
		require.NoError(t, newStage(t, pub, bruteForce(t)).Handle(context.Background(), records(t, part...)))
		for _, a := range alerts(t, pub) {
			ids[a.Event.ID] = true
		}
	}
	require.Len(t, ids, 1)
	want := detections.AlertID("mamori-failed-logon", []string{"tanaka", "ws-01", "10.0.0.5"}, t0)
	require.True(t, ids[want])
	require.Equal(t, want, detections.AlertID("mamori-failed-logon", []string{"tanaka", "ws-01", "10.0.0.5"}, t0))
	require.NotEqual(t, want, detections.AlertID("mamori-failed-logon", []string{"tanaka", "ws-0", "110.0.0.5"}, t0),
		"key values are delimited")
}

func TestUndecodableEventsAreDeadLettered(t *testing.T) {
	pub := &fakebus.Producer{}
	s := newStage(t, pub, bruteForce(t))
	batch := records(t, logon("a1", "4625", "tanaka", "ws-01", "10.0.0.5", t0))
	batch = append(batch,
		bus.Record{Topic: bus.TopicEvents, Partition: 1, Offset: 7, Value: []byte(`{not json`)},
		bus.Record{Topic: bus.TopicEvents, Partition: 1, Offset: 8, Value: []byte(`{"message":"no time"}`)},
	)
	require.NoError(t, s.Handle(context.Background(), batch))
	require.Equal(t, []int{3}, pub.BatchSizes(), "alerts and dead letters in one Publish")
	dead := pub.Topic(bus.TopicDLQ)
	require.Len(t, dead, 2)
	stage, _ := dead[0].Header(bus.HeaderStage)
	require.Equal(t, detections.StageName, stage)
	src, _ := dead[1].Header(bus.HeaderSourceOffset)
	require.Equal(t, "1/8", src)
	require.Len(t, pub.Topic(bus.TopicAlerts), 1)
}

func TestNothingToPublish(t *testing.T) {
	pub := &fakebus.Producer{}
	s := newStage(t, pub, bruteForce(t))
	require.NoError(t, s.Handle(context.Background(), records(t, logon("a1", "4624", "tanaka", "ws-01", "10.0.0.5", t0))))
	require.Zero(t, pub.Count())
}

// threshold is a minimal stateful detector (three failures per user) that
// shows how Observer plugs into the engine. Not for production: its state
// is unbounded and not transactional.
type threshold struct {
	mu     sync.Mutex
	counts map[string][]*event.Event
}

func (d *threshold) Match(e *event.Event) bool { return e.Event.Code == "4625" }

func (d *threshold) Observe(e *event.Event) []detections.Hit {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := e.User.Name
	c := *e // the engine's event lives only for the batch
	d.counts[u] = append(d.counts[u], &c)
	if len(d.counts[u]) < 3 {
		return nil
	}
	seen := d.counts[u]
	delete(d.counts, u)
	ids := make([]string, len(seen))
	for i, s := range seen {
		ids[i] = s.Event.ID
	}
	return []detections.Hit{{Event: &c, First: seen[0].Timestamp, Last: c.Timestamp, Count: len(seen), EventIDs: ids}}
}

func (d *threshold) Advance(time.Time) []detections.Hit { return nil }

func TestObserverHits(t *testing.T) {
	pub := &fakebus.Producer{}
	r := bruteForce(t)
	r.ID, r.Name, r.Detector = "brute-force", "Brute force", &threshold{counts: map[string][]*event.Event{}}
	s := newStage(t, pub, r)
	var batch []*event.Event
	for i := range 4 {
		batch = append(batch, logon(fmt.Sprint("f", i), "4625", "tanaka", "ws-01", "10.0.0.5", t0.Add(time.Duration(i)*time.Second)))
	}
	require.NoError(t, s.Handle(context.Background(), records(t, batch...)))
	got := alerts(t, pub)
	require.Len(t, got, 1)
	require.EqualValues(t, 3, get(t, got[0], detections.FieldAlertCount))
	require.Equal(t, []any{"f0", "f1", "f2"}, get(t, got[0], detections.FieldAlertEventIDs))
	require.Equal(t, t0.Format(time.RFC3339Nano), get(t, got[0], "event.start"))
}

func TestConcurrentWorkers(t *testing.T) {
	pub := &fakebus.Producer{}
	s := newStage(t, pub, bruteForce(t))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				e := logon(fmt.Sprint(w, "-", i), "4625", "tanaka", "ws-01", "10.0.0.5", t0.Add(time.Duration(i)*time.Second))
				require.NoError(t, s.Handle(context.Background(), records(t, e)))
			}
		})
	}
	wg.Wait()
	got := alerts(t, pub)
	require.Len(t, got, 100)
	require.EqualValues(t, 100, get(t, got[99], detections.FieldAlertCount), "no update is lost")
}

func TestOpenAlertsExpireInEventTime(t *testing.T) {
	en, err := detections.New([]*detections.Rule{bruteForce(t)}, detections.Config{})
	require.NoError(t, err)
	r := en.Rules()[0]
	a := detections.NewAlerts(detections.Config{AllowedLateness: time.Minute, MaxOpenAlerts: 2})
	b := a.Begin()
	for i := range 3 { // three users: over the limit, the oldest window goes
		b.Add(r, detections.Hit{Event: logon(fmt.Sprint("e", i), "4625", fmt.Sprint("u", i), "ws-01", "10.0.0.5", t0.Add(time.Duration(i)*10*time.Minute))})
	}
	b.Abort()
	require.Zero(t, a.Len(), "an aborted batch changes nothing")

	b = a.Begin()
	for i := range 3 {
		b.Add(r, detections.Hit{Event: logon(fmt.Sprint("e", i), "4625", fmt.Sprint("u", i), "ws-01", "10.0.0.5", t0.Add(time.Duration(i)*10*time.Minute))})
	}
	b.Commit()
	require.LessOrEqual(t, a.Len(), 2)

	b = a.Begin()
	b.See(t0.Add(2 * time.Hour)) // every window ended long ago in event time
	b.Commit()
	require.Zero(t, a.Len())
}
