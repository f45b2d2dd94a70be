// Package esstore is the Elasticsearch document store: it implements
// store.Store with github.com/elastic/go-elasticsearch/v8 on Elasticsearch 8.x
// and, in an explicit compatibility mode, on OpenSearch 2.x.
//
// Layout. Append-only documents (Index) go to data streams: events to
// logs-mamori.<event.dataset>-<namespace>, one per dataset, and every other
// collection to logs-mamori_<collection>-<namespace>. Updatable documents
// (Update, with optimistic concurrency on _seq_no and _primary_term) go to
// one plain index per collection, mamori_<collection>-<namespace>, so that a
// write can name the document's index. Reads cover both.
//
// Mappings are generated from the event catalogue (package event): typed
// fields with their types, every other field a keyword, dates with
// nanosecond precision, message analysed like package textan (see
// analysis.go). The store installs its component and index templates, and on
// Elasticsearch its lifecycle policy, when it opens.
//
// Writes use esutil.BulkIndexer with the create action and the document's
// deterministic id: a 409 means the document is already stored, which is
// success. Rejections for load (429, 5xx) are retried with backoff; a
// document the node refuses (a mapping conflict) fails alone with
// store.ErrBadDocument so the caller can send it to the dead-letter topic.
//
// Compatibility. go-elasticsearch refuses servers that do not send the
// X-Elastic-Product header; with Compat "opensearch" the store adds it to
// OpenSearch's responses, uses OpenSearch's point-in-time endpoints, and
// rolls data streams over itself since OpenSearch has no ILM.
package esstore

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/mamori-soc/mamori/store"
)

var _ store.Store = (*Store)(nil)

// Compatibility modes.
const (
	Elasticsearch = "elasticsearch"
	OpenSearch    = "opensearch"
)

// Options configure a Store.
type Options struct {
	Addresses []string
	// Compat is Elasticsearch (default) or OpenSearch.
	Compat   string
	Username string
	Password string
	APIKey   string
	// CACert is a PEM bundle trusted for the nodes' certificates (nil: the
	// system roots).
	CACert []byte
	// Namespace ends every data stream and index name (default "default").
	Namespace string
	// Shards and Replicas of new indices (default 1 and 1).
	Shards, Replicas int
	// Rollover starts a new backing index after this age (default 24h).
	Rollover time.Duration
	// Retention deletes event backing indices by age through ILM on
	// Elasticsearch (0: keep). DeleteBefore deletes by document on both.
	Retention time.Duration
	// Refresh is the bulk and write refresh policy: "" (near real time),
	// "wait_for" or "true".
	Refresh string
	// Workers is the number of bulk requests in flight per Index call
	// (default 2).
	Workers int
	// Log receives warnings (nil: discard).
	Log *slog.Logger
	// ReadOnly skips installing the lifecycle policy and templates: for
	// processes that only search (the command line, the API), which then
	// need no template privileges and send nothing at start.
	ReadOnly bool
}

// Store is the Elasticsearch store. It is safe for concurrent use.
type Store struct {
	es   *elasticsearch.Client
	opts Options
	log  *slog.Logger
}

