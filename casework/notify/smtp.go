package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// smtpSender sends e-mail through the configured relay, one connection
// per notification.
type smtpSender struct {
	cfg  SMTPConfig
	opts []gomail.Option
}

func newSMTPSender(cfg SMTPConfig) (*smtpSender, error) {
	cfg.applyDefaults()
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tc),
	}
	switch {
	case cfg.TLS:
		opts = append(opts, gomail.WithSSL())
	case cfg.StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default: // Insecure, to a loopback host only (Validate)
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.Username != "" {
		password, err := cfg.password()
		if err != nil {
			return nil, err
		}
		auth := gomail.SMTPAuthPlain
		if cfg.Insecure {
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(cfg.Username), gomail.WithPassword(password))
	}
	return &smtpSender{cfg: cfg, opts: opts}, nil
}

// send writes and sends one message and returns its Message-ID.
func (s *smtpSender) send(ctx context.Context, nt Notification, subject, body string, at time.Time) (string, error) {
	m := gomail.NewMsg(gomail.WithEncoding(gomail.EncodingB64)) // UTF-8; Japanese is compact in base64
	if err := m.From(s.cfg.From); err != nil {
		return "", fmt.Errorf("%w: smtp.from: %w", ErrConfig, err)
	}
	if err := m.To(nt.To...); err != nil {
		return "", fmt.Errorf("%w: recipients %s: %w", ErrInvalid, strings.Join(nt.To, ", "), err)
	}
	m.Subject(subject)
	m.SetDateWithValue(at)
	m.SetMessageIDWithValue(newMessageID(s.cfg.From))
	m.SetUserAgent("Mamori")
	// RFC 3834: an automatic message, which should draw no automatic reply.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetGenHeader("X-Mamori-Case", nt.CaseID)
	m.SetGenHeader("X-Mamori-Notification", string(nt.Kind))
	m.SetBodyString(gomail.TypeTextPlain, body)

	client, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return "", fmt.Errorf("%w: smtp: %w", ErrConfig, err)
	}
	if err := client.DialAndSendWithContext(ctx, m); err != nil {
		return m.GetMessageID(), fmt.Errorf("%w: e-mail to %s via %s:%d: %w", ErrDelivery, strings.Join(nt.To, ", "), s.cfg.Host, s.cfg.Port, err)
	}
	return m.GetMessageID(), nil
}
