package detections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
)

// BenchmarkDispatch shows that the per-event cost does not grow with the
// number of rules when rules are keyed on different event codes: compare
// ns/op across the sub-benchmarks (it should stay flat).
func BenchmarkDispatch(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			rules := make([]*detections.Rule, n)
			for i := range rules {
				rules[i] = &detections.Rule{
					ID: fmt.Sprint("r", i), Name: "rule", Severity: detections.Low,
					Prerequisites: []detections.Prerequisite{{Field: "event.code", Values: []string{fmt.Sprint(10000 + i)}}},
					Detector:      newKQL(b, `user.name:tanaka and source.ip:10.0.0.0/8`),
				}
			}
			en, err := detections.New(rules, detections.Config{})
			if err != nil {
				b.Fatal(err)
			}
			events := make([]*event.Event, 64)
			for i := range events {
				events[i] = logon("e", fmt.Sprint(10000+i*n/len(events)), "tanaka", "ws-01", "10.0.0.5", t0)
			}
			hits := 0
			emit := func(*detections.Rule, detections.Hit) { hits++ }
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				en.Evaluate(events[i%len(events)], emit)
				i++
			}
			if hits != i {
				b.Fatalf("%d hits for %d events", hits, i)
			}
		})
	}
}

// pack20 is 20 stateless rules in the shape of the built-in pack: most keyed
// on event codes, a few on a dataset, two without prerequisites.
func pack20(b *testing.B) []*detections.Rule {
	var rules []*detections.Rule
	add := func(q string, pre ...detections.Prerequisite) {
		rules = append(rules, &detections.Rule{
			ID: fmt.Sprint("r", len(rules)), Name: "rule", Severity: detections.Medium,
			Prerequisites: pre, Detector: newKQL(b, q),
			Exceptions: []string{`user.name:svc_*`},
		})
	}
	code := func(c ...string) detections.Prerequisite {
		return detections.Prerequisite{Field: "event.code", Values: c}
	}
	for _, c := range []string{"4624", "4625", "4672", "4720", "4726", "4740", "4688", "4768", "4771", "4776"} {
		add(`event.category:authentication and not user.name:*$ and source.ip:10.0.0.0/8`, code(c))
	}
	for _, c := range []string{"4624", "4625", "4648", "4625", "4624", "4634"} {
		add(`winlog.channel:Security and host.name:dc-* and not source.ip:192.168.0.0/16`, code(c))
	}
	add(`message:"failed password"`, detections.Prerequisite{Field: "event.dataset", Values: []string{"system.auth"}})
	add(`process.name:sshd and event.outcome:failure`, detections.Prerequisite{Field: "event.dataset", Values: []string{"system.auth"}})
	add(`user.name:(administrator or root) and event.outcome:success`)
	add(`tags:honeypot`)
	return rules
}

func mix() []*event.Event {
	var out []*event.Event
	for i, c := range []string{"4624", "4625", "4634", "4672", "4688", "5156", "4624", "4625", "4768", "4776"} {
		out = append(out, logon(fmt.Sprint("e", i), c, fmt.Sprint("user", i), "dc-01", "10.0.0.5", t0.Add(time.Duration(i)*time.Second)))
	}
	ssh := &event.Event{Timestamp: t0, Message: "Failed password for root from 10.0.0.9 port 22 ssh2",
		Event:   event.Meta{ID: "s1", Dataset: "system.auth", Outcome: "failure"},
		Process: &event.Process{Name: "sshd"}, User: &event.User{Name: "root"}, Host: &event.Host{Name: "web-01"}}
	return append(out, ssh)
}

// BenchmarkEngine20Rules measures events/s through the engine (dispatch,
// matching, exceptions) with 20 stateless rules: events/s per core is
// 1e9 / (ns/op) with -cpu 1.
func BenchmarkEngine20Rules(b *testing.B) {
	en, err := detections.New(pack20(b), detections.Config{})
	if err != nil {
		b.Fatal(err)
	}
	events := mix()
	emit := func(*detections.Rule, detections.Hit) {}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		en.Evaluate(events[i%len(events)], emit)
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkStage20Rules measures the whole detect stage per event: decoding,
// the engine, dedup and alert encoding, in batches of 500.
func BenchmarkStage20Rules(b *testing.B) {
	var batch []bus.Record
	events := mix()
	for i := range 500 {
		e := *events[i%len(events)]
		e.Event.ID = fmt.Sprint("ev", i)
		e.Timestamp = t0.Add(time.Duration(i) * time.Millisecond)
		batch = append(batch, records(b, &e)...)
	}
	s := detections.NewStage(must(detections.New(pack20(b), detections.Config{})), discard{}, nil)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := s.Handle(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		n += len(batch)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

func must(en *detections.Engine, err error) *detections.Engine {
	if err != nil {
		panic(err)
	}
	return en
}

// discard is a producer that drops everything (fakebus keeps every batch).
type discard struct{}

func (discard) Publish(context.Context, ...bus.Record) error { return nil }
