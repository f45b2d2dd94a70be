package watch_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/casework/sla"
	"github.com/mamori-soc/mamori/casework/watch"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

// sender records what it is asked to send.
type sender struct {
	mu   sync.Mutex
	sent []notify.Notification
}

func (s *sender) Send(_ context.Context, n notify.Notification) (notify.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, n)
	return notify.Record{CaseID: n.CaseID, Kind: n.Kind, Channel: notify.Email, Recipients: n.To, SentAt: time.Date(2026, 11, 24, 1, 13, 0, 0, time.UTC), MessageID: "<m@x>"}, nil
}

// TestWarningThenBreachOnce: a failure detected at 10:00 with no first
// report warns at 10:11:15 (75 % of 15 minutes) and breaches after 10:15;
// each is recorded and notified once however often the watcher sweeps.
func TestWarningThenBreachOnce(t *testing.T) {
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	jst := cal.Location()
	opened := time.Date(2026, 11, 24, 10, 0, 0, 0, jst)
	cs := casework.NewCases(s, func() time.Time { return opened })
	ctx := context.Background()
	c, _, err := cs.Open(ctx, "monitoring", casework.Case{Type: casework.Failure, Title: "WAN 回線断", Channel: "monitoring"})
	require.NoError(t, err)

	out := &sender{}
	w := watch.New(watch.Options{Cases: cs, Clocks: sla.Defaults(), Calendar: cal, Sender: out, To: []string{"ops@example.lg.jp"}})
	n, err := w.Sweep(ctx, opened.Add(5*time.Minute))
	require.NoError(t, err)
	require.Zero(t, n)

	for range 3 {
		_, err := w.Sweep(ctx, opened.Add(12*time.Minute))
		require.NoError(t, err)
	}
	require.Len(t, out.sent, 1, "one warning, however often the watcher sweeps")
	require.Equal(t, notify.SLAWarning, out.sent[0].Kind)
	require.Equal(t, "failure_first_report", out.sent[0].Data.Clock)
	require.Equal(t, opened.Add(15*time.Minute), out.sent[0].Data.Due.In(jst))

	_, err = w.Sweep(ctx, opened.Add(20*time.Minute))
	require.NoError(t, err)
	_, err = w.Sweep(ctx, opened.Add(21*time.Minute))
	require.NoError(t, err)
	require.Len(t, out.sent, 2)
	require.Equal(t, notify.SLABreach, out.sent[1].Kind)

	got, _, err := cs.Get(ctx, c.ID)
	require.NoError(t, err)
	var sla, notes []string
	for _, e := range got.Timeline {
		switch e.Kind {
		case "sla":
			sla = append(sla, e.Detail)
		case "notification":
			notes = append(notes, e.Notification)
		}
	}
	require.Equal(t, []string{"warning failure_first_report #0", "breach failure_first_report #0"}, sla)
	require.Equal(t, []string{"sla_warning", "sla_breach"}, notes, "each notice is on the case")
	require.Equal(t, "notifications", got.Audit[len(got.Audit)-1].Field)
}

// TestWatchersAtOnceNotifyOnce: the watchers of several casework processes
// sweeping at the same moment send each breach once.
func TestWatchersAtOnceNotifyOnce(t *testing.T) {
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	opened := time.Date(2026, 11, 24, 10, 0, 0, 0, cal.Location())
	cs := casework.NewCases(s, func() time.Time { return opened })
	ctx := context.Background()
	for range 3 {
		_, _, err := cs.Open(ctx, "monitoring", casework.Case{Type: casework.Failure, Title: "WAN 回線断", Channel: "monitoring"})
		require.NoError(t, err)
	}
	out := &sender{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			w := watch.New(watch.Options{Cases: cs, Clocks: sla.Defaults(), Calendar: cal, Sender: out, To: []string{"ops@example.lg.jp"}})
			_, err := w.Sweep(ctx, opened.Add(20*time.Minute))
			require.NoError(t, err)
		})
	}
	wg.Wait()
	kinds := map[string]int{}
	for _, n := range out.sent {
		kinds[n.CaseID+" "+n.Data.Clock]++
	}
	require.Len(t, kinds, 3, "one breach per case: %v", kinds)
	for k, n := range kinds {
		require.Equal(t, 1, n, k)
	}
}
