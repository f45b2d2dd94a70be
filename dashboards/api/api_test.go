package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/dashboards/api"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

const (
	viewerToken = "viewer-secret-token"
	otherToken  = "not-configured"
)

func token(t *testing.T, name, secret, role string) api.Token {
	t.Helper()
	tok, err := api.NewToken(name, role, api.HashToken(secret))
	require.NoError(t, err)
	return tok
}

func server(t *testing.T, ready func() error) (*httptest.Server, store.Store) {
	srv, s, _ := serverWithLog(t, ready)
	return srv, s
}

// syncBuffer is a log sink safe to read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func serverWithLog(t *testing.T, ready func() error) (*httptest.Server, store.Store, *syncBuffer) {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	docs := []store.Doc{
		{ID: "a", Source: []byte(`{"@timestamp":"2026-11-26T02:00:00Z","message":"ログイン失敗 tanaka","event":{"kind":"event"},"user":{"name":"tanaka"}}`)},
		{ID: "b", Source: []byte(`{"@timestamp":"2026-11-26T02:30:00Z","message":"Accepted publickey","event":{"kind":"event"},"user":{"name":"sato"}}`)},
	}
	_, err = s.Index(context.Background(), store.Events, docs)
	require.NoError(t, err)
	loc, _ := time.LoadLocation("Asia/Tokyo")
	var logs syncBuffer
	h := api.New(api.Options{
		Store: s, Location: loc, Now: func() time.Time { return now },
		Tokens:   []api.Token{token(t, "viewer", viewerToken, "viewer")},
		Gatherer: prometheus.NewRegistry(), Ready: ready,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, s, &logs
}

func get(t *testing.T, srv *httptest.Server, path, tok string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL+path, nil)
	require.NoError(t, err)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	}
	return resp, body
}

func TestSearchNeedsAToken(t *testing.T) {
	srv, _ := server(t, nil)
	q := "/api/v1/events/search?q=" + url.QueryEscape("user.name:tanaka")
	resp, body := get(t, srv, q, "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
	require.Contains(t, body["error"].(map[string]any)["message"], "bearer token")

	resp, _ = get(t, srv, q, otherToken)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	resp, _ = get(t, srv, "/api/v1/nothing-here", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "unknown API routes do not reveal themselves without a token")
}

func TestSearch(t *testing.T) {
	srv, _ := server(t, nil)
	resp, body := get(t, srv, "/api/v1/events/search?q="+url.QueryEscape(`message:"ログイン失敗"`), viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, 1.0, body["total"])
	hits := body["hits"].([]any)
	require.Equal(t, "a", hits[0].(map[string]any)["id"])
	require.Equal(t, "2026-11-25T12:00:00+09:00", body["from"], "times are shown in the configured zone")

	resp, body = get(t, srv, "/api/v1/events/search?size=1&sort=@timestamp:asc", viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "a", body["hits"].([]any)[0].(map[string]any)["id"])
	next := body["next"].(string)
	require.NotEmpty(t, next)
	_, body = get(t, srv, "/api/v1/events/search?size=1&sort=@timestamp:asc&after="+next, viewerToken)
	require.Equal(t, "b", body["hits"].([]any)[0].(map[string]any)["id"])
}

func TestRequestsAreAuditedWithoutTheToken(t *testing.T) {
	srv, _, logs := serverWithLog(t, nil)
	resp, _ := get(t, srv, "/api/v1/events/search?q="+url.QueryEscape("user.name:tanaka"), viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "token=viewer") }, 10*time.Second, 10*time.Millisecond)
	require.Contains(t, logs.String(), "user.name:tanaka")
	require.NotContains(t, logs.String(), viewerToken)
}

func TestSearchBadRequests(t *testing.T) {
	srv, _ := server(t, nil)
	for q, msg := range map[string]string{
		"q=" + url.QueryEscape("user.name:(tanaka"): "position",
		"q=" + url.QueryEscape("source.ip:nope"):    "source.ip",
		"from=yesterday":                            "not a time",
		"size=ten":                                  "size",
	} {
		resp, body := get(t, srv, "/api/v1/events/search?"+q, viewerToken)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
		require.Contains(t, body["error"].(map[string]any)["message"], msg, q)
	}
}

func TestOperationalEndpointsArePublic(t *testing.T) {
	notReady := errors.New("stage index is retrying failed batches")
	srv, _ := server(t, func() error { return notReady })
	resp, _ := get(t, srv, "/healthz", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body := get(t, srv, "/readyz", "")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, notReady.Error(), body["reason"])
	resp, _ = get(t, srv, "/metrics", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestRoles(t *testing.T) {
	r, ok := api.ParseRole("analyst")
	require.True(t, ok)
	require.Greater(t, api.Admin, r)
	_, ok = api.ParseRole("root")
	require.False(t, ok)
}
