package watch_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/sla"
	"github.com/mamori-soc/mamori/casework/watch"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

// BenchmarkSweep measures one sweep of the SLA watcher over 5,000 open
// cases (about three months of a large network's incidents, failures and
// requests) once their warnings and breaches are recorded: the steady
// state, every minute.
func BenchmarkSweep(b *testing.B) {
	s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "store.db"), sqlitestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cal, err := calendar.New(calendar.Config{})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 9, 1, 9, 0, 0, 0, cal.Location())
	at := start
	cs := casework.NewCases(s, func() time.Time { return at })
	ctx := context.Background()
	const n = 5000
	kinds := []casework.Case{
		{Type: casework.Incident, Channel: "email"}, {Type: casework.Failure, Channel: "monitoring"},
		{Type: casework.SecurityIncident, Channel: "monitoring"}, {Type: casework.Request, Subtype: "account"},
	}
	for i := range n {
		at = start.Add(time.Duration(i) * 25 * time.Minute)
		c := kinds[i%len(kinds)]
		c.Title = fmt.Sprintf("案件 %d", i)
		if _, _, err := cs.Open(ctx, "bench", c); err != nil {
			b.Fatal(err)
		}
	}
	now := at.Add(time.Hour)
	w := watch.New(watch.Options{Cases: cs, Clocks: sla.Defaults(), Calendar: cal, Lookback: 120 * 24 * time.Hour})
	found, err := w.Sweep(ctx, now)
	if err != nil || found == 0 {
		b.Fatalf("first sweep: %d found, %v", found, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if found, err := w.Sweep(ctx, now); err != nil || found != 0 {
			b.Fatalf("steady sweep: %d found, %v", found, err)
		}
	}
	b.ReportMetric(float64(n), "cases/sweep")
}
