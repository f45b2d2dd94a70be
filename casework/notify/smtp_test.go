package notify_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"mime"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/internal/testpki"
)

// received is one message the test SMTP server accepted.
type received struct {
	From     string
	To       []string
	Data     []byte
	TLS      bool   // the session was under TLS when the message came
	AuthUser string // who authenticated ("" if nobody)
}

// backend keeps what the test server receives, in memory.
type backend struct {
	user, password string
	mu             sync.Mutex
	msgs           []received
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) { return &session{b: b, c: c}, nil }

func (b *backend) messages() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

type session struct {
	b    *backend
	c    *smtp.Conn
	user string
	msg  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.b.user || password != s.b.password {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg = received{From: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.msg.TLS = s.c.TLSConnectionState()
	s.msg.Data, s.msg.AuthUser = b, s.user
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.msg)
	s.b.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.msg = received{} }
func (s *session) Logout() error { return nil }

// startSMTP starts an SMTP server on a free loopback port, with STARTTLS
// (unless withTLS is false) and AUTH PLAIN, and returns its backend, port
// and CA file.
func startSMTP(t *testing.T, withTLS bool) (*backend, int, string) {
	t.Helper()
	pki := testpki.New(t, "127.0.0.1", "client")
	be := &backend{user: "mamori", password: "s3cret-パス"}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	// Without TLS the server offers AUTH in clear, as a loopback relay
	// configured insecure would.
	srv.AllowInsecureAuth = !withTLS
	if withTLS {
		cert, err := tls.LoadX509KeyPair(pki.CertFile, pki.KeyFile)
		require.NoError(t, err)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return be, l.Addr().(*net.TCPAddr).Port, pki.CAFile
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
		Username: "mamori", PasswordFile: writeFile(t, "smtp-password", "s3cret-パス\n"),
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

	msgs := be.messages()
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
	require.Empty(t, be.messages())
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
	require.Empty(t, be.messages())
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
	msgs := be.messages()
	require.Len(t, msgs, 1)
	require.False(t, msgs[0].TLS)
	require.Equal(t, "mamori", msgs[0].AuthUser)
}
