// Package bus defines the contract of Mamori's message bus: named topics split
// into partitions, keyed records with headers, consumer groups that commit an
// offset only after the records before it were processed, seek for replay, and
// retention. Apache Kafka and the embedded SQLite journal both implement it and
// both pass the conformance suite in package bustest.
package bus

import (
	"context"
	"errors"
	"time"
)

// Topic names shared by every stage.
const (
	TopicRawSyslog = "mamori.raw.syslog"
	// TopicRawWinlog carries Windows events received by Mamori's own
	// edges (Event XML and Winlogbeat JSON over HTTP, file imports).
	TopicRawWinlog = "mamori.raw.winlog"
	TopicEvents    = "mamori.events"
	TopicAlerts    = "mamori.alerts"
	TopicDLQ       = "mamori.dlq"
)

// Header keys stamped by edges and stages.
const (
	HeaderReceived  = "mamori.received"  // receive time at the edge, RFC 3339 with nanoseconds
	HeaderReceiver  = "mamori.receiver"  // listener name
	HeaderPeer      = "mamori.peer"      // sender address
	HeaderTransport = "mamori.transport" // udp, tcp, tls...
	HeaderFormat    = "mamori.format"    // parser hint, for example "syslog"
	HeaderTruncated = "mamori.truncated" // original size in bytes (decimal) when the edge cut an oversize message

	HeaderError        = "mamori.error"         // DLQ: why the record failed
	HeaderStage        = "mamori.stage"         // DLQ: stage that failed it
	HeaderSourceTopic  = "mamori.source.topic"  // DLQ: topic it came from
	HeaderSourceOffset = "mamori.source.offset" // DLQ: partition/offset it came from
	HeaderFailedAt     = "mamori.failed_at"     // DLQ: when it failed
)

// Sentinel errors. Implementations wrap them so callers can decide what to do.
var (
	// ErrClosed: the bus or consumer was closed; stop.
	ErrClosed = errors.New("bus: closed")
	// ErrUnknownTopic: the topic does not exist; create it with EnsureTopic.
	ErrUnknownTopic = errors.New("bus: unknown topic")
	// ErrUnavailable: the bus cannot be reached now; back off and retry.
	ErrUnavailable = errors.New("bus: unavailable")
)

// Header is one record header. Keys repeat as in Kafka.
type Header struct {
	Key   string
	Value []byte
}

// Record is one message on a topic. Topic, Partition, Offset and Time are set
// by the bus when a record is read; a producer sets Topic, Key, Value and
// Headers (and may set Time).
type Record struct {
	Topic     string
	Partition int
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   []Header
	Time      time.Time
}

// Header returns the value of the first header with that key.
func (r *Record) Header(key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// Size is the bytes of a record's key, value and headers (what batch and
// request limits count).
func (r *Record) Size() int {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// HeaderBytes is Header without the copy into a string. The slice aliases the
// record's header and must not be modified.
func (r *Record) HeaderBytes(key string) ([]byte, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return h.Value, true
		}
	}
	return nil, false
}

// SetHeader replaces every header with that key by one with value v.
func (r *Record) SetHeader(key, v string) {
	hs := r.Headers[:0:0]
	for _, h := range r.Headers {
		if h.Key != key {
			hs = append(hs, h)
		}
	}
	r.Headers = append(hs, Header{Key: key, Value: []byte(v)})
}

// TopicConfig describes a topic. Zero values take the implementation's defaults.
type TopicConfig struct {
	Name       string
	Partitions int           // default 1
	Retention  time.Duration // 0: keep forever
	// RetentionBytes caps each partition's size; 0: no cap.
	RetentionBytes int64
}

// Producer appends records to topics.
type Producer interface {
	// Publish appends the records and returns once every one of them is
	// durable (acknowledged). A record with a non-empty key goes to partition
	// PartitionFor(key, n), as Kafka's default partitioner places it; without
	// a key, the bus spreads records over partitions. Order is kept per
	// partition: records of one call land in the order given.
	// On error, some of the records may have been stored: callers retry the
	// whole batch, which is safe because events carry deterministic ids.
	Publish(ctx context.Context, records ...Record) error
}

// Consumer reads the topics of one consumer group. A Consumer is used by one
// goroutine at a time.
type Consumer interface {
	// Fetch blocks until at least one record is available (or ctx ends) and
	// returns up to max records from the partitions assigned to this member,
	// in offset order within each partition. It must return ctx.Err() when the
	// context is cancelled and ErrClosed after Close.
	Fetch(ctx context.Context, max int) ([]Record, error)
	// Commit records that every record up to and including the given ones was
	// processed, per topic and partition; after a restart the group resumes
	// after the highest committed offset. Committing a record from a partition
	// no longer assigned to this member is not an error and has no effect.
	Commit(ctx context.Context, records ...Record) error
	// Close leaves the group; uncommitted records will be delivered again.
	Close() error
}

// Bus is a message bus. It is safe for concurrent use.
type Bus interface {
	Producer
	// EnsureTopic creates the topic when missing. An existing topic keeps its
	// partitions; its retention is updated.
	EnsureTopic(ctx context.Context, cfg TopicConfig) error
	// Subscribe joins the consumer group on the topics. Members of one group
	// share the partitions between them; each record is processed by one.
	Subscribe(ctx context.Context, group string, topics ...string) (Consumer, error)
	// Seek sets the group's committed position on a partition, so the group
	// resumes at offset (replay). Offset may be OffsetOldest.
	Seek(ctx context.Context, group, topic string, partition int, offset int64) error
	// Read returns up to max records from one partition starting at offset
	// (OffsetOldest: the oldest retained record), outside any consumer group
	// (for listing and inspection).
	Read(ctx context.Context, topic string, partition int, offset int64, max int) ([]Record, error)
	// Partitions returns the number of partitions of a topic.
	Partitions(ctx context.Context, topic string) (int, error)
	// Close releases the bus. Open consumers return ErrClosed.
	Close() error
}

// OffsetOldest asks Seek for the oldest retained record.
const OffsetOldest int64 = -2
