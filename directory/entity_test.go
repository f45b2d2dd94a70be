package directory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/mamori-soc/mamori/directory"
)

func TestUAC(t *testing.T) {
	for _, tc := range []struct {
		v                      directory.UAC
		disabled, neverExpires bool
		names                  string
	}{
		{512, false, false, "NORMAL_ACCOUNT"},
		{514, true, false, "ACCOUNTDISABLE|NORMAL_ACCOUNT"},
		{66048, false, true, "NORMAL_ACCOUNT|DONT_EXPIRE_PASSWORD"},
		{66050, true, true, "ACCOUNTDISABLE|NORMAL_ACCOUNT|DONT_EXPIRE_PASSWORD"},
		{4098, true, false, "ACCOUNTDISABLE|WORKSTATION_TRUST_ACCOUNT"},
		{532480, false, false, "SERVER_TRUST_ACCOUNT|TRUSTED_FOR_DELEGATION"},
		{0x10 | 512, false, false, "LOCKOUT|NORMAL_ACCOUNT"},
		{0x4000_0000, false, false, ""},
	} {
		assert.Equal(t, tc.disabled, tc.v.Disabled(), "%d", tc.v)
		assert.Equal(t, tc.neverExpires, tc.v.PasswordNeverExpires(), "%d", tc.v)
		assert.Equal(t, tc.names, tc.v.String(), "%d", tc.v)
	}
	assert.True(t, directory.UAC(0x10|512).Has(directory.UACLockout))
	assert.True(t, directory.UAC(514).Has(directory.UACAccountDisable|directory.UACNormalAccount))
	assert.False(t, directory.UAC(512).Has(directory.UACAccountDisable|directory.UACNormalAccount))
}

func TestGroupType(t *testing.T) {
	for _, tc := range []struct {
		v        int32
		security bool
		scope    string
	}{
		{-2147483646, true, "global"},       // Domain Admins
		{-2147483644, true, "domain local"}, // a domain-local security group
		{-2147483640, true, "universal"},    // Enterprise Admins
		{-2147483643, true, "domain local"}, // Builtin\Administrators (builtin | domain local)
		{2, false, "global"},                // distribution list
		{8, false, "universal"},
	} {
		g := directory.GroupType(tc.v)
		assert.Equal(t, tc.security, g.Security(), "%d", tc.v)
		assert.Equal(t, tc.scope, g.Scope(), "%d", tc.v)
	}
}

func TestAccountExpired(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	a := directory.Account{}
	assert.False(t, a.Expired(now), "never expires")
	a.AccountExpires = now.Add(-time.Hour)
	assert.True(t, a.Expired(now))
	a.AccountExpires = now.Add(time.Hour)
	assert.False(t, a.Expired(now))
}

func TestResolveNested(t *testing.T) {
	const dom = "S-1-5-21-1-2-3"
	da := "CN=Domain Admins,CN=Users,DC=mamori,DC=test"
	du := "CN=Domain Users,CN=Users,DC=mamori,DC=test"
	t0 := "CN=Tier0 Operators,CN=Users,DC=mamori,DC=test"
	sa := "CN=Server Admins,CN=Users,DC=mamori,DC=test"
	adm := "CN=Administrators,CN=Builtin,DC=mamori,DC=test"
	loopA := "CN=Loop A,CN=Users,DC=mamori,DC=test"
	loopB := "CN=Loop B,CN=Users,DC=mamori,DC=test"
	s := &directory.Snapshot{
		Groups: []directory.Group{
			{DN: da, SID: dom + "-512", SAMAccountName: "Domain Admins", MemberOf: []string{adm}},
			{DN: du, SID: dom + "-513", SAMAccountName: "Domain Users"},
			{DN: t0, SID: dom + "-1101", MemberOf: []string{"cn=domain admins,cn=users,dc=mamori,dc=test"}},
			{DN: sa, SID: dom + "-1102", MemberOf: []string{t0}},
			{DN: adm, SID: "S-1-5-32-544"},
			{DN: loopA, MemberOf: []string{loopB}},
			{DN: loopB, MemberOf: []string{loopA}},
		},
		Users: []directory.User{
			{Account: directory.Account{DN: "CN=suzuki,CN=Users,DC=mamori,DC=test", SID: dom + "-1200",
				PrimaryGroupID: 513, MemberOf: []string{sa, loopA}}},
			{Account: directory.Account{DN: "CN=tanaka,CN=Users,DC=mamori,DC=test", SID: dom + "-1201",
				PrimaryGroupID: 513, MemberOf: []string{du}}},
		},
	}
	directory.Resolve(s)
	suzuki := s.Users[0]
	assert.Equal(t, []string{du, loopA, sa}, suzuki.MemberOf, "primary group added, sorted")
	assert.Equal(t, []string{adm, da, du, loopA, loopB, sa, t0}, suzuki.AllGroups)
	assert.True(t, suzuki.InGroup("cn=domain admins,cn=users,dc=mamori,dc=test"))
	assert.Equal(t, []string{du}, s.Users[1].MemberOf, "primary group not doubled")
	assert.False(t, s.Users[1].InGroup(da))

	g, ok := s.Group("domain admins")
	assert.True(t, ok)
	assert.Equal(t, []string{t0}, g.Members)
	assert.Equal(t, []string{adm}, g.AllGroups)
	g, _ = s.Group("Domain Users")
	assert.Equal(t, []string{"CN=suzuki,CN=Users,DC=mamori,DC=test", "CN=tanaka,CN=Users,DC=mamori,DC=test"}, g.Members)
}
