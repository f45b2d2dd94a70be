package pipeline_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/ingest"
	"github.com/mamori-soc/mamori/internal/fakebus"
	"github.com/mamori-soc/mamori/internal/metrictest"
	"github.com/mamori-soc/mamori/parsers"
	psyslog "github.com/mamori-soc/mamori/parsers/syslog"
	"github.com/mamori-soc/mamori/pipeline"
	"github.com/mamori-soc/mamori/store"
)

func raw(t *testing.T, msg string, size int64) bus.Record {
	t.Helper()
	s := ingest.NewStamper(ingest.StamperConfig{Topic: bus.TopicRawSyslog, Receiver: "syslog-tcp", Transport: "tcp", Format: "syslog"})
	rec := s.Stamp(ingest.NewPeer(netip.MustParseAddrPort("192.0.2.7:40000")), []byte(msg), size)
	rec.Topic, rec.Partition, rec.Offset = bus.TopicRawSyslog, 1, 42
	return rec
}

func newParse(t testing.TB, pub bus.Producer, reg *prometheus.Registry) *pipeline.Parse {
	t.Helper()
	p, err := psyslog.New(psyslog.Config{Location: "Asia/Tokyo"})
	require.NoError(t, err)
	return pipeline.NewParse(map[string]parsers.Parser{"syslog": p}, pub, nil, pipeline.NewMetrics(reg))
}

func TestParseGoodAndBadRecords(t *testing.T) {
	pub := &fakebus.Producer{}
	reg := prometheus.NewRegistry()
	good := raw(t, "<38>Nov 26 14:04:03 web03 sshd[4242]: Failed password for tanaka from 203.0.113.9 port 51122 ssh2", 0)
	binary := raw(t, "\xff\xfe\x00\x01garbage", 0)
	cut := raw(t, "<13>1 2026-11-26T05:04:03Z web03 app - - - "+strings.Repeat("x", 100), 200000)
	unknown := raw(t, "<13>hello", 0)
	unknown.SetHeader(bus.HeaderFormat, "netflow")
	batch := []bus.Record{good, binary, cut, unknown}

	require.NoError(t, newParse(t, pub, reg).Handle(context.Background(), batch))

	events := pub.Topic(bus.TopicEvents)
	require.Len(t, events, 1)
	var e event.Event
	require.NoError(t, event.Unmarshal(events[0].Value, &e))
	id, _ := events[0].Header(pipeline.HeaderID)
	require.Equal(t, e.Event.ID, id)
	require.Equal(t, "web03", e.Host.Hostname)
	require.Equal(t, "syslog-tcp", e.Agent.Name)
	require.Equal(t, "192.0.2.7:40000", e.Log.Source.Address)
	require.Equal(t, "tcp", e.Network.Transport)
	require.NotNil(t, e.Event.Created)
	require.Equal(t, []byte("web03"), events[0].Key, "events are partitioned by host")

	dead := pub.Topic(bus.TopicDLQ)
	require.Len(t, dead, 3)
	for i, d := range dead {
		orig := batch[i+1]
		require.Equal(t, orig.Value, d.Value, "the raw record is kept whole")
		stage, _ := d.Header(bus.HeaderStage)
		require.Equal(t, "parse", stage)
		src, _ := d.Header(bus.HeaderSourceOffset)
		require.Equal(t, "1/42", src)
	}
	msg := func(i int) string { s, _ := dead[i].Header(bus.HeaderError); return s }
	require.Contains(t, msg(0), "not UTF-8 or Shift_JIS")
	require.Contains(t, msg(1), "200000 bytes")
	require.Contains(t, msg(2), `no parser for format "netflow"`)
	require.Equal(t, 3.0, metrictest.Value(t, reg, "mamori_dead_lettered_total", "stage", "parse", "reason", "unparsable"))
}

func TestParseSameRecordSameID(t *testing.T) {
	pub := &fakebus.Producer{}
	h := newParse(t, pub, prometheus.NewRegistry())
	rec := raw(t, "<13>Nov 26 14:04:03 web03 app: same", 0)
	require.NoError(t, h.Handle(context.Background(), []bus.Record{rec}))
	require.NoError(t, h.Handle(context.Background(), []bus.Record{rec}))
	ev := pub.Topic(bus.TopicEvents)
	require.Len(t, ev, 2)
	a, _ := ev[0].Header(pipeline.HeaderID)
	b, _ := ev[1].Header(pipeline.HeaderID)
	require.Equal(t, a, b, "a redelivered raw record gets the same event id")

	other := raw(t, "<13>Nov 26 14:04:03 web03 app: same", 0) // received again: a new event
	require.NoError(t, h.Handle(context.Background(), []bus.Record{other}))
	c, _ := pub.Topic(bus.TopicEvents)[2].Header(pipeline.HeaderID)
	require.NotEqual(t, a, c)
}

func TestParsePublishFailureFailsTheBatch(t *testing.T) {
	pub := &fakebus.Producer{Err: bus.ErrUnavailable}
	err := newParse(t, pub, prometheus.NewRegistry()).Handle(context.Background(), []bus.Record{raw(t, "<13>x", 0)})
	require.ErrorIs(t, err, bus.ErrUnavailable)
}

