package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mamori-soc/mamori/bus"
)

type topicPartition struct {
	topic     string
	partition int
}

// generation is one consumer-group generation as this member sees it: the
// partitions assigned to it and the group's position on each.
type generation struct {
	gen      *kafka.Generation
	assigned map[topicPartition]bool
	done     chan struct{} // closed when the generation ends
}

func (g *generation) ended() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

type delivery struct {
	gen *generation
	rec bus.Record
}

// consumer is one member of a consumer group on kafka-go's ConsumerGroup:
// kafka-go joins, heartbeats and runs the assignment; for every generation
// this member fetches its assigned partitions itself and commits through
// the generation, so a commit from a past generation is fenced by the
// broker and a partition not assigned now is never committed.
type consumer struct {
	b      *Bus
	group  string
	cg     *kafka.ConsumerGroup
	client *kafka.Client // own transport: long-poll fetches do not queue behind Publish
	msgs   chan delivery
	wg     sync.WaitGroup

	ctx    context.Context // cancelled by Close (and by the bus's Close)
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	cur       *generation
	committed map[topicPartition]int64 // highest committed record offset, this generation
}

// Subscribe joins the group on the topics. A new group starts at the oldest
// retained record.
func (b *Bus) Subscribe(ctx context.Context, group string, topics ...string) (bus.Consumer, error) {
	if b.isClosed() {
		return nil, bus.ErrClosed
	}
	if group == "" || len(topics) == 0 {
		return nil, errors.New("kafkabus: subscribe needs a group and at least one topic")
	}
	for _, t := range topics {
		if err := validTopic(t); err != nil {
			return nil, fmt.Errorf("%w: %w", bus.ErrUnknownTopic, err)
		}
		if _, err := b.Partitions(ctx, t); err != nil {
			return nil, fmt.Errorf("kafkabus: subscribe %s: %w", group, err)
		}
	}
	log := b.log.With("group", group)
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:      group,
		Brokers: b.cfg.Brokers,
		Dialer: &kafka.Dialer{
			ClientID:  b.cfg.ClientID,
			Timeout:   b.cfg.DialTimeout,
			DualStack: true,
			TLS:       b.tls,
		},
		Topics:                 topics,
		HeartbeatInterval:      time.Second,
		SessionTimeout:         10 * time.Second,
		RebalanceTimeout:       10 * time.Second,
		JoinGroupBackoff:       250 * time.Millisecond,
		StartOffset:            kafka.FirstOffset,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 5 * time.Second,
		Logger:                 kafka.LoggerFunc(func(m string, a ...any) { log.Debug(fmt.Sprintf(m, a...)) }),
		ErrorLogger:            kafka.LoggerFunc(func(m string, a ...any) { log.Warn(fmt.Sprintf(m, a...)) }),
	})
	if err != nil {
		return nil, fmt.Errorf("kafkabus: subscribe %s: %w", group, classify(err))
	}
	c := &consumer{
		b:     b,
		group: group,
		cg:    cg,
		client: &kafka.Client{Addr: b.client.Addr, Transport: &kafka.Transport{
			DialTimeout: b.cfg.DialTimeout, ClientID: b.cfg.ClientID, TLS: b.tls, MetadataTTL: metadataTTL,
		}},
		msgs:      make(chan delivery, 256),
		committed: map[topicPartition]int64{},
	}
	c.ctx, c.cancel = context.WithCancel(b.ctx)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		c.cancel()
		_ = cg.Close()
		return nil, bus.ErrClosed
	}
	b.consumers[c] = struct{}{}
	b.mu.Unlock()
	c.wg.Add(1)
	go c.run(log)
	return c, nil
}

// run follows the group's generations until Close.
func (c *consumer) run(log interface{ Warn(string, ...any) }) {
	defer c.wg.Done()
	for {
		gen, err := c.cg.Next(c.ctx)
		if err != nil {
			if c.ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				return
			}
			log.Warn("consumer group: no generation", "err", err)
			continue // kafka-go backs off before the next join
		}
		g := &generation{gen: gen, assigned: map[topicPartition]bool{}, done: make(chan struct{})}
		committed := map[topicPartition]int64{}
		for topic, as := range gen.Assignments {
			for _, a := range as {
				tp := topicPartition{topic, a.ID}
				g.assigned[tp] = true
				if a.Offset >= 0 {
					committed[tp] = a.Offset - 1
				}
			}
		}
		c.mu.Lock()
		c.cur, c.committed = g, committed
		c.mu.Unlock()
		gen.Start(func(ctx context.Context) {
			var wg sync.WaitGroup
			for topic, as := range gen.Assignments {
				for _, a := range as {
					wg.Add(1)
					go func() {
						defer wg.Done()
						c.readPartition(ctx, g, topic, a.ID, a.Offset)
					}()
				}
			}
			<-ctx.Done()
			close(g.done)
			wg.Wait()
		})
	}
}

