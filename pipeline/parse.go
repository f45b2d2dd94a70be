// Package pipeline holds the work of Mamori's built-in stages: the parse
// stage, which turns raw records into ECS events, and the index stage, which
// writes events to the store. Each is a stage.Handler; records that cannot be
// processed go whole to the dead-letter topic with the reason, and never stop
// the stage.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/dlq"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/ingest"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/stage"
)

// HeaderID carries the event id on mamori.events records.
const HeaderID = "mamori.id"

// Parse is the parse stage's handler.
type Parse struct {
	parsers  map[string]parsers.Parser
	identify func(*event.Event) ([]byte, bool)
	topics   map[string]string // foreign topic -> format
	pub      bus.Producer
	log      *slog.Logger
	now      func() time.Time
	m        *Metrics
	enrich   Enricher
}

var _ stage.Handler = (*Parse)(nil)

// NewParse returns the parse handler. byFormat maps the edge's format header
// (bus.HeaderFormat) to its parser. Metrics may be nil.
func NewParse(byFormat map[string]parsers.Parser, pub bus.Producer, log *slog.Logger, m *Metrics) *Parse {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Parse{parsers: byFormat, pub: pub, log: log, now: time.Now, m: m}
}

// ReadForeign makes the handler parse records on topics that other shippers
// write (Winlogbeat or Elastic Agent with output.kafka, NXLog om_kafka):
// such records carry no edge headers, so topics maps each topic to its
// format, and the record's own time stands for the receive time. It must be
// called before the stage starts.
func (p *Parse) ReadForeign(topics map[string]string) { p.topics = topics }

// WithIdentity makes events that carry their own identity (a Windows
// event's computer, channel and record number) take their id from it
// instead of from how and when their raw record arrived, so the same event
// received twice, by any path, is stored once. identify returns the key,
// or false for events without one. It must be called before the stage
// starts.
func (p *Parse) WithIdentity(identify func(*event.Event) ([]byte, bool)) *Parse {
	p.identify = identify
	return p
}

// Enricher adds context to an event the parse stage has just parsed (the
// directory's full name, department and privileged groups of user.*).
// Enrich runs once per event: it must be quick, must not block (no I/O) and
// must not change event.id.
type Enricher interface {
	Enrich(e *event.Event)
}

// WithEnricher makes the handler enrich every parsed event (nil: none). It
// must be called before the stage starts.
func (p *Parse) WithEnricher(en Enricher) *Parse { p.enrich = en; return p }

// Handle parses the batch and publishes events and dead letters in one call,
// so the batch is committed only when both are durable.
func (p *Parse) Handle(ctx context.Context, batch []bus.Record) error {
	out := make([]bus.Record, 0, len(batch))
	now := p.now().UTC()
	for i := range batch {
		rec := &batch[i]
		var e event.Event
		err := p.parse(rec, now, &e)
		if err == nil {
			if p.enrich != nil {
				p.enrich.Enrich(&e)
			}
			var data []byte
			data, err = event.Marshal(&e)
			if err == nil {
				out = append(out, bus.Record{
					Topic:   bus.TopicEvents,
					Key:     eventKey(&e),
					Value:   data,
					Headers: []bus.Header{{Key: HeaderID, Value: []byte(e.Event.ID)}},
					Time:    e.Timestamp,
				})
				continue
			}
		}
		out = append(out, dlq.Wrap(*rec, "parse", err, now))
		p.m.failed("parse", err)
		p.log.Debug("record dead-lettered", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "err", err)
	}
	if err := p.pub.Publish(ctx, out...); err != nil {
		return fmt.Errorf("parse: publish: %w", err)
	}
	return nil
}

