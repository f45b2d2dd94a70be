package builtin_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"testing/fstest"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/demo"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/sigma"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	psyslog "github.com/mamori-soc/mamori/parsers/syslog"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// traffic returns n encoded events as the parse stage publishes them: half
// Windows Security events of a simulated office (Winlogbeat JSON), half
// syslog from servers, firewalls and switches (sshd, VPN, firewall logs...).
func traffic(b testing.TB, n int) []bus.Record {
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
func BenchmarkSelectBuiltin(b *testing.B) { benchSelect(b, load(b)) }

// benchSelect runs the select step over simulated traffic in batches of
// 1,000 and reports events/s and match-topic records per event.
func benchSelect(b *testing.B, rules []*detections.Rule) {
	en, err := detections.New(rules, detections.Config{})
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
func BenchmarkEngineBuiltin(b *testing.B) { benchEngine(b, load(b)) }

// benchEngine runs the engine alone over decoded simulated traffic.
func benchEngine(b *testing.B, rules []*detections.Rule) {
	en, err := detections.New(rules, detections.Config{})
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
	emit := func(*detections.Rule, detections.Hit) {}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		en.Evaluate(&events[i%len(events)], emit)
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "events/s")
}

// sigmaTemplates are the shapes of 500 generated Sigma rules (%[1]d is the
// variant, %[2]d the same below 250): account, process, privilege,
// network, syslog keyword, service, account-change, source-range and
// base64 rules, as a SigmaHQ-sized rule set would mix them.
var sigmaTemplates = []string{
	"title: account %[1]d logon\nlogsource: {product: windows, service: security}\ndetection:\n  sel:\n    EventID: [4624, 4625]\n    TargetUserName|contains: 'svc_%[1]d'\n  filter_local: {IpAddress: ['::1', '127.0.0.1']}\n  condition: sel and not 1 of filter_*",
	"title: tool %[1]d started\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel_img: {Image|endswith: '\\tool%[1]d.exe'}\n  sel_cli: {CommandLine|contains|all: ['-run', 'job%[1]d']}\n  condition: all of sel_*",
	"title: special privileges %[1]d\nlogsource: {product: windows, service: security}\ndetection:\n  sel:\n    EventID: 4672\n    SubjectUserName|startswith: 'adm%[1]d'\n  condition: sel",
	"title: network %[1]d\nlogsource: {product: windows, category: network_connection}\ndetection:\n  sel:\n    DestinationIp|cidr: '10.%[2]d.0.0/16'\n    DestinationPort: [445, 3389]\n  condition: sel",
	"title: auth message %[1]d\nlogsource: {product: linux, service: auth}\ndetection:\n  keywords: ['pattern-%[1]d failed', 'pam_%[1]d']\n  condition: keywords",
	"title: service install %[1]d\nlogsource: {product: windows, service: system}\ndetection:\n  sel:\n    EventID: 7045\n    ServiceName|re: '^svc%[1]d[a-z]+$'\n  condition: sel",
	"title: account change %[1]d\nlogsource: {product: windows, service: security}\ndetection:\n  sel:\n    EventID: [4720, 4722, 4725, 4726, 4738]\n    TargetUserName|endswith: '_%[1]d'\n  condition: sel",
	"title: failed from %[1]d\nlogsource: {product: windows, service: security}\ndetection:\n  sel:\n    EventID: 4625\n    IpAddress|cidr: '172.%[2]d.0.0/16'\n  condition: sel",
	"title: sshd %[1]d\nlogsource: {product: linux, service: sshd}\ndetection:\n  keywords: ['Failed password for user%[1]d ']\n  condition: keywords",
	"title: encoded %[1]d\nlogsource: {product: windows, service: powershell}\ndetection:\n  sel:\n    EventID: 4104\n    ScriptBlockText|base64offset|contains: 'payload%[1]d'\n  condition: sel",
}

func sigmaRules(b testing.TB, n int) []*detections.Rule {
	b.Helper()
	fsys := fstest.MapFS{}
	for i := range n {
		src := fmt.Sprintf("id: 00000000-0000-4000-8000-%012d\nlevel: medium\n", i) + fmt.Sprintf(sigmaTemplates[i%len(sigmaTemplates)], i, i%250)
		fsys[fmt.Sprintf("r%03d.yml", i)] = &fstest.MapFile{Data: []byte(src)}
	}
	rules, errs := sigma.Detections(fsys, nil)
	if len(errs) > 0 || len(rules) != n {
		b.Fatalf("%d rules, errors %v", len(rules), errs)
	}
	return rules
}

// BenchmarkSelectSigma500 is the select step with 500 Sigma rules on the
// same traffic as BenchmarkSelectBuiltin.
func BenchmarkSelectSigma500(b *testing.B) { benchSelect(b, sigmaRules(b, 500)) }

// BenchmarkEngineSigma500 is the engine alone with 500 Sigma rules.
func BenchmarkEngineSigma500(b *testing.B) { benchEngine(b, sigmaRules(b, 500)) }

// BenchmarkMemoryPer100kEntities measures the heap the built-in pack's
// state holds for 100,000 tracked entities: 100,000 users each failing a
// logon and logging on from their own address, which the brute-force and
// password-spray thresholds, the success-after-failures sequence and the
// new-logon-source first-seen set all track, plus 1,000 hosts for the
// volume and silence rules. Reported as bytes per tracked entity (every
// group, window and first-seen term a state counts) and MB per 100,000.
func BenchmarkMemoryPer100kEntities(b *testing.B) {
	en, err := detections.New(load(b), detections.Config{})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	const users = 100_000
	mk := func(i int, code string, at time.Time) *event.Event {
		e := &event.Event{
			Timestamp: at,
			Event:     event.Meta{ID: fmt.Sprintf("e%d-%s", i, code), Code: code, Kind: "event", Category: []string{"authentication"}},
			User:      &event.User{Name: fmt.Sprintf("user%06d", i), Domain: "CITY"},
			Host:      &event.Host{Name: fmt.Sprintf("pc-%04d", i%1000)},
			Source:    &event.Endpoint{IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)},
			Fields:    map[string]any{"winlog.channel": "Security", "winlog.logon.type": "Network"},
		}
		if code == "4625" {
			e.Event.Outcome = "failure"
		} else {
			e.Event.Outcome = "success"
		}
		return e
	}
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := detections.NewReplayer(en)
		for i := range users {
			at := t0.Add(time.Duration(i) * time.Millisecond)
			r.Add(mk(i, "4625", at))
			r.Add(mk(i, "4624", at.Add(500*time.Microsecond)))
		}
		r.Finish(time.Time{}) // every observation in its state
		runtime.GC()
		runtime.ReadMemStats(&after)
		tracked := r.Tracked()
		heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(heap/float64(tracked), "B/entity")
		b.ReportMetric(float64(tracked), "entities")
		b.ReportMetric(heap/float64(tracked)*100_000/1e6, "MB/100k-entities")
		runtime.KeepAlive(r)
	}
}
