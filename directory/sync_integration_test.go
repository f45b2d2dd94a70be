//go:build integration

package directory_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/directory"
)

const baseDN = "DC=mamori,DC=test"

// sambaDir finds the state of deploy/local/samba-ad up: $MAMORI_LOCAL_DIR/samba-ad,
// else <repo>/.local/samba-ad. No running server is a failure, not a skip.
func sambaDir(t *testing.T) string {
	t.Helper()
	local := os.Getenv("MAMORI_LOCAL_DIR")
	if local == "" {
		dir, err := os.Getwd()
		require.NoError(t, err)
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				t.Fatal("repository root (go.mod) not found")
			}
			dir = parent
		}
		local = filepath.Join(dir, ".local")
	}
	d := filepath.Join(local, "samba-ad")
	if _, err := os.Stat(filepath.Join(d, "url")); err != nil {
		t.Fatalf("no Samba AD DC: run deploy/local/samba-ad up (%v)", err)
	}
	return d
}

func sambaConfig(t *testing.T) directory.Config {
	d := sambaDir(t)
	return directory.Config{
		URL:          "ldaps://127.0.0.1:636",
		CAFile:       filepath.Join(d, "domain", "tls", "ca.pem"),
		BindDN:       "svc-mamori@mamori.test",
		PasswordFile: filepath.Join(d, "svc-password"),
		BaseDN:       baseDN,
		PageSize:     3, // force many pages
		Timeout:      10 * time.Second,
	}
}

func syncSamba(t *testing.T, cfg directory.Config) *directory.Snapshot {
	t.Helper()
	c, err := directory.New(cfg, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	snap, err := c.Sync(ctx)
	require.NoError(t, err)
	return snap
}

func TestDirectorySyncSamba(t *testing.T) {
	snap := syncSamba(t, sambaConfig(t))
	now := time.Now()

	tanaka, ok := snap.User("tanaka")
	require.True(t, ok, "tanaka")
	assert.Equal(t, "田中 太郎", tanaka.DisplayName)
	assert.Equal(t, "営業部", tanaka.Department)
	assert.Equal(t, "課長", tanaka.Title)
	assert.Equal(t, "太郎", tanaka.GivenName)
	assert.Equal(t, "田中", tanaka.Surname)
	assert.Equal(t, "tanaka@mamori.test", tanaka.UserPrincipalName)
	assert.Equal(t, "CN=tanaka,CN=Users,"+baseDN, tanaka.DN)
	assert.Regexp(t, `^S-1-5-21-\d+-\d+-\d+-\d+$`, tanaka.SID)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, tanaka.GUID)
	assert.False(t, tanaka.Disabled)
	assert.False(t, tanaka.Locked)
	assert.False(t, tanaka.PasswordNeverExpires)
	assert.Equal(t, uint32(513), tanaka.PrimaryGroupID)
	assert.WithinDuration(t, now, tanaka.WhenCreated, 24*time.Hour)
	assert.False(t, tanaka.WhenChanged.Before(tanaka.WhenCreated))
	assert.WithinDuration(t, tanaka.WhenCreated, tanaka.PwdLastSet, time.Minute)
	assert.True(t, tanaka.AccountExpires.IsZero(), "never expires")
	assert.True(t, tanaka.LastLogonTimestamp.IsZero(), "never logged on")
	assert.Contains(t, tanaka.MemberOf, "CN=Tokyo Sales,CN=Users,"+baseDN)
	assert.Contains(t, tanaka.MemberOf, "CN=Domain Users,CN=Users,"+baseDN, "primary group")
	assert.True(t, tanaka.InGroup("CN=Sales,CN=Users,"+baseDN), "Sales > Tokyo Sales > tanaka")
	assert.False(t, tanaka.InGroup("CN=Domain Admins,CN=Users,"+baseDN))

	yamada, ok := snap.User("yamada")
	require.True(t, ok)
	assert.True(t, yamada.Disabled, "disabled by samba-tool user disable")
	assert.True(t, yamada.UAC.Has(directory.UACAccountDisable))

	backup, ok := snap.User("backup-svc")
	require.True(t, ok)
	assert.True(t, backup.PasswordNeverExpires)
	assert.False(t, backup.Disabled)

	sato, ok := snap.User("sato")
	require.True(t, ok)
	assert.WithinDuration(t, now.AddDate(0, 0, 3650), sato.AccountExpires, 48*time.Hour)
	assert.False(t, sato.Expired(now))

	// Nesting: Domain Admins > Tier0 Operators > Server Admins > suzuki.
	suzuki, ok := snap.User("suzuki")
	require.True(t, ok)
	assert.Equal(t, "情報システム部", suzuki.Department)
	assert.Equal(t, []string{"CN=Domain Users,CN=Users," + baseDN, "CN=Server Admins,CN=Users," + baseDN}, suzuki.MemberOf)
	for _, g := range []string{"Server Admins", "Tier0 Operators", "Domain Admins"} {
		assert.True(t, suzuki.InGroup("CN="+g+",CN=Users,"+baseDN), g)
	}
	assert.True(t, suzuki.InGroup("CN=Administrators,CN=Builtin,"+baseDN), "Domain Admins is in Builtin\\Administrators")

	da, ok := snap.Group("Domain Admins")
	require.True(t, ok)
	assert.Equal(t, uint32(512), da.RID())
	assert.True(t, da.Type.Security())
	assert.Equal(t, "global", da.Type.Scope())
	assert.Contains(t, da.Members, "CN=Tier0 Operators,CN=Users,"+baseDN)
	assert.Contains(t, da.Members, "CN=Administrator,CN=Users,"+baseDN)
	tokyo, ok := snap.Group("Tokyo Sales")
	require.True(t, ok)
	assert.Equal(t, "東京営業所", tokyo.Description)
	assert.Equal(t, []string{"CN=tanaka,CN=Users," + baseDN, "CN=yamada,CN=Users," + baseDN}, tokyo.Members)

	ws, ok := snap.Computer("WS-TOKYO-01")
	require.True(t, ok)
	assert.Equal(t, "WS-TOKYO-01$", ws.SAMAccountName)
	assert.True(t, ws.UAC.Has(directory.UACWorkstationTrustAccount))
	assert.Equal(t, "テスト端末 WS-TOKYO-01", ws.Description)
	assert.Contains(t, ws.MemberOf, "CN=Domain Computers,CN=Users,"+baseDN, "primary group 515")
	dc, ok := snap.Computer("DC1")
	require.True(t, ok)
	assert.True(t, dc.UAC.Has(directory.UACServerTrustAccount))
	assert.Equal(t, "dc1.mamori.test", strings.ToLower(dc.DNSHostName))

	for _, u := range snap.Users {
		assert.False(t, strings.HasSuffix(u.SAMAccountName, "$"), "computers are not users: %s", u.SAMAccountName)
	}
	assert.GreaterOrEqual(t, len(snap.Users), 9) // Administrator, Guest, krbtgt, svc-mamori and six seeded
}

