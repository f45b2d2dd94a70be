package sigma_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mamori-soc/mamori/detections/sigma"
	"github.com/mamori-soc/mamori/event"
)

// ruleTemplates are the shapes of the generated benchmark rules; %[1]d is
// the variant number, %[2]d the same below 250.
var ruleTemplates = []string{
	`title: account %[1]d logon
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: [4624, 4625]
    TargetUserName|contains: 'svc_%[1]d'
  filter_local: {IpAddress: ['::1', '127.0.0.1']}
  condition: sel and not 1 of filter_*`,
	`title: tool %[1]d started
logsource: {product: windows, category: process_creation}
detection:
  sel_img: {Image|endswith: '\tool%[1]d.exe'}
  sel_cli: {CommandLine|contains|all: ['-run', 'job%[1]d']}
  condition: all of sel_*`,
	`title: special privileges %[1]d
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4672
    SubjectUserName|startswith: 'adm%[1]d'
  condition: sel`,
	`title: network %[1]d
logsource: {product: windows, category: network_connection}
detection:
  sel:
    DestinationIp|cidr: '10.%[2]d.0.0/16'
    DestinationPort: [445, 3389]
  condition: sel`,
	`title: auth message %[1]d
logsource: {product: linux, service: auth}
detection:
  keywords: ['pattern-%[1]d failed', 'pam_%[1]d']
  condition: keywords`,
	`title: service install %[1]d
logsource: {product: windows, service: system}
detection:
  sel:
    EventID: 7045
    ServiceName|re: '^svc%[1]d[a-z]+$'
  condition: sel`,
	`title: account change %[1]d
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: [4720, 4722, 4725, 4726, 4738]
    TargetUserName|endswith: '_%[1]d'
  condition: sel`,
	`title: failed from %[1]d
logsource: {product: windows, service: security}
detection:
  sel:
    EventID: 4625
    IpAddress|cidr: '172.%[2]d.0.0/16'
  condition: sel`,
	`title: sshd %[1]d
logsource: {product: linux, service: sshd}
detection:
  keywords: ['Failed password for user%[1]d ']
  condition: keywords`,
	`title: encoded %[1]d
logsource: {product: windows, service: powershell}
detection:
  sel:
    EventID: 4104
    ScriptBlockText|base64offset|contains: 'payload%[1]d'
  condition: sel`,
}

func benchRules(tb testing.TB, n int) []*sigma.Rule {
	tb.Helper()
	var rules []*sigma.Rule
	for i := 0; len(rules) < n; i++ {
		src := fmt.Sprintf(ruleTemplates[i%len(ruleTemplates)], i, i%250)
		r, err := sigma.Compile([]byte(src), nil)
		if err != nil {
			tb.Fatalf("rule %d: %v", i, err)
		}
		rules = append(rules, r)
	}
	return rules
}

// benchEvents are the parsers' golden Windows and syslog events.
func benchEvents(tb testing.TB) []*event.Event {
	tb.Helper()
	var paths []string
	for _, glob := range []string{"../../parsers/winevent/testdata/eventxml/*/expected.json", "../../parsers/syslog/testdata/*/expected.json"} {
		p, err := filepath.Glob(glob)
		if err != nil {
			tb.Fatal(err)
		}
		paths = append(paths, p...)
	}
	var evs []*event.Event
	for _, p := range paths {
		evs = append(evs, loadEvent(tb, p))
	}
	if len(evs) < 20 {
		tb.Fatalf("only %d events", len(evs))
	}
	return evs
}

// index dispatches events to the rules whose first-choice prefilter
// constraint they satisfy; it is what an engine would build from Prefilter.
type index struct {
	fields []string
	by     map[string]map[string][]*sigma.Rule
	always []*sigma.Rule
}

var indexPreference = []string{"winlog.event_id", "event.code", "process.name", "log.syslog.facility.name", "winlog.channel", "event.dataset"}

