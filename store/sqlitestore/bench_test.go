package sqlitestore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/textan"
)

// The benchmarks run on generated ECS events. MAMORI_BENCH_EVENTS sets the
// size of BenchmarkSearch's dataset (default 200,000, spread evenly over 24
// hours); MAMORI_BENCH_DB keeps that dataset in a file for later runs.

var benchEnd = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

const benchSpan = 24 * time.Hour

// generator makes deterministic synthetic events: 100 hosts (web01-web25,
// db01-db25, app01-app25, dc01-dc25), 1,000 users, 10% failures, messages
// in English and Japanese.
type generator struct {
	r *rand.Rand
}

func newGenerator(seed uint64) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

var (
	hostKinds = []string{"web", "db", "app", "dc"}
	actions   = []struct{ action, code, dataset, category string }{
		{"logon-failed", "4625", "windows.security", "authentication"},
		{"logged-in", "4624", "windows.security", "authentication"},
		{"logged-out", "4634", "windows.security", "authentication"},
		{"ssh_login", "", "system.auth", "authentication"},
		{"connection-denied", "", "network.firewall", "network"},
		{"process-started", "4688", "windows.security", "process"},
	}
	processes = []string{"sshd", "lsass.exe", "svchost.exe", "nginx", "postgres", "explorer.exe"}
)

func (g *generator) doc(i int, ts time.Time) store.Doc {
	r := g.r
	host := fmt.Sprintf("%s%02d", hostKinds[r.IntN(4)], r.IntN(25)+1)
	user := fmt.Sprintf("user%04d", r.IntN(1000))
	src := netip.AddrFrom4([4]byte{10, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(254) + 1)}).String()
	a := actions[r.IntN(len(actions))]
	outcome := "success"
	if r.IntN(10) == 0 {
		outcome = "failure"
	}
	port := int64(1024 + r.IntN(60000))
	var msg string
	switch r.IntN(4) {
	case 0:
		msg = fmt.Sprintf("Failed password for %s from %s port %d ssh2", user, src, port)
		if outcome == "success" {
			msg = fmt.Sprintf("Accepted password for %s from %s port %d ssh2", user, src, port)
		}
	case 1:
		msg = fmt.Sprintf("An account failed to log on. Account Name: %s Account Domain: CORP Logon Type: 3 Source Network Address: %s", user, src)
	case 2:
		msg = fmt.Sprintf("ユーザー %s のログオンに失敗しました (端末 %s)", user, host)
	default:
		msg = fmt.Sprintf("Connection closed by %s port %d [preauth]", src, port)
	}
	e := &event.Event{
		Timestamp: ts,
		Message:   msg,
		Event: event.Meta{
			Kind: "event", Category: []string{a.category}, Type: []string{"start"}, Action: a.action, Code: a.code,
			Outcome: outcome, Dataset: a.dataset, Module: strings.Split(a.dataset, ".")[0], Created: new(ts.Add(time.Duration(r.IntN(1000)) * time.Millisecond)),
		},
		Host:    &event.Host{Name: host, Hostname: host},
		Source:  &event.Endpoint{IP: src, Port: port},
		User:    &event.User{Name: user, Domain: "CORP"},
		Process: &event.Process{Name: processes[r.IntN(len(processes))], PID: int64(r.IntN(65536))},
		Related: &event.Related{IP: []string{src}, User: []string{user}},
		Fields: map[string]any{
			"winlog.channel":                   "Security",
			"winlog.event_data.TargetUserName": user,
			"winlog.event_data.LogonType":      strconv.Itoa(2 + r.IntN(9)),
			"winlog.event_id":                  int64(4600 + r.IntN(100)),
		},
	}
	b, err := event.Marshal(e)
	if err != nil {
		panic(err)
	}
	return store.Doc{ID: fmt.Sprintf("ev%012d", i), Source: b}
}

// batch returns events first..first+n-1 of a dataset of total events.
func (g *generator) batch(first, n, total int) []store.Doc {
	docs := make([]store.Doc, n)
	for j := range n {
		i := first + j
		ts := benchEnd.Add(-benchSpan + time.Duration(int64(i)*int64(benchSpan)/int64(total)))
		docs[j] = g.doc(i, ts)
	}
	return docs
}

func BenchmarkIndex(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	g := newGenerator(1)
	batch := benchBatch()
	total := max(b.N, batch)
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		b.StopTimer()
		docs := g.batch(i, min(batch, b.N-i), total)
		b.StartTimer()
		if _, err := s.Index(ctx, store.Events, docs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// CPU time per event (including generation, which is outside the
	// timer), a figure that other load on a shared machine does not skew.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchEvents() int {
	if v := os.Getenv("MAMORI_BENCH_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err == nil && n > 0 {
			return n
		}
	}
	return 200_000
}

