package retrieval_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/logexport"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/casework/retrieval"
	"github.com/mamori-soc/mamori/casework/sla"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

var jst = time.FixedZone("Asia/Tokyo", 9*60*60)

// base is a Tuesday morning, business hours.
var base = time.Date(2026, 11, 24, 9, 0, 0, 0, jst)

// sender records what it is asked to send.
type sender struct {
	mu   sync.Mutex
	sent []notify.Notification
}

func (s *sender) Send(_ context.Context, n notify.Notification) (notify.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, n)
	return notify.Record{CaseID: n.CaseID, Kind: n.Kind, Channel: notify.Email, Recipients: n.To, SentAt: base.Add(time.Duration(len(s.sent)) * time.Minute)}, nil
}

// rig is a store with 100 logon events, one a minute before base, by
// 田中 (every fourth) and suzuki.
func rig(t *testing.T) (store.Store, *casework.Cases) {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	var docs []store.Doc
	for i := range 100 {
		e := event.Event{Timestamp: base.Add(-time.Duration(100-i) * time.Minute), User: &event.User{Name: "suzuki"},
			Event: event.Meta{ID: fmt.Sprintf("ev-%03d", i), Code: "4624"}, Message: "ログオン成功"}
		if i%4 == 0 {
			e.User.Name = "田中"
		}
		src, err := event.Marshal(&e)
		require.NoError(t, err)
		docs = append(docs, store.Doc{ID: e.Event.ID, Source: src})
	}
	res, err := s.Index(context.Background(), store.Events, docs)
	require.NoError(t, err)
	for _, r := range res {
		require.NoError(t, r.Err)
	}
	return s, casework.NewCases(s, func() time.Time { return base })
}

func request(t *testing.T, cs *casework.Cases, r casework.LogRequest) casework.Case {
	t.Helper()
	c, err := casework.NewLogRequest("sato", r)
	require.NoError(t, err)
	c, _, err = cs.Open(context.Background(), "sato", c)
	require.NoError(t, err)
	return c
}

