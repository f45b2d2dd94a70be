// Package storetest is the conformance suite of store.Store: every
// implementation (Elasticsearch, the embedded SQLite store) runs Run and must
// pass every subtest. Each subtest uses collections of its own, named
// uniquely, so the suite can run against a shared Elasticsearch.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/textan"
)

// Run runs the suite. open returns the store under test; it is called once
// per subtest and the store is closed when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) { RunExcept(t, open, nil) }

// RunExcept runs the suite but reports the named subtests as skipped, with
// their reason. It is for test engines that lack part of the real engine
// (a local node missing a module), never for excusing a store.
func RunExcept(t *testing.T, open func(t *testing.T) store.Store, except map[string]string) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"IndexIdempotent", testIndexIdempotent},
		{"IndexBadDocuments", testIndexBadDocuments},
		{"KQL", testKQL},
		{"TimeRange", testTimeRange},
		{"Sort", testSort},
		{"Paging", testPaging},
		{"Count", testCount},
		{"Terms", testTerms},
		{"Histogram", testHistogram},
		{"Export", testExport},
		{"GetUpdate", testGetUpdate},
		{"ConcurrentUpdate", testConcurrentUpdate},
		{"DeleteBefore", testDeleteBefore},
		{"Japanese", testJapanese},
		{"ConcurrentIndexSearch", testConcurrentIndexSearch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if why, ok := except[tc.name]; ok {
				t.Skip("skipped: " + why)
			}
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// collection returns a collection name unique to this test and run.
func collection(t *testing.T) string {
	var b [4]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	name := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	return "storetest-" + name + "-" + hex.EncodeToString(b[:])
}

// base is the time the suite's documents are stamped around.
var base = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// doc returns an event document: its id, time and fields set by dotted name.
func doc(t *testing.T, id string, ts time.Time, fields map[string]any) store.Doc {
	t.Helper()
	e := &event.Event{Timestamp: ts.UTC()}
	for k, v := range fields {
		require.NoError(t, e.Set(k, v), k)
	}
	b, err := event.Marshal(e)
	require.NoError(t, err)
	return store.Doc{ID: id, Source: b}
}

func index(t *testing.T, s store.Store, coll string, docs ...store.Doc) {
	t.Helper()
	res, err := s.Index(context.Background(), coll, docs)
	require.NoError(t, err)
	require.Len(t, res, len(docs))
	for i, r := range res {
		require.Equal(t, docs[i].ID, r.ID)
		require.NoError(t, r.Err, r.ID)
	}
}

func search(t *testing.T, s store.Store, req store.SearchRequest) *store.SearchResult {
	t.Helper()
	res, err := s.Search(context.Background(), req)
	require.NoError(t, err)
	return res
}

func ids(hits []store.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func eq(field, value string) kql.Cond {
	return &kql.Equals{Field: field, Type: event.TypeOf(field), Value: value}
}

func phrase(field, text string) kql.Cond {
	return &kql.Phrase{Fields: []string{field}, Tokens: textan.Tokens(text)}
}

func testIndexIdempotent(t *testing.T, s store.Store) {
	ctx := context.Background()
	coll := collection(t)
	first := doc(t, "a", base, map[string]any{"message": "first", "user.name": "tanaka"})
	second := doc(t, "a", base.Add(time.Hour), map[string]any{"message": "second", "user.name": "suzuki"})
	index(t, s, coll, first)
	index(t, s, coll, second, doc(t, "b", base, nil), doc(t, "b", base, map[string]any{"message": "dup in batch"}))

	n, err := s.Count(ctx, store.Query{Collection: coll})
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	got, err := s.Get(ctx, coll, "a")
	require.NoError(t, err)
	require.JSONEq(t, string(first.Source), string(got.Source), "the first version is kept")
	res := search(t, s, store.SearchRequest{Query: store.Query{Collection: coll, Filter: phrase("message", "second")}})
	require.Empty(t, res.Hits, "the ignored duplicate is not searchable")
	res = search(t, s, store.SearchRequest{Query: store.Query{Collection: coll, Filter: phrase("message", "dup in batch")}})
	require.Empty(t, res.Hits, "the second copy within a batch is ignored")
}

func testIndexBadDocuments(t *testing.T, s store.Store) {
	ctx := context.Background()
	coll := collection(t)
	docs := []store.Doc{
		doc(t, "good1", base, map[string]any{"message": "ok"}),
		{ID: "broken", Source: json.RawMessage(`{"@timestamp": "2026-03-01T00:00:00Z", "message": `)},
		{ID: "notime", Source: json.RawMessage(`{"message": "no time"}`)},
		{ID: "badtime", Source: json.RawMessage(`{"@timestamp": "yesterday"}`)},
		{ID: "array", Source: json.RawMessage(`["@timestamp"]`)},
		doc(t, "good2", base.Add(time.Second), nil),
	}
	res, err := s.Index(ctx, coll, docs)
	require.NoError(t, err)
	require.Len(t, res, len(docs))
	for i, r := range res {
		require.Equal(t, docs[i].ID, r.ID)
		if strings.HasPrefix(r.ID, "good") {
			require.NoError(t, r.Err)
		} else {
			require.ErrorIs(t, r.Err, store.ErrBadDocument, r.ID)
		}
	}
	n, err := s.Count(ctx, store.Query{Collection: coll})
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	_, err = s.Get(ctx, coll, "notime")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testTimeRange(t *testing.T, s store.Store) {
	coll := collection(t)
	for i := range 5 {
		index(t, s, coll, doc(t, fmt.Sprint("t", i), base.Add(time.Duration(i)*time.Minute), nil))
	}
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	cases := []struct {
		from, to time.Time
		want     []string
	}{
		{at(1), at(3), []string{"t2", "t1"}},
		{at(1), time.Time{}, []string{"t4", "t3", "t2", "t1"}},
		{time.Time{}, at(1), []string{"t0"}},
		{at(1).Add(time.Nanosecond), at(3).Add(time.Nanosecond), []string{"t3", "t2"}},
		{time.Time{}, time.Time{}, []string{"t4", "t3", "t2", "t1", "t0"}},
		// Bounds in another zone are the same instants.
		{at(1).In(time.FixedZone("JST", 9*3600)), at(3).In(time.FixedZone("JST", 9*3600)), []string{"t2", "t1"}},
	}
	for _, c := range cases {
		res := search(t, s, store.SearchRequest{Query: store.Query{Collection: coll, From: c.from, To: c.to}})
		require.Equal(t, c.want, ids(res.Hits), "from %v to %v", c.from, c.to)
		require.EqualValues(t, len(c.want), res.Total)
	}
}

func testSort(t *testing.T, s store.Store) {
	coll := collection(t)
	index(t, s, coll,
		doc(t, "c", base.Add(2*time.Minute), map[string]any{"user.name": "bob"}),
		doc(t, "a", base.Add(time.Minute), map[string]any{"user.name": "carol"}),
		doc(t, "b", base.Add(time.Minute), map[string]any{"user.name": "alice"}),
		doc(t, "d", base, nil),
		doc(t, "e", base.Add(3*time.Minute), map[string]any{"user.name": "bob"}),
	)
	req := func(sort ...store.SortField) store.SearchRequest {
		return store.SearchRequest{Query: store.Query{Collection: coll}, Sort: sort}
	}
	// Default: @timestamp descending, ties by id (same direction).
	require.Equal(t, []string{"e", "c", "b", "a", "d"}, ids(search(t, s, req()).Hits))
	require.Equal(t, []string{"d", "a", "b", "c", "e"}, ids(search(t, s, req(store.SortField{Field: "@timestamp"})).Hits))
	// A keyword field; documents without it come last either way.
	require.Equal(t, []string{"b", "c", "e", "a", "d"}, ids(search(t, s, req(store.SortField{Field: "user.name"})).Hits))
	require.Equal(t, []string{"a", "e", "c", "b", "d"}, ids(search(t, s, req(store.SortField{Field: "user.name", Desc: true})).Hits))
	require.Equal(t, []string{"a", "e", "c", "b", "d"}, ids(search(t, s, req(
		store.SortField{Field: "user.name", Desc: true}, store.SortField{Field: "@timestamp", Desc: true})).Hits))
	require.Equal(t, []string{"b", "c", "e", "a", "d"}, ids(search(t, s, req(
		store.SortField{Field: "user.name"}, store.SortField{Field: "@timestamp"})).Hits))
	// Hits carry their sort values, the id last.
	hits := search(t, s, req()).Hits
	require.Len(t, hits[0].Sort, 2)
	require.Equal(t, "e", hits[0].Sort[1])
}

func testPaging(t *testing.T, s store.Store) {
	coll := collection(t)
	var docs []store.Doc
	users := []string{"alice", "bob", "carol"}
	for i := range 23 {
		fields := map[string]any{}
		if i%4 != 0 {
			fields["user.name"] = users[i%3]
		}
		// Five distinct times: many ties.
		docs = append(docs, doc(t, fmt.Sprintf("p%02d", (i*7)%23), base.Add(time.Duration(i%5)*time.Second), fields))
	}
	index(t, s, coll, docs...)
	for _, sorts := range [][]store.SortField{
		nil,
		{{Field: "@timestamp"}},
		{{Field: "user.name"}},
		{{Field: "user.name", Desc: true}, {Field: "@timestamp"}},
	} {
		all := search(t, s, store.SearchRequest{Query: store.Query{Collection: coll}, Sort: sorts, Size: 100})
		require.Len(t, all.Hits, 23)
		var paged []string
		var after []any
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10, "paging does not end")
			res := search(t, s, store.SearchRequest{Query: store.Query{Collection: coll}, Sort: sorts, Size: 4, SearchAfter: after})
			require.EqualValues(t, 23, res.Total)
			if len(res.Hits) == 0 {
				break
			}
			paged = append(paged, ids(res.Hits)...)
			// Sort values survive a JSON round trip, as through an API.
			b, err := json.Marshal(res.Hits[len(res.Hits)-1].Sort)
			require.NoError(t, err)
			after = nil
			require.NoError(t, json.Unmarshal(b, &after))
		}
		require.Equal(t, ids(all.Hits), paged, "sort %v", sorts)
	}
}

func testCount(t *testing.T, s store.Store) {
	ctx := context.Background()
	coll := collection(t)
	for i := range 10 {
		index(t, s, coll, doc(t, fmt.Sprint("c", i), base.Add(time.Duration(i)*time.Hour), map[string]any{"user.name": []string{"a", "b"}[i%2]}))
	}
	n, err := s.Count(ctx, store.Query{Collection: coll})
	require.NoError(t, err)
	require.EqualValues(t, 10, n)
	n, err = s.Count(ctx, store.Query{Collection: coll, Filter: eq("user.name", "a")})
	require.NoError(t, err)
	require.EqualValues(t, 5, n)
	n, err = s.Count(ctx, store.Query{Collection: coll, Filter: eq("user.name", "a"), From: base.Add(2 * time.Hour), To: base.Add(6 * time.Hour)})
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	n, err = s.Count(ctx, store.Query{Collection: collection(t)})
	require.NoError(t, err)
	require.Zero(t, n, "a collection never written is empty")
}

func testTerms(t *testing.T, s store.Store) {
	ctx := context.Background()
	coll := collection(t)
	index(t, s, coll,
		doc(t, "1", base, map[string]any{"tags": []string{"a", "b"}, "user.name": "x"}),
		doc(t, "2", base, map[string]any{"tags": []string{"b", "c"}, "user.name": "y"}),
		doc(t, "3", base, map[string]any{"tags": []string{"c", "a", "a"}, "user.name": "x"}),
		doc(t, "4", base, map[string]any{"tags": []string{"d"}, "user.name": "z"}),
		doc(t, "5", base.Add(time.Hour), map[string]any{"tags": []string{"b"}}),
	)
	b, err := s.Terms(ctx, store.Query{Collection: coll}, store.TermsAgg{Field: "tags"})
	require.NoError(t, err)
	require.Equal(t, []store.Bucket{{Key: "b", Count: 3}, {Key: "a", Count: 2}, {Key: "c", Count: 2}, {Key: "d", Count: 1}}, b)
	b, err = s.Terms(ctx, store.Query{Collection: coll}, store.TermsAgg{Field: "tags", Size: 2})
	require.NoError(t, err)
	require.Equal(t, []store.Bucket{{Key: "b", Count: 3}, {Key: "a", Count: 2}}, b)
	b, err = s.Terms(ctx, store.Query{Collection: coll, To: base.Add(time.Minute)}, store.TermsAgg{Field: "tags"})
	require.NoError(t, err)
	require.Equal(t, []store.Bucket{{Key: "a", Count: 2}, {Key: "b", Count: 2}, {Key: "c", Count: 2}, {Key: "d", Count: 1}}, b)
	b, err = s.Terms(ctx, store.Query{Collection: coll}, store.TermsAgg{Field: "user.name"})
	require.NoError(t, err)
	require.Equal(t, []store.Bucket{{Key: "x", Count: 2}, {Key: "y", Count: 1}, {Key: "z", Count: 1}}, b)
	b, err = s.Terms(ctx, store.Query{Collection: coll, Filter: eq("tags", "a")}, store.TermsAgg{Field: "user.name"})
	require.NoError(t, err)
	require.Equal(t, []store.Bucket{{Key: "x", Count: 2}}, b)
}

func testHistogram(t *testing.T, s store.Store) {
	ctx := context.Background()
	coll := collection(t)
	times := []string{
		"2026-03-01T00:00:00Z", "2026-03-01T00:59:59.999Z", "2026-03-01T01:00:00Z",
		"2026-03-01T03:30:00Z", "2026-03-01T14:59:59Z", "2026-03-01T15:00:00Z", "2026-03-02T16:00:00Z",
	}
	for i, ts := range times {
		tm, err := time.Parse(time.RFC3339Nano, ts)
		require.NoError(t, err)
		index(t, s, coll, doc(t, fmt.Sprint("h", i), tm, nil))
	}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return tm
	}
	b, err := s.Histogram(ctx, store.Query{Collection: coll, To: at("2026-03-01T12:00:00Z")}, store.HistogramAgg{Interval: time.Hour})
	require.NoError(t, err)
	require.Equal(t, []int64{2, 1, 1}, counts(b))
	requireTimes(t, []time.Time{at("2026-03-01T00:00:00Z"), at("2026-03-01T01:00:00Z"), at("2026-03-01T03:00:00Z")}, b)

	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	b, err = s.Histogram(ctx, store.Query{Collection: coll}, store.HistogramAgg{Interval: 24 * time.Hour, Location: tokyo})
	require.NoError(t, err)
	// Tokyo days: 03-01 holds 00:00Z..14:59Z, 03-02 starts at 15:00Z.
	require.Equal(t, []int64{5, 1, 1}, counts(b))
	requireTimes(t, []time.Time{at("2026-03-01T00:00:00+09:00"), at("2026-03-02T00:00:00+09:00"), at("2026-03-03T00:00:00+09:00")}, b)

	b, err = s.Histogram(ctx, store.Query{Collection: coll}, store.HistogramAgg{Interval: 24 * time.Hour})
	require.NoError(t, err)
	require.Equal(t, []int64{6, 1}, counts(b))
	requireTimes(t, []time.Time{at("2026-03-01T00:00:00Z"), at("2026-03-02T00:00:00Z")}, b)
}

