package bus_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/bustest"
	"github.com/mamori-soc/mamori/bus/journal"
)

func openJournal(t *testing.T) *journal.Journal {
	t.Helper()
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"), journal.Options{PollInterval: -1, Sync: journal.SyncNormal})
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	return j
}

// A namespaced bus is a bus: the whole conformance suite passes through it.
func TestNamespacedConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite again")
	}
	bustest.Run(t, func(t *testing.T) bus.Bus { return bus.Namespaced(openJournal(t), "test1") })
}

func TestNamespacesDoNotMix(t *testing.T) {
	ctx := context.Background()
	j := openJournal(t)
	a, b := bus.Namespaced(j, "prod"), bus.Namespaced(j, "staging")
	for _, x := range []bus.Bus{a, b} {
		require.NoError(t, x.EnsureTopic(ctx, bus.TopicConfig{Name: bus.TopicEvents, Partitions: 2}))
		require.NoError(t, x.EnsureTopic(ctx, bus.TopicConfig{Name: "winlogbeat", Partitions: 1}))
	}
	require.NoError(t, a.Publish(ctx, bus.Record{Topic: bus.TopicEvents, Key: []byte("k"), Value: []byte("prod event")}))
	require.NoError(t, b.Publish(ctx, bus.Record{Topic: bus.TopicEvents, Key: []byte("k"), Value: []byte("staging event")}))

	p := bus.PartitionFor([]byte("k"), 2)
	recs, err := a.Read(ctx, bus.TopicEvents, p, bus.OffsetOldest, 10)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, "prod event", string(recs[0].Value))
	require.Equal(t, bus.TopicEvents, recs[0].Topic, "callers see the logical name")

	// The broker's names: each namespace has its own topic and group.
	raw, err := j.Read(ctx, "staging."+bus.TopicEvents, p, bus.OffsetOldest, 10)
	require.NoError(t, err)
	require.Len(t, raw, 1)
	require.Equal(t, "staging event", string(raw[0].Value))

	c, err := b.Subscribe(ctx, "mamori-parse", bus.TopicEvents)
	require.NoError(t, err)
	defer c.Close()
	got, err := c.Fetch(ctx, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, bus.TopicEvents, got[0].Topic)
	require.NoError(t, c.Commit(ctx, got...))

	// Another shipper's topic is shared, not renamed.
	require.NoError(t, a.Publish(ctx, bus.Record{Topic: "winlogbeat", Value: []byte("from winlogbeat")}))
	recs, err = j.Read(ctx, "winlogbeat", 0, bus.OffsetOldest, 10)
	require.NoError(t, err)
	require.Len(t, recs, 1)
}
