// Package kafkabus implements bus.Bus on Apache Kafka with kafka-go: its one
// job is to map the bus contract (topics, keyed records with headers, consumer
// groups with explicit commits, seek, retention) onto a Kafka cluster.
package kafkabus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"

	"github.com/mamori-soc/mamori/bus"
)

var _ bus.Bus = (*Bus)(nil)

// metadataTTL is how often the shared transport refreshes its metadata cache.
const metadataTTL = 2 * time.Second

// Bus is a bus.Bus on a Kafka cluster. It is safe for concurrent use.
type Bus struct {
	cfg       Config
	log       *slog.Logger
	tls       *tls.Config
	transport *kafka.Transport
	client    *kafka.Client
	// compression of produced record batches
	compression kafka.Compression

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	consumers map[*consumer]struct{}
}

// Open connects to the cluster and checks that it answers.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	var tlsCfg *tls.Config
	if cfg.TLS != nil {
		var err error
		if tlsCfg, err = cfg.TLS.load(); err != nil {
			return nil, fmt.Errorf("kafkabus: %w", err)
		}
	}
	comp, _ := codec(cfg.Compression)
	transport := &kafka.Transport{
		DialTimeout: cfg.DialTimeout,
		MetadataTTL: metadataTTL,
		ClientID:    cfg.ClientID,
		TLS:         tlsCfg,
	}
	addr := kafka.TCP(cfg.Brokers...)
	b := &Bus{
		cfg:         cfg,
		log:         cfg.Logger.With("component", "kafkabus"),
		tls:         tlsCfg,
		transport:   transport,
		client:      &kafka.Client{Addr: addr, Transport: transport},
		consumers:   map[*consumer]struct{}{},
		compression: comp,
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	if _, err := b.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{}}); err != nil {
		b.cancel()
		transport.CloseIdleConnections()
		return nil, fmt.Errorf("kafkabus: open %v: %w", cfg.Brokers, classify(err))
	}
	return b, nil
}

func (b *Bus) debugf(msg string, args ...any) { b.log.Debug(fmt.Sprintf(msg, args...)) }
func (b *Bus) errorf(msg string, args ...any) { b.log.Warn(fmt.Sprintf(msg, args...)) }

// classify wraps kafka-go errors with the bus sentinels.
func classify(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, bus.ErrUnknownTopic), errors.Is(err, bus.ErrUnavailable), errors.Is(err, bus.ErrClosed):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, kafka.UnknownTopicOrPartition), errors.Is(err, kafka.UnknownTopicID):
		return fmt.Errorf("%w: %w", bus.ErrUnknownTopic, err)
	case errors.Is(err, kafka.LeaderNotAvailable), errors.Is(err, kafka.NotLeaderForPartition),
		errors.Is(err, kafka.BrokerNotAvailable), errors.Is(err, kafka.RequestTimedOut),
		errors.Is(err, kafka.NetworkException), errors.Is(err, kafka.NotEnoughReplicas),
		errors.Is(err, kafka.NotEnoughReplicasAfterAppend), errors.Is(err, kafka.GroupCoordinatorNotAvailable),
		errors.Is(err, kafka.NotCoordinatorForGroup), errors.Is(err, kafka.KafkaStorageError),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%w: %w", bus.ErrUnavailable, err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return fmt.Errorf("%w: %w", bus.ErrUnavailable, err)
	}
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil {
				if c := classify(e); c != e {
					return fmt.Errorf("%w (%d of %d records failed)", c, we.Count(), len(we))
				}
			}
		}
	}
	return err
}

func (b *Bus) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// Close releases the bus; open consumers return bus.ErrClosed. Idempotent.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	cs := make([]*consumer, 0, len(b.consumers))
	for c := range b.consumers {
		cs = append(cs, c)
	}
	b.mu.Unlock()
	b.cancel()
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	b.transport.CloseIdleConnections()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kafkabus: close: %w", err)
	}
	return nil
}

// validTopic applies Kafka's topic name rules.
func validTopic(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 249 {
		return fmt.Errorf("kafkabus: invalid topic name %q", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("kafkabus: invalid topic name %q: only [a-zA-Z0-9._-]", name)
		}
	}
	return nil
}

