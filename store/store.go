// Package store defines the contract of Mamori's document store: idempotent
// bulk indexing by id, KQL search over a time range with sort and
// search_after paging, counts, terms and date-histogram aggregations,
// streaming export, get and update with optimistic concurrency, and deletion
// by age for retention. Elasticsearch and the embedded SQLite store both
// implement it and both pass the conformance suite in package storetest.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/mamori-soc/mamori/kql"
)

// Collections shared by every part of Mamori.
const (
	Events = "events" // normalised events (append-only)
	Alerts = "alerts" // detection alerts (append-only)
	Cases  = "cases"  // casework documents (updatable)
)

// Sentinel errors.
var (
	// ErrNotFound: no document with that id.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: the document changed since the version the caller read.
	ErrConflict = errors.New("store: version conflict")
	// ErrUnavailable: the store cannot be reached now; back off and retry.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrBadQuery: the query cannot run (wrong type for a field, bad CIDR...).
	ErrBadQuery = errors.New("store: bad query")
	// ErrBadDocument: a document is not valid JSON or lacks its time field.
	ErrBadDocument = errors.New("store: bad document")
)

// Doc is one stored document.
type Doc struct {
	ID     string
	Source json.RawMessage // the JSON document
	// Version is set by Get and Search and checked by Update. The zero value
	// means "must not exist yet".
	Version Version
}

// Version identifies a revision of an updatable document (Elasticsearch's
// sequence number and primary term; the embedded store uses SeqNo alone).
type Version struct {
	SeqNo       int64
	PrimaryTerm int64
}

// IndexResult reports the outcome of one document of a bulk request.
type IndexResult struct {
	ID string
	// Err is nil when the document is stored, including when a document with
	// that id was already stored (indexing is idempotent). A per-document
	// error wraps ErrBadDocument; the caller routes the document to the DLQ.
	Err error
}

// SortField orders results by a field.
type SortField struct {
	Field string
	Desc  bool
}

// Query selects documents: a planned KQL condition (nil matches all; see
// kql.Plan) within a time range on TimeField (default "@timestamp"); a zero
// From or To leaves that side open. From is inclusive, To exclusive.
type Query struct {
	Collection string
	Filter     kql.Cond
	From, To   time.Time
	TimeField  string
}

// SearchRequest is a Query with ordering and paging.
type SearchRequest struct {
	Query
	// Sort defaults to TimeField descending. The store always adds the
	// document id as a final tie-breaker, in the direction of the first sort
	// field, so that paging is stable. Documents without a value of a sort
	// field come last in either direction; a multi-valued field sorts by its
	// least value ascending and its greatest descending (as Elasticsearch).
	Sort []SortField
	// Size is the page size (default 100, at most 10,000).
	Size int
	// SearchAfter is the Sort of the last hit of the previous page. It may
	// have been through JSON: times also arrive as RFC 3339 strings.
	SearchAfter []any
}

// Hit is one search result.
type Hit struct {
	Doc
	// Sort holds the hit's sort values, for SearchAfter.
	Sort []any
}

// TotalHitsLimit is how far Search counts matching documents exactly (as
// Elasticsearch's default track_total_hits): counting every match of a broad
// query over millions of documents would cost more than the page itself.
const TotalHitsLimit = 10000

// SearchResult is one page of hits.
type SearchResult struct {
	Hits []Hit
	// Total is the number of documents matching the query, exact up to
	// TotalHitsLimit. When more match, Total is TotalHitsLimit and
	// TotalCapped is set; Count gives the exact number.
	Total       int64
	TotalCapped bool
}

// TermsAgg counts the most frequent values of a field.
type TermsAgg struct {
	Field string
	Size  int // default 10
}

// HistogramAgg counts documents per fixed time interval of TimeField.
type HistogramAgg struct {
	Interval time.Duration
	// Location aligns day and larger buckets to local midnight (default UTC).
	Location *time.Location
}

// Bucket is one aggregation bucket.
type Bucket struct {
	Key   string    // terms: the value
	Time  time.Time // histogram: bucket start
	Count int64
}

// Store is a document store.
type Store interface {
	// Index stores documents by id. It is idempotent: a document whose id is
	// already stored counts as stored and is not changed. It returns one
	// result per document, in order; the error is for the request as a whole
	// (wrapping ErrUnavailable when the store cannot be reached).
	Index(ctx context.Context, collection string, docs []Doc) ([]IndexResult, error)
	// Search returns one page of documents matching the request.
	Search(ctx context.Context, req SearchRequest) (*SearchResult, error)
	// Count returns the number of documents matching the query.
	Count(ctx context.Context, q Query) (int64, error)
	// Terms returns the most frequent values of a field among matching
	// documents, most frequent first (ties by value).
	Terms(ctx context.Context, q Query, agg TermsAgg) ([]Bucket, error)
	// Histogram returns document counts per interval, oldest first, without
	// empty buckets.
	Histogram(ctx context.Context, q Query, agg HistogramAgg) ([]Bucket, error)
	// Export calls fn for every matching document in Sort order, reading the
	// result page by page so that memory stays flat however many match. It
	// stops at the first error fn returns and returns it.
	Export(ctx context.Context, req SearchRequest, fn func(Hit) error) error
	// Get returns one document with its version.
	Get(ctx context.Context, collection, id string) (Doc, error)
	// Update writes a document if its stored version still equals
	// doc.Version (zero: it must not exist yet); otherwise ErrConflict. It
	// returns the new version.
	Update(ctx context.Context, collection string, doc Doc) (Version, error)
	// DeleteBefore removes documents whose TimeField is before t and returns
	// how many were removed.
	DeleteBefore(ctx context.Context, collection string, t time.Time) (int64, error)
	// Close releases the store.
	Close() error
}
