package esstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/store"
)

// searchResponse is the part of a search answer the store reads.
type searchResponse struct {
	PitID string `json:"pit_id"`
	Hits  struct {
		Total struct {
			Value    int64  `json:"value"`
			Relation string `json:"relation"`
		} `json:"total"`
		Hits []hit `json:"hits"`
	} `json:"hits"`
	Aggregations struct {
		Buckets struct {
			Buckets []struct {
				Key         any    `json:"key"`
				KeyAsString string `json:"key_as_string"`
				DocCount    int64  `json:"doc_count"`
			} `json:"buckets"`
		} `json:"buckets"`
	} `json:"aggregations"`
}

type hit struct {
	ID          string            `json:"_id"`
	SeqNo       int64             `json:"_seq_no"`
	PrimaryTerm int64             `json:"_primary_term"`
	Source      gojson.RawMessage `json:"_source"`
	Sort        []any             `json:"sort"`
}

func (h hit) doc() store.Doc {
	return store.Doc{ID: h.ID, Source: json.RawMessage(withoutID(h.Source, h.ID)), Version: store.Version{SeqNo: h.SeqNo, PrimaryTerm: h.PrimaryTerm}}
}

// readParams let a read cover index patterns that match nothing yet.
func readParams() url.Values {
	return url.Values{"ignore_unavailable": {"true"}, "allow_no_indices": {"true"}}
}

// searchDSL runs a search on targets ("" with a point in time in body).
func (s *Store) searchDSL(ctx context.Context, targets string, body obj, params url.Values) (*searchResponse, error) {
	if params == nil && targets != "" {
		params = readParams()
	}
	path := "/_search"
	if targets != "" {
		path = "/" + targets + "/_search"
	}
	var r searchResponse
	if err := s.call(ctx, http.MethodPost, path, params, body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// sortKey is one sort field of a request with the type of its values.
type sortKey struct {
	field string
	desc  bool
	typ   event.Type
}

func sortKeys(req store.SearchRequest) []sortKey {
	sorts := req.Sort
	if len(sorts) == 0 {
		sorts = []store.SortField{{Field: timeField(req.Query), Desc: true}}
	}
	keys := make([]sortKey, 0, len(sorts)+1)
	for _, f := range sorts {
		keys = append(keys, sortKey{field: f.Field, desc: f.Desc, typ: fieldType(req.Query, f.Field)})
	}
	return append(keys, sortKey{field: idField, desc: sorts[0].Desc, typ: event.Keyword})
}

// fieldType is the search type of a field, the query's time field being a
// date whatever its name.
func fieldType(q store.Query, field string) event.Type {
	if field == timeField(q) {
		return event.Date
	}
	return event.TypeOf(field)
}

func (k sortKey) dsl() obj {
	o := obj{"order": "asc", "missing": "_last", "unmapped_type": k.typ.String()}
	if k.desc {
		o["order"] = "desc"
	}
	switch k.typ {
	case event.Text:
		o["unmapped_type"] = "keyword"
	case event.Date:
		o["unmapped_type"] = "date_nanos"
		o["numeric_type"] = "date_nanos"
	}
	return obj{k.field: o}
}

// hitValue converts a sort value of an answer to its Hit.Sort form: dates
// as time.Time, integers as int64.
func (k sortKey) hitValue(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		if gn, isGo := v.(gojson.Number); isGo {
			n, ok = json.Number(gn), true
		}
	}
	if !ok {
		return v
	}
	if i, err := n.Int64(); err == nil {
		if k.typ == event.Date {
			return time.Unix(0, i).UTC()
		}
		return i
	}
	f, _ := n.Float64()
	return f
}

// afterValue converts a SearchAfter value (possibly through JSON) to what
// the node expects.
func (k sortKey) afterValue(v any) (any, error) {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			v = i
		} else {
			f, _ := n.Float64()
			v = f
		}
	}
	if k.typ == event.Date {
		switch x := v.(type) {
		case time.Time:
			return x.UnixNano(), nil
		case string:
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return nil, fmt.Errorf("%w: search_after: %q is not an RFC 3339 time", store.ErrBadQuery, x)
			}
			return t.UnixNano(), nil
		case float64:
			return int64(x), nil
		}
	}
	if a, ok := v.(netip.Addr); ok {
		return a.String(), nil
	}
	return v, nil
}

