package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/logexport"
	"github.com/mamori-soc/mamori/casework/retrieval"
	"github.com/mamori-soc/mamori/dashboards/api"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

// TestLogRequests: a requester with a viewer token files a request, Mamori
// fulfils it, and only the requester and the allowed role download it;
// every download is on the case.
func TestLogRequests(t *testing.T) {
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	_, err = s.Index(ctx, store.Events, []store.Doc{
		failedLogon("e1", time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC), "田中"),
		failedLogon("e2", time.Date(2026, 11, 26, 1, 5, 0, 0, time.UTC), "suzuki"),
	})
	require.NoError(t, err)
	now := func() time.Time { return time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC) }
	exports := t.TempDir()
	srv := httptest.NewServer(api.New(api.Options{
		Store: s, Location: tokyo, Now: now, ExportsDir: exports,
		Tokens: []api.Token{token(t, "sato", "sato-secret", "viewer"), token(t, "viewer", viewerToken, "viewer"),
			token(t, "analyst", analystToken, "analyst"), token(t, "admin", "admin-secret", "admin")},
	}))
	t.Cleanup(srv.Close)

	for _, tc := range []struct{ body, msg string }{
		{`{"query":"user.name:田中","from":"2026-11-26T09:00:00+09:00","to":"2026-11-26T11:00:00+09:00","format":"xml"}`, `format "xml": want ndjson or csv`},
		{`{"query":"user.name:(","from":"2026-11-26T09:00:00+09:00","to":"2026-11-26T11:00:00+09:00","format":"csv"}`, "query:"},
		{`{"query":"x","from":"yesterday","to":"2026-11-26T11:00:00+09:00","format":"csv"}`, `from "yesterday": want an RFC 3339 time`},
		{`{"query":"x","format":"csv"}`, "from and to are required"},
		{`{"query":"x","from":"2026-11-26T09:00:00+09:00","to":"2026-11-26T11:00:00+09:00","format":"csv","fomat":1}`, "unknown field"},
	} {
		resp, body, _ := post(t, srv, "/api/v1/log-requests", "sato-secret", tc.body)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, tc.body)
		require.Contains(t, errorMessage(t, body), tc.msg)
	}

	resp, body, _ := post(t, srv, "/api/v1/log-requests", "sato-secret",
		`{"query":"user.name:田中","from":"2026-11-26T09:00:00+09:00","to":"2026-11-26T11:00:00+09:00","format":"csv"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	c := body["case"].(map[string]any)
	id := c["id"].(string)
	require.Equal(t, "sato", c["reporter"], "the token is the requester")
	require.Equal(t, "log_retrieval", c["subtype"])

	resp, body = get(t, srv, "/api/v1/cases/"+id+"/export", "sato-secret")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "not delivered yet")
	require.Contains(t, errorMessage(t, body), "no delivered export")

	cs := casework.NewCases(s, now)
	n, err := retrieval.New(retrieval.Options{Cases: cs, Store: s, Dir: exports, Location: tokyo}).Sweep(ctx, now())
	require.NoError(t, err)
	require.Equal(t, 1, n)

	resp, body = get(t, srv, "/api/v1/cases/"+id+"/export", "sato-secret")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	files := body["files"].([]any)
	require.Equal(t, []any{"events.csv.gz", "manifest.json", "SHA256SUMS"}, files)
	require.EqualValues(t, 1, body["manifest"].(map[string]any)["events"])

	download := func(tok, file string) (int, []byte) {
		req, err := http.NewRequest("GET", srv.URL+"/api/v1/cases/"+id+"/export/"+file, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, b
	}
	got := t.TempDir()
	for _, f := range files {
		status, b := download("sato-secret", f.(string))
		require.Equal(t, http.StatusOK, status)
		require.NoError(t, os.WriteFile(filepath.Join(got, f.(string)), b, 0o600))
	}
	require.NoError(t, logexport.Verify(got), "the downloaded files verify")

	for _, tc := range []struct {
		tok    string
		status int
	}{{viewerToken, http.StatusForbidden}, {analystToken, http.StatusForbidden}, {"admin-secret", http.StatusOK}} {
		status, _ := download(tc.tok, "manifest.json")
		require.Equal(t, tc.status, status, tc.tok)
	}
	status, _ := download("sato-secret", "..%2fstore.db")
	require.Equal(t, http.StatusNotFound, status)

	cs2, _, err := cs.Get(ctx, id)
	require.NoError(t, err)
	var downloads []string
	for _, e := range cs2.Timeline {
		if e.Kind == "download" {
			downloads = append(downloads, e.Actor+" "+e.Detail)
		}
	}
	require.Equal(t, []string{"sato events.csv.gz", "sato manifest.json", "sato SHA256SUMS", "admin manifest.json"}, downloads)

	// A request over the limit waits for its requester, who corrects it.
	resp, body, _ = post(t, srv, "/api/v1/log-requests", "sato-secret",
		`{"query":"event.code:4625","from":"2026-11-26T09:00:00+09:00","to":"2026-11-26T11:00:00+09:00","format":"ndjson"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	big := body["case"].(map[string]any)["id"].(string)
	_, err = retrieval.New(retrieval.Options{Cases: cs, Store: s, Dir: exports, Location: tokyo, MaxEvents: 1}).Sweep(ctx, now())
	require.NoError(t, err)
	resp, body = get(t, srv, "/api/v1/cases/"+big, "sato-secret")
	require.Equal(t, "waiting_requester", body["case"].(map[string]any)["status"])
	etag := resp.Header.Get("ETag")

	amend := func(tok, ifMatch, b string) (*http.Response, map[string]any) {
		return update(t, srv, http.MethodPut, "/api/v1/log-requests/"+big, tok, ifMatch, b)
	}
	narrowed := `{"query":"event.code:4625 and user.name:suzuki","from":"2026-11-26T09:00:00+09:00","to":"2026-11-26T11:00:00+09:00","format":"ndjson"}`
	resp, body = amend(viewerToken, etag, narrowed)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "another viewer may not change sato's request")
	resp, _ = amend("sato-secret", "", narrowed)
	require.Equal(t, http.StatusPreconditionRequired, resp.StatusCode)
	resp, body = amend("sato-secret", etag, `{"query":"x","format":"pdf","from":"2026-11-26T09:00:00+09:00","to":"2026-11-26T11:00:00+09:00"}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, errorMessage(t, body), `format "pdf"`)
	resp, body = amend("sato-secret", etag, narrowed)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	amended := body["case"].(map[string]any)
	require.Equal(t, "in_progress", amended["status"])
	require.NotContains(t, amended["fields"], "export_error")
	n, err = retrieval.New(retrieval.Options{Cases: cs, Store: s, Dir: exports, Location: tokyo, MaxEvents: 1}).Sweep(ctx, now())
	require.NoError(t, err)
	require.Equal(t, 1, n, "the corrected request is fulfilled")
	resp, _ = amend("sato-secret", resp.Header.Get("ETag"), narrowed)
	require.Equal(t, http.StatusConflict, resp.StatusCode, "changed since (delivered)")
}