func counts(b []store.Bucket) []int64 {
	out := make([]int64, len(b))
	for i, x := range b {
		out[i] = x.Count
	}
	return out
}

func requireTimes(t *testing.T, want []time.Time, b []store.Bucket) {
	t.Helper()
	require.Len(t, b, len(want))
	for i := range want {
		require.True(t, want[i].Equal(b[i].Time), "bucket %d: want %v, got %v", i, want[i], b[i].Time)
	}
}

func testExport(t *testing.T, s store.Store) {
	ctx := context.Background()
	coll := collection(t)
	const n = 2345
	docs := make([]store.Doc, 0, n)
	wantB := 0
	for i := range n {
		if i%3 == 1 {
			wantB++
		}
		// Pairs of documents share a time.
		docs = append(docs, doc(t, fmt.Sprintf("x%05d", i), base.Add(time.Duration(i/2)*time.Millisecond), map[string]any{"user.name": []string{"a", "b", "c"}[i%3]}))
	}
	for i := 0; i < n; i += 1000 {
		index(t, s, coll, docs[i:min(i+1000, n)]...)
	}
	seen := map[string]bool{}
	var last time.Time
	err := s.Export(ctx, store.SearchRequest{Query: store.Query{Collection: coll}, Sort: []store.SortField{{Field: "@timestamp"}}}, func(h store.Hit) error {
		require.False(t, seen[h.ID], "exported twice: %s", h.ID)
		seen[h.ID] = true
		var e event.Event
		require.NoError(t, event.Unmarshal(h.Source, &e))
		require.False(t, e.Timestamp.Before(last), "out of order")
		last = e.Timestamp
		return nil
	})
	require.NoError(t, err)
	require.Len(t, seen, n)

	var got int
	err = s.Export(ctx, store.SearchRequest{Query: store.Query{Collection: coll, Filter: eq("user.name", "b")}, Size: 100}, func(store.Hit) error {
		got++
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, wantB, got)

	stop := errors.New("stop")
	got = 0
	err = s.Export(ctx, store.SearchRequest{Query: store.Query{Collection: coll}}, func(store.Hit) error {
		got++
		if got == 10 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 10, got)
}

func caseDoc(t *testing.T, id, status string) store.Doc {
	b, err := json.Marshal(map[string]any{"@timestamp": base.Format(time.RFC3339Nano), "status": status, "assignee": map[string]any{"name": "tanaka"}})
	require.NoError(t, err)
	return store.Doc{ID: id, Source: b}
}

func testGetUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	coll := collection(t)
	_, err := s.Get(ctx, coll, "case-1")
	require.ErrorIs(t, err, store.ErrNotFound)

	v1, err := s.Update(ctx, coll, caseDoc(t, "case-1", "new"))
	require.NoError(t, err)
	require.NotEqual(t, store.Version{}, v1)
	_, err = s.Update(ctx, coll, caseDoc(t, "case-1", "again"))
	require.ErrorIs(t, err, store.ErrConflict, "a zero version must not exist yet")

	got, err := s.Get(ctx, coll, "case-1")
	require.NoError(t, err)
	require.Equal(t, v1, got.Version)
	require.JSONEq(t, string(caseDoc(t, "case-1", "new").Source), string(got.Source))

	next := caseDoc(t, "case-1", "in-progress")
	next.Version = got.Version
	v2, err := s.Update(ctx, coll, next)
	require.NoError(t, err)
	require.NotEqual(t, v1, v2)

	stale := caseDoc(t, "case-1", "closed")
	stale.Version = v1
	_, err = s.Update(ctx, coll, stale)
	require.ErrorIs(t, err, store.ErrConflict)

	got, err = s.Get(ctx, coll, "case-1")
	require.NoError(t, err)
	require.Equal(t, v2, got.Version)
	require.JSONEq(t, string(next.Source), string(got.Source))

	missing := caseDoc(t, "case-2", "x")
	missing.Version = v1
	_, err = s.Update(ctx, coll, missing)
	require.ErrorIs(t, err, store.ErrConflict, "a version given for a document that does not exist")

	// Search sees the update and reports the version; nested fields of
	// non-event documents are searchable by dotted name.
	res := search(t, s, store.SearchRequest{Query: store.Query{Collection: coll, Filter: &kql.AllOf{Conds: []kql.Cond{
		eq("status", "in-progress"), eq("assignee.name", "tanaka"),
	}}}})
	require.Equal(t, []string{"case-1"}, ids(res.Hits))
	require.Equal(t, v2, res.Hits[0].Version)

	_, err = s.Update(ctx, coll, store.Doc{ID: "case-3", Source: json.RawMessage(`{"status": "x"}`)})
	require.ErrorIs(t, err, store.ErrBadDocument)
}

func testConcurrentUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	coll := collection(t)
	v, err := s.Update(ctx, coll, caseDoc(t, "case-1", "new"))
	require.NoError(t, err)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := caseDoc(t, "case-1", fmt.Sprint("by-", i))
			d.Version = v
			_, errs[i] = s.Update(ctx, coll, d)
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, won, "two updaters won")
			won = i
			continue
		}
		require.ErrorIs(t, err, store.ErrConflict)
	}
	require.NotEqual(t, -1, won, "no updater won")
	got, err := s.Get(ctx, coll, "case-1")
	require.NoError(t, err)
	require.JSONEq(t, string(caseDoc(t, "case-1", fmt.Sprint("by-", won)).Source), string(got.Source))
}

