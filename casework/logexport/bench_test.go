package logexport_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-soc/mamori/casework/logexport"
)

// BenchmarkRun exports 100,000 stored events and reports events/s and the
// compressed size per event.
func BenchmarkRun(b *testing.B) {
	const n = 100_000
	s := openStore(b, n)
	for _, f := range []logexport.Format{logexport.NDJSON, logexport.CSV} {
		b.Run(string(f), func(b *testing.B) {
			req := logexport.Request{From: base, To: base.Add(n * time.Minute), Format: f}
			var m logexport.Manifest
			i := 0
			for b.Loop() {
				dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
				i++
				var err error
				m, err = logexport.Run(context.Background(), s, req, dir, nil)
				if err != nil {
					b.Fatal(err)
				}
				if m.Events != n {
					b.Fatalf("exported %d events, want %d", m.Events, n)
				}
				if err := os.RemoveAll(dir); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(m.File.Size)/n, "B/event")
			b.ReportMetric(float64(m.File.ContentSize)/float64(m.File.Size), "ratio")
		})
	}
}