func (p *Parse) parse(rec *bus.Record, now time.Time, e *event.Event) error {
	format, _ := rec.HeaderBytes(bus.HeaderFormat)
	var meta parsers.Meta
	var src event.Source
	var err error
	if f, foreign := p.topics[rec.Topic]; foreign && len(format) == 0 {
		format = []byte(f)
		meta, src, err = foreignMeta(rec)
	} else {
		meta, src, err = metaOf(rec)
	}
	if err != nil {
		return err
	}
	parser := p.parsers[string(format)]
	if parser == nil {
		return fmt.Errorf("%w: no parser for format %q", parsers.ErrUnparsable, format)
	}
	if err := parser.Parse(rec.Value, meta, e); err != nil {
		return err
	}
	e.Event.ID = event.ID(src, rec.Value)
	if p.identify != nil {
		if key, ok := p.identify(e); ok {
			e.Event.ID = event.ID(event.Source{Receiver: "identity"}, key)
		}
	}
	e.Event.Created, e.Event.Ingested = &meta.Received, &now
	if e.Timestamp.IsZero() {
		e.Timestamp = meta.Received
	}
	if e.Agent == nil {
		e.Agent = &event.Agent{}
	}
	e.Agent.Type, e.Agent.Name = "mamori", meta.Receiver
	if meta.Peer != "" {
		_ = e.Set("log.source.address", meta.Peer)
	}
	if t := transport(meta.Transport); t != "" {
		_ = e.Set("network.transport", t)
	}
	if len(format) > 0 {
		_ = e.Set("input.type", string(format))
	}
	return nil
}

// metaOf reads what the edge stamped on a raw record, and the source
// identity that, with the raw bytes, determines the event id.
func metaOf(rec *bus.Record) (parsers.Meta, event.Source, error) {
	m, err := ingest.Meta(rec)
	if err != nil {
		return m, event.Source{}, fmt.Errorf("%w: %w", parsers.ErrUnparsable, err)
	}
	received, _ := rec.Header(bus.HeaderReceived)
	return m, event.Source{Receiver: m.Receiver, Peer: m.Peer, Transport: m.Transport, Received: received}, nil
}

// foreignMeta is metaOf for a record another shipper wrote to the bus: the
// topic names the input and the record's time is the receive time. The id
// derives from the topic and the bytes alone, so a shipper that sends one
// event twice (Winlogbeat retries after a lost acknowledgement) stores it
// once.
func foreignMeta(rec *bus.Record) (parsers.Meta, event.Source, error) {
	m := parsers.Meta{Received: rec.Time.UTC(), Receiver: rec.Topic, Transport: "kafka"}
	if m.Received.IsZero() {
		return m, event.Source{}, fmt.Errorf("%w: record on %s at offset %d has no time", parsers.ErrUnparsable, rec.Topic, rec.Offset)
	}
	return m, event.Source{Receiver: m.Receiver, Transport: m.Transport}, nil
}

// transport maps an edge transport to ECS network.transport.
func transport(t string) string {
	switch t {
	case "udp":
		return "udp"
	case "tcp", "tls", "http", "https":
		return "tcp"
	}
	return ""
}

// eventKey partitions events by host, so one host's events stay in order.
func eventKey(e *event.Event) []byte {
	if e.Host != nil {
		if e.Host.Name != "" {
			return []byte(e.Host.Name)
		}
		if e.Host.Hostname != "" {
			return []byte(e.Host.Hostname)
		}
	}
	return []byte(e.Event.ID)
}

// Metrics count what the stages dead-letter, by stage and reason.
type Metrics struct {
	deadLettered *prometheus.CounterVec
}

// NewMetrics registers the pipeline metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mamori_dead_lettered_total", Help: "Records sent to the dead-letter topic, by stage and reason.",
	}, []string{"stage", "reason"})}
	reg.MustRegister(m.deadLettered)
	return m
}

func (m *Metrics) failed(stage string, err error) {
	if m == nil {
		return
	}
	reason := "other"
	switch {
	case errors.Is(err, parsers.ErrUnparsable):
		reason = "unparsable"
	}
	m.deadLettered.WithLabelValues(stage, reason).Inc()
}
