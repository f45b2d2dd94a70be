package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/directory"
	"github.com/mamori-soc/mamori/store"
)

func TestStaleAccountsRoute(t *testing.T) {
	srv, s := server(t, nil)
	resp, body := get(t, srv, "/api/v1/accounts/stale?days=90", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	resp, body = get(t, srv, "/api/v1/accounts/stale?days=90", viewerToken)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "no directory records yet")
	require.Contains(t, body["error"].(map[string]any)["message"], "no directory records")

	resp, _ = get(t, srv, "/api/v1/accounts/stale?days=0", viewerToken)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = get(t, srv, "/api/v1/accounts/stale?computers=maybe", viewerToken)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	// A disabled account (since 2026-11-01) that logged on afterwards, and
	// an expired one.
	_, err := s.Index(context.Background(), store.Events, []store.Doc{{ID: "logon-1", Source: []byte(
		`{"@timestamp":"2026-11-20T01:00:00Z","event":{"kind":"event","code":"4624","outcome":"success"},"user":{"name":"sato","domain":"MAMORI"}}`)}})
	require.NoError(t, err)
	rec := func(guid, name string, disabled bool, expires string) store.Doc {
		r := map[string]any{
			"@timestamp": "2026-11-01T00:00:00Z", "kind": "user", "objectGUID": guid, "sAMAccountName": name,
			"distinguishedName": "CN=" + name + ",CN=Users,DC=mamori,DC=test", "displayName": "佐藤 一郎",
			"whenCreated": "2020-01-01T00:00:00Z", "uac": map[string]any{"disabled": disabled},
			"mamori": map[string]any{"first_seen": "2026-10-01T00:00:00Z", "last_seen": "2026-11-01T00:00:00Z"},
		}
		if disabled {
			r["mamori"].(map[string]any)["disabled_at"] = "2026-11-01T00:00:00Z"
		}
		if expires != "" {
			r["accountExpires"] = expires
		}
		b, err := json.Marshal(r)
		require.NoError(t, err)
		return store.Doc{ID: guid, Source: b}
	}
	for _, d := range []store.Doc{rec("g1", "sato", true, ""), rec("g2", "kimura", false, "2026-06-01T00:00:00Z")} {
		_, err := s.Update(context.Background(), directory.Collection, d)
		require.NoError(t, err)
	}
	resp, body = get(t, srv, "/api/v1/accounts/stale?days=90", viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "2026-11-26T12:00:00+09:00", body["generated_at"], "times in the configured zone")
	after := body["logon_after_disable"].([]any)
	require.Len(t, after, 1)
	sato := after[0].(map[string]any)
	require.Equal(t, "sato", sato["name"])
	require.Equal(t, "logon-1", sato["logons_after"].([]any)[0].(map[string]any)["event_id"])
	expired := body["expired_enabled"].([]any)
	require.Len(t, expired, 1)
	require.Equal(t, "kimura", expired[0].(map[string]any)["name"])
}
