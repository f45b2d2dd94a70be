package builtin_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/demo"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	psyslog "github.com/mamori-soc/mamori/parsers/syslog"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// traffic returns n encoded events as the parse stage publishes them: half
// Windows Security events of a simulated office (Winlogbeat JSON), half
// syslog from servers, firewalls and switches (sshd, VPN, firewall logs...).
func traffic(b *testing.B, n int) []bus.Record {
	b.Helper()
	sp, err := psyslog.New(psyslog.Config{})
	if err != nil {
		b.Fatal(err)
	}
	wp := winevent.NewWinlogbeatParser()
	wg := demo.NewWindowsGenerator(1)
	sg := demo.NewGenerator(1, time.UTC)
	t := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	var out []bus.Record
	var pending [][]byte
	for len(out) < n {
		t = t.Add(50 * time.Millisecond)
		var e event.Event
		if len(out)%2 == 0 {
			for len(pending) == 0 {
				pending = wg.Next(t)
			}
			if err := wp.Parse(pending[0], parsers.Meta{}, &e); err != nil {
				b.Fatal(err)
			}
			pending = pending[1:]
		} else {
			m := sg.Next(t)
			if err := sp.Parse(m.Line, parsers.Meta{Received: t}, &e); err != nil {
				b.Fatal(err)
			}
		}
		e.Event.ID = fmt.Sprintf("ev%07d", len(out))
		data, err := event.Marshal(&e)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, bus.Record{Topic: bus.TopicEvents, Partition: len(out) % 3, Offset: int64(len(out)), Value: data, Time: e.Timestamp})
	}
	return out
}

type discard struct{ n int }

func (d *discard) Publish(_ context.Context, recs ...bus.Record) error { d.n += len(recs); return nil }

// BenchmarkSelectBuiltin measures the detect stage's select step with the
// built-in pack: decoding each event, dispatching it to the rules that can
// match, matching, and routing the matches (and per-bucket summaries for
// the volume rules), in batches of 1,000. events/s per core is the
// events/s metric with -cpu 1.
func BenchmarkSelectBuiltin(b *testing.B) {
	en, err := detections.New(load(b), detections.Config{})
	if err != nil {
		b.Fatal(err)
	}
	recs := traffic(b, 20_000)
	pub := &discard{}
	s := detections.NewSelect(en, pub, 6, nil)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := 0; i < len(recs); i += 1000 {
			if err := s.Handle(context.Background(), recs[i:i+1000]); err != nil {
				b.Fatal(err)
			}
		}
		n += len(recs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(pub.n)/float64(n), "records/event")
}

// BenchmarkEngineBuiltin is the engine alone on decoded events (dispatch
// and matching, no decoding).
func BenchmarkEngineBuiltin(b *testing.B) {
	en, err := detections.New(load(b), detections.Config{})
	if err != nil {
		b.Fatal(err)
	}
	recs := traffic(b, 20_000)
	events := make([]event.Event, len(recs))
	for i := range recs {
		if err := event.Unmarshal(recs[i].Value, &events[i]); err != nil {
			b.Fatal(err)
		}
	}
	hits := 0
	emit := func(*detections.Rule, detections.Hit) { hits++ }
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		en.Evaluate(&events[i%len(events)], emit)
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "events/s")
}