func newIndex(rules []*sigma.Rule) *index {
	ix := &index{by: map[string]map[string][]*sigma.Rule{}}
	for _, r := range rules {
		var best *sigma.Constraint
		rank := len(indexPreference)
		for _, c := range r.Prefilter() {
			for i, f := range indexPreference {
				if c.Field == f && i < rank {
					best, rank = &c, i
				}
			}
		}
		if best == nil {
			ix.always = append(ix.always, r)
			continue
		}
		m := ix.by[best.Field]
		if m == nil {
			m = map[string][]*sigma.Rule{}
			ix.by[best.Field] = m
			ix.fields = append(ix.fields, best.Field)
		}
		for _, v := range best.Values {
			m[v] = append(m[v], r)
		}
	}
	return ix
}

func (ix *index) match(e *event.Event, hit func(*sigma.Rule)) {
	for _, f := range ix.fields {
		v, ok := e.Get(f)
		if !ok {
			continue
		}
		for _, s := range flatten(v) {
			for _, r := range ix.by[f][s] {
				if r.Match(e) {
					hit(r)
				}
			}
		}
	}
	for _, r := range ix.always {
		if r.Match(e) {
			hit(r)
		}
	}
}

// TestPrefilterAgrees checks that dispatching through the prefilter index
// finds exactly the matches that running every rule finds.
func TestPrefilterAgrees(t *testing.T) {
	rules := benchRules(t, 500)
	evs := append(benchEvents(t), extraEvents(t)...)
	ix := newIndex(rules)
	if len(ix.always) != 0 {
		t.Errorf("%d rules have no indexable constraint", len(ix.always))
	}
	total := 0
	for i, e := range evs {
		want := map[*sigma.Rule]bool{}
		for _, r := range rules {
			if r.Match(e) {
				want[r] = true
			}
		}
		got := map[*sigma.Rule]bool{}
		ix.match(e, func(r *sigma.Rule) { got[r] = true })
		if len(got) != len(want) {
			t.Errorf("event %d: %d matches through the index, %d without", i, len(got), len(want))
		}
		total += len(want)
	}
	if total == 0 {
		t.Error("no generated rule matched any event")
	}
}

// extraEvents make some generated rules match.
func extraEvents(t testing.TB) []*event.Event {
	return []*event.Event{
		buildEvent(t, map[string]any{"winlog.channel": "Security", "winlog.event_id": "4625", "winlog.event_data.TargetUserName": "svc_10", "winlog.event_data.IpAddress": "172.7.1.1"}),
		buildEvent(t, map[string]any{"winlog.channel": "Security", "winlog.event_id": "4672", "winlog.event_data.SubjectUserName": "adm2x"}),
		buildEvent(t, map[string]any{"process.name": "sshd", "log.syslog.facility.name": "auth", "message": "Failed password for user8 from 10.0.0.1"}),
	}
}

func benchmarkRules(b *testing.B, prefilter bool) {
	rules := benchRules(b, 500)
	evs := benchEvents(b)
	ix := newIndex(rules)
	hits := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, e := range evs {
			if prefilter {
				ix.match(e, func(*sigma.Rule) { hits++ })
				continue
			}
			for _, r := range rules {
				if r.Match(e) {
					hits++
				}
			}
		}
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(0, "ns/op")
	_ = hits
}

// BenchmarkRules500 runs 500 generated rules over the parsers' golden
// Windows and syslog events on one goroutine; events/s is per core.
func BenchmarkRules500(b *testing.B) {
	b.Run("all-rules", func(b *testing.B) { benchmarkRules(b, false) })
	b.Run("prefilter", func(b *testing.B) { benchmarkRules(b, true) })
}

func BenchmarkCompile(b *testing.B) {
	src := []byte(fmt.Sprintf(ruleTemplates[0], 1, 1))
	for b.Loop() {
		if _, err := sigma.Compile(src, nil); err != nil {
			b.Fatal(err)
		}
	}
}
