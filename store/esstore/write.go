package esstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/mamori-soc/mamori/store"
)

// head is what the store reads of a document before writing it.
type head struct {
	Timestamp *string `json:"@timestamp"`
	Event     *struct {
		Dataset string `json:"dataset"`
	} `json:"event"`
	Dataset string `json:"event.dataset"`
}

// nanosRange is what a date_nanos field holds.
var nanosMin, nanosMax = time.Unix(0, 0), time.Unix(0, 1<<63-1)

// prepare checks a document and returns the body to send (the document with
// the id field appended) and its dataset.
func prepare(d store.Doc) (body []byte, dataset string, err error) {
	src := bytes.TrimSpace(d.Source)
	if d.ID == "" {
		return nil, "", fmt.Errorf("%w: empty id", store.ErrBadDocument)
	}
	var h head
	if len(src) == 0 || src[0] != '{' {
		return nil, "", fmt.Errorf("%w: %s: not a JSON object", store.ErrBadDocument, d.ID)
	}
	if err := gojson.Unmarshal(src, &h); err != nil {
		return nil, "", fmt.Errorf("%w: %s: %v", store.ErrBadDocument, d.ID, err)
	}
	if h.Timestamp == nil {
		return nil, "", fmt.Errorf("%w: %s: no @timestamp", store.ErrBadDocument, d.ID)
	}
	ts, err := time.Parse(time.RFC3339Nano, *h.Timestamp)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: @timestamp %q is not an RFC 3339 time", store.ErrBadDocument, d.ID, *h.Timestamp)
	}
	if ts.Before(nanosMin) || ts.After(nanosMax) {
		return nil, "", fmt.Errorf("%w: %s: @timestamp %s is outside 1970-2262, the range the store keeps with nanosecond precision", store.ErrBadDocument, d.ID, *h.Timestamp)
	}
	dataset = h.Dataset
	if h.Event != nil && h.Event.Dataset != "" {
		dataset = h.Event.Dataset
	}
	if bytes.ContainsAny(src, "\r\n") {
		// The bulk API reads one document per line.
		var b bytes.Buffer
		if err := json.Compact(&b, src); err != nil {
			return nil, "", fmt.Errorf("%w: %s: %v", store.ErrBadDocument, d.ID, err)
		}
		src = b.Bytes()
	}
	return withID(src, d.ID), dataset, nil
}

// withID appends the id field to a JSON object.
func withID(src []byte, id string) []byte {
	q, _ := gojson.Marshal(id)
	out := make([]byte, 0, len(src)+len(idField)+len(q)+4)
	out = append(out, src[:len(src)-1]...)
	if len(bytes.TrimSpace(src[1:len(src)-1])) > 0 {
		out = append(out, ',')
	}
	out = append(out, `"`+idField+`":`...)
	out = append(out, q...)
	return append(out, '}')
}

// withoutID removes what withID appended; a document written by someone else
// is returned as it is.
func withoutID(src []byte, id string) []byte {
	q, _ := gojson.Marshal(id)
	suffix := append([]byte(`"`+idField+`":`), q...)
	suffix = append(suffix, '}')
	if !bytes.HasSuffix(src, suffix) {
		return src
	}
	rest := bytes.TrimRight(src[:len(src)-len(suffix)], " \t\r\n")
	if bytes.HasSuffix(rest, []byte(",")) {
		return append(rest[:len(rest)-1:len(rest)-1], '}')
	}
	return append(rest[:len(rest):len(rest)], '}')
}

// bulkAttempts is how often a document refused for load is sent again within
// one Index call before the call fails as unavailable (the caller retries
// the whole batch later).
const bulkAttempts = 5

// Index implements store.Store.
func (s *Store) Index(ctx context.Context, collection string, docs []store.Doc) ([]store.IndexResult, error) {
	res := make([]store.IndexResult, len(docs))
	bodies := make([][]byte, len(docs))
	streams := make([]string, len(docs))
	var pending, dups []int
	first := make(map[string]int, len(docs))
	for i, d := range docs {
		res[i].ID = d.ID
		if j, seen := first[d.ID]; seen && res[j].Err == nil {
			// A later copy in the same batch: parallel bulk requests could
			// store it first, so it waits for the outcome of the first.
			dups = append(dups, i)
			continue
		}
		body, dataset, err := prepare(d)
		if err != nil {
			res[i].Err = err
			continue
		}
		bodies[i], streams[i] = body, s.streamFor(collection, dataset)
		first[d.ID] = i
		pending = append(pending, i)
	}
	var last error
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == bulkAttempts {
			return nil, fmt.Errorf("%w: %d of %d documents not stored after %d attempts: %v", store.ErrUnavailable, len(pending), len(docs), attempt, last)
		}
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
			}
		}
		pending, last = s.bulk(ctx, pending, bodies, streams, docs, res)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if len(dups) > 0 {
		// The first copy is stored (or refused: then the next copy is tried).
		again := make([]store.Doc, len(dups))
		for k, i := range dups {
			again[k] = docs[i]
		}
		r, err := s.Index(ctx, collection, again)
		if err != nil {
			return nil, err
		}
		for k, i := range dups {
			res[i] = r[k]
		}
	}
	return res, nil
}

