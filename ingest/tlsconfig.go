package ingest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// TLSConfig is the server side of an edge's TLS (RFC 5425 for syslog, HTTPS for
// the HTTP edge).
type TLSConfig struct {
	// CertFile is the PEM server certificate chain. Required.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the PEM private key of CertFile. Required.
	KeyFile string `yaml:"key_file"`
	// ClientCAFile is a PEM bundle of the CAs that sign client
	// certificates; needed when client_auth is optional or required.
	ClientCAFile string `yaml:"client_ca_file"`
	// ClientAuth is none, optional (verify a certificate if the client
	// sends one) or required. Default required when client_ca_file is set,
	// none otherwise.
	ClientAuth ClientAuth `yaml:"client_auth"`
	// MinVersion is the lowest TLS version accepted: "1.2" (the default,
	// RFC 9662) or "1.3".
	MinVersion string `yaml:"min_version"`
	// HandshakeTimeout bounds the TLS handshake. Default 10s.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
}

// ClientAuth is whether a TLS listener asks for client certificates.
type ClientAuth int

// Client authentication modes.
const (
	ClientAuthNone ClientAuth = iota + 1
	ClientAuthOptional
	ClientAuthRequired
)

var clientAuthNames = map[ClientAuth]string{ClientAuthNone: "none", ClientAuthOptional: "optional", ClientAuthRequired: "required"}

// String returns "none", "optional" or "required".
func (c ClientAuth) String() string {
	if s, ok := clientAuthNames[c]; ok {
		return s
	}
	return fmt.Sprintf("ClientAuth(%d)", int(c))
}

// MarshalText implements encoding.TextMarshaler.
func (c ClientAuth) MarshalText() ([]byte, error) {
	if c == 0 {
		return nil, nil
	}
	if _, ok := clientAuthNames[c]; !ok {
		return nil, fmt.Errorf("unknown client_auth %d", int(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *ClientAuth) UnmarshalText(text []byte) error {
	for k, v := range clientAuthNames {
		if v == string(text) {
			*c = k
			return nil
		}
	}
	return fmt.Errorf("client_auth %q is unknown: use none, optional or required", text)
}

// UnmarshalYAML decodes a YAML scalar, naming its line on error.
func (c *ClientAuth) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a single value", n.Line)
	}
	if err := c.UnmarshalText([]byte(n.Value)); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// ApplyDefaults fills client_auth (required when client_ca_file is set,
// none otherwise), min_version 1.2 and a 10 s handshake timeout.
func (t *TLSConfig) ApplyDefaults() {
	if t.ClientAuth == 0 {
		t.ClientAuth = ClientAuthNone
		if t.ClientCAFile != "" {
			t.ClientAuth = ClientAuthRequired
		}
	}
	if t.MinVersion == "" {
		t.MinVersion = "1.2"
	}
	if t.HandshakeTimeout == 0 {
		t.HandshakeTimeout = DefaultHandshakeTimeout
	}
}

// DefaultHandshakeTimeout bounds a TLS handshake unless configured.
const DefaultHandshakeTimeout = 10 * time.Second

// Validate checks the settings; prefix names the tls section in errors.
func (t *TLSConfig) Validate(prefix string) []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s.%s: %s", ErrInvalidConfig, prefix, key, fmt.Sprintf(format, args...)))
	}
	if t.CertFile == "" {
		bad("cert_file", "missing; give the PEM server certificate")
	}
	if t.KeyFile == "" {
		bad("key_file", "missing; give the PEM private key of cert_file")
	}
	if _, ok := clientAuthNames[t.ClientAuth]; !ok {
		bad("client_auth", "%s is not a mode; use none, optional or required", t.ClientAuth)
	}
	if (t.ClientAuth == ClientAuthOptional || t.ClientAuth == ClientAuthRequired) && t.ClientCAFile == "" {
		bad("client_ca_file", "missing; client_auth %s needs the CAs that sign client certificates", t.ClientAuth)
	}
	if _, err := tlsVersion(t.MinVersion); err != nil {
		bad("min_version", "%v", err)
	}
	if t.HandshakeTimeout <= 0 {
		bad("handshake_timeout", "%s is not positive; use a duration such as 10s", t.HandshakeTimeout)
	}
	return errs
}

func tlsVersion(s string) (uint16, error) {
	switch s {
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("%q is not accepted; use 1.2 or 1.3 (older versions are insecure)", s)
}

// Build loads the certificates. prefix names the tls section in errors.
func (t *TLSConfig) Build(prefix string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %s.cert_file, %s.key_file: %w", ErrInvalidConfig, prefix, prefix, err)
	}
	v, err := tlsVersion(t.MinVersion)
	if err != nil {
		return nil, fmt.Errorf("%w: %s.min_version: %w", ErrInvalidConfig, prefix, err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: v}
	if t.ClientCAFile != "" {
		pem, err := os.ReadFile(t.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.client_ca_file: %w", ErrInvalidConfig, prefix, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: %s.client_ca_file: %s holds no PEM certificate", ErrInvalidConfig, prefix, t.ClientCAFile)
		}
		conf.ClientCAs = pool
	}
	switch t.ClientAuth {
	case ClientAuthOptional:
		conf.ClientAuth = tls.VerifyClientCertIfGiven
	case ClientAuthRequired:
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		conf.ClientAuth = tls.NoClientCert
	}
	return conf, nil
}