func retentionConfigs(cfg bus.TopicConfig) [][2]string {
	ms, bytes := int64(-1), int64(-1)
	if cfg.Retention > 0 {
		ms = cfg.Retention.Milliseconds()
	}
	if cfg.RetentionBytes > 0 {
		bytes = cfg.RetentionBytes
	}
	return [][2]string{
		{"retention.ms", strconv.FormatInt(ms, 10)},
		{"retention.bytes", strconv.FormatInt(bytes, 10)},
	}
}

// EnsureTopic creates the topic when missing; an existing topic keeps its
// partitions and takes the new retention (IncrementalAlterConfigs).
func (b *Bus) EnsureTopic(ctx context.Context, cfg bus.TopicConfig) error {
	if b.isClosed() {
		return bus.ErrClosed
	}
	if err := validTopic(cfg.Name); err != nil {
		return err
	}
	parts := cfg.Partitions
	if parts <= 0 {
		parts = b.cfg.DefaultPartitions
	}
	var entries []kafka.ConfigEntry
	for _, kv := range retentionConfigs(cfg) {
		entries = append(entries, kafka.ConfigEntry{ConfigName: kv[0], ConfigValue: kv[1]})
	}
	entries = append(entries, kafka.ConfigEntry{ConfigName: "max.message.bytes", ConfigValue: strconv.Itoa(b.cfg.MaxMessageBytes)})
	res, err := b.client.CreateTopics(ctx, &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{
			Topic:             cfg.Name,
			NumPartitions:     parts,
			ReplicationFactor: b.cfg.ReplicationFactor,
			ConfigEntries:     entries,
		}},
	})
	if err != nil {
		return fmt.Errorf("kafkabus: create topic %s: %w", cfg.Name, classify(err))
	}
	switch terr := res.Errors[cfg.Name]; {
	case terr == nil:
		b.log.Info("topic created", "topic", cfg.Name, "partitions", parts, "replication", b.cfg.ReplicationFactor)
	case errors.Is(terr, kafka.TopicAlreadyExists):
		if err := b.alterRetention(ctx, cfg); err != nil {
			return err
		}
	default:
		return fmt.Errorf("kafkabus: create topic %s: %w", cfg.Name, classify(terr))
	}
	return b.waitLeaders(ctx, cfg.Name)
}

func (b *Bus) alterRetention(ctx context.Context, cfg bus.TopicConfig) error {
	var cs []kafka.IncrementalAlterConfigsRequestConfig
	for _, kv := range retentionConfigs(cfg) {
		cs = append(cs, kafka.IncrementalAlterConfigsRequestConfig{Name: kv[0], Value: kv[1], ConfigOperation: kafka.ConfigOperationSet})
	}
	res, err := b.client.IncrementalAlterConfigs(ctx, &kafka.IncrementalAlterConfigsRequest{
		Resources: []kafka.IncrementalAlterConfigsRequestResource{{
			ResourceType: kafka.ResourceTypeTopic,
			ResourceName: cfg.Name,
			Configs:      cs,
		}},
	})
	if err != nil {
		return fmt.Errorf("kafkabus: update retention of %s: %w", cfg.Name, classify(err))
	}
	for _, r := range res.Resources {
		if r.Error != nil {
			return fmt.Errorf("kafkabus: update retention of %s: %w", cfg.Name, classify(r.Error))
		}
	}
	return nil
}