// TestFulfil: a request is exported, verified, its custody and delivery
// recorded, the requester told, and the log_provision clock met within
// minutes; a second sweep does nothing more.
func TestFulfil(t *testing.T) {
	s, cs := rig(t)
	ctx := context.Background()
	dir := t.TempDir()
	out := &sender{}
	f := retrieval.New(retrieval.Options{Cases: cs, Store: s, Dir: dir, Location: jst, Sender: out, Name: "test-fulfiller"})
	c := request(t, cs, casework.LogRequest{Query: "user.name:田中", From: base.Add(-2 * time.Hour), To: base, Format: logexport.CSV, Email: "sato@example.lg.jp"})

	n, err := f.Sweep(ctx, base.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, _, err := cs.Get(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, casework.Resolved, got.Status)
	require.Len(t, got.Exports, 1)
	x := got.Exports[0]
	require.Equal(t, int64(25), x.Events)
	require.Equal(t, "sato", x.RequestedBy)
	require.Equal(t, "test-fulfiller", x.FulfilledBy)
	exportDir, err := retrieval.Dir(dir, c.ID)
	require.NoError(t, err)
	require.NoError(t, x.Check(exportDir), "the files are those the custody record names")
	require.Empty(t, got.Fields[retrieval.FieldClaim])

	require.Len(t, out.sent, 1)
	require.Equal(t, notify.LogDelivery, out.sent[0].Kind)
	require.Equal(t, []string{"sato@example.lg.jp"}, out.sent[0].To)
	require.Equal(t, int64(25), out.sent[0].Data.Export.Events)

	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	clock, _ := got.Clock(sla.Defaults(), "log_provision", base.Add(time.Hour), cal)
	require.Equal(t, sla.Met, clock.State, "the delivery stops the clock")
	require.Less(t, clock.StoppedAt.Sub(base), 5*time.Minute)

	n, err = f.Sweep(ctx, base.Add(2*time.Minute))
	require.NoError(t, err)
	require.Zero(t, n, "delivered once")
	require.Len(t, out.sent, 1)
}

// TestPutBack: a request that matches more events than allowed waits for
// its requester with the reason; once changed and set in progress it is
// fulfilled.
func TestPutBack(t *testing.T) {
	s, cs := rig(t)
	ctx := context.Background()
	f := retrieval.New(retrieval.Options{Cases: cs, Store: s, Dir: t.TempDir(), MaxEvents: 10, Location: jst})
	c := request(t, cs, casework.LogRequest{From: base.Add(-2 * time.Hour), To: base, Format: logexport.NDJSON})

	n, err := f.Sweep(ctx, base.Add(time.Minute))
	require.NoError(t, err)
	require.Zero(t, n)
	got, _, err := cs.Get(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, casework.WaitingRequester, got.Status)
	require.Contains(t, got.Fields[casework.FieldExportError], "100 match, at most 10 allowed")
	require.Len(t, got.Comments, 1)
	require.Empty(t, got.Exports)

	n, err = f.Sweep(ctx, base.Add(2*time.Minute))
	require.NoError(t, err)
	require.Zero(t, n, "waiting: left alone")
	got, _, _ = cs.Get(ctx, c.ID)
	require.Len(t, got.Comments, 1)

	_, _, err = cs.Modify(ctx, c.ID, "sato", func(c *casework.Case) error {
		c.Fields[casework.FieldFrom] = base.Add(-5 * time.Minute).Format(time.RFC3339)
		c.Status = casework.InProgress
		return nil
	})
	require.NoError(t, err)
	n, err = f.Sweep(ctx, base.Add(3*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, _, _ = cs.Get(ctx, c.ID)
	require.Equal(t, int64(5), got.Exports[0].Events)
	require.Empty(t, got.Fields[casework.FieldExportError])
}

// TestClaim: of two fulfillers sweeping at once, one exports; a claim left
// by a fulfiller that died is taken over after StaleAt.
func TestClaim(t *testing.T) {
	s, cs := rig(t)
	ctx := context.Background()
	dir := t.TempDir()
	c := request(t, cs, casework.LogRequest{Query: "user.name:suzuki", From: base.Add(-2 * time.Hour), To: base, Format: logexport.NDJSON})

	var wg sync.WaitGroup
	delivered := make([]int, 4)
	for i := range delivered {
		wg.Go(func() {
			f := retrieval.New(retrieval.Options{Cases: cs, Store: s, Dir: dir, Name: fmt.Sprint("f", i)})
			n, err := f.Sweep(ctx, base.Add(time.Minute))
			require.NoError(t, err)
			delivered[i] = n
		})
	}
	wg.Wait()
	total := 0
	for _, n := range delivered {
		total += n
	}
	require.Equal(t, 1, total, "exported once")
	got, _, _ := cs.Get(ctx, c.ID)
	require.Len(t, got.Exports, 1)

	// A claim that never finished.
	c2 := request(t, cs, casework.LogRequest{Query: "user.name:suzuki", From: base.Add(-time.Hour), To: base, Format: logexport.NDJSON})
	_, _, err := cs.Modify(ctx, c2.ID, "x", func(c *casework.Case) error {
		c.Fields[retrieval.FieldClaim] = "dead at " + base.UTC().Format(time.RFC3339Nano)
		return nil
	})
	require.NoError(t, err)
	f := retrieval.New(retrieval.Options{Cases: cs, Store: s, Dir: dir})
	n, err := f.Sweep(ctx, base.Add(30*time.Minute))
	require.NoError(t, err)
	require.Zero(t, n, "a live claim is respected")
	n, err = f.Sweep(ctx, base.Add(61*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n, "a stale claim is taken over")
}

func TestDir(t *testing.T) {
	_, err := retrieval.Dir("/x", "../etc")
	require.Error(t, err)
	_, err = retrieval.Dir("/x", "a/b")
	require.Error(t, err)
	d, err := retrieval.Dir("/x", "REQ-20261124-ABCDE")
	require.NoError(t, err)
	require.Equal(t, "/x/REQ-20261124-ABCDE", d)
}

// TestDirectoryAddress: a request that names no address is announced at
// the requester's address from the directory; without one, only recorded.
func TestDirectoryAddress(t *testing.T) {
	s, cs := rig(t)
	ctx := context.Background()
	out := &sender{}
	f := retrieval.New(retrieval.Options{Cases: cs, Store: s, Dir: t.TempDir(), Sender: out,
		MailOf: func(_ context.Context, name string) (string, error) {
			if name == "sato" {
				return "sato@example.lg.jp", nil
			}
			return "", nil
		}})
	request(t, cs, casework.LogRequest{Query: "user.name:田中", From: base.Add(-2 * time.Hour), To: base, Format: logexport.NDJSON})
	n, err := f.Sweep(ctx, base.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Len(t, out.sent, 1)
	require.Equal(t, []string{"sato@example.lg.jp"}, out.sent[0].To)
}