// searchBody builds the body of a search request.
func searchBody(req store.SearchRequest, keys []sortKey) (obj, error) {
	q, err := query(req.Query)
	if err != nil {
		return nil, err
	}
	size := req.Size
	if size <= 0 {
		size = 100
	}
	if size > 10000 {
		size = 10000
	}
	sorts := make([]any, len(keys))
	for i, k := range keys {
		sorts[i] = k.dsl()
	}
	body := obj{"query": q, "size": size, "sort": sorts, "seq_no_primary_term": true, "track_total_hits": store.TotalHitsLimit}
	if req.SearchAfter != nil {
		if len(req.SearchAfter) != len(keys) {
			return nil, fmt.Errorf("%w: search_after has %d values, the sort has %d (the last is the id)", store.ErrBadQuery, len(req.SearchAfter), len(keys))
		}
		after := make([]any, len(keys))
		for i, k := range keys {
			if after[i], err = k.afterValue(req.SearchAfter[i]); err != nil {
				return nil, err
			}
		}
		body["search_after"] = after
	}
	return body, nil
}

func toResult(r *searchResponse, keys []sortKey) *store.SearchResult {
	out := &store.SearchResult{Total: r.Hits.Total.Value, Hits: make([]store.Hit, len(r.Hits.Hits))}
	if r.Hits.Total.Relation == "gte" {
		out.Total, out.TotalCapped = store.TotalHitsLimit, true
	}
	for i, h := range r.Hits.Hits {
		out.Hits[i].Doc = h.doc()
		// Within a point in time Elasticsearch 8 appends its own
		// tie-breaker (_shard_doc); the store's sort ends with the id.
		sorts := make([]any, min(len(h.Sort), len(keys)))
		for j := range sorts {
			sorts[j] = keys[j].hitValue(h.Sort[j])
		}
		out.Hits[i].Sort = sorts
	}
	return out
}

// Search implements store.Store.
func (s *Store) Search(ctx context.Context, req store.SearchRequest) (*store.SearchResult, error) {
	keys := sortKeys(req)
	body, err := searchBody(req, keys)
	if err != nil {
		return nil, err
	}
	r, err := s.searchDSL(ctx, s.targets(req.Collection), body, nil)
	if err != nil {
		return nil, err
	}
	return toResult(r, keys), nil
}

// Count implements store.Store.
func (s *Store) Count(ctx context.Context, q store.Query) (int64, error) {
	dsl, err := query(q)
	if err != nil {
		return 0, err
	}
	var r struct {
		Count int64 `json:"count"`
	}
	if err := s.call(ctx, http.MethodPost, "/"+s.targets(q.Collection)+"/_count", readParams(), obj{"query": dsl}, &r); err != nil {
		return 0, err
	}
	return r.Count, nil
}

// aggregate runs one bucket aggregation named "buckets".
func (s *Store) aggregate(ctx context.Context, q store.Query, agg obj) (*searchResponse, error) {
	dsl, err := query(q)
	if err != nil {
		return nil, err
	}
	return s.searchDSL(ctx, s.targets(q.Collection), obj{
		"query": dsl, "size": 0, "track_total_hits": false, "aggs": obj{"buckets": agg},
	}, nil)
}

// Terms implements store.Store.
func (s *Store) Terms(ctx context.Context, q store.Query, agg store.TermsAgg) ([]store.Bucket, error) {
	size := agg.Size
	if size <= 0 {
		size = 10
	}
	typ := fieldType(q, agg.Field)
	r, err := s.aggregate(ctx, q, obj{"terms": obj{
		"field": agg.Field, "size": size, "shard_size": max(size*10, 100),
		"order": []any{obj{"_count": "desc"}, obj{"_key": "asc"}},
	}})
	if err != nil {
		return nil, err
	}
	out := make([]store.Bucket, 0, len(r.Aggregations.Buckets.Buckets))
	for _, b := range r.Aggregations.Buckets.Buckets {
		out = append(out, store.Bucket{Key: keyText(typ, b.Key, b.KeyAsString), Count: b.DocCount})
	}
	return out, nil
}

// Histogram implements store.Store.
func (s *Store) Histogram(ctx context.Context, q store.Query, agg store.HistogramAgg) ([]store.Bucket, error) {
	if agg.Interval < time.Millisecond || agg.Interval%time.Millisecond != 0 {
		return nil, fmt.Errorf("%w: histogram interval %s: want whole milliseconds", store.ErrBadQuery, agg.Interval)
	}
	h := obj{"field": timeField(q), "fixed_interval": strconv.FormatInt(agg.Interval.Milliseconds(), 10) + "ms", "min_doc_count": 1}
	if loc := agg.Location; loc != nil && loc != time.UTC && loc.String() != "UTC" {
		h["time_zone"] = zoneName(loc)
	}
	r, err := s.aggregate(ctx, q, obj{"date_histogram": h})
	if err != nil {
		return nil, err
	}
	out := make([]store.Bucket, 0, len(r.Aggregations.Buckets.Buckets))
	for _, b := range r.Aggregations.Buckets.Buckets {
		ms, err := strconv.ParseInt(fmt.Sprint(b.Key), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("esstore: histogram bucket key %v: %w", b.Key, err)
		}
		out = append(out, store.Bucket{Time: time.UnixMilli(ms).UTC(), Count: b.DocCount})
	}
	return out, nil
}

