package notify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/internal/smtptest"
)

// startSMTP starts an SMTP server on a free loopback port, with STARTTLS
// (unless withTLS is false) and AUTH PLAIN.
func startSMTP(t *testing.T, withTLS bool) (*smtptest.Server, int, string) {
	t.Helper()
	srv := smtptest.Start(t, withTLS)
	return srv, srv.Port, srv.CAFile
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func smtpConfig(t *testing.T, port int, caFile string) *notify.SMTPConfig {
	return &notify.SMTPConfig{
		Host: "127.0.0.1", Port: port, From: "Mamori SOC <soc@example.lg.jp>",
		Username: "mamori", PasswordFile: writeFile(t, "smtp-password", smtptest.Password+"\n"),
		StartTLS: true, CAFile: caFile, Timeout: 10 * time.Second,
	}
}

func failureCase() casework.Case {
	return casework.Case{
		Timestamp: time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC), ID: "FAIL-20261124-7K3QX",
		Type: casework.Failure, Title: "基幹スイッチ障害", Status: casework.InProgress, Priority: casework.P1,
		Assignee: "鈴木", Reporter: "監視", Channel: "monitoring",
	}
}

func TestSMTPJapaneseSLAWarning(t *testing.T) {
	be, port, caFile := startSMTP(t, true)
	n, err := notify.New(notify.Config{SMTP: smtpConfig(t, port, caFile), Signature: "情報政策課 運用チーム（内線 1234）"}, notify.Options{})
	require.NoError(t, err)

	cs := failureCase()
	r, err := n.Send(context.Background(), notify.Notification{
		Kind: notify.SLAWarning, Lang: notify.Japanese, CaseID: cs.ID,
		To:   []string{"tanaka@example.lg.jp", "情報政策課 <joho@example.lg.jp>"},
		Data: notify.Data{Case: cs, Clock: "first_report", Due: time.Date(2026, 11, 24, 6, 15, 0, 0, time.UTC)},
	})
	require.NoError(t, err)
	require.True(t, r.Sent())
	require.Equal(t, notify.Email, r.Channel)
	wantSubject := "【SLA期限警告】FAIL-20261124-7K3QX 基幹スイッチ障害（期限 2026年11月24日 15:15）"
	require.Equal(t, wantSubject, r.Subject)

	msgs := be.Messages()
	require.Len(t, msgs, 1)
	got := msgs[0]
	require.True(t, got.TLS, "the message came over a session without STARTTLS")
	require.Equal(t, "mamori", got.AuthUser)
	require.Equal(t, "soc@example.lg.jp", got.From)
	require.ElementsMatch(t, []string{"tanaka@example.lg.jp", "joho@example.lg.jp"}, got.To)

	msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	require.NoError(t, err)
	rawSubject := msg.Header.Get("Subject")
	require.True(t, isASCII(rawSubject), "the subject header is not MIME-encoded: %q", rawSubject)
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(rawSubject)
	require.NoError(t, err)
	require.Equal(t, wantSubject, subject)

	from, err := msg.Header.AddressList("From")
	require.NoError(t, err)
	require.Equal(t, []*mail.Address{{Name: "Mamori SOC", Address: "soc@example.lg.jp"}}, from)
	to, err := msg.Header.AddressList("To")
	require.NoError(t, err)
	require.Equal(t, []*mail.Address{{Address: "tanaka@example.lg.jp"}, {Name: "情報政策課", Address: "joho@example.lg.jp"}}, to)
	require.Equal(t, r.MessageID, msg.Header.Get("Message-Id"))
	require.Regexp(t, `^<[0-9a-f]{32}@example\.lg\.jp>$`, r.MessageID)
	require.Equal(t, cs.ID, msg.Header.Get("X-Mamori-Case"))
	require.Equal(t, "auto-generated", msg.Header.Get("Auto-Submitted"))

	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "text/plain", mediaType)
	require.True(t, strings.EqualFold(params["charset"], "utf-8"), "charset %q", params["charset"])
	require.True(t, strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "base64"))
	raw, err := io.ReadAll(msg.Body)
	require.NoError(t, err)
	body, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
	require.NoError(t, err)
	require.True(t, utf8.Valid(body))
	for _, want := range []string{
		"SLA項目: first_report", "期限: 2026年11月24日 15:15", "案件番号: FAIL-20261124-7K3QX",
		"件名: 基幹スイッチ障害", "優先度: P1（緊急）", "担当者: 鈴木", "受付日時: 2026年11月24日 15:00",
		"情報政策課 運用チーム（内線 1234）",
	} {
		require.Contains(t, string(body), want)
	}
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestSMTPRefusesRelayWithoutSTARTTLS(t *testing.T) {
	be, port, caFile := startSMTP(t, false)
	n, err := notify.New(notify.Config{SMTP: smtpConfig(t, port, caFile)}, notify.Options{})
	require.NoError(t, err)
	cs := failureCase()
	r, err := n.Send(context.Background(), notify.Notification{
		Kind: notify.FirstReport, CaseID: cs.ID, To: []string{"tanaka@example.lg.jp"}, Data: notify.Data{Case: cs},
	})
	require.ErrorIs(t, err, notify.ErrDelivery)
	require.Contains(t, err.Error(), "STARTTLS")
	require.False(t, r.Sent())
	require.Equal(t, []string{"tanaka@example.lg.jp"}, r.Recipients)
	require.Empty(t, be.Messages())
}

func TestSMTPWrongPassword(t *testing.T) {
	be, port, caFile := startSMTP(t, true)
	cfg := smtpConfig(t, port, caFile)
	cfg.PasswordFile = writeFile(t, "wrong", "wrong")
	n, err := notify.New(notify.Config{SMTP: cfg}, notify.Options{})
	require.NoError(t, err)
	cs := failureCase()
	r, err := n.Send(context.Background(), notify.Notification{
		Kind: notify.FirstReport, CaseID: cs.ID, To: []string{"tanaka@example.lg.jp"}, Data: notify.Data{Case: cs},
	})
	require.ErrorIs(t, err, notify.ErrDelivery)
	require.NotEmpty(t, r.Error)
	require.NotContains(t, err.Error(), "wrong", "the error shows the password")
	require.Empty(t, be.Messages())
}

func TestSMTPInsecureLoopback(t *testing.T) {
	be, port, _ := startSMTP(t, false)
	cfg := smtpConfig(t, port, "")
	cfg.StartTLS, cfg.Insecure = false, true
	n, err := notify.New(notify.Config{SMTP: cfg}, notify.Options{})
	require.NoError(t, err)
	cs := failureCase()
	r, err := n.Send(context.Background(), notify.Notification{
		Kind: notify.FirstReport, Lang: notify.English, CaseID: cs.ID, To: []string{"tanaka@example.lg.jp"}, Data: notify.Data{Case: cs},
	})
	require.NoError(t, err)
	require.Equal(t, "[Failure: first report] 基幹スイッチ障害 (FAIL-20261124-7K3QX)", r.Subject)
	msgs := be.Messages()
	require.Len(t, msgs, 1)
	require.False(t, msgs[0].TLS)
	require.Equal(t, "mamori", msgs[0].AuthUser)
}
