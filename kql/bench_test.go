package kql_test

import (
	"testing"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/kql/kqltest"
)

// A typical detection rule: failed network logons to a domain controller
// from outside the office network, excluding machine accounts, or failed SSH
// passwords.
const rule = `(event.code:4625 and winlog.event_data.LogonType:(3 or 10) and not source.ip:10.0.0.0/8 ` +
	`and not winlog.event_data.TargetUserName:*$ and host.name:DC*) ` +
	`or (event.dataset:system.auth and message:"failed password" and @timestamp >= now-15m)`

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kql.Parse(rule); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlan(b *testing.B) {
	n, err := kql.Parse(rule)
	if err != nil {
		b.Fatal(err)
	}
	opts := kqltest.Options()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kql.Plan(n, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func compileRule(b *testing.B, query string) kql.Matcher {
	n, err := kql.Parse(query)
	if err != nil {
		b.Fatal(err)
	}
	c, err := kql.Plan(n, kqltest.Options())
	if err != nil {
		b.Fatal(err)
	}
	return kql.Compile(c)
}

func benchmarkMatch(b *testing.B, query string, doc int, want bool) {
	m := compileRule(b, query)
	_, events := decodeDocs(b)
	e := events[doc]
	if m.Match(e) != want {
		b.Fatalf("rule on %d: want %v", doc, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Match(e)
	}
}

// BenchmarkMatch runs the typical rule on a decoded Windows event (win-4625,
// which matches the first branch).
func BenchmarkMatch(b *testing.B) { benchmarkMatch(b, rule, 3, true) }

// BenchmarkMatchText runs it on the SSH event, which fails the first branch
// and matches the phrase of the second.
func BenchmarkMatchText(b *testing.B) { benchmarkMatch(b, rule, 0, true) }

// BenchmarkMatchJapanese searches a Japanese phrase.
func BenchmarkMatchJapanese(b *testing.B) {
	benchmarkMatch(b, `message:"ユーザー 田中"`, 6, true)
}

// BenchmarkMatchDynamic uses only fields outside the typed catalogue.
func BenchmarkMatchDynamic(b *testing.B) {
	benchmarkMatch(b, `winlog.event_id:(4624 or 4625) and winlog.event_data.TargetUserName:tan*`, 3, true)
}

var sink bool

// BenchmarkDecodeAndMatch includes decoding the JSON document, for scale.
func BenchmarkDecodeAndMatch(b *testing.B) {
	m := compileRule(b, rule)
	doc := []byte(kqltest.Docs()[3].JSON)
	b.ReportAllocs()
	for b.Loop() {
		var e event.Event
		if err := event.Unmarshal(doc, &e); err != nil {
			b.Fatal(err)
		}
		sink = m.Match(&e)
	}
}
