package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/directory"
	"github.com/mamori-soc/mamori/event"
)

// clock is an injectable, settable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newSyncer(t *testing.T, src directory.Source, c *clock) (*directory.Syncer, *recorder, *storeOf) {
	t.Helper()
	st := openStore(t)
	pub := &recorder{}
	s, err := directory.NewSyncer(src, directory.SyncerOptions{Store: st, Publisher: pub, Now: c.now})
	require.NoError(t, err)
	return s, pub, &storeOf{st}
}

func TestSyncBaselineRecordsEverythingWithoutEvents(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)}
	src := &fakeSource{testSnapshot(c.t)}
	s, pub, st := newSyncer(t, src, c)

	res, err := s.SyncOnce(ctx)
	require.NoError(t, err)
	assert.True(t, res.Baseline)
	assert.Empty(t, res.Changes)
	assert.Empty(t, pub.events(t), "the first sync is a baseline: no flood of created events")
	assert.Equal(t, 9, res.Objects)
	assert.Equal(t, 9, res.Written)

	recs := st.records(t)
	tanaka := recs["u-tanaka"]
	require.NotNil(t, tanaka)
	assert.Equal(t, directory.KindUser, tanaka.Kind)
	assert.Equal(t, "田中 太郎", tanaka.DisplayName)
	assert.Equal(t, "営業部", tanaka.Department)
	assert.Equal(t, "tanaka@mamori.test", tanaka.UserPrincipalName)
	assert.Equal(t, []string{dn("Domain Users", "CN=Users"), dn("Tokyo Sales", "CN=Users")}, tanaka.MemberOf)
	assert.Equal(t, []string{"Domain Users", "Tokyo Sales"}, tanaka.MemberOfNames)
	assert.Equal(t, uint32(directory.UACNormalAccount), *tanaka.UserAccountControl)
	assert.Equal(t, []string{"NORMAL_ACCOUNT"}, tanaka.UAC.Flags)
	assert.Empty(t, tanaka.PrivilegedGroups)
	assert.Equal(t, c.t, tanaka.Mamori.FirstSeen)
	assert.Equal(t, c.t, tanaka.Mamori.LastSeen)
	assert.True(t, tanaka.Mamori.DeletedAt.IsZero())
	assert.Equal(t, "MAMORI", tanaka.Domain.NetBIOS)

	// suzuki > Tier0 > ドメイン管理者 (RID 512, renamed) > Administrators.
	suzuki := recs["u-suzuki"]
	assert.Equal(t, []string{"Administrators", "ドメイン管理者"}, suzuki.PrivilegedGroups)
	assert.True(t, suzuki.UAC.PasswordNeverExpires)
	assert.Contains(t, suzuki.NestedMemberOfNames, "Tier0")

	yamada := recs["u-yamada"]
	assert.True(t, yamada.Disabled())
	assert.Equal(t, yamada.WhenChanged, yamada.Mamori.DisabledAt, "disabled before Mamori: whenChanged bounds the disable")
	assert.Equal(t, directory.KindComputer, recs["c-ws01"].Kind)
	assert.Equal(t, directory.KindGroup, recs["g-da"].Kind)
	assert.Equal(t, "global", recs["g-da"].GroupScope)

	// An unchanged directory writes nothing and says nothing.
	c.t = c.t.Add(time.Hour)
	res, err = s.SyncOnce(ctx)
	require.NoError(t, err)
	assert.False(t, res.Baseline)
	assert.Empty(t, res.Changes)
	assert.Zero(t, res.Written)
	// A day later every record's last_seen is refreshed, still silently.
	c.t = c.t.Add(directory.RecordRefresh)
	res, err = s.SyncOnce(ctx)
	require.NoError(t, err)
	assert.Empty(t, res.Changes)
	assert.Equal(t, 9, res.Written)
	assert.Equal(t, c.t, st.records(t)["u-tanaka"].Mamori.LastSeen)
	assert.Empty(t, pub.events(t))
}