// Open connects and, unless ReadOnly, installs the lifecycle policy and
// templates.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if len(opts.Addresses) == 0 {
		return nil, errors.New("esstore: no addresses")
	}
	if opts.Compat == "" {
		opts.Compat = Elasticsearch
	}
	if opts.Compat != Elasticsearch && opts.Compat != OpenSearch {
		return nil, fmt.Errorf("esstore: compat %q: want %s or %s", opts.Compat, Elasticsearch, OpenSearch)
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Shards < 1 {
		opts.Shards = 1
	}
	if opts.Rollover <= 0 {
		opts.Rollover = 24 * time.Hour
	}
	if opts.Workers < 1 {
		opts.Workers = 2
	}
	if opts.Refresh == "false" {
		opts.Refresh = ""
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(opts.CACert) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(opts.CACert) {
			return nil, errors.New("esstore: the CA file holds no PEM certificate")
		}
		tlsConf.RootCAs = pool
	}
	var rt http.RoundTripper = &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConf,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}
	if opts.Compat == OpenSearch {
		rt = productHeader{rt}
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses:     opts.Addresses,
		Username:      opts.Username,
		Password:      opts.Password,
		APIKey:        opts.APIKey,
		Transport:     rt,
		RetryOnStatus: []int{502, 503, 504},
		MaxRetries:    3,
		RetryBackoff:  func(n int) time.Duration { return time.Duration(n) * 200 * time.Millisecond },
	})
	if err != nil {
		return nil, fmt.Errorf("esstore: %w", err)
	}
	s := &Store{es: es, opts: opts, log: log}
	if opts.ReadOnly {
		return s, nil
	}
	if err := s.install(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// productHeader makes OpenSearch's responses pass go-elasticsearch's product
// check (only in the explicit OpenSearch mode).
type productHeader struct{ next http.RoundTripper }

func (p productHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(r)
	if resp != nil && resp.Header.Get("X-Elastic-Product") == "" {
		resp.Header.Set("X-Elastic-Product", "Elasticsearch")
	}
	return resp, err
}

// Close releases idle connections.
func (s *Store) Close() error {
	return s.es.Close(context.Background())
}

// install writes the lifecycle policy, component templates and index
// templates. It is idempotent and runs on every Open, so an upgrade of
// Mamori brings its new mappings (to backing indices created from then on).
func (s *Store) install(ctx context.Context) error {
	logsSettings := obj{}
	if s.opts.Compat == Elasticsearch {
		hot := obj{"rollover": obj{"max_age": age(s.opts.Rollover), "max_primary_shard_size": "50gb"}}
		phases := obj{"hot": obj{"actions": hot}}
		if s.opts.Retention > 0 {
			phases["delete"] = obj{"min_age": age(s.opts.Retention), "actions": obj{"delete": obj{}}}
		}
		if err := s.call(ctx, http.MethodPut, "/_ilm/policy/mamori", nil, obj{"policy": obj{"phases": phases}}, nil); err != nil {
			return fmt.Errorf("esstore: install the lifecycle policy: %w", err)
		}
		logsSettings["index.lifecycle.name"] = "mamori"
	}
	steps := []struct {
		path string
		body obj
	}{
		// One component: the mappings name the analyzer the settings define.
		{"/_component_template/mamori-events", obj{"template": obj{"settings": obj{"index": s.settings()}, "mappings": mappings()}}},
		{"/_index_template/mamori-logs", obj{
			"index_patterns": []string{"logs-mamori.*-*", "logs-mamori_*-*"},
			"data_stream":    obj{},
			"composed_of":    []string{"mamori-events"},
			"priority":       200, // above Elasticsearch's built-in logs-*-* (100)
			"template":       obj{"settings": logsSettings},
			"_meta":          obj{"managed_by": "mamori"},
		}},
		{"/_index_template/mamori-records", obj{
			"index_patterns": []string{"mamori_*"},
			"composed_of":    []string{"mamori-events"},
			"priority":       200,
			"_meta":          obj{"managed_by": "mamori"},
		}},
	}
	for _, st := range steps {
		if err := s.call(ctx, http.MethodPut, st.path, nil, st.body, nil); err != nil {
			return fmt.Errorf("esstore: install %s: %w", st.path, err)
		}
	}
	return nil
}

// Names.

// streamFor is the data stream an appended document of a collection goes to.
func (s *Store) streamFor(collection, dataset string) string {
	if collection == store.Events {
		if dataset == "" {
			dataset = "generic"
		}
		return "logs-mamori." + sanitize(dataset, true) + "-" + s.opts.Namespace
	}
	return "logs-mamori_" + sanitize(collection, false) + "-" + s.opts.Namespace
}

// streams matches every data stream of a collection.
func (s *Store) streams(collection string) string {
	if collection == store.Events {
		return "logs-mamori.*-" + s.opts.Namespace
	}
	return s.streamFor(collection, "")
}

// records is the plain index of a collection's updatable documents.
func (s *Store) records(collection string) string {
	return "mamori_" + sanitize(collection, false) + "-" + s.opts.Namespace
}

// targets is what reads of a collection search.
func (s *Store) targets(collection string) string {
	return s.streams(collection) + "," + s.records(collection)
}

// sanitize keeps what a data stream's dataset part allows.
func sanitize(name string, dots bool) string {
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || dots && c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > 100 {
		b = b[:100]
	}
	return string(b)
}

// HTTP.

// apiError is an error response of the cluster.
type apiError struct {
	Status int
	Type   string
	Reason string
}

func (e *apiError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Type, e.Reason)
}

// Unwrap classifies the error for callers.
func (e *apiError) Unwrap() error {
	switch {
	case e.Status == http.StatusNotFound:
		return store.ErrNotFound
	case e.Status == http.StatusConflict:
		return store.ErrConflict
	case e.Status == http.StatusTooManyRequests || e.Status >= 500:
		return store.ErrUnavailable
	case e.Status == http.StatusBadRequest:
		return store.ErrBadQuery
	}
	return nil
}

// call sends one request with a JSON body and decodes a JSON answer into
// out (nil: discard). Numbers decode as json.Number.
func (s *Store) call(ctx context.Context, method, path string, params url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := gojson.MarshalWithOption(body, gojson.DisableHTMLEscape())
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	u := path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.es.Perform(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%w: %v", store.ErrUnavailable, err)
	}
	if resp.StatusCode >= 300 {
		return decodeError(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	dec := gojson.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("esstore: %s %s: decode the answer: %w", method, path, err)
	}
	return nil
}

func decodeError(status int, data []byte) error {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	_ = gojson.Unmarshal(data, &e)
	var cause struct {
		Type      string `json:"type"`
		Reason    string `json:"reason"`
		RootCause []struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"root_cause"`
		CausedBy *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"caused_by"`
	}
	if gojson.Unmarshal(e.Error, &cause) != nil {
		// Some errors are a plain string, some answers have no error at all
		// (a 404 of a document).
		var text string
		_ = gojson.Unmarshal(e.Error, &text)
		return &apiError{Status: status, Reason: text}
	}
	ae := &apiError{Status: status, Type: cause.Type, Reason: cause.Reason}
	if cause.CausedBy != nil && cause.CausedBy.Reason != "" {
		ae.Reason += " (" + cause.CausedBy.Reason + ")"
	} else if len(cause.RootCause) > 0 && cause.RootCause[0].Reason != ae.Reason {
		ae.Reason += " (" + cause.RootCause[0].Reason + ")"
	}
	return ae
}