// waitLeaders waits until every partition of the topic has a leader, asking
// the brokers directly (not the shared transport's cache), so the first
// Publish does not race the controller.
func (b *Bus) waitLeaders(ctx context.Context, topic string) error {
	for delay := 10 * time.Millisecond; ; delay = min(delay*2, 500*time.Millisecond) {
		t := &kafka.Transport{DialTimeout: b.cfg.DialTimeout, ClientID: b.cfg.ClientID, TLS: b.tls, MetadataTopics: []string{topic}}
		meta, err := (&kafka.Client{Addr: b.client.Addr, Transport: t}).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		t.CloseIdleConnections()
		if err == nil && len(meta.Topics) == 1 && meta.Topics[0].Error == nil && len(meta.Topics[0].Partitions) > 0 {
			ready := true
			for _, p := range meta.Topics[0].Partitions {
				if p.Error != nil || p.Leader.ID < 0 || p.Leader.Host == "" {
					ready = false
				}
			}
			if ready {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafkabus: wait for leaders of %s: %w", topic, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// Partitions returns the number of partitions of a topic.
func (b *Bus) Partitions(ctx context.Context, topic string) (int, error) {
	if b.isClosed() {
		return 0, bus.ErrClosed
	}
	n, err := partitionsOf(ctx, b.client, topic)
	if err == nil || !errors.Is(err, bus.ErrUnknownTopic) {
		return n, err
	}
	// The shared transport answers metadata from a cache refreshed every
	// MetadataTTL, so a topic created elsewhere may be missing from it: ask a
	// broker directly, then wait for the cache the writer uses to catch up.
	if n, err = b.direct(ctx, topic); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(2*metadataTTL + time.Second)
	for time.Now().Before(deadline) {
		if _, err := partitionsOf(ctx, b.client, topic); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("kafkabus: metadata of %s: %w", topic, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return n, nil
}

// direct asks the brokers for a topic's metadata through a fresh transport,
// bypassing the shared transport's cache.
func (b *Bus) direct(ctx context.Context, topic string) (int, error) {
	t := &kafka.Transport{DialTimeout: b.cfg.DialTimeout, ClientID: b.cfg.ClientID, TLS: b.tls, MetadataTopics: []string{topic}}
	defer t.CloseIdleConnections()
	return partitionsOf(ctx, &kafka.Client{Addr: b.client.Addr, Transport: t}, topic)
}

func partitionsOf(ctx context.Context, client *kafka.Client, topic string) (int, error) {
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("kafkabus: metadata of %s: %w", topic, classify(err))
	}
	for _, t := range meta.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return 0, fmt.Errorf("kafkabus: metadata of %s: %w", topic, classify(t.Error))
		}
		if len(t.Partitions) == 0 {
			return 0, fmt.Errorf("kafkabus: topic %s: %w", topic, bus.ErrUnknownTopic)
		}
		return len(t.Partitions), nil
	}
	return 0, fmt.Errorf("kafkabus: topic %s: %w", topic, bus.ErrUnknownTopic)
}

// Publish writes the records with acks=all; keyed records go to
// bus.PartitionFor(key, n) (kafka-go's Murmur2Balancer is the Java
// partitioner). Every topic is checked first so a batch naming an unknown
// topic fails as a whole with bus.ErrUnknownTopic.
func (b *Bus) Publish(ctx context.Context, records ...bus.Record) error {
	if b.isClosed() {
		return bus.ErrClosed
	}
	if len(records) == 0 {
		return nil
	}
	parts := map[string]int{}
	for _, r := range records {
		if _, seen := parts[r.Topic]; !seen {
			if err := validTopic(r.Topic); err != nil {
				return fmt.Errorf("%w: %w", bus.ErrUnknownTopic, err)
			}
			n, err := b.Partitions(ctx, r.Topic)
			if err != nil {
				return fmt.Errorf("kafkabus: publish: %w", err)
			}
			parts[r.Topic] = n
		}
	}
	if err := b.produce(ctx, records, parts); err != nil {
		if b.isClosed() {
			return fmt.Errorf("kafkabus: publish: %w: %w", bus.ErrClosed, err)
		}
		return fmt.Errorf("kafkabus: publish %d records: %w", len(records), err)
	}
	return nil
}

// Read returns up to max records of one partition from offset, outside any
// group. It returns no records (and no error) at the end of the partition.
func (b *Bus) Read(ctx context.Context, topic string, partition int, offset int64, max int) ([]bus.Record, error) {
	if b.isClosed() {
		return nil, bus.ErrClosed
	}
	n, err := b.Partitions(ctx, topic)
	if err != nil {
		return nil, err
	}
	if partition < 0 || partition >= n {
		return nil, fmt.Errorf("kafkabus: read %s/%d: %w: topic has %d partitions", topic, partition, bus.ErrUnknownTopic, n)
	}
	if max <= 0 {
		return nil, nil
	}
	if offset < 0 && offset != bus.OffsetOldest {
		return nil, fmt.Errorf("kafkabus: read %s/%d: invalid offset %d", topic, partition, offset)
	}
	if offset == bus.OffsetOldest {
		if offset, err = earliest(ctx, b.client, topic, partition); err != nil {
			return nil, fmt.Errorf("kafkabus: read %s/%d: %w", topic, partition, classify(err))
		}
	}
	recs, hwm, err := fetchPartition(ctx, b.client, topic, partition, offset, max, int64(b.cfg.MaxMessageBytes)*2, 50*time.Millisecond)
	if err != nil {
		if errors.Is(err, kafka.OffsetOutOfRange) && offset >= hwm {
			return nil, nil
		}
		return nil, fmt.Errorf("kafkabus: read %s/%d@%d: %w", topic, partition, offset, classify(err))
	}
	return recs, nil
}

// earliest returns the oldest retained offset of a partition.
func earliest(ctx context.Context, client *kafka.Client, topic string, partition int) (int64, error) {
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{
		Topics: map[string][]kafka.OffsetRequest{topic: {kafka.FirstOffsetOf(partition)}},
	})
	if err != nil {
		return 0, fmt.Errorf("list offsets: %w", err)
	}
	for _, p := range lo.Topics[topic] {
		if p.Partition == partition {
			if p.Error != nil {
				return 0, fmt.Errorf("list offsets: %w", p.Error)
			}
			return max(p.FirstOffset, 0), nil
		}
	}
	return 0, fmt.Errorf("list offsets: no answer for %s/%d: %w", topic, partition, kafka.UnknownTopicOrPartition)
}

// fetchPartition reads up to max records (0: all in the response) of one
// partition from offset. It also returns the high watermark.
func fetchPartition(ctx context.Context, client *kafka.Client, topic string, partition int, offset int64, max int, maxBytes int64, maxWait time.Duration) ([]bus.Record, int64, error) {
	res, err := client.Fetch(ctx, &kafka.FetchRequest{
		Topic:     topic,
		Partition: partition,
		Offset:    offset,
		MinBytes:  1,
		MaxBytes:  maxBytes,
		MaxWait:   maxWait,
	})
	if err != nil {
		return nil, 0, err
	}
	if res.Error != nil {
		return nil, res.HighWatermark, res.Error
	}
	var out []bus.Record
	for max <= 0 || len(out) < max {
		rec, err := res.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, res.HighWatermark, fmt.Errorf("decode: %w", err)
		}
		if rec.Offset < offset {
			continue // batches may start before the offset asked for
		}
		r := bus.Record{Topic: topic, Partition: partition, Offset: rec.Offset, Time: rec.Time}
		if r.Key, err = readBytes(rec.Key); err == nil {
			r.Value, err = readBytes(rec.Value)
		}
		if err != nil {
			return nil, res.HighWatermark, fmt.Errorf("decode offset %d: %w", rec.Offset, err)
		}
		for _, h := range rec.Headers {
			r.Headers = append(r.Headers, bus.Header{Key: h.Key, Value: h.Value})
		}
		out = append(out, r)
	}
	return out, res.HighWatermark, nil
}

func readBytes(bs protocol.Bytes) ([]byte, error) {
	if bs == nil {
		return nil, nil
	}
	defer bs.Close()
	return io.ReadAll(bs)
}

// Seek commits offset as the group's position on the partition, outside
// any membership (generation -1), so the group resumes there. The group
// should have no active members: Kafka rejects the commit otherwise.
func (b *Bus) Seek(ctx context.Context, group, topic string, partition int, offset int64) error {
	if b.isClosed() {
		return bus.ErrClosed
	}
	n, err := b.Partitions(ctx, topic)
	if err != nil {
		return err
	}
	if partition < 0 || partition >= n {
		return fmt.Errorf("kafkabus: seek %s/%d: %w: topic has %d partitions", topic, partition, bus.ErrUnknownTopic, n)
	}
	if offset == bus.OffsetOldest {
		if offset, err = earliest(ctx, b.client, topic, partition); err != nil {
			return fmt.Errorf("kafkabus: seek %s/%d: %w", topic, partition, classify(err))
		}
	} else if offset < 0 {
		return fmt.Errorf("kafkabus: seek %s/%d: invalid offset %d", topic, partition, offset)
	}
	res, err := b.client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{
		GroupID:      group,
		GenerationID: -1,
		Topics:       map[string][]kafka.OffsetCommit{topic: {{Partition: partition, Offset: offset}}},
	})
	if err != nil {
		return fmt.Errorf("kafkabus: seek %s %s/%d to %d: %w", group, topic, partition, offset, classify(err))
	}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return fmt.Errorf("kafkabus: seek %s %s/%d to %d: %w", group, topic, partition, offset, classify(p.Error))
		}
	}
	b.log.Info("group position set", "group", group, "topic", topic, "partition", partition, "offset", offset)
	return nil
}