// bulk sends the pending documents once and returns those to send again
// with the reason.
func (s *Store) bulk(ctx context.Context, pending []int, bodies [][]byte, streams []string, docs []store.Doc, res []store.IndexResult) ([]int, error) {
	var mu sync.Mutex
	var flushErr error
	done := make([]bool, len(docs))
	retry := make([]bool, len(docs))
	var retryErr error
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client:     s.es,
		NumWorkers: s.opts.Workers,
		FlushBytes: 5 << 20,
		Refresh:    s.opts.Refresh,
		OnError: func(_ context.Context, err error) {
			mu.Lock()
			flushErr = err
			mu.Unlock()
		},
	})
	if err != nil {
		return pending, err
	}
	for _, i := range pending {
		err := bi.Add(ctx, esutil.BulkIndexerItem{
			Action:     "create",
			Index:      streams[i],
			DocumentID: docs[i].ID,
			Body:       bytes.NewReader(bodies[i]),
			OnSuccess: func(context.Context, esutil.BulkIndexerItem, esutil.BulkIndexerResponseItem) {
				done[i] = true
			},
			OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, r esutil.BulkIndexerResponseItem, err error) {
				done[i] = true
				switch {
				case err != nil:
					retry[i] = true
					mu.Lock()
					retryErr = err
					mu.Unlock()
				case r.Status == http.StatusConflict: // already stored
				case r.Status == http.StatusTooManyRequests || r.Status >= 500:
					retry[i] = true
					mu.Lock()
					retryErr = fmt.Errorf("HTTP %d %s: %s", r.Status, r.Error.Type, r.Error.Reason)
					mu.Unlock()
				default:
					res[i].Err = fmt.Errorf("%w: %s: %s: %s%s", store.ErrBadDocument, docs[i].ID, r.Error.Type, r.Error.Reason, causedBy(r))
				}
			},
		})
		if err != nil {
			_ = bi.Close(ctx)
			return pending, err
		}
	}
	if err := bi.Close(ctx); err != nil {
		return pending, err
	}
	var again []int
	for _, i := range pending {
		if !done[i] || retry[i] {
			again = append(again, i)
		}
	}
	if flushErr != nil {
		return again, flushErr
	}
	return again, retryErr
}

func causedBy(r esutil.BulkIndexerResponseItem) string {
	if r.Error.Cause.Reason != "" {
		return " (" + r.Error.Cause.Reason + ")"
	}
	return ""
}

// docResponse is the answer of a document write or get.
type docResponse struct {
	ID          string            `json:"_id"`
	Index       string            `json:"_index"`
	SeqNo       int64             `json:"_seq_no"`
	PrimaryTerm int64             `json:"_primary_term"`
	Found       bool              `json:"found"`
	Source      gojson.RawMessage `json:"_source"`
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, collection string, doc store.Doc) (store.Version, error) {
	body, _, err := prepare(doc)
	if err != nil {
		return store.Version{}, err
	}
	params := url.Values{}
	if s.opts.Refresh != "" {
		params.Set("refresh", s.opts.Refresh)
	}
	path := "/" + s.records(collection) + "/_create/" + url.PathEscape(doc.ID)
	if doc.Version != (store.Version{}) {
		path = "/" + s.records(collection) + "/_doc/" + url.PathEscape(doc.ID)
		params.Set("if_seq_no", strconv.FormatInt(doc.Version.SeqNo, 10))
		params.Set("if_primary_term", strconv.FormatInt(doc.Version.PrimaryTerm, 10))
	}
	var r docResponse
	if err := s.call(ctx, http.MethodPut, path, params, gojson.RawMessage(body), &r); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.Version{}, fmt.Errorf("%w: %s", store.ErrConflict, doc.ID)
		}
		if errors.Is(err, store.ErrBadQuery) {
			return store.Version{}, fmt.Errorf("%w: %s: %v", store.ErrBadDocument, doc.ID, err)
		}
		return store.Version{}, err
	}
	return store.Version{SeqNo: r.SeqNo, PrimaryTerm: r.PrimaryTerm}, nil
}

// Get implements store.Store: the updatable index first (read in real time),
// then the data streams (searchable after a refresh).
func (s *Store) Get(ctx context.Context, collection, id string) (store.Doc, error) {
	var r docResponse
	err := s.call(ctx, http.MethodGet, "/"+s.records(collection)+"/_doc/"+url.PathEscape(id), nil, nil, &r)
	switch {
	case err == nil && r.Found:
		return store.Doc{ID: id, Source: withoutID(r.Source, id), Version: store.Version{SeqNo: r.SeqNo, PrimaryTerm: r.PrimaryTerm}}, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.Doc{}, err
	}
	res, err := s.searchDSL(ctx, s.streams(collection), obj{
		"query":               obj{"ids": obj{"values": []string{id}}},
		"size":                1,
		"seq_no_primary_term": true,
	}, nil)
	if err != nil {
		return store.Doc{}, err
	}
	if len(res.Hits.Hits) == 0 {
		return store.Doc{}, fmt.Errorf("%w: %s", store.ErrNotFound, id)
	}
	return res.Hits.Hits[0].doc(), nil
}
