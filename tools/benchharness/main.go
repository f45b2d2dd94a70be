// Command benchharness measures the embedded pipeline as a whole, where Go
// micro-benchmarks cannot: syslog over TCP to searchable events per second,
// KQL search latency over a store of millions of events, and the syslog
// edge into Kafka next to rsyslog's omkafka. It prints a Markdown report for
// docs/benchmarks.md.
//
//	go run ./tools/benchharness -suite e2e -events 1000000
//	go run ./tools/benchharness -suite search -events 10000000 -dir /var/tmp/b
//	go run ./tools/benchharness -suite search -events 10000000 -dir /var/tmp/b -reuse -queries 20 'KQL'...
//	go run ./tools/benchharness -suite edge-kafka -events 500000 -rounds 2   (see edgekafka.go)
//	go run ./tools/benchharness -suite e2e-es -events 1000000               (see e2ees.go)
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/demo"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/parsers"
	psyslog "github.com/mamori-soc/mamori/parsers/syslog"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

func main() {
	suite := flag.String("suite", "e2e", "e2e, search, edge-kafka or e2e-es")
	events := flag.Int("events", 500000, "events to send (e2e, edge-kafka, e2e-es) or to store (search)")
	dir := flag.String("dir", "", "working directory (default: a new temp dir, removed after)")
	queries := flag.Int("queries", 200, "search: queries to time")
	reuse := flag.Bool("reuse", false, "search: keep the events already in -dir instead of filling the store again")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this `file`")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *ekEdgeChild != "" {
		err := runEdgeChild(*ekEdgeChild)
		pprof.StopCPUProfile()
		if err != nil {
			fail(err)
		}
		return
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "mamori-bench-")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	fmt.Printf("machine: %s, %d CPUs, %s\n\n", cpuModel(), runtime.NumCPU(), runtime.Version())
	var err error
	switch *suite {
	case "e2e":
		err = endToEnd(*dir, *events)
	case "search":
		err = searchLatency(*dir, *events, *queries, *reuse)
	case "edge-kafka":
		err = edgeKafka(*dir, *events)
	case "e2e-es":
		err = endToEndES(*dir, *events)
	default:
		err = fmt.Errorf("unknown suite %q", *suite)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchharness:", err)
	os.Exit(1)
}

