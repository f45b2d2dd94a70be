package bus

import (
	"context"
	"strings"
)

// Namespaced returns a view of b in which Mamori's topics (names starting
// with "mamori.") and every consumer group live under namespace ns, as
// "ns.mamori.events" and "ns.mamori-parse", so several deployments (test
// and production, or parallel test runs) can share one Kafka cluster
// without reading each other's records. Callers keep using the logical
// names: records read back carry them. Other topics (another shipper's,
// consumed through parse.topics) are not renamed. An empty ns returns b.
func Namespaced(b Bus, ns string) Bus {
	if ns == "" {
		return b
	}
	return &namespaced{b: b, prefix: ns + "."}
}

type namespaced struct {
	b      Bus
	prefix string
}

// physical is the broker's name of a topic; logical reverses it.
func (n *namespaced) physical(topic string) string {
	if strings.HasPrefix(topic, "mamori.") {
		return n.prefix + topic
	}
	return topic
}

func (n *namespaced) logical(topic string) string {
	if rest, ok := strings.CutPrefix(topic, n.prefix); ok && strings.HasPrefix(rest, "mamori.") {
		return rest
	}
	return topic
}

func (n *namespaced) group(g string) string { return n.prefix + g }

// out renames records for the broker (copies: callers may retry with the
// same slice).
func (n *namespaced) out(records []Record) []Record {
	c := make([]Record, len(records))
	for i, r := range records {
		r.Topic = n.physical(r.Topic)
		c[i] = r
	}
	return c
}

// in renames records read from the broker, in place.
func (n *namespaced) in(records []Record) []Record {
	for i := range records {
		records[i].Topic = n.logical(records[i].Topic)
	}
	return records
}

func (n *namespaced) Publish(ctx context.Context, records ...Record) error {
	return n.b.Publish(ctx, n.out(records)...)
}

func (n *namespaced) EnsureTopic(ctx context.Context, cfg TopicConfig) error {
	cfg.Name = n.physical(cfg.Name)
	return n.b.EnsureTopic(ctx, cfg)
}

func (n *namespaced) Subscribe(ctx context.Context, group string, topics ...string) (Consumer, error) {
	phys := make([]string, len(topics))
	for i, t := range topics {
		phys[i] = n.physical(t)
	}
	c, err := n.b.Subscribe(ctx, n.group(group), phys...)
	if err != nil {
		return nil, err
	}
	return &namespacedConsumer{c: c, n: n}, nil
}

func (n *namespaced) Seek(ctx context.Context, group, topic string, partition int, offset int64) error {
	return n.b.Seek(ctx, n.group(group), n.physical(topic), partition, offset)
}

func (n *namespaced) Read(ctx context.Context, topic string, partition int, offset int64, max int) ([]Record, error) {
	recs, err := n.b.Read(ctx, n.physical(topic), partition, offset, max)
	return n.in(recs), err
}

func (n *namespaced) Partitions(ctx context.Context, topic string) (int, error) {
	return n.b.Partitions(ctx, n.physical(topic))
}

func (n *namespaced) Close() error { return n.b.Close() }

type namespacedConsumer struct {
	c Consumer
	n *namespaced
}

func (c *namespacedConsumer) Fetch(ctx context.Context, max int) ([]Record, error) {
	recs, err := c.c.Fetch(ctx, max)
	return c.n.in(recs), err
}

func (c *namespacedConsumer) Commit(ctx context.Context, records ...Record) error {
	return c.c.Commit(ctx, c.n.out(records)...)
}

func (c *namespacedConsumer) Close() error { return c.c.Close() }
