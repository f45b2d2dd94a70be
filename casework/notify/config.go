package notify

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/internal/secret"
)

// DefaultPasswordEnv is the environment variable read for the SMTP password
// when SMTPConfig.PasswordFile is empty and PasswordEnv is not set.
const DefaultPasswordEnv = "MAMORI_SMTP_PASSWORD"

// Defaults.
const (
	DefaultSMTPPort = 587 // message submission with STARTTLS
	DefaultTimeout  = 30 * time.Second
)

// ErrConfig marks an invalid configuration.
var ErrConfig = errors.New("notify: invalid configuration")

// Config is the notification channels: one SMTP relay and any number of
// named webhooks.
type Config struct {
	// SMTP is the mail relay (nil: no e-mail).
	SMTP *SMTPConfig `yaml:"smtp"`
	// Webhooks are the webhook endpoints a notification names.
	Webhooks []WebhookConfig `yaml:"webhooks"`
	// Signature closes every message (the team's name and telephone
	// number, for instance). Empty: no signature.
	Signature string `yaml:"signature"`
}

// SMTPConfig says how to reach the mail relay. The password is never part
// of it: it comes from PasswordFile or the environment variable
// PasswordEnv.
type SMTPConfig struct {
	// Host is the relay's name or address.
	Host string `yaml:"host"`
	// Port is the relay's port (default 587).
	Port int `yaml:"port"`
	// From is the sender, an address with an optional display name:
	// "Mamori SOC <soc@example.lg.jp>".
	From string `yaml:"from"`
	// Username turns on SMTP AUTH (PLAIN), which is only done over TLS.
	Username string `yaml:"username"`
	// PasswordFile holds the password (trailing newlines are trimmed).
	PasswordFile string `yaml:"password_file"`
	// PasswordEnv names the environment variable read when PasswordFile is
	// empty (default MAMORI_SMTP_PASSWORD).
	PasswordEnv string `yaml:"password_env"`
	// StartTLS upgrades the connection before anything else is said; a
	// relay that does not offer it is refused. One of StartTLS, TLS and
	// Insecure is required.
	StartTLS bool `yaml:"start_tls"`
	// TLS speaks TLS from the first byte (SMTPS, usually port 465).
	TLS bool `yaml:"tls"`
	// Insecure sends in clear text. It is allowed only for a loopback
	// host (127.0.0.1, ::1, localhost), for tests and local relays.
	Insecure bool `yaml:"insecure"`
	// CAFile is the PEM bundle that signs the relay's certificate (empty:
	// the system roots).
	CAFile string `yaml:"ca_file"`
	// ServerName overrides the name checked against the certificate (by
	// default Host).
	ServerName string `yaml:"server_name"`
	// Timeout bounds connecting and each command (default 30s).
	Timeout time.Duration `yaml:"timeout"`
}

// WebhookConfig is one webhook endpoint. Each notification to it is a
// JSON document POSTed to URL.
type WebhookConfig struct {
	// Name is what notifications and records call the webhook.
	Name string `yaml:"name"`
	// URL is where to POST: https://, or http:// only to 127.0.0.1, ::1
	// or localhost.
	URL string `yaml:"url"`
	// SecretFile holds the key that signs each body: the header
	// X-Mamori-Signature is "sha256=" and the hex HMAC-SHA256 of the body.
	// Empty: no signature.
	SecretFile string `yaml:"secret_file"`
	// CAFile is the PEM bundle that signs the endpoint's certificate
	// (empty: the system roots).
	CAFile string `yaml:"ca_file"`
	// Timeout bounds the whole request (default 30s).
	Timeout time.Duration `yaml:"timeout"`
}

// Validate reports every problem at once, wrapped in ErrConfig, each naming
// its key ("smtp.host: required", "webhooks[1].url: ...").
func (c *Config) Validate() error {
	var errs []error
	if c.SMTP != nil {
		for _, e := range c.SMTP.Problems() {
			errs = append(errs, fmt.Errorf("smtp.%w", e))
		}
	}
	seen := map[string]int{}
	for i, w := range c.Webhooks {
		for _, e := range w.Problems() {
			errs = append(errs, fmt.Errorf("webhooks[%d].%w", i, e))
		}
		if j, dup := seen[w.Name]; dup && w.Name != "" {
			errs = append(errs, fmt.Errorf("webhooks[%d].name: %q is webhooks[%d]'s name already", i, w.Name, j))
		}
		seen[w.Name] = i
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
}

func (c *SMTPConfig) applyDefaults() {
	if c.Port == 0 {
		c.Port = DefaultSMTPPort
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.PasswordEnv == "" {
		c.PasswordEnv = DefaultPasswordEnv
	}
}

// Problems lists what is wrong with the SMTP configuration, one error per
// problem, each starting with the key it is about ("host: required").
func (c *SMTPConfig) Problems() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Host == "" {
		bad("host: required")
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("port: %d is not a TCP port", c.Port)
	}
	if c.From == "" {
		bad("from: required (an address such as soc@example.lg.jp)")
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		bad("from: %q: %v", c.From, err)
	}
	modes := 0
	for _, on := range []bool{c.StartTLS, c.TLS, c.Insecure} {
		if on {
			modes++
		}
	}
	switch {
	case modes == 0:
		bad("start_tls: required (or tls for SMTPS; insecure only for a loopback host)")
	case modes > 1:
		bad("start_tls, tls, insecure: choose one")
	case c.Insecure && !isLoopback(c.Host):
		bad("insecure: allowed only for a loopback host, not %q: use start_tls", c.Host)
	}
	if c.Username == "" && c.PasswordFile != "" {
		bad("username: required when password_file is set")
	}
	if c.Timeout < 0 {
		bad("timeout: negative")
	}
	return errs
}

// password reads the SMTP password from the file or the environment.
func (c *SMTPConfig) password() (string, error) {
	if c.Username == "" {
		return "", nil
	}
	p, err := secret.Read(c.PasswordFile, c.PasswordEnv)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: smtp.password_file: %w", ErrConfig, err)
	case p == "":
		return "", fmt.Errorf("%w: smtp: no password for %s: set password_file or the environment variable %s", ErrConfig, c.Username, c.PasswordEnv)
	}
	return p, nil
}

func (c *SMTPConfig) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.Host}
	if c.ServerName != "" {
		tc.ServerName = c.ServerName
	}
	pool, err := loadPool(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("%w: smtp.ca_file: %w", ErrConfig, err)
	}
	tc.RootCAs = pool
	return tc, nil
}

func (w *WebhookConfig) applyDefaults() {
	if w.Timeout == 0 {
		w.Timeout = DefaultTimeout
	}
}

// Problems lists what is wrong with the webhook configuration, one error
// per problem, each starting with the key it is about ("url: required").
func (w *WebhookConfig) Problems() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if w.Name == "" {
		bad("name: required")
	}
	u, err := url.Parse(w.URL)
	switch {
	case w.URL == "":
		bad("url: required (https://...)")
	case err != nil:
		// The error quotes the URL, which may carry a token: say less.
		bad("url: not a URL")
	case u.Host == "":
		bad("url: no host")
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		bad("url: http:// is allowed only to 127.0.0.1, ::1 or localhost, not %q: use https://", u.Hostname())
	default:
		bad("url: scheme %q: want https", u.Scheme)
	}
	if w.Timeout < 0 {
		bad("timeout: negative")
	}
	return errs
}

// isLoopback reports whether host names this machine over loopback.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadPool reads a PEM bundle (nil for "": the system roots).
func loadPool(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}
