package directory

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/mamori-soc/mamori/internal/secret"
)

// DefaultPasswordEnv is the environment variable read for the bind password
// when Config.PasswordFile is empty.
const DefaultPasswordEnv = "MAMORI_DIRECTORY_PASSWORD"

// ErrConfig marks an invalid Config.
var ErrConfig = errors.New("directory: invalid configuration")

// Config says where the directory is and how to bind. The password is never
// part of it: it comes from PasswordFile or the environment variable
// PasswordEnv.
type Config struct {
	// URL is ldaps://host:636, or ldap://host:389 with StartTLS.
	URL string `yaml:"url"`
	// StartTLS upgrades an ldap:// connection before binding. Plain
	// ldap:// without StartTLS is refused: the bind password would travel
	// in clear.
	StartTLS bool `yaml:"start_tls"`
	// CAFile is the PEM bundle that signs the server's certificate (empty:
	// the system roots).
	CAFile string `yaml:"ca_file"`
	// ServerName overrides the name checked against the certificate (by
	// default the URL's host).
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify turns off certificate checks. Only for tests.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// BindDN is the service account: a DN, or user@realm, or DOMAIN\user.
	BindDN string `yaml:"bind_dn"`
	// PasswordFile holds the bind password (trailing newlines are
	// trimmed).
	PasswordFile string `yaml:"password_file"`
	// PasswordEnv names the environment variable read when PasswordFile is
	// empty (default MAMORI_DIRECTORY_PASSWORD).
	PasswordEnv string `yaml:"password_env"`
	// BaseDN is where the search starts, e.g. DC=example,DC=co,DC=jp.
	BaseDN string `yaml:"base_dn"`
	// PageSize is the LDAP paging size (default 500; AD's limit is 1000).
	PageSize uint32 `yaml:"page_size"`
	// Timeout bounds dialing and each request (default 30s).
	Timeout time.Duration `yaml:"timeout"`
}

func (c *Config) applyDefaults() {
	if c.PageSize == 0 {
		c.PageSize = 500
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.PasswordEnv == "" {
		c.PasswordEnv = DefaultPasswordEnv
	}
}

// Validate reports every problem at once, wrapped in ErrConfig.
func (c *Config) Validate() error {
	errs := c.Problems()
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
}

// Problems lists what is wrong with the configuration, one error per
// problem, each starting with the key it is about ("url: required ..."), so
// that a caller embedding Config can name the full key.
func (c *Config) Problems() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		bad("url: required (ldaps://host:636 or ldap://host:389 with start_tls)")
	case err != nil:
		bad("url: %v", err)
	case u.Scheme == "ldaps":
		if c.StartTLS {
			bad("start_tls: not with ldaps://, which is TLS already")
		}
	case u.Scheme == "ldap":
		if !c.StartTLS {
			bad("url: ldap:// sends the password in clear: use ldaps:// or set start_tls")
		}
	default:
		bad("url: scheme %q: want ldaps or ldap", u.Scheme)
	}
	if c.BindDN == "" {
		bad("bind_dn: required")
	}
	if c.BaseDN == "" {
		bad("base_dn: required")
	}
	if c.PageSize > 1000 {
		bad("page_size: %d is above Active Directory's MaxPageSize of 1000", c.PageSize)
	}
	if c.Timeout < 0 {
		bad("timeout: negative")
	}
	return errs
}

// password reads the bind password from the file or the environment.
func (c *Config) password() (string, error) {
	p, err := secret.Read(c.PasswordFile, c.PasswordEnv)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: password_file: %w", ErrConfig, err)
	case p == "":
		return "", fmt.Errorf("%w: no bind password: set password_file or the environment variable %s", ErrConfig, c.PasswordEnv)
	}
	return p, nil
}

func (c *Config) tlsConfig() (*tls.Config, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: url: %w", ErrConfig, err)
	}
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         u.Hostname(),
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // documented as tests only
	}
	if c.ServerName != "" {
		tc.ServerName = c.ServerName
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: ca_file: %w", ErrConfig, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: ca_file %s holds no PEM certificate", ErrConfig, c.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}