func TestSyncChangeEvents(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)}
	snap := testSnapshot(c.t)
	src := &fakeSource{snap}
	s, pub, st := newSyncer(t, src, c)
	_, err := s.SyncOnce(ctx)
	require.NoError(t, err)

	// Between two syncs: kato is created in Tokyo Sales, tanaka disabled,
	// yamada enabled, suzuki leaves Tier0 for Tokyo Sales and gets a
	// password that may expire, tanaka is locked out, WS01$ is deleted.
	changed := time.Date(2026, 2, 1, 9, 30, 0, 0, time.UTC)
	ts := dn("Tokyo Sales", "CN=Users")
	next := testSnapshot(c.t)
	next.Computers = nil
	for i := range next.Groups {
		if next.Groups[i].SAMAccountName == "Tokyo Sales" || next.Groups[i].SAMAccountName == "Tier0" {
			next.Groups[i].WhenChanged = changed
		}
	}
	tanaka := user(next, "tanaka")
	tanaka.UAC |= directory.UACAccountDisable | directory.UACLockout
	tanaka.Disabled, tanaka.Locked, tanaka.WhenChanged = true, true, changed
	tanaka.LockoutTime = changed.Add(-time.Minute)
	yamada := user(next, "yamada")
	yamada.UAC &^= directory.UACAccountDisable
	yamada.Disabled, yamada.WhenChanged = false, changed
	suzuki := user(next, "suzuki")
	suzuki.MemberOf = []string{ts}
	suzuki.UAC &^= directory.UACDontExpirePassword
	suzuki.PasswordNeverExpires, suzuki.WhenChanged = false, changed
	kato := directory.User{Account: directory.Account{DN: dn("kato", "CN=Users"), GUID: "u-kato", SID: testDom + "-1204",
		SAMAccountName: "kato", UAC: directory.UACNormalAccount, PrimaryGroupID: 513, MemberOf: []string{ts},
		WhenCreated: changed, WhenChanged: changed}, DisplayName: "加藤 三郎", Department: "営業部"}
	next.Users = append(next.Users, kato)
	src.snap = next

	c.t = c.t.Add(time.Hour)
	res, err := s.SyncOnce(ctx)
	require.NoError(t, err)
	evs := pub.events(t)
	assert.ElementsMatch(t, []string{
		"kato directory-account-created",
		"kato directory-account-added-to-group:Tokyo Sales",
		"tanaka directory-account-disabled",
		"tanaka directory-account-locked",
		"yamada directory-account-enabled",
		"suzuki directory-account-password-never-expires-cleared",
		"suzuki directory-account-added-to-group:Tokyo Sales",
		"suzuki directory-account-removed-from-group:Tier0",
		"WS01$ directory-account-deleted",
	}, actions(evs))
	assert.Len(t, res.Changes, len(evs))

	byAction := map[string]*event.Event{}
	for _, e := range evs {
		byAction[e.User.Name+" "+e.Event.Action] = e
		assert.Equal(t, "event", e.Event.Kind)
		assert.Equal(t, []string{"iam"}, e.Event.Category)
		assert.Equal(t, "mamori.directory", e.Event.Dataset)
		assert.Len(t, e.Event.ID, 32)
		require.NotNil(t, e.Event.Created)
		assert.Equal(t, c.t, *e.Event.Created)
	}
	created := byAction["kato directory-account-created"]
	assert.Equal(t, []string{"user", "creation"}, created.Event.Type)
	assert.Equal(t, changed, created.Timestamp, "whenCreated dates a creation")
	assert.Equal(t, "Account kato (加藤 三郎) was created in the directory", created.Message)
	assert.Equal(t, &event.User{Name: "kato", Domain: "MAMORI", ID: testDom + "-1204", FullName: "加藤 三郎"}, created.User)
	dept, _ := created.Get(directory.FieldDepartment)
	assert.Equal(t, "営業部", dept)

	added := byAction["suzuki directory-account-added-to-group"]
	assert.Equal(t, []string{"group", "change"}, added.Event.Type)
	assert.Equal(t, "Account suzuki (鈴木 花子) was added to group Tokyo Sales (東京営業所)", added.Message)
	for k, want := range map[string]string{"group.name": "Tokyo Sales", "group.id": testDom + "-1102", "group.domain": "MAMORI",
		"mamori.directory.group_dn": ts, "mamori.directory.guid": "u-suzuki"} {
		v, ok := added.Get(k)
		assert.True(t, ok, k)
		assert.Equal(t, want, v, k)
	}
	removed := byAction["suzuki directory-account-removed-from-group"]
	assert.Equal(t, changed, removed.Timestamp, "the group's whenChanged dates a membership change")
	_, privileged := removed.Get(directory.FieldPrivilegedGroups)
	assert.False(t, privileged, "no longer privileged after leaving Tier0")

	disabled := byAction["tanaka directory-account-disabled"]
	assert.Equal(t, []string{"user", "change"}, disabled.Event.Type)
	assert.Equal(t, "Account tanaka (田中 太郎) was disabled", disabled.Message)
	assert.Equal(t, changed, disabled.Timestamp)
	deleted := byAction["WS01$ directory-account-deleted"]
	assert.Equal(t, []string{"user", "deletion"}, deleted.Event.Type)
	assert.Equal(t, c.t, deleted.Timestamp, "AD keeps no deletion time: the sync's")
	assert.Equal(t, "ws01.mamori.test", deleted.Host.Name)

	recs := st.records(t)
	assert.Equal(t, c.t, recs["c-ws01"].Mamori.DeletedAt, "deleted objects are marked, not removed")
	assert.Equal(t, "WS01$", recs["c-ws01"].SAMAccountName, "the last known state is kept")
	assert.Equal(t, changed, recs["u-tanaka"].Mamori.DisabledAt)
	assert.True(t, recs["u-yamada"].Mamori.DisabledAt.IsZero(), "enabled again")
	assert.Equal(t, c.t, recs["u-kato"].Mamori.FirstSeen)

	// The next sync sees no new change: the deletion is not repeated.
	pub.reset()
	c.t = c.t.Add(time.Hour)
	res, err = s.SyncOnce(ctx)
	require.NoError(t, err)
	assert.Empty(t, res.Changes)
	assert.Empty(t, pub.events(t))

	// WS01$ comes back (restored from the recycle bin, same GUID).
	restored := testSnapshot(c.t)
	restored.Users = next.Users
	restored.Groups = next.Groups
	restored.Computers[0].WhenChanged = c.t.Add(-time.Minute)
	src.snap = restored
	c.t = c.t.Add(time.Hour)
	_, err = s.SyncOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"WS01$ directory-account-restored"}, actions(pub.events(t)))
	assert.True(t, st.records(t)["c-ws01"].Mamori.DeletedAt.IsZero())
}

