package notify_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework/notify"
)

func TestConfigValidate(t *testing.T) {
	good := func() notify.Config {
		return notify.Config{
			SMTP: &notify.SMTPConfig{Host: "mail.example.lg.jp", From: "Mamori <soc@example.lg.jp>", Username: "soc", StartTLS: true},
			Webhooks: []notify.WebhookConfig{
				{Name: "chat", URL: "https://chat.example.lg.jp/hooks/x"},
				{Name: "local", URL: "http://127.0.0.1:8080/hook"},
				{Name: "local6", URL: "http://[::1]:8080/hook"},
			},
		}
	}
	cfg := good()
	require.NoError(t, cfg.Validate())
	require.NoError(t, (&notify.Config{}).Validate(), "no channel is a valid (silent) configuration")

	for name, tc := range map[string]struct {
		change func(*notify.Config)
		want   string
	}{
		"no host":            {func(c *notify.Config) { c.SMTP.Host = "" }, "smtp.host: required"},
		"bad port":           {func(c *notify.Config) { c.SMTP.Port = 70000 }, "smtp.port: 70000 is not a TCP port"},
		"no from":            {func(c *notify.Config) { c.SMTP.From = "" }, "smtp.from: required"},
		"bad from":           {func(c *notify.Config) { c.SMTP.From = "not an address" }, `smtp.from: "not an address"`},
		"no tls":             {func(c *notify.Config) { c.SMTP.StartTLS = false }, "smtp.start_tls: required"},
		"insecure remote":    {func(c *notify.Config) { c.SMTP.StartTLS, c.SMTP.Insecure = false, true }, `smtp.insecure: allowed only for a loopback host, not "mail.example.lg.jp"`},
		"two modes":          {func(c *notify.Config) { c.SMTP.TLS = true }, "smtp.start_tls, tls, insecure: choose one"},
		"password, no user":  {func(c *notify.Config) { c.SMTP.Username, c.SMTP.PasswordFile = "", "/run/secrets/smtp" }, "smtp.username: required when password_file is set"},
		"negative timeout":   {func(c *notify.Config) { c.SMTP.Timeout = -1 }, "smtp.timeout: negative"},
		"hook without name":  {func(c *notify.Config) { c.Webhooks[0].Name = "" }, "webhooks[0].name: required"},
		"hook without url":   {func(c *notify.Config) { c.Webhooks[1].URL = "" }, "webhooks[1].url: required"},
		"http to remote":     {func(c *notify.Config) { c.Webhooks[0].URL = "http://chat.example.lg.jp/hooks/x" }, `webhooks[0].url: http:// is allowed only to 127.0.0.1, ::1 or localhost, not "chat.example.lg.jp"`},
		"other scheme":       {func(c *notify.Config) { c.Webhooks[0].URL = "ftp://chat.example.lg.jp/" }, `webhooks[0].url: scheme "ftp": want https`},
		"duplicate hook":     {func(c *notify.Config) { c.Webhooks[2].Name = "chat" }, `webhooks[2].name: "chat" is webhooks[0]'s name already`},
		"hook timeout":       {func(c *notify.Config) { c.Webhooks[2].Timeout = -1 }, "webhooks[2].timeout: negative"},
		"url token not said": {func(c *notify.Config) { c.Webhooks[0].URL = "https://h/%zzSECRET" }, "webhooks[0].url: not a URL"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := good()
			tc.change(&cfg)
			err := cfg.Validate()
			require.ErrorIs(t, err, notify.ErrConfig)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "SECRET")
			_, err = notify.New(cfg, notify.Options{})
			require.ErrorIs(t, err, notify.ErrConfig)
		})
	}
}

func TestNewReadsSecrets(t *testing.T) {
	t.Setenv("MAMORI_SMTP_PASSWORD", "")
	cfg := notify.Config{SMTP: &notify.SMTPConfig{Host: "mail.example.lg.jp", From: "soc@example.lg.jp", Username: "soc", StartTLS: true}}
	_, err := notify.New(cfg, notify.Options{})
	require.ErrorIs(t, err, notify.ErrConfig)
	require.Contains(t, err.Error(), "MAMORI_SMTP_PASSWORD")

	t.Setenv("MAMORI_SMTP_PASSWORD", "from-env")
	_, err = notify.New(cfg, notify.Options{})
	require.NoError(t, err)

	cfg.SMTP.PasswordFile = writeFile(t, "empty", "")
	_, err = notify.New(cfg, notify.Options{})
	require.ErrorIs(t, err, notify.ErrConfig)

	cfg.SMTP.PasswordFile = ""
	cfg.SMTP.CAFile = writeFile(t, "ca.pem", "not PEM")
	_, err = notify.New(cfg, notify.Options{})
	require.ErrorIs(t, err, notify.ErrConfig)
	require.Contains(t, err.Error(), "smtp.ca_file")

	cfg.SMTP = nil
	cfg.Webhooks = []notify.WebhookConfig{{Name: "chat", URL: "https://chat.example.lg.jp/", SecretFile: "/nonexistent/key"}}
	_, err = notify.New(cfg, notify.Options{})
	require.ErrorIs(t, err, notify.ErrConfig)
	require.Contains(t, err.Error(), "webhooks[0]: secret_file")
}