func TestDirectorySyncStartTLS(t *testing.T) {
	cfg := sambaConfig(t)
	cfg.URL = "ldap://127.0.0.1:389"
	cfg.StartTLS = true
	cfg.ServerName = "dc1.mamori.test"
	cfg.PageSize = 0
	snap := syncSamba(t, cfg)
	_, ok := snap.User("tanaka")
	assert.True(t, ok)

	// The password may come from the environment instead of a file.
	pw, err := os.ReadFile(cfg.PasswordFile)
	require.NoError(t, err)
	t.Setenv(directory.DefaultPasswordEnv, strings.TrimSpace(string(pw)))
	cfg.PasswordFile = ""
	_, ok = syncSamba(t, cfg).User("suzuki")
	assert.True(t, ok)
}

func TestDirectorySyncRefusals(t *testing.T) {
	cfg := sambaConfig(t)

	wrong := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(wrong, []byte("not-the-password\n"), 0o600))
	bad := cfg
	bad.PasswordFile = wrong
	c, err := directory.New(bad, nil)
	require.NoError(t, err)
	_, err = c.Sync(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bind as svc-mamori@mamori.test")
	assert.NotContains(t, err.Error(), "not-the-password")

	// A certificate from another CA is refused; InsecureSkipVerify (tests only) accepts it.
	noCA := cfg
	noCA.CAFile = ""
	c, err = directory.New(noCA, nil)
	require.NoError(t, err)
	_, err = c.Sync(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")
	noCA.InsecureSkipVerify = true
	_, ok := syncSamba(t, noCA).User("tanaka")
	assert.True(t, ok)

	// A cancelled context stops the sync.
	c, err = directory.New(cfg, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Sync(ctx)
	require.ErrorIs(t, err, context.Canceled)
}