// benchStore opens the dataset of BenchmarkSearch, building it if needed.
func benchStore(b *testing.B) *Store {
	n := benchEvents()
	path := os.Getenv("MAMORI_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
	}
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	have, err := s.Count(ctx, store.Query{Collection: store.Events})
	if err != nil {
		b.Fatal(err)
	}
	if have >= int64(n) {
		b.Logf("dataset: %d events in %s", have, path)
		return s
	}
	g := newGenerator(2)
	start := time.Now()
	var indexing time.Duration
	for i := int(have); i < n; i += 1000 {
		docs := g.batch(i, min(1000, n-i), n)
		t := time.Now()
		if _, err := s.Index(ctx, store.Events, docs); err != nil {
			b.Fatal(err)
		}
		indexing += time.Since(t)
	}
	b.Logf("dataset: indexed %d events in %v (Index calls %v: %.0f events/s)", n-int(have), time.Since(start).Round(time.Second),
		indexing.Round(time.Second), float64(n-int(have))/indexing.Seconds())
	return s
}

// benchQueries are the searches measured, over the last 24 hours.
func benchQueries() []struct {
	name   string
	filter kql.Cond
} {
	return []struct {
		name   string
		filter kql.Cond
	}{
		{"host_and_outcome", &kql.AllOf{Conds: []kql.Cond{
			&kql.Equals{Field: "host.hostname", Type: event.Keyword, Value: "web03"},
			&kql.Equals{Field: "event.outcome", Type: event.Keyword, Value: "failure"},
		}}},
		{"user", &kql.Equals{Field: "user.name", Type: event.Keyword, Value: "user0042"}},
		{"source_ip_cidr", &kql.InPrefix{Field: "source.ip", Prefix: netip.MustParsePrefix("10.1.7.0/24")}},
		{"dynamic_field", &kql.Equals{Field: "winlog.event_data.TargetUserName", Type: event.Keyword, Value: "user0042"}},
		{"phrase", &kql.Phrase{Fields: []string{"message"}, Tokens: textan.Tokens("failed password for user0042")}},
		{"phrase_japanese", &kql.Phrase{Fields: []string{"message"}, Tokens: textan.Tokens("ログオンに失敗")}},
		{"all", nil},
	}
}

func BenchmarkSearch(b *testing.B) {
	s := benchStore(b)
	defer s.Close()
	ctx := context.Background()
	c, err := s.lookup(ctx, store.Events)
	if err != nil || c == nil {
		b.Fatal("no events collection", err)
	}
	for _, q := range benchQueries() {
		req := store.SearchRequest{Query: store.Query{Collection: store.Events, Filter: q.filter, From: benchEnd.Add(-24 * time.Hour), To: benchEnd}}
		b.Run(q.name, func(b *testing.B) {
			frac := s.timeFraction(ctx, c, req.Query)
			query, a, _, err := c.searchSQL(req, defaultSize, frac)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("page plan:\n%s", explain(b, s, query, a))
			count, ca, _ := c.totalSQL(req.Query, frac)
			b.Logf("total plan:\n%s", explain(b, s, count, ca))
			var lat []time.Duration
			var res *store.SearchResult
			for b.Loop() {
				t := time.Now()
				res, err = s.Search(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			b.Logf("hits %d, total %d (capped %v)", len(res.Hits), res.Total, res.TotalCapped)
			reportLatency(b, lat)
		})
	}
	aggs := []struct {
		name string
		fn   func() error
	}{
		{"count_24h", func() error {
			_, err := s.Count(ctx, store.Query{Collection: store.Events, From: benchEnd.Add(-24 * time.Hour), To: benchEnd})
			return err
		}},
		{"count_host_and_outcome", func() error {
			_, err := s.Count(ctx, store.Query{Collection: store.Events, Filter: benchQueries()[0].filter, From: benchEnd.Add(-24 * time.Hour), To: benchEnd})
			return err
		}},
		{"terms_host_1h", func() error {
			_, err := s.Terms(ctx, store.Query{Collection: store.Events, From: benchEnd.Add(-time.Hour), To: benchEnd}, store.TermsAgg{Field: "host.name"})
			return err
		}},
		{"histogram_1h_for_host", func() error {
			_, err := s.Histogram(ctx, store.Query{Collection: store.Events, Filter: benchQueries()[0].filter, From: benchEnd.Add(-24 * time.Hour), To: benchEnd},
				store.HistogramAgg{Interval: time.Hour})
			return err
		}},
	}
	for _, agg := range aggs {
		b.Run(agg.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				t := time.Now()
				if err := agg.fn(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			reportLatency(b, lat)
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	p := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
}

// explain returns SQLite's plan of a statement.
func explain(tb testing.TB, s *Store, query string, a args) string {
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+query, a...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			tb.Fatal(err)
		}
		out = append(out, detail)
	}
	return strings.Join(out, "\n")
}

// benchBatch is the Index batch size (MAMORI_BENCH_BATCH, default 1000).
func benchBatch() int {
	if v := os.Getenv("MAMORI_BENCH_BATCH"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return 1000
}