// endToEnd starts the embedded pipeline in-process, sends n generated
// messages over one TCP connection as fast as the edge takes them, and waits
// until all are searchable.
func endToEnd(dir string, n int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
data_dir: %s
ingest:
  syslog:
    listeners: [{name: tcp, protocol: tcp, address: "127.0.0.1:0"}]
api: {listen: ""}
`, dir+"/data")))
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), app.Everything())
	if err != nil {
		return err
	}
	defer a.Close()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	<-a.Ready()

	gen := demo.NewGenerator(1, cfg.Location())
	base := time.Now().Add(-time.Hour)
	payload := make([][]byte, 0, 100000)
	for i := range min(n, 100000) {
		m := gen.Next(base.Add(time.Duration(i) * time.Millisecond))
		payload = append(payload, fmt.Appendf(nil, "%d %s", len(m.Line), m.Line))
	}
	conn, err := net.Dial("tcp", a.Addrs["tcp"])
	if err != nil {
		return err
	}
	start := time.Now()
	var buf []byte
	for i := range n {
		buf = append(buf, payload[i%len(payload)]...)
		if len(buf) > 256<<10 || i == n-1 {
			if _, err := conn.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	sendDone := time.Since(start)
	conn.Close()
	var stored int64
	for stored < int64(n) {
		time.Sleep(100 * time.Millisecond)
		stored, err = a.Store().Count(ctx, store.Query{Collection: store.Events})
		if err != nil {
			return err
		}
		if time.Since(start) > 30*time.Minute {
			return fmt.Errorf("only %d of %d events searchable after 30 minutes", stored, n)
		}
	}
	total := time.Since(start)
	fmt.Printf("## Embedded end to end: syslog over TCP to searchable events\n\n")
	fmt.Printf("| events | sent in | all searchable after | events/s (sustained, send to searchable) |\n|---:|---:|---:|---:|\n")
	fmt.Printf("| %d | %s | %s | %.0f |\n\n", n, sendDone.Round(time.Millisecond), total.Round(time.Millisecond), float64(n)/total.Seconds())
	cancel()
	<-done
	return nil
}

// searchLatency fills a store with n realistic events spread over ten days,
// then times field-filtered KQL searches over random 24-hour windows.
func searchLatency(dir string, n, queries int, reuse bool) error {
	ctx := context.Background()
	s, err := sqlitestore.Open(dir+"/store.db", sqlitestore.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	loc, _ := time.LoadLocation("Asia/Tokyo")
	parser, err := psyslog.New(psyslog.Config{Location: "Asia/Tokyo", DefaultPriority: 13, FutureTolerance: 7 * 24 * time.Hour})
	if err != nil {
		return err
	}
	gen := demo.NewGenerator(7, loc)
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	span := 10 * 24 * time.Hour
	step := span / time.Duration(n)
	start := time.Now()
	const batch = 5000
	docs := make([]store.Doc, 0, batch)
	if reuse {
		stored, err := s.Count(ctx, store.Query{Collection: store.Events})
		if err != nil {
			return err
		}
		if stored != int64(n) {
			return fmt.Errorf("-reuse: the store in %s holds %d events, not %d", dir, stored, n)
		}
	}
	fillN := n
	if reuse {
		fillN = 0
	}
	for i := range fillN {
		at := end.Add(-span + time.Duration(i)*step)
		m := gen.Next(at)
		var e event.Event
		if err := parser.Parse(m.Line, parsers.Meta{Received: at, Receiver: "bench", Peer: "10.0.0.9:514", Transport: "tcp"}, &e); err != nil {
			return fmt.Errorf("parse %q: %w", m.Line, err)
		}
		e.Event.ID = event.ID(event.Source{Receiver: "bench", Received: fmt.Sprint(i)}, m.Line)
		data, err := event.Marshal(&e)
		if err != nil {
			return err
		}
		docs = append(docs, store.Doc{ID: e.Event.ID, Source: data})
		if len(docs) == batch || i == fillN-1 {
			if _, err := s.Index(ctx, store.Events, docs); err != nil {
				return err
			}
			docs = docs[:0]
			if (i+1)%(batch*100) == 0 {
				fmt.Fprintf(os.Stderr, "indexed %d/%d (%.0f events/s)\n", i+1, n, float64(i+1)/time.Since(start).Seconds())
			}
		}
	}
	fill := time.Since(start)
	fmt.Printf("## Search latency over %d stored events (10 days, %d per day)\n\n", n, n/10)
	if !reuse {
		fmt.Printf("Filling the store took %s (%.0f events/s, batches of %d).\n\n", fill.Round(time.Second), float64(n)/fill.Seconds(), batch)
	}
	fmt.Printf("| query (24 h window, newest 100 hits) | p50 | p95 | p99 | max |\n|---|---:|---:|---:|---:|\n")
	queryList := flag.Args()
	if len(queryList) == 0 {
		queryList = defaultQueries
	}
	for _, q := range queryList {
		node, err := kql.Parse(q)
		if err != nil {
			return err
		}
		cond, err := kql.Plan(node, kql.Options{Location: loc})
		if err != nil {
			return err
		}
		var lat []time.Duration
		for i := range queries {
			from := end.Add(-span + time.Duration(i%9)*24*time.Hour + time.Duration(i)*time.Minute)
			t0 := time.Now()
			_, err := s.Search(ctx, store.SearchRequest{Query: store.Query{Collection: store.Events, Filter: cond, From: from, To: from.Add(24 * time.Hour)}, Size: 100})
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(10 * time.Microsecond) }
		fmt.Printf("| `%s` | %s | %s | %s | %s |\n", q, pct(0.5), pct(0.95), pct(0.99), lat[len(lat)-1].Round(10*time.Microsecond))
	}
	fmt.Println()
	return nil
}

// defaultQueries are timed when no query is given on the command line.
var defaultQueries = []string{
	`host.hostname:bastion01 and process.name:sshd`,
	`process.name:sshd and message:"failed password"`,
	`log.syslog.severity.code <= 3 and not host.hostname:sw-core01`,
	`source.ip:203.0.113.0/24`,
	`message:"バックアップ"`,
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			_, v, _ := strings.Cut(line, ":")
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
