package httpin

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/mamori-soc/mamori/ingest"
)

// Defaults.
const (
	DefaultName          = "http"
	DefaultMaxBodySize   = 32 << 20
	DefaultMaxRecordSize = 1 << 20
)

// Config is the HTTP edge. It is off while Address is empty.
type Config struct {
	// Name is the listener name events carry as agent.name (default http).
	Name string `yaml:"name"`
	// Address is host:port to listen on; empty turns the edge off.
	Address string `yaml:"address"`
	// TLS is required: Windows events carry account names and addresses.
	TLS *ingest.TLSConfig `yaml:"tls"`
	// Tokens may post. Only the SHA-256 of each token is kept (mamori
	// token new --role ingest prints one). With tls.client_auth required,
	// a verified client certificate is enough and tokens may be empty.
	Tokens []Token `yaml:"tokens"`
	// MaxBodySize bounds one request body after decompression (default
	// 32MiB).
	MaxBodySize ingest.ByteSize `yaml:"max_body_size"`
	// MaxRecordSize is the longest record kept whole (default 1MiB); a
	// longer one is cut and carries its original size, so the parse stage
	// dead-letters it with the reason.
	MaxRecordSize ingest.ByteSize `yaml:"max_record_size"`
}

// Token is one bearer token allowed to post.
type Token struct {
	Name   string `yaml:"name"`
	SHA256 string `yaml:"sha256"` // hex SHA-256 of the token
}

// ApplyDefaults fills what is not set.
func (c *Config) ApplyDefaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.MaxBodySize == 0 {
		c.MaxBodySize = DefaultMaxBodySize
	}
	if c.MaxRecordSize == 0 {
		c.MaxRecordSize = DefaultMaxRecordSize
	}
	if c.TLS != nil {
		c.TLS.ApplyDefaults()
	}
}

// Validate checks a configuration after ApplyDefaults; every problem is
// reported with its key (relative to the http section).
func (c Config) Validate() error {
	if c.Address == "" {
		return nil
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ingest.ErrInvalidConfig, key, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		bad("address", "%q is not host:port", c.Address)
	}
	if c.TLS == nil {
		bad("tls", "missing: the HTTP edge serves HTTPS only; give cert_file and key_file")
	} else {
		errs = append(errs, c.TLS.Validate("tls")...)
	}
	if len(c.Tokens) == 0 && (c.TLS == nil || c.TLS.ClientAuth != ingest.ClientAuthRequired) {
		bad("tokens", "none: give at least one token, or require client certificates (tls.client_auth: required)")
	}
	names := map[string]bool{}
	for i, t := range c.Tokens {
		key := fmt.Sprintf("tokens[%d]", i)
		if t.Name == "" || names[t.Name] {
			bad(key+".name", "must be set and unique")
		}
		names[t.Name] = true
		if len(t.SHA256) != 64 || strings.Trim(strings.ToLower(t.SHA256), "0123456789abcdef") != "" {
			bad(key+".sha256", "want the 64 hex digits of the token's SHA-256 (mamori token new --role ingest prints it)")
		}
	}
	if c.MaxBodySize < 1<<10 || c.MaxBodySize > 1<<30 {
		bad("max_body_size", "%d bytes is outside 1KiB to 1GiB", c.MaxBodySize)
	}
	if c.MaxRecordSize < 1<<10 || c.MaxRecordSize > c.MaxBodySize {
		bad("max_record_size", "%d bytes is outside 1KiB to max_body_size", c.MaxRecordSize)
	}
	return errors.Join(errs...)
}
