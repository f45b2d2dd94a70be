package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// patch sends a PATCH with If-Match (when given).
func patch(t *testing.T, srv *httptest.Server, path, tok, ifMatch, body string) (*http.Response, map[string]any) {
	t.Helper()
	return update(t, srv, http.MethodPatch, path, tok, ifMatch, body)
}

// update sends a PATCH or PUT with If-Match (when given) and decodes the
// answer.
func update(t *testing.T, srv *httptest.Server, method, path, tok, ifMatch, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var obj map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&obj))
	return resp, obj
}

func TestCasesAPI(t *testing.T) {
	srv := rulesServer(t, nil, nil)

	resp, _, _ := post(t, srv, "/api/v1/cases", viewerToken, `{"type":"incident","title":"x"}`)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "viewers read cases, analysts change them")

	resp, body, _ := post(t, srv, "/api/v1/cases", analystToken, `{"type":"request","subtype":"log_retrieval","title":"x","exports":[{"file":"forged.csv.gz"}]}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "custody records are Mamori's to write")
	require.Contains(t, errorMessage(t, body), "exports are set by Mamori")

	resp, body, _ = post(t, srv, "/api/v1/cases", analystToken, `{"type":"request","subtype":"log_retrieval","title":"FS01 のログ提供依頼","reporter":"田中","channel":"email"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	c := body["case"].(map[string]any)
	id := c["id"].(string)
	require.Equal(t, "/api/v1/cases/"+id, resp.Header.Get("Location"))
	require.Equal(t, "new", c["status"])
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)

	resp, body = get(t, srv, "/api/v1/cases/"+id, viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "FS01 のログ提供依頼", body["case"].(map[string]any)["title"])

	// Two analysts update what they both read: one wins, one gets 409.
	resp, body = patch(t, srv, "/api/v1/cases/"+id, analystToken, etag, `{"status":"acknowledged","assignee":"suzuki","notification":"acknowledgement"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = patch(t, srv, "/api/v1/cases/"+id, analystToken, etag, `{"comment":"late"}`)
	require.Equal(t, http.StatusConflict, resp.StatusCode, body)
	require.Contains(t, errorMessage(t, body), "read the case again")

	resp, body = get(t, srv, "/api/v1/cases/"+id, viewerToken)
	fresh := resp.Header.Get("ETag")
	resp, body = patch(t, srv, "/api/v1/cases/"+id, analystToken, fresh, `{"comment":"後から追記"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	c = body["case"].(map[string]any)
	require.Equal(t, "acknowledged", c["status"])
	require.Len(t, c["comments"], 1)
	require.Equal(t, "analyst", c["comments"].([]any)[0].(map[string]any)["author"], "the token's name acts")

	for _, tc := range []struct {
		ifMatch, body string
		status        int
		msg           string
	}{
		{"", `{"comment":"x"}`, http.StatusPreconditionRequired, "If-Match"},
		{"garbage", `{"comment":"x"}`, http.StatusBadRequest, "If-Match"},
		{resp.Header.Get("ETag"), `{"status":"new"}`, http.StatusBadRequest, "cannot go from acknowledged to new"},
		{resp.Header.Get("ETag"), `{"colour":"red"}`, http.StatusBadRequest, "unknown field"},
		{resp.Header.Get("ETag"), `{"done":[3]}`, http.StatusBadRequest, "checklist has no step 3"},
		{resp.Header.Get("ETag"), `{"survey":{"score":80}}`, http.StatusBadRequest, "only incidents are rated"},
	} {
		r, b := patch(t, srv, "/api/v1/cases/"+id, analystToken, tc.ifMatch, tc.body)
		require.Equal(t, tc.status, r.StatusCode, tc.body)
		require.Contains(t, errorMessage(t, b), tc.msg)
	}
	resp, _ = get(t, srv, "/api/v1/cases/REQ-nope", viewerToken)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, body = get(t, srv, "/api/v1/cases?query=type:request%20and%20status:acknowledged&from=2026-11-01&to=now%2B1h", viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.EqualValues(t, 1, body["total"])
}

func TestSLALedgerAPI(t *testing.T) {
	srv := rulesServer(t, nil, nil)
	// A failure opened now (26 November 2026, 12:00 in Tokyo): November's
	// item 7 has one clock, still running.
	resp, body, _ := post(t, srv, "/api/v1/cases", analystToken, `{"type":"failure","title":"WAN 回線断","channel":"monitoring"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)

	resp, body = get(t, srv, "/api/v1/reports/sla?month=2026-11", viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "2026-11", body["month"])
	items := body["items"].([]any)
	require.Len(t, items, 25)
	first := items[6].(map[string]any)
	require.EqualValues(t, 7, first["no"])
	require.Equal(t, "0 of 1 within target (0 breached, 1 still running)", first["measured"])
	require.Equal(t, "no data", items[0].(map[string]any)["measured"])

	resp, body = get(t, srv, "/api/v1/reports/sla?month=November", viewerToken)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, errorMessage(t, body), "want YYYY-MM")
}
