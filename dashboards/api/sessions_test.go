package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/dashboards/api"
	"github.com/mamori-soc/mamori/sessions"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

// sessionsServer serves a store holding tanaka's RDP session on PC01
// (10:00-11:00 Tokyo), 田中's interactive logon on PC02 (11:30 Tokyo, no
// logoff) and a network logon on FS01, at 12:00 Tokyo on 2026-11-26.
func sessionsServer(t *testing.T, defaults sessions.Defaults) *httptest.Server {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	docs := []store.Doc{
		{ID: "l1", Source: []byte(`{"@timestamp":"2026-11-26T01:00:00Z","event":{"code":"4624","outcome":"success"},"host":{"name":"PC01"},` +
			`"user":{"name":"tanaka","domain":"CITY"},"source":{"ip":"10.20.40.18","domain":"PC-JOHO-002","port":61022},"winlog.logon.id":"0x3e7",` +
			`"winlog.event_data.TargetLogonId":"0x10","winlog.event_data.LogonType":"10","winlog.logon.type":"RemoteInteractive"}`)},
		{ID: "o1", Source: []byte(`{"@timestamp":"2026-11-26T02:00:00Z","event":{"code":"4634"},"host":{"name":"PC01"},` +
			`"winlog.logon.id":"0x10","winlog.event_data.TargetLogonId":"0x10"}`)},
		{ID: "l2", Source: []byte(`{"@timestamp":"2026-11-26T02:30:00Z","event":{"code":"4624","outcome":"success"},"host":{"name":"PC02"},` +
			`"user":{"name":"田中","domain":"営業部"},"winlog.event_data.TargetLogonId":"0x20","winlog.event_data.LogonType":"2"}`)},
		{ID: "l3", Source: []byte(`{"@timestamp":"2026-11-26T02:40:00Z","event":{"code":"4624","outcome":"success"},"host":{"name":"FS01"},` +
			`"user":{"name":"sato"},"winlog.event_data.TargetLogonId":"0x30","winlog.event_data.LogonType":"3"}`)},
	}
	_, err = s.Index(context.Background(), store.Events, docs)
	require.NoError(t, err)
	loc, _ := time.LoadLocation("Asia/Tokyo")
	srv := httptest.NewServer(api.New(api.Options{
		Store: s, Location: loc, Now: func() time.Time { return time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC) },
		Tokens: []api.Token{token(t, "viewer", viewerToken, "viewer")}, Sessions: defaults,
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSessions(t *testing.T) {
	srv := sessionsServer(t, sessions.Defaults{})
	resp, body := get(t, srv, "/api/v1/sessions?q="+url.QueryEscape("user.name:tanaka")+"&from=2026-11-26&to=2026-11-27", viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "2026-11-26T00:00:00+09:00", body["from"])
	require.Equal(t, false, body["truncated"])
	require.Equal(t, "interactive,remote_interactive,cached_interactive,cached_remote_interactive", body["types"])
	list := body["sessions"].([]any)
	require.Len(t, list, 1)
	got := list[0].(map[string]any)
	require.Equal(t, "2026-11-26T10:00:00+09:00", got["start"], "times in the configured zone")
	require.Equal(t, "2026-11-26T11:00:00+09:00", got["end"])
	require.Equal(t, 3600.0, got["duration_seconds"])
	require.Equal(t, "logoff", got["end_reason"])
	require.Equal(t, map[string]any{"name": "PC01"}, got["host"])
	require.Equal(t, map[string]any{"ip": "10.20.40.18", "domain": "PC-JOHO-002", "port": 61022.0}, got["source"])
	require.Equal(t, "RemoteInteractive", got["logon"].(map[string]any)["type"])
	require.Equal(t, map[string]any{"logon": "l1", "end": "o1"}, got["events"])

	// Japanese names in the query and the answer; an open session has no end.
	resp, body = get(t, srv, "/api/v1/sessions?q="+url.QueryEscape("user.name:田中")+"&from=now-24h", viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	list = body["sessions"].([]any)
	require.Len(t, list, 1)
	got = list[0].(map[string]any)
	require.Equal(t, "open", got["end_reason"])
	require.NotContains(t, got, "end")
	require.Equal(t, 1800.0, got["duration_seconds"], "open for half an hour at the time of the request")
	require.Equal(t, "営業部", got["user"].(map[string]any)["domain"])

	// Every logon type, newest first, and a limit.
	resp, body = get(t, srv, "/api/v1/sessions?types=all&limit=2", viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, true, body["truncated"])
	list = body["sessions"].([]any)
	require.Len(t, list, 2)
	require.Equal(t, map[string]any{"name": "FS01"}, list[0].(map[string]any)["host"])
	require.Equal(t, map[string]any{"name": "PC02"}, list[1].(map[string]any)["host"])
}

func TestSessionsUsesConfiguredDefaults(t *testing.T) {
	srv := sessionsServer(t, sessions.Defaults{MaxDuration: 20 * time.Minute, Types: sessions.TypeSet{sessions.Interactive, sessions.Network}})
	resp, body := get(t, srv, "/api/v1/sessions", viewerToken)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "interactive,network", body["types"])
	list := body["sessions"].([]any)
	require.Len(t, list, 2)
	for _, s := range list {
		require.Equal(t, "timeout", s.(map[string]any)["end_reason"], "20 minutes is the configured maximum")
	}
}

func TestSessionsBadRequests(t *testing.T) {
	srv := sessionsServer(t, sessions.Defaults{})
	for _, tc := range []struct{ query, want string }{
		{"limit=abc", "limit: want a whole number"},
		{"limit=0", "limit: want a whole number"},
		{"limit=20000", "limit 20000"},
		{"types=console", `logon type "console"`},
		{"q=" + url.QueryEscape("user.name:(tanaka"), "kql"},
		{"from=yesterday", "from:"},
	} {
		resp, body := get(t, srv, "/api/v1/sessions?"+tc.query, viewerToken)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, tc.query)
		require.Contains(t, body["error"].(map[string]any)["message"], tc.want, tc.query)
	}
	resp, _ := get(t, srv, "/api/v1/sessions", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}
