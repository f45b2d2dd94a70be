//go:build integration

package kafkabus_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/bustest"
	"github.com/mamori-soc/mamori/bus/kafkabus"
)

// bootstrap finds the broker: $MAMORI_KAFKA_BOOTSTRAP, else the file that
// deploy/local/kafka up writes. No broker is a failure, not a skip.
func bootstrap(t *testing.T) []string {
	t.Helper()
	if v := strings.TrimSpace(os.Getenv("MAMORI_KAFKA_BOOTSTRAP")); v != "" {
		return strings.Split(v, ",")
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod) not found")
		}
		dir = parent
	}
	file := filepath.Join(dir, ".local", "kafka", "bootstrap")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no Kafka broker: set MAMORI_KAFKA_BOOTSTRAP or run deploy/local/kafka up (%v)", err)
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		t.Fatalf("no Kafka broker: %s is empty", file)
	}
	return strings.Split(v, ",")
}

func TestConformance(t *testing.T) {
	brokers := bootstrap(t)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	bustest.Run(t, func(t *testing.T) bus.Bus {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		b, err := kafkabus.Open(ctx, kafkabus.Config{Brokers: brokers, ClientID: "mamori-bustest", Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		return b
	})
}

func openBus(t *testing.T, cfg kafkabus.Config) *kafkabus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg.Brokers = bootstrap(t)
	b, err := kafkabus.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func uniqueTopic(t *testing.T) string {
	return fmt.Sprintf("kafkabus.%s.%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
}

// TestRetentionUpdated checks EnsureTopic's create and alter paths on the
// broker's own view of the topic config.
func TestRetentionUpdated(t *testing.T) {
	b := openBus(t, kafkabus.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := uniqueTopic(t)
	describe := func() map[string]string {
		client := &kafka.Client{Addr: kafka.TCP(bootstrap(t)...)}
		res, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
			ResourceType: kafka.ResourceTypeTopic, ResourceName: topic,
			ConfigNames: []string{"retention.ms", "retention.bytes"},
		}}})
		require.NoError(t, err)
		require.Len(t, res.Resources, 1)
		require.NoError(t, res.Resources[0].Error)
		out := map[string]string{}
		for _, e := range res.Resources[0].ConfigEntries {
			out[e.ConfigName] = e.ConfigValue
		}
		return out
	}
	require.NoError(t, b.EnsureTopic(ctx, bus.TopicConfig{Name: topic, Partitions: 2, Retention: time.Hour}))
	require.Equal(t, map[string]string{"retention.ms": "3600000", "retention.bytes": "-1"}, describe())
	require.NoError(t, b.EnsureTopic(ctx, bus.TopicConfig{Name: topic, Partitions: 6, Retention: 72 * time.Hour, RetentionBytes: 1 << 30}))
	require.Equal(t, map[string]string{"retention.ms": "259200000", "retention.bytes": "1073741824"}, describe())
	n, err := b.Partitions(ctx, topic)
	require.NoError(t, err)
	require.Equal(t, 2, n, "partitions kept")
	require.NoError(t, b.EnsureTopic(ctx, bus.TopicConfig{Name: topic}))
	require.Equal(t, map[string]string{"retention.ms": "-1", "retention.bytes": "-1"}, describe(), "zero: keep forever")
}

// TestCompression round-trips keyed records with each codec.
func TestCompression(t *testing.T) {
	for _, comp := range []string{"none", "lz4", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			b := openBus(t, kafkabus.Config{Compression: comp, DefaultPartitions: 3})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			topic := uniqueTopic(t)
			require.NoError(t, b.EnsureTopic(ctx, bus.TopicConfig{Name: topic}))
			var recs []bus.Record
			for i := 0; i < 60; i++ {
				recs = append(recs, bus.Record{Topic: topic, Key: []byte(fmt.Sprintf("k%d", i%7)),
					Value:   []byte(strings.Repeat(fmt.Sprintf("value %d ", i), 20)),
					Headers: []bus.Header{{Key: "i", Value: []byte(fmt.Sprint(i))}}})
			}
			require.NoError(t, b.Publish(ctx, recs...))
			total := 0
			for p := 0; p < 3; p++ {
				got, err := b.Read(ctx, topic, p, bus.OffsetOldest, 100)
				require.NoError(t, err)
				for _, r := range got {
					require.Equal(t, bus.PartitionFor(r.Key, 3), p)
					i, _ := r.Header("i")
					require.Equal(t, strings.Repeat("value "+i+" ", 20), string(r.Value))
				}
				total += len(got)
			}
			require.Equal(t, 60, total)
		})
	}
}

// TestTopicCreatedElsewhere: a second Bus, whose metadata cache predates the
// topic, publishes to and subscribes on it at once.
func TestTopicCreatedElsewhere(t *testing.T) {
	a := openBus(t, kafkabus.Config{})
	b := openBus(t, kafkabus.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := uniqueTopic(t)
	_, err := b.Partitions(ctx, topic)
	require.ErrorIs(t, err, bus.ErrUnknownTopic)
	require.NoError(t, a.EnsureTopic(ctx, bus.TopicConfig{Name: topic, Partitions: 2}))
	require.NoError(t, b.Publish(ctx, bus.Record{Topic: topic, Key: []byte("k"), Value: []byte("v")}))
	n, err := b.Partitions(ctx, topic)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	c, err := b.Subscribe(ctx, uniqueTopic(t)+".group", topic)
	require.NoError(t, err)
	defer c.Close()
	recs, err := c.Fetch(ctx, 10)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, bus.PartitionFor([]byte("k"), 2), recs[0].Partition)
	require.NoError(t, c.Commit(ctx, recs...))
}
