package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework/notify"
)

// hookServer is an HTTPS webhook receiver that keeps the last request.
type hookServer struct {
	srv    *httptest.Server
	status int
	body   []byte
	header http.Header
	caFile string
}

func startHook(t *testing.T, status int) *hookServer {
	t.Helper()
	h := &hookServer{status: status}
	h.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.body, _ = io.ReadAll(r.Body)
		h.header = r.Header.Clone()
		w.WriteHeader(h.status)
	}))
	t.Cleanup(h.srv.Close)
	h.caFile = writeFile(t, "hook-ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.srv.Certificate().Raw})))
	return h
}

const hookKey = "hook-signing-key"

func hookNotifier(t *testing.T, h *hookServer) *notify.Notifier {
	t.Helper()
	n, err := notify.New(notify.Config{Webhooks: []notify.WebhookConfig{{
		Name: "soc-chat", URL: h.srv.URL + "/hooks/T0KEN", SecretFile: writeFile(t, "hook-key", hookKey+"\n"),
		CAFile: h.caFile, Timeout: 10 * time.Second,
	}}}, notify.Options{})
	require.NoError(t, err)
	return n
}

func TestWebhookSignedJSON(t *testing.T) {
	h := startHook(t, http.StatusNoContent)
	n := hookNotifier(t, h)
	cs := failureCase()
	due := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	r, err := n.Send(context.Background(), notify.Notification{
		Kind: notify.ProgressReport, Lang: notify.English, CaseID: cs.ID, Webhook: "soc-chat",
		Data: notify.Data{Case: cs, Message: "The vendor is replacing the line card.", Due: due},
	})
	require.NoError(t, err)
	require.True(t, r.Sent())
	require.Equal(t, notify.Webhook, r.Channel)
	require.Equal(t, []string{"soc-chat"}, r.Recipients)
	require.Equal(t, http.StatusNoContent, r.HTTPStatus)

	mac := hmac.New(sha256.New, []byte(hookKey))
	mac.Write(h.body)
	require.Equal(t, "sha256="+hex.EncodeToString(mac.Sum(nil)), h.header.Get("X-Mamori-Signature"))
	require.Equal(t, "application/json; charset=utf-8", h.header.Get("Content-Type"))

	var p notify.WebhookPayload
	require.NoError(t, json.Unmarshal(h.body, &p))
	require.Equal(t, notify.ProgressReport, p.Kind)
	require.Equal(t, cs.ID, p.CaseID)
	require.Equal(t, "[Progress report] 基幹スイッチ障害 (FAIL-20261124-7K3QX)", p.Subject)
	require.Contains(t, p.Text, "The vendor is replacing the line card.")
	require.Contains(t, p.Text, "Next report due: 24 November 2026 19:00 JST")
	require.Equal(t, notify.CaseSummary{
		ID: cs.ID, Title: cs.Title, Type: cs.Type, Status: cs.Status, Priority: cs.Priority,
		Assignee: cs.Assignee, Reporter: cs.Reporter,
	}, p.Case)
	require.True(t, due.Equal(p.Due))
	require.Equal(t, r.SentAt, p.SentAt)
	require.Equal(t, notify.Sign([]byte(hookKey), h.body), h.header.Get("X-Mamori-Signature"))
}

func TestWebhookFailure(t *testing.T) {
	h := startHook(t, http.StatusInternalServerError)
	n := hookNotifier(t, h)
	cs := failureCase()
	r, err := n.Send(context.Background(), notify.Notification{
		Kind: notify.SLABreach, CaseID: cs.ID, Webhook: "soc-chat", Data: notify.Data{Case: cs, Clock: "recovery", Due: time.Now()},
	})
	require.ErrorIs(t, err, notify.ErrDelivery)
	require.False(t, r.Sent())
	require.Equal(t, http.StatusInternalServerError, r.HTTPStatus)
	require.Contains(t, r.Error, "500")
	require.NotContains(t, r.Error, "T0KEN", "the record shows the webhook's URL")
}

func TestWebhookUntrustedCertificate(t *testing.T) {
	h := startHook(t, http.StatusOK)
	n, err := notify.New(notify.Config{Webhooks: []notify.WebhookConfig{{Name: "soc-chat", URL: h.srv.URL + "/hooks/T0KEN"}}}, notify.Options{})
	require.NoError(t, err)
	cs := failureCase()
	r, err := n.Send(context.Background(), notify.Notification{Kind: notify.ProgressReport, CaseID: cs.ID, Webhook: "soc-chat", Data: notify.Data{Case: cs}})
	require.ErrorIs(t, err, notify.ErrDelivery)
	require.Zero(t, r.HTTPStatus)
	require.NotContains(t, r.Error, "T0KEN")
	require.Nil(t, h.body)
}

func TestSendInvalid(t *testing.T) {
	h := startHook(t, http.StatusOK)
	n := hookNotifier(t, h)
	cs := failureCase()
	for name, nt := range map[string]notify.Notification{
		"unknown webhook":  {Kind: notify.ProgressReport, CaseID: cs.ID, Webhook: "nobody", Data: notify.Data{Case: cs}},
		"unknown kind":     {Kind: "gossip", CaseID: cs.ID, Webhook: "soc-chat", Data: notify.Data{Case: cs}},
		"unknown language": {Kind: notify.ProgressReport, Lang: "fr", CaseID: cs.ID, Webhook: "soc-chat", Data: notify.Data{Case: cs}},
		"no recipient":     {Kind: notify.ProgressReport, CaseID: cs.ID, Data: notify.Data{Case: cs}},
		"both channels":    {Kind: notify.ProgressReport, CaseID: cs.ID, Webhook: "soc-chat", To: []string{"a@example.lg.jp"}, Data: notify.Data{Case: cs}},
		"no case id":       {Kind: notify.ProgressReport, Webhook: "soc-chat", Data: notify.Data{Case: cs}},
		"other case":       {Kind: notify.ProgressReport, CaseID: "INC-1", Webhook: "soc-chat", Data: notify.Data{Case: cs}},
		"warning, no due":  {Kind: notify.SLAWarning, CaseID: cs.ID, Webhook: "soc-chat", Data: notify.Data{Case: cs, Clock: "recovery"}},
		"no smtp relay":    {Kind: notify.ProgressReport, CaseID: cs.ID, To: []string{"a@example.lg.jp"}, Data: notify.Data{Case: cs}},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := n.Send(context.Background(), nt)
			require.ErrorIs(t, err, notify.ErrInvalid)
			require.Equal(t, err.Error(), r.Error)
		})
	}
	require.Nil(t, h.body, "an invalid notification reached the webhook")
}