// readPartition fetches one assigned partition from offset into c.msgs until
// the generation ends.
func (c *consumer) readPartition(ctx context.Context, g *generation, topic string, partition int, offset int64) {
	backoff := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(250 * time.Millisecond):
			return true
		}
	}
	for ctx.Err() == nil {
		if offset < 0 {
			first, err := earliest(ctx, c.client, topic, partition)
			if err != nil {
				if ctx.Err() == nil {
					c.b.log.Warn("consumer: list offsets", "group", c.group, "topic", topic, "partition", partition, "err", err)
				}
				if !backoff() {
					return
				}
				continue
			}
			offset = first
		}
		recs, hwm, err := fetchPartition(ctx, c.client, topic, partition, offset, 0, int64(c.b.cfg.MaxMessageBytes)*2, 500*time.Millisecond)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, kafka.OffsetOutOfRange) {
				c.b.log.Warn("consumer: offset out of range, resetting to the oldest record",
					"group", c.group, "topic", topic, "partition", partition, "offset", offset, "high_watermark", hwm)
				offset = kafka.FirstOffset
				continue
			}
			c.b.log.Warn("consumer: fetch", "group", c.group, "topic", topic, "partition", partition, "err", err)
			if !backoff() {
				return
			}
			continue
		}
		for _, r := range recs {
			select {
			case c.msgs <- delivery{gen: g, rec: r}:
				offset = r.Offset + 1
			case <-ctx.Done():
				return
			}
		}
	}
}

func (c *consumer) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// current reports whether a delivery belongs to the live generation.
func (c *consumer) current(d delivery) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return d.gen == c.cur && !d.gen.ended()
}

// Fetch blocks for the first record, then takes what is already buffered,
// up to max. Records of an ended generation are dropped: their partitions
// are read again from the committed offset.
func (c *consumer) Fetch(ctx context.Context, max int) ([]bus.Record, error) {
	if c.isClosed() || c.ctx.Err() != nil {
		return nil, bus.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if max <= 0 {
		max = 1
	}
	var out []bus.Record
	for len(out) == 0 {
		select {
		case <-ctx.Done():
			if c.ctx.Err() != nil {
				return nil, bus.ErrClosed
			}
			return nil, ctx.Err()
		case <-c.ctx.Done():
			return nil, bus.ErrClosed
		case d := <-c.msgs:
			if c.current(d) {
				out = append(out, d.rec)
			}
		}
	}
	for len(out) < max {
		select {
		case d := <-c.msgs:
			if c.current(d) {
				out = append(out, d.rec)
			}
			continue
		default:
		}
		break
	}
	return out, nil
}

// Commit commits offset+1 of the highest given record per partition, only
// forward, and only for partitions assigned to this member in the live
// generation; the commit carries the generation, so the broker rejects it
// once the group has rebalanced (then it has no effect, as the contract says).
func (c *consumer) Commit(ctx context.Context, records ...bus.Record) error {
	if c.isClosed() || c.ctx.Err() != nil {
		return bus.ErrClosed
	}
	high := map[topicPartition]int64{}
	for _, r := range records {
		tp := topicPartition{r.Topic, r.Partition}
		if o, ok := high[tp]; !ok || r.Offset > o {
			high[tp] = r.Offset
		}
	}
	c.mu.Lock()
	g := c.cur
	offsets := map[string]map[int]int64{}
	if g != nil && !g.ended() {
		for tp, off := range high {
			if !g.assigned[tp] {
				continue // not ours: no effect
			}
			if prev, ok := c.committed[tp]; ok && off <= prev {
				continue // never backwards
			}
			if offsets[tp.topic] == nil {
				offsets[tp.topic] = map[int]int64{}
			}
			offsets[tp.topic][tp.partition] = off + 1
		}
	}
	c.mu.Unlock()
	if len(offsets) == 0 {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- g.gen.CommitOffsets(offsets) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		return bus.ErrClosed
	}
	if err != nil {
		if g.ended() || errors.Is(err, kafka.IllegalGeneration) || errors.Is(err, kafka.RebalanceInProgress) ||
			errors.Is(err, kafka.UnknownMemberId) || errors.Is(err, kafka.FencedInstanceID) {
			c.b.log.Info("commit dropped: the group rebalanced", "group", c.group, "err", err)
			return nil
		}
		return fmt.Errorf("kafkabus: commit %s: %w", c.group, classify(err))
	}
	c.mu.Lock()
	if c.cur == g {
		for topic, ps := range offsets {
			for p, next := range ps {
				tp := topicPartition{topic, p}
				if prev, ok := c.committed[tp]; !ok || next-1 > prev {
					c.committed[tp] = next - 1
				}
			}
		}
	}
	c.mu.Unlock()
	return nil
}

// Close leaves the group. Idempotent.
func (c *consumer) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.b.mu.Lock()
	delete(c.b.consumers, c)
	c.b.mu.Unlock()
	err := c.cg.Close() // leaves the group after the generation's fetchers stop
	c.wg.Wait()
	if t, ok := c.client.Transport.(*kafka.Transport); ok {
		t.CloseIdleConnections()
	}
	if err != nil {
		return fmt.Errorf("kafkabus: close consumer %s: %w", c.group, err)
	}
	return nil
}
