package winevent_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// benchParse measures one parser on one fixture through Parse (parse, map,
// keep event.original); one goroutine, so the rates are per core. Besides
// events/s (wall clock) it reports cpu-ns/op and events/cpu-s: the process
// CPU time per event, GC included, which on a shared machine measures the
// work where wall-clock time also measures the wait for a core.
func benchParse(b *testing.B, p parsers.Parser, path string) {
	raw, err := os.ReadFile(path)
	require.NoError(b, err)
	var e event.Event
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		e = event.Event{}
		if err := p.Parse(raw, testMeta, &e); err != nil {
			b.Fatal(err)
		}
	}
	report(b, cpuTime()-cpu0)
}

// report adds the rates to a benchmark's result.
func report(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
	}
}

// The events of the throughput goal: a network logon and a failed logon.
var benchCases = []struct{ name, dir string }{
	{"4624", "4624_network_ntlm"},
	{"4625", "4625_unknown_user"},
}

// BenchmarkParse4624 measures Event XML to ECS for a typical network logon.
func BenchmarkParse4624(b *testing.B) {
	benchParse(b, winevent.NewXMLParser(), filepath.Join("testdata", "eventxml", "4624_network_ntlm", "input.xml"))
}

// BenchmarkParseXML measures Event XML to ECS for 4624 and 4625.
func BenchmarkParseXML(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			benchParse(b, winevent.NewXMLParser(), filepath.Join("testdata", "eventxml", c.dir, "input.xml"))
		})
	}
}

// BenchmarkParseWinlogbeat measures Winlogbeat JSON to ECS for 4624 and
// 4625 (goal: at least 100,000 events/s per core).
func BenchmarkParseWinlogbeat(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			benchParse(b, winevent.NewWinlogbeatParser(), filepath.Join("testdata", "winlogbeat", c.dir, "input.json"))
		})
	}
}

// BenchmarkParseNXLog measures NXLog JSON to ECS for 4624 and 4625.
func BenchmarkParseNXLog(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			benchParse(b, winevent.NewNXLogParser(), filepath.Join("testdata", "nxlog", c.dir, "input.json"))
		})
	}
}

// BenchmarkToECS4624 measures the mapping alone (Record to ECS), which every
// Windows format shares.
func BenchmarkToECS4624(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "eventxml", "4624_network_ntlm", "input.xml"))
	require.NoError(b, err)
	rec, err := winevent.ParseXML(raw)
	require.NoError(b, err)
	var e event.Event
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		e = event.Event{}
		if err := winevent.ToECS(rec, &e); err != nil {
			b.Fatal(err)
		}
	}
	report(b, cpuTime()-cpu0)
}

// BenchmarkDecodeWinlogbeat4624 measures the JSON reading alone.
func BenchmarkDecodeWinlogbeat4624(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "winlogbeat", "4624_network_ntlm", "input.json"))
	require.NoError(b, err)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := winevent.ParseWinlogbeat(raw); err != nil {
			b.Fatal(err)
		}
	}
	report(b, cpuTime()-cpu0)
}