// zoneName names a location for the node: its IANA name, or its current
// offset when it has none.
func zoneName(loc *time.Location) string {
	if name := loc.String(); name != "Local" && name != "" {
		if _, err := time.LoadLocation(name); err == nil {
			return name
		}
	}
	_, off := time.Now().In(loc).Zone()
	return fmt.Sprintf("%+03d:%02d", off/3600, (off%3600+3600)%3600/60)
}

// Export implements store.Store: search_after pages within a point in time,
// so the export is one consistent snapshot however long it runs.
func (s *Store) Export(ctx context.Context, req store.SearchRequest, fn func(store.Hit) error) error {
	if req.Size <= 0 {
		req.Size = 1000
	}
	pit, err := s.openPIT(ctx, req.Collection)
	if errors.Is(err, store.ErrNotFound) {
		return nil // nothing written yet
	}
	if err != nil {
		return err
	}
	defer func() { s.closePIT(context.WithoutCancel(ctx), pit) }()
	keys := sortKeys(req)
	for {
		body, err := searchBody(req, keys)
		if err != nil {
			return err
		}
		body["pit"] = obj{"id": pit, "keep_alive": pitKeepAlive}
		body["track_total_hits"] = false
		r, err := s.searchDSL(ctx, "", body, url.Values{})
		if err != nil {
			return err
		}
		if r.PitID != "" {
			pit = r.PitID
		}
		res := toResult(r, keys)
		for _, h := range res.Hits {
			if err := fn(h); err != nil {
				return err
			}
		}
		if len(res.Hits) < req.Size {
			return nil
		}
		req.SearchAfter = res.Hits[len(res.Hits)-1].Sort
	}
}

const pitKeepAlive = "2m"

// resolve returns the data streams and indices that exist among targets
// (OpenSearch's point in time has no ignore_unavailable).
func (s *Store) resolve(ctx context.Context, targets string) ([]string, error) {
	var r struct {
		Indices []struct {
			Name string `json:"name"`
		} `json:"indices"`
		DataStreams []struct {
			Name string `json:"name"`
		} `json:"data_streams"`
	}
	// Elasticsearch 8 answers 404 when one name of the list is missing.
	params := url.Values{"ignore_unavailable": {"true"}}
	if err := s.call(ctx, http.MethodGet, "/_resolve/index/"+targets, params, nil, &r); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	var names []string
	for _, x := range r.DataStreams {
		names = append(names, x.Name)
	}
	for _, x := range r.Indices {
		names = append(names, x.Name)
	}
	return names, nil
}

// openPIT opens a point in time over a collection (ErrNotFound: no index
// exists yet).
func (s *Store) openPIT(ctx context.Context, collection string) (string, error) {
	names, err := s.resolve(ctx, s.targets(collection))
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", fmt.Errorf("%w: collection %s has no index yet", store.ErrNotFound, collection)
	}
	params := url.Values{"keep_alive": {pitKeepAlive}}
	var r struct {
		ID    string `json:"id"`
		PitID string `json:"pit_id"`
	}
	path := "/" + strings.Join(names, ",") + "/_pit"
	if s.opts.Compat == OpenSearch {
		path = "/" + strings.Join(names, ",") + "/_search/point_in_time"
	}
	if err := s.call(ctx, http.MethodPost, path, params, nil, &r); err != nil {
		return "", err
	}
	if r.PitID != "" {
		return r.PitID, nil
	}
	if r.ID == "" {
		return "", fmt.Errorf("%w: no point in time", store.ErrNotFound)
	}
	return r.ID, nil
}

func (s *Store) closePIT(ctx context.Context, id string) {
	var err error
	if s.opts.Compat == OpenSearch {
		err = s.call(ctx, http.MethodDelete, "/_search/point_in_time", nil, obj{"pit_id": []string{id}}, nil)
	} else {
		err = s.call(ctx, http.MethodDelete, "/_pit", nil, obj{"id": id}, nil)
	}
	if err != nil {
		s.log.Warn("closing a point in time failed; it expires by itself", "err", err)
	}
}

