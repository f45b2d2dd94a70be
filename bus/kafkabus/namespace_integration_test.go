//go:build integration

package kafkabus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/kafkabus"
)

// TestKafkaNamespaces runs two deployments, each in its own bus.kafka.namespace
// (bus.Namespaced over a Kafka bus, as app.OpenBus wires it), on one broker:
// they use the same logical topic and group names, yet neither sees the
// other's records or moves the other's group, records read back carry the
// logical topic name, and a topic outside Mamori's ("winlogbeat") is shared.
func TestKafkaNamespaces(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := time.Now().UnixNano()
	nsA, nsB := fmt.Sprintf("a%d", run), fmt.Sprintf("b%d", run)
	physA, physB := nsA+"."+bus.TopicEvents, nsB+"."+bus.TopicEvents
	shared := uniqueTopic(t) // "kafkabus.…": not a Mamori topic, never renamed

	rawA := openBus(t, kafkabus.Config{ClientID: "mamori-ns-test"})
	rawB := openBus(t, kafkabus.Config{ClientID: "mamori-ns-test"})
	a, b := bus.Namespaced(rawA, nsA), bus.Namespaced(rawB, nsB)

	admin := &kafka.Client{Addr: kafka.TCP(bootstrap(t)...)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{physA, physB, shared}})
	})
	committed := func(group, topic string, partition int) int64 {
		t.Helper()
		res, err := admin.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {partition}}})
		require.NoError(t, err)
		require.NoError(t, res.Error)
		for _, p := range res.Topics[topic] {
			if p.Partition == partition {
				require.NoError(t, p.Error)
				return p.CommittedOffset
			}
		}
		return -1
	}

	for _, x := range []bus.Bus{a, b} {
		require.NoError(t, x.EnsureTopic(ctx, bus.TopicConfig{Name: bus.TopicEvents, Partitions: 2}))
	}
	require.NoError(t, a.EnsureTopic(ctx, bus.TopicConfig{Name: shared, Partitions: 1}))

	// The broker holds one physical topic per namespace; Partitions answers
	// for the namespace's own, and a third namespace has none.
	for _, phys := range []string{physA, physB} {
		n, err := rawA.Partitions(ctx, phys)
		require.NoError(t, err, phys)
		require.Equal(t, 2, n, phys)
	}
	_, err := bus.Namespaced(rawA, fmt.Sprintf("c%d", run)).Partitions(ctx, bus.TopicEvents)
	require.ErrorIs(t, err, bus.ErrUnknownTopic)

	key := []byte("host-1")
	p := bus.PartitionFor(key, 2)
	require.NoError(t, a.Publish(ctx, bus.Record{Topic: bus.TopicEvents, Key: key, Value: []byte("event of a")}))
	require.NoError(t, b.Publish(ctx, bus.Record{Topic: bus.TopicEvents, Key: key, Value: []byte("event of b")}))

	// Read: each namespace sees its own record, under the logical name.
	for _, c := range []struct {
		x    bus.Bus
		want string
	}{{a, "event of a"}, {b, "event of b"}} {
		recs, err := c.x.Read(ctx, bus.TopicEvents, p, bus.OffsetOldest, 10)
		require.NoError(t, err)
		require.Len(t, recs, 1)
		require.Equal(t, c.want, string(recs[0].Value))
		require.Equal(t, bus.TopicEvents, recs[0].Topic, "callers see the logical name")
	}
	// ...which the broker stores under the namespaced one.
	recs, err := rawA.Read(ctx, physB, p, bus.OffsetOldest, 10)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, "event of b", string(recs[0].Value))
	require.Equal(t, physB, recs[0].Topic)

	// Subscribe, Fetch and Commit: the same logical group in each namespace
	// is a different group on the broker, and each commit lands on its own.
	const group = "mamori-parse"
	for _, c := range []struct {
		x          bus.Bus
		want, phys string
		ns         string
	}{{a, "event of a", physA, nsA}, {b, "event of b", physB, nsB}} {
		cons, err := c.x.Subscribe(ctx, group, bus.TopicEvents)
		require.NoError(t, err)
		got, err := cons.Fetch(ctx, 10)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, c.want, string(got[0].Value))
		require.Equal(t, bus.TopicEvents, got[0].Topic)
		require.NoError(t, cons.Commit(ctx, got...))
		require.NoError(t, cons.Close())
		require.Equal(t, int64(1), committed(c.ns+"."+group, c.phys, p), "commit under the namespaced group and topic")
	}
	require.Equal(t, int64(-1), committed(group, physA, p), "the bare group name is not used")

	// Seek moves only the namespace's own group.
	require.NoError(t, a.Seek(ctx, group, bus.TopicEvents, p, bus.OffsetOldest))
	require.Equal(t, int64(0), committed(nsA+"."+group, physA, p))
	require.Equal(t, int64(1), committed(nsB+"."+group, physB, p))

	// Another shipper's topic is used as named, from every namespace.
	require.NoError(t, a.Publish(ctx, bus.Record{Topic: shared, Value: []byte("from winlogbeat")}))
	for _, x := range []bus.Bus{b, rawA} {
		recs, err := x.Read(ctx, shared, 0, bus.OffsetOldest, 10)
		require.NoError(t, err)
		require.Len(t, recs, 1)
		require.Equal(t, shared, recs[0].Topic)
	}
}