func testDeleteBefore(t *testing.T, s store.Store) {
	ctx := context.Background()
	coll := collection(t)
	for i := range 10 {
		index(t, s, coll, doc(t, fmt.Sprint("d", i), base.Add(time.Duration(i)*time.Hour), map[string]any{"message": fmt.Sprint("entry number ", i)}))
	}
	n, err := s.DeleteBefore(ctx, coll, base.Add(4*time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 4, n)
	c, err := s.Count(ctx, store.Query{Collection: coll})
	require.NoError(t, err)
	require.EqualValues(t, 6, c)
	_, err = s.Get(ctx, coll, "d3")
	require.ErrorIs(t, err, store.ErrNotFound)
	res := search(t, s, store.SearchRequest{Query: store.Query{Collection: coll, Filter: phrase("message", "entry")}})
	require.Equal(t, []string{"d9", "d8", "d7", "d6", "d5", "d4"}, ids(res.Hits))
	res = search(t, s, store.SearchRequest{Query: store.Query{Collection: coll, Filter: phrase("message", "number 3")}})
	require.Empty(t, res.Hits)
	n, err = s.DeleteBefore(ctx, coll, base.Add(4*time.Hour))
	require.NoError(t, err)
	require.Zero(t, n)
}

func testJapanese(t *testing.T, s store.Store) {
	ctx := context.Background()
	coll := collection(t)
	src := `{"@timestamp":"2026-03-01T09:00:00+09:00","message":"ユーザー「田中 太郎」のログオンに失敗しました（パスワード誤り）","user":{"name":"田中太郎","full_name":"田中 太郎"},"winlog.event_data.TargetDomainName":"営業部"}`
	res, err := s.Index(ctx, coll, []store.Doc{{ID: "jp-1", Source: json.RawMessage(src)}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)

	got, err := s.Get(ctx, coll, "jp-1")
	require.NoError(t, err)
	require.Equal(t, []byte(src), []byte(got.Source), "Get returns the document byte for byte")

	for _, f := range []kql.Cond{
		phrase("message", "ログオンに失敗"),
		eq("user.name", "田中太郎"),
		eq("winlog.event_data.TargetDomainName", "営業部"),
		&kql.Glob{Field: "user.name", Parts: []string{"田中", ""}},
	} {
		r := search(t, s, store.SearchRequest{Query: store.Query{Collection: coll, Filter: f}})
		require.Len(t, r.Hits, 1, "%#v", f)
		require.Equal(t, []byte(src), []byte(r.Hits[0].Source), "Search returns the document byte for byte")
	}
	r := search(t, s, store.SearchRequest{Query: store.Query{Collection: coll, Filter: phrase("message", "失敗ログオン")}})
	require.Empty(t, r.Hits)
	// The time in +09:00 is the same instant in UTC.
	r = search(t, s, store.SearchRequest{Query: store.Query{Collection: coll, From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 0, 0, 0, 1, time.UTC)}})
	require.Len(t, r.Hits, 1)
}

func testConcurrentIndexSearch(t *testing.T, s store.Store) {
	ctx := context.Background()
	coll := collection(t)
	index(t, s, coll, doc(t, "seed", base, nil))
	const writers, batches, per = 3, 5, 50
	var all [writers][batches][]store.Doc
	for w := range writers {
		for b := range batches {
			for i := range per {
				all[w][b] = append(all[w][b], doc(t, fmt.Sprintf("w%d-%d-%d", w, b, i), base.Add(time.Duration(b*per+i)*time.Second), map[string]any{"user.name": fmt.Sprint("u", w)}))
			}
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if _, err := s.Index(ctx, coll, all[w][b]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				res, err := s.Search(ctx, store.SearchRequest{Query: store.Query{Collection: coll, Filter: eq("user.name", "u1")}, Size: 10})
				if err != nil {
					errs <- err
					return
				}
				if res.Total < int64(len(res.Hits)) {
					errs <- fmt.Errorf("total %d below %d hits", res.Total, len(res.Hits))
					return
				}
			}
		}()
	}
	// Stop the readers once the writers are done.
	go func() {
		for {
			n, err := s.Count(ctx, store.Query{Collection: coll})
			if err != nil || n == 1+writers*batches*per {
				close(done)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	n, err := s.Count(ctx, store.Query{Collection: coll})
	require.NoError(t, err)
	require.EqualValues(t, 1+writers*batches*per, n)
}