// fakeStore accepts documents, rejecting those whose id starts with "bad",
// or fails whole requests while down.
type fakeStore struct {
	store.Store
	down   bool
	stored map[string]bool
}

func (f *fakeStore) Index(_ context.Context, _ string, docs []store.Doc) ([]store.IndexResult, error) {
	if f.down {
		return nil, store.ErrUnavailable
	}
	out := make([]store.IndexResult, len(docs))
	for i, d := range docs {
		out[i].ID = d.ID
		if strings.HasPrefix(d.ID, "bad") {
			out[i].Err = store.ErrBadDocument
			continue
		}
		f.stored[d.ID] = true
	}
	return out, nil
}

func TestIndexRoutesRejectedDocumentsToDLQ(t *testing.T) {
	s := &fakeStore{stored: map[string]bool{}}
	pub := &fakebus.Producer{}
	x := pipeline.NewIndex(s, store.Events, pub, nil, nil)
	rec := func(id string) bus.Record {
		return bus.Record{Topic: bus.TopicEvents, Value: []byte(`{"@timestamp":"2026-01-01T00:00:00Z"}`), Headers: []bus.Header{{Key: pipeline.HeaderID, Value: []byte(id)}}}
	}
	require.NoError(t, x.Handle(context.Background(), []bus.Record{rec("a"), rec("bad1"), rec("b")}))
	require.True(t, s.stored["a"] && s.stored["b"])
	dead := pub.Topic(bus.TopicDLQ)
	require.Len(t, dead, 1)
	stage, _ := dead[0].Header(bus.HeaderStage)
	require.Equal(t, "index", stage)

	s.down = true
	err := x.Handle(context.Background(), []bus.Record{rec("c")})
	require.True(t, errors.Is(err, store.ErrUnavailable), "a store that is down fails the batch so it is retried, not dead-lettered")
	require.Len(t, pub.Topic(bus.TopicDLQ), 1)
}

// A record another shipper wrote to its own topic has no edge headers: the
// topic names its format, its Kafka time is the receive time, and the same
// bytes sent twice get one id.
func TestParseForeignTopic(t *testing.T) {
	pub := &fakebus.Producer{}
	h := newParse(t, pub, prometheus.NewRegistry())
	h.ReadForeign(map[string]string{"shipper-syslog": "syslog"})
	at := time.Date(2026, 11, 26, 5, 4, 3, 0, time.UTC)
	rec := bus.Record{Topic: "shipper-syslog", Partition: 0, Offset: 7, Value: []byte("<13>Nov 26 14:04:03 web03 app: hello"), Time: at}
	again := rec
	again.Offset = 8
	stray := bus.Record{Topic: "other", Value: rec.Value, Time: at}
	noTime := bus.Record{Topic: "shipper-syslog", Value: rec.Value}
	require.NoError(t, h.Handle(context.Background(), []bus.Record{rec, again, stray, noTime}))

	events := pub.Topic(bus.TopicEvents)
	require.Len(t, events, 2)
	var e event.Event
	require.NoError(t, event.Unmarshal(events[0].Value, &e))
	require.Equal(t, at, *e.Event.Created)
	require.Equal(t, "shipper-syslog", e.Agent.Name)
	a, _ := events[0].Header(pipeline.HeaderID)
	b, _ := events[1].Header(pipeline.HeaderID)
	require.Equal(t, a, b, "a re-sent record is one event")

	dead := pub.Topic(bus.TopicDLQ)
	require.Len(t, dead, 2)
	msg := func(i int) string { s, _ := dead[i].Header(bus.HeaderError); return s }
	require.Contains(t, msg(0), "has no mamori.received header", "a topic nobody configured is not guessed")
	require.Contains(t, msg(1), "has no time")
}

// With an identity function, an event that carries its own identity gets
// the same id however its raw record arrived; others keep theirs.
func TestParseIdentity(t *testing.T) {
	pub := &fakebus.Producer{}
	h := newParse(t, pub, prometheus.NewRegistry())
	h.WithIdentity(func(e *event.Event) ([]byte, bool) {
		if e.Host != nil && e.Host.Hostname == "dc01" {
			return []byte("dc01/42"), true
		}
		return nil, false
	})
	first := raw(t, "<13>Nov 26 14:04:03 dc01 app: record 42", 0)
	again := raw(t, "<13>Nov 26 14:04:03 dc01 app: record 42 (resent)", 0)
	other := raw(t, "<13>Nov 26 14:04:03 web03 app: same", 0)
	otherAgain := raw(t, "<13>Nov 26 14:04:03 web03 app: same", 0)
	require.NoError(t, h.Handle(context.Background(), []bus.Record{first, again, other, otherAgain}))
	ev := pub.Topic(bus.TopicEvents)
	require.Len(t, ev, 4)
	id := func(i int) string { s, _ := ev[i].Header(pipeline.HeaderID); return s }
	require.Equal(t, id(0), id(1), "one identity, one id")
	require.NotEqual(t, id(2), id(3), "no identity: the receive time still tells two sends apart")
	require.NotEqual(t, id(0), id(2))
}
