package sessions

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

// benchEvents builds n logon and logoff events (n/2 each, RDP and
// interactive, over 200 hosts and a day) as stored ECS documents, in a
// shuffled order.
func benchEvents(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	docs := make([][]byte, 0, n)
	for i := range n / 2 {
		host := fmt.Sprintf("PC-%03d.city.example.lg.jp", i%200)
		id := fmt.Sprintf("0x%x", 0x100000+i)
		start := base.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
		end := start.Add(time.Duration(rng.Int64N(int64(8 * time.Hour))))
		user := fmt.Sprintf("user%04d", i%1000)
		typ := []string{"2", "10"}[i%2]
		logon, _ := json.Marshal(map[string]any{
			"@timestamp":                      start.Format(time.RFC3339Nano),
			"event":                           map[string]any{"kind": "event", "category": []string{"authentication"}, "type": []string{"start"}, "action": "logged-in", "code": "4624", "outcome": "success"},
			"host":                            map[string]any{"name": host},
			"user":                            map[string]any{"name": user, "domain": "CITY", "id": "S-1-5-21-1-2-3-" + user},
			"source":                          map[string]any{"ip": "10.20.40.18", "domain": "PC-JOHO-002", "port": 61022},
			"winlog.event_data.TargetLogonId": id, "winlog.event_data.LogonType": typ, "winlog.logon.id": "0x3e7",
			"winlog.event_data.TargetLinkedLogonId": "0x0", "winlog.event_data.ElevatedToken": "%%1843",
			"winlog.event_data.SubjectUserSid": "S-1-5-18", "winlog.channel": "Security", "winlog.event_id": "4624",
		})
		logoff, _ := json.Marshal(map[string]any{
			"@timestamp":                      end.Format(time.RFC3339Nano),
			"event":                           map[string]any{"kind": "event", "category": []string{"authentication"}, "type": []string{"end"}, "action": "logged-out", "code": "4634", "outcome": "success"},
			"host":                            map[string]any{"name": host},
			"user":                            map[string]any{"name": user, "domain": "CITY", "id": "S-1-5-21-1-2-3-" + user},
			"winlog.event_data.TargetLogonId": id, "winlog.event_data.LogonType": typ, "winlog.logon.id": id,
			"winlog.channel": "Security", "winlog.event_id": "4634",
		})
		docs = append(docs, logon, logoff)
	}
	rng.Shuffle(len(docs), func(i, j int) { docs[i], docs[j] = docs[j], docs[i] })
	return docs
}

func decodeAll(b testing.TB, docs [][]byte) []record {
	recs := make([]record, 0, len(docs))
	for i, d := range docs {
		r, ok, err := decode(fmt.Sprint(i), d)
		if err != nil || !ok {
			b.Fatalf("event %d: ok=%v err=%v", i, ok, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// BenchmarkPair pairs 100,000 decoded logon and logoff events.
func BenchmarkPair(b *testing.B) {
	const n = 100_000
	recs := decodeAll(b, benchEvents(n))
	work := make([]record, len(recs))
	asOf := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		copy(work, recs)
		out := pair(work, DefaultMaxDuration, asOf)
		if len(out) != n/2 || out[0].EndReason != Logoff {
			b.Fatalf("%d sessions, first %s", len(out), out[0].EndReason)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/event")
}

// BenchmarkDecodeAndPair reads 100,000 stored ECS documents (as
// store.Export hands them over) and pairs them: the in-memory cost of a
// sessions query, without the store.
func BenchmarkDecodeAndPair(b *testing.B) {
	const n = 100_000
	docs := benchEvents(n)
	asOf := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out := pair(decodeAll(b, docs), DefaultMaxDuration, asOf)
		if len(out) != n/2 {
			b.Fatalf("%d sessions", len(out))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/event")
}

// BenchmarkFindEmbedded runs a whole sessions query, "who was on these
// hosts" over a day, against the embedded store holding 20,000 logon and
// logoff events (10,000 sessions): store reads included.
func BenchmarkFindEmbedded(b *testing.B) {
	const n = 20_000
	s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "store.db"), sqlitestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var docs []store.Doc
	for i, d := range benchEvents(n) {
		docs = append(docs, store.Doc{ID: fmt.Sprint(i), Source: d})
	}
	for chunk := range slices.Chunk(docs, 5000) {
		if _, err := s.Index(context.Background(), store.Events, chunk); err != nil {
			b.Fatal(err)
		}
	}
	from := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	req := Request{
		Filter: &kql.Glob{Field: "host.name", Parts: []string{"PC-00", ""}},
		From:   from, To: from.Add(24 * time.Hour), Now: from.Add(48 * time.Hour), Limit: MaxLimit,
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := Find(context.Background(), s, req)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Sessions) != 500 || res.Truncated {
			b.Fatalf("%d sessions, truncated %v", len(res.Sessions), res.Truncated)
		}
	}
}
