package api_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/casework/sla"
	"github.com/mamori-soc/mamori/dashboards/api"
	"github.com/mamori-soc/mamori/internal/smtptest"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

// notifyServer serves the API with a notifier on an SMTP relay at port.
func notifyServer(t *testing.T, port int, caFile string) (*httptest.Server, *casework.Cases) {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte(smtptest.Password), 0o600))
	n, err := notify.New(notify.Config{SMTP: &notify.SMTPConfig{Host: "127.0.0.1", Port: port, From: "soc@example.lg.jp",
		Username: smtptest.User, PasswordFile: pw, StartTLS: true, CAFile: caFile, Timeout: 5 * time.Second}}, notify.Options{})
	require.NoError(t, err)
	srv := httptest.NewServer(api.New(api.Options{
		Store: s, Location: tokyo, Sender: n,
		Tokens: []api.Token{token(t, "viewer", viewerToken, "viewer"), token(t, "analyst", analystToken, "analyst")},
	}))
	t.Cleanup(srv.Close)
	return srv, casework.NewCases(s, nil)
}

// TestNotifyFromACase: an analyst sends a failure's first report from its
// template; it reaches the relay, is on the case and meets the 15-minute
// clock.
func TestNotifyFromACase(t *testing.T) {
	relay := smtptest.Start(t, true)
	srv, cs := notifyServer(t, relay.Port, relay.CAFile)
	ctx := context.Background()
	c, _, err := cs.Open(ctx, "monitoring", casework.Case{Type: casework.Failure, Title: "本庁舎 コアスイッチ応答なし", Channel: "monitoring"})
	require.NoError(t, err)
	path := "/api/v1/cases/" + c.ID + "/notifications"

	resp, _, _ := post(t, srv, path, viewerToken, `{"kind":"first_report","to":["ops@example.lg.jp"]}`)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	for body, msg := range map[string]string{
		`{"kind":"sla_breach","to":["ops@example.lg.jp"]}`:    "Mamori sends SLA notices",
		`{"kind":"first_report"}`:                             "no recipient",
		`{"kind":"first_report","webhook":"chat"}`:            `no webhook is named "chat"`,
		`{"kind":"first_report","to":["x"],"lang":"fr"}`:      "lang fr",
		`{"kind":"first_report","to":["ops@example.lg.jp"],}`: "request body",
	} {
		resp, b, _ := post(t, srv, path, analystToken, body)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		require.Contains(t, errorMessage(t, b), msg, body)
	}

	resp, b, _ := post(t, srv, path, analystToken, `{"kind":"first_report","to":["ops@example.lg.jp"],"message":"原因調査中。復旧見込みは追って連絡します。"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, b)
	require.Equal(t, "email", b["channel"])
	msgs := relay.Messages()
	require.Len(t, msgs, 1)
	text, err := msgs[0].Text()
	require.NoError(t, err)
	require.Contains(t, text, "原因調査中。復旧見込みは追って連絡します。")
	require.Contains(t, text, c.ID)

	got, _, err := cs.Get(ctx, c.ID)
	require.NoError(t, err)
	require.Empty(t, got.Comments, "invalid notices were never attempted, so not recorded")
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	first, _ := got.Clock(sla.Defaults(), "failure_first_report", time.Now(), cal)
	require.Equal(t, sla.Met, first.State, "the first report stopped the clock")
}

// TestNotifyRelayDown: a relay that does not answer gives 502 with the
// record, and the failure is a comment on the case.
func TestNotifyRelayDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	srv, cs := notifyServer(t, port, "")
	c, _, err := cs.Open(context.Background(), "a", casework.Case{Type: casework.Incident, Title: "x", Channel: "email"})
	require.NoError(t, err)
	resp, b, _ := post(t, srv, "/api/v1/cases/"+c.ID+"/notifications", analystToken, `{"kind":"acknowledgement","to":["tanaka@example.lg.jp"]}`)
	require.Equal(t, http.StatusBadGateway, resp.StatusCode, b)
	require.NotEmpty(t, b["error"])
	got, _, err := cs.Get(context.Background(), c.ID)
	require.NoError(t, err)
	require.Len(t, got.Comments, 1)
	require.True(t, strings.HasPrefix(got.Comments[0].Text, "notification acknowledgement failed"), got.Comments[0].Text)
}

func TestNotifyWithoutChannels(t *testing.T) {
	srv := rulesServer(t, nil, nil)
	resp, b, _ := post(t, srv, "/api/v1/cases/INC-1/notifications", analystToken, `{"kind":"first_report","to":["a@example.lg.jp"]}`)
	require.Equal(t, http.StatusNotImplemented, resp.StatusCode)
	require.Contains(t, errorMessage(t, b), "casework.notify")
}
