package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/ingest"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
	"github.com/mamori-soc/mamori/pipeline"
)

// discard is a producer that keeps nothing, so the benchmark measures the
// parse stage's own work: parse, map to ECS, id, encode.
type discard struct{}

func (discard) Publish(context.Context, ...bus.Record) error { return nil }

// BenchmarkParseStage runs the parse handler over batches of 1,000 raw
// records. Run with -cpu 1 for messages per second per core.
func BenchmarkParseStage(b *testing.B) {
	stamper := ingest.NewStamper(ingest.StamperConfig{Topic: bus.TopicRawSyslog, Receiver: "syslog-tcp", Transport: "tcp", Format: "syslog"})
	peer := ingest.NewPeer(netip.MustParseAddrPort("10.1.10.11:51514"))
	at := time.Date(2026, 11, 26, 5, 4, 3, 0, time.UTC)
	for _, tc := range []struct{ name, format string }{
		{"rfc5424", `<38>1 %s web01 sshd 4242 - [origin ip="10.1.10.11"] Failed password for invalid user admin from 203.0.113.%d port 51122 ssh2`},
		{"rfc3164", `<38>Nov 26 14:04:03 web01 sshd[4242]: Failed password for invalid user admin from 203.0.113.%d port 51122 ssh2`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			batch := make([]bus.Record, 1000)
			for i := range batch {
				var msg string
				if tc.name == "rfc5424" {
					msg = fmt.Sprintf(tc.format, at.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), i%250)
				} else {
					msg = fmt.Sprintf(tc.format, i%250)
				}
				batch[i] = stamper.Stamp(peer, []byte(msg), int64(len(msg)))
			}
			h := newParse(b, discard{}, prometheus.NewRegistry())
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := h.Handle(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkParseStageWinlogbeat runs the parse handler over batches of 1,000
// Winlogbeat JSON records as Winlogbeat's output.kafka writes them to their
// own topic (no edge headers): 4624 and 4625 from the parser's goldens, each
// record its own. Run with -cpu 1 for events per second per core, the whole
// stage (parse, map to ECS, id, encode).
func BenchmarkParseStageWinlogbeat(b *testing.B) {
	for _, name := range []string{"4624_network_ntlm", "4625_bad_password_ja"} {
		b.Run(name[:4], func(b *testing.B) {
			raw, err := os.ReadFile(filepath.Join("..", "parsers", "winevent", "testdata", "winlogbeat", name, "input.json"))
			if err != nil {
				b.Fatal(err)
			}
			raw = bytes.TrimSpace(raw)
			at := time.Date(2026, 11, 26, 5, 4, 3, 0, time.UTC)
			batch := make([]bus.Record, 1000)
			for i := range batch {
				// A different record id each, so every record is its own event.
				v := bytes.Replace(raw, []byte(`"record_id":"`), []byte(fmt.Sprintf(`"record_id":"%d`, i)), 1)
				batch[i] = bus.Record{Topic: "winlogbeat", Partition: 0, Offset: int64(i), Value: v, Time: at}
			}
			h := pipeline.NewParse(map[string]parsers.Parser{winevent.FormatWinlogbeat: winevent.NewWinlogbeatParser()}, discard{}, nil, pipeline.NewMetrics(prometheus.NewRegistry()))
			h.ReadForeign(map[string]string{"winlogbeat": winevent.FormatWinlogbeat})
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := h.Handle(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
		})
	}
}
