package winevent_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// BenchmarkParse4624 measures Event XML to ECS for a typical network logon
// (parse, map, keep event.original), reporting events per second.
func BenchmarkParse4624(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "eventxml", "4624_network_ntlm", "input.xml"))
	require.NoError(b, err)
	p := winevent.NewXMLParser()
	var e event.Event
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		e = event.Event{}
		if err := p.Parse(raw, testMeta, &e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