// The same change seen twice (a crash between publishing the events and
// writing the records, or two processes syncing) gets the same event id.
func TestChangeIDsAreDeterministic(t *testing.T) {
	t0 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	base, err := directory.Compare(nil, directory.BuildRecords(testSnapshot(t0), nil), t0)
	require.NoError(t, err)
	require.True(t, base.Baseline)
	require.Empty(t, base.Changes)
	prev := base.Writes

	next := testSnapshot(t0)
	u := user(next, "tanaka")
	u.UAC |= directory.UACAccountDisable
	u.Disabled, u.WhenChanged = true, t0.Add(10*time.Minute)
	recs := directory.BuildRecords(next, nil)

	a, err := directory.Compare(prev, recs, t0.Add(time.Hour))
	require.NoError(t, err)
	b, err := directory.Compare(prev, recs, t0.Add(2*time.Hour))
	require.NoError(t, err)
	require.Len(t, a.Changes, 1)
	require.Len(t, b.Changes, 1)
	assert.Equal(t, a.Changes[0].ID(), b.Changes[0].ID())
	assert.Equal(t, a.Changes[0].Event(t0).Event.ID, a.Changes[0].ID())

	// Disabled again later (after an enable): a new change, a new id.
	u.WhenChanged = t0.Add(3 * time.Hour)
	c, err := directory.Compare(prev, directory.BuildRecords(next, nil), t0.Add(4*time.Hour))
	require.NoError(t, err)
	require.Len(t, c.Changes, 1)
	assert.NotEqual(t, a.Changes[0].ID(), c.Changes[0].ID())
}

func TestCompareRefusesAnEmptyDirectory(t *testing.T) {
	t0 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	base, err := directory.Compare(nil, directory.BuildRecords(testSnapshot(t0), nil), t0)
	require.NoError(t, err)
	empty := testSnapshot(t0)
	empty.Users = nil
	_, err = directory.Compare(base.Writes, directory.BuildRecords(empty, nil), t0.Add(time.Hour))
	require.ErrorIs(t, err, directory.ErrEmptySnapshot)
	assert.Contains(t, err.Error(), "3 are recorded")
}

func TestPrivilegedMatching(t *testing.T) {
	snap := testSnapshot(time.Now())
	p, err := directory.NewPrivileged(nil)
	require.NoError(t, err)
	got := p.Groups(snap)
	assert.Equal(t, map[string]string{
		"cn=ドメイン管理者,cn=users,dc=mamori,dc=test":          "ドメイン管理者",
		"cn=administrators,cn=builtin,dc=mamori,dc=test": "Administrators",
	}, got, "matched by RID and well-known SID, whatever the name")

	p, err = directory.NewPrivileged([]string{"tokyo sales", testDom + "-1101", "CN=Domain Users,CN=Users," + testBase})
	require.NoError(t, err)
	assert.Len(t, p.Groups(snap), 3)

	for _, bad := range [][]string{{""}, {"S-1-5-x"}} {
		_, err := directory.NewPrivileged(bad)
		require.ErrorIs(t, err, directory.ErrConfig)
	}
}

func TestDomainFromDN(t *testing.T) {
	d := directory.DomainFromDN("OU=Tokyo,DC=example,DC=co,DC=jp")
	assert.Equal(t, directory.Domain{DNS: "example.co.jp", NetBIOS: "EXAMPLE"}, d)
	assert.True(t, d.Matches("example"))
	assert.True(t, d.Matches("EXAMPLE.CO.JP"))
	assert.False(t, d.Matches("WS-TOKYO-01"))
	assert.False(t, d.Matches(""))
}
