package directory_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/directory"
)

func TestConfigValidate(t *testing.T) {
	good := directory.Config{URL: "ldaps://dc1.example.jp:636", BindDN: "svc@example.jp", BaseDN: "DC=example,DC=jp"}
	_, err := directory.New(good, nil)
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		edit func(*directory.Config)
		want string
	}{
		{"no url", func(c *directory.Config) { c.URL = "" }, "url: required"},
		{"plain ldap", func(c *directory.Config) { c.URL = "ldap://dc1:389" }, "password in clear"},
		{"starttls on ldaps", func(c *directory.Config) { c.StartTLS = true }, "start_tls: not with ldaps"},
		{"scheme", func(c *directory.Config) { c.URL = "http://dc1" }, `scheme "http"`},
		{"bind dn", func(c *directory.Config) { c.BindDN = "" }, "bind_dn: required"},
		{"base dn", func(c *directory.Config) { c.BaseDN = "" }, "base_dn: required"},
		{"page size", func(c *directory.Config) { c.PageSize = 5000 }, "page_size: 5000"},
	} {
		c := good
		tc.edit(&c)
		_, err := directory.New(c, nil)
		require.ErrorIs(t, err, directory.ErrConfig, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
	}
	c := good
	c.URL = "ldap://dc1:389"
	c.StartTLS = true
	_, err = directory.New(c, nil)
	require.NoError(t, err)
}

func TestPasswordSources(t *testing.T) {
	cfg := directory.Config{URL: "ldaps://127.0.0.1:1", BindDN: "svc", BaseDN: "DC=x",
		PasswordEnv: "MAMORI_TEST_DIRECTORY_PASSWORD_UNSET"}
	c, err := directory.New(cfg, nil)
	require.NoError(t, err)
	_, err = c.Sync(context.Background())
	require.ErrorIs(t, err, directory.ErrConfig)
	assert.Contains(t, err.Error(), "MAMORI_TEST_DIRECTORY_PASSWORD_UNSET")

	empty := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	cfg.PasswordFile = empty
	c, err = directory.New(cfg, nil)
	require.NoError(t, err)
	_, err = c.Sync(context.Background())
	require.ErrorIs(t, err, directory.ErrConfig)
	assert.Contains(t, err.Error(), "is empty")

	cfg.PasswordFile = ""
	cfg.CAFile = empty
	t.Setenv("MAMORI_TEST_DIRECTORY_PASSWORD_UNSET", "x")
	c, err = directory.New(cfg, nil)
	require.NoError(t, err)
	_, err = c.Sync(context.Background())
	require.ErrorIs(t, err, directory.ErrConfig)
	assert.Contains(t, err.Error(), "no PEM certificate")
}