// DeleteBefore implements store.Store. Backing indices of the collection's
// data streams whose newest document is older than t are deleted whole
// (cheap, and what frees disk at once); the documents left are deleted by
// query.
func (s *Store) DeleteBefore(ctx context.Context, collection string, t time.Time) (int64, error) {
	dropped, err := s.dropOldIndices(ctx, collection, t)
	if err != nil {
		return 0, err
	}
	params := readParams()
	params.Set("conflicts", "proceed")
	params.Set("refresh", "true")
	var r struct {
		Deleted int64 `json:"deleted"`
	}
	body := obj{"query": obj{"range": obj{"@timestamp": obj{"lt": t.UTC().Format(time.RFC3339Nano), "format": dateFormat}}}}
	if err := s.call(ctx, http.MethodPost, "/"+s.targets(collection)+"/_delete_by_query", params, body, &r); err != nil {
		return dropped, err
	}
	return dropped + r.Deleted, nil
}

// dataStreams lists the data streams matching a pattern with their backing
// indices, the write index last.
func (s *Store) dataStreams(ctx context.Context, pattern string) (map[string][]string, error) {
	var r struct {
		DataStreams []struct {
			Name    string `json:"name"`
			Indices []struct {
				Name string `json:"index_name"`
			} `json:"indices"`
		} `json:"data_streams"`
	}
	if err := s.call(ctx, http.MethodGet, "/_data_stream/"+pattern, nil, nil, &r); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	out := map[string][]string{}
	for _, ds := range r.DataStreams {
		for _, ix := range ds.Indices {
			out[ds.Name] = append(out[ds.Name], ix.Name)
		}
	}
	return out, nil
}

// dropOldIndices deletes the backing indices (never a write index) whose
// newest document is before t and returns how many documents they held.
func (s *Store) dropOldIndices(ctx context.Context, collection string, t time.Time) (int64, error) {
	streams, err := s.dataStreams(ctx, s.streams(collection))
	if err != nil {
		return 0, err
	}
	var old []string
	for _, indices := range streams {
		old = append(old, indices[:len(indices)-1]...)
	}
	if len(old) == 0 {
		return 0, nil
	}
	var r struct {
		Aggregations struct {
			ByIndex struct {
				Buckets []struct {
					Key      string `json:"key"`
					DocCount int64  `json:"doc_count"`
					Newest   struct {
						Value *float64 `json:"value"`
					} `json:"newest"`
				} `json:"buckets"`
			} `json:"by_index"`
		} `json:"aggregations"`
	}
	err = s.call(ctx, http.MethodPost, "/"+strings.Join(old, ",")+"/_search", readParams(), obj{
		"size": 0, "track_total_hits": false,
		"aggs": obj{"by_index": obj{"terms": obj{"field": "_index", "size": len(old)},
			"aggs": obj{"newest": obj{"max": obj{"field": "@timestamp"}}}}},
	}, &r)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, b := range r.Aggregations.ByIndex.Buckets {
		// max is in milliseconds: an index is dropped only when its newest
		// document is a whole millisecond before t.
		if b.Newest.Value == nil || int64(*b.Newest.Value) >= t.UnixMilli() {
			continue
		}
		if err := s.call(ctx, http.MethodDelete, "/"+b.Key, nil, nil, nil); err != nil {
			return n, fmt.Errorf("esstore: delete backing index %s: %w", b.Key, err)
		}
		s.log.Info("retention deleted a backing index", "index", b.Key, "documents", b.DocCount, "before", t)
		n += b.DocCount
	}
	return n, nil
}

// Maintain does what the engine does not do by itself: on OpenSearch, which
// has no ILM, it rolls Mamori's data streams over once their write index is
// older than Options.Rollover (retention then drops whole backing indices).
// On Elasticsearch, ILM does it and Maintain does nothing. Call it
// periodically (the retention sweeper does, every ten minutes).
func (s *Store) Maintain(ctx context.Context) error {
	if s.opts.Compat != OpenSearch {
		return nil
	}
	streams, err := s.dataStreams(ctx, "logs-mamori*-"+s.opts.Namespace)
	if err != nil {
		return err
	}
	for name := range streams {
		body := obj{"conditions": obj{"max_age": age(s.opts.Rollover)}}
		if err := s.call(ctx, http.MethodPost, "/"+name+"/_rollover", nil, body, nil); err != nil {
			return fmt.Errorf("esstore: roll over %s: %w", name, err)
		}
	}
	return nil
}
