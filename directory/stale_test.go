package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/directory"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/store"
)

// logon stores one Windows logon event and returns its id.
func logon(t *testing.T, st store.Store, code, outcome string, at time.Time, u event.User) string {
	t.Helper()
	e := &event.Event{Timestamp: at, User: &u, Host: &event.Host{Name: "dc1.mamori.test"},
		Event: event.Meta{Kind: "event", Code: code, Outcome: outcome, Category: []string{"authentication"}}}
	e.Event.ID = event.ID(event.Source{Receiver: "test"}, []byte(code+u.Name+at.String()))
	data, err := event.Marshal(e)
	require.NoError(t, err)
	res, err := st.Index(context.Background(), store.Events, []store.Doc{{ID: e.Event.ID, Source: data}})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	return e.Event.ID
}

func TestStaleAccounts(t *testing.T) {
	ctx := context.Background()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	c := &clock{time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)}
	snap := testSnapshot(c.t)
	leaver := directory.User{Account: directory.Account{DN: dn("leaver", "CN=Users"), GUID: "u-leaver", SID: testDom + "-1299",
		SAMAccountName: "leaver", UAC: directory.UACNormalAccount, PrimaryGroupID: 513,
		WhenCreated: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}, DisplayName: "退職 者"}
	kato := directory.User{Account: directory.Account{DN: dn("kato", "CN=Users"), GUID: "u-kato", SID: testDom + "-1204",
		SAMAccountName: "kato", UAC: directory.UACNormalAccount, PrimaryGroupID: 513,
		WhenCreated: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), LastLogonTimestamp: time.Date(2026, 5, 25, 0, 0, 0, 0, time.UTC)}}
	newbie := directory.User{Account: directory.Account{DN: dn("newbie", "CN=Users"), GUID: "u-newbie", SID: testDom + "-1205",
		SAMAccountName: "newbie", UAC: directory.UACNormalAccount, PrimaryGroupID: 513,
		WhenCreated: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}}
	snap.Users = append(snap.Users, leaver, kato, newbie)
	user(snap, "suzuki").LastLogonTimestamp = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	user(snap, "suzuki").AccountExpires = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	src := &fakeSource{snap}
	s, _, st := newSyncer(t, src, c)
	_, err = s.SyncOnce(ctx)
	require.NoError(t, err)
	// leaver is deleted on 2026-02-01.
	c.t = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	snap.Users = snap.Users[:len(snap.Users)-3]
	snap.Users = append(snap.Users, kato, newbie)
	_, err = s.SyncOnce(ctx)
	require.NoError(t, err)

	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	tanakaOld := logon(t, st, "4624", "success", time.Date(2026, 1, 15, 1, 0, 0, 0, time.UTC),
		event.User{Name: "tanaka", Domain: "MAMORI", ID: testDom + "-1201"})
	logon(t, st, "4625", "failure", time.Date(2026, 5, 30, 1, 0, 0, 0, time.UTC),
		event.User{Name: "tanaka", Domain: "MAMORI", ID: testDom + "-1201"}) // failures are no logon
	logon(t, st, "4776", "success", time.Date(2026, 5, 20, 1, 0, 0, 0, time.UTC), event.User{Name: "SUZUKI"})
	// yamada was disabled (whenChanged 2026-01-10 03:00 UTC): one logon before, two after.
	logon(t, st, "4624", "success", time.Date(2026, 1, 9, 0, 0, 0, 0, time.UTC),
		event.User{Name: "yamada", Domain: "MAMORI", ID: testDom + "-1203"})
	y1 := logon(t, st, "4624", "success", time.Date(2026, 5, 30, 0, 30, 0, 0, time.UTC),
		event.User{Name: "yamada", Domain: "MAMORI", ID: testDom + "-1203"})
	y2 := logon(t, st, "4768", "success", time.Date(2026, 5, 31, 0, 30, 0, 0, time.UTC),
		event.User{Name: "yamada", Domain: "MAMORI.TEST", ID: testDom + "-1203"})
	logon(t, st, "4624", "success", time.Date(2026, 5, 31, 1, 0, 0, 0, time.UTC),
		event.User{Name: "yamada", Domain: "WS-TOKYO-01", ID: "S-1-5-21-9-9-9-1001"}) // a local yamada
	l1 := logon(t, st, "4776", "success", time.Date(2026, 3, 3, 3, 3, 3, 0, time.UTC), event.User{Name: "leaver"})

	rep, err := directory.StaleAccounts(ctx, st.Store, directory.StaleOptions{Days: 90, Now: now, Location: tokyo})
	require.NoError(t, err)
	assert.Equal(t, tokyo, rep.GeneratedAt.Location())
	assert.Equal(t, now.AddDate(0, 0, -90), rep.Cutoff.UTC())

	names := func(as []directory.StaleAccount) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Name)
		}
		return out
	}
	// Administrator-like accounts are absent from the test directory; kato
	// logged on per AD, suzuki per Mamori (4776, no SID), newbie is young.
	assert.Equal(t, []string{"tanaka"}, names(rep.Inactive))
	tanaka := rep.Inactive[0]
	require.NotNil(t, tanaka.LastLogonMamori)
	assert.Equal(t, tanakaOld, tanaka.LastLogonMamori.EventID)
	assert.Equal(t, "4624", tanaka.LastLogonMamori.Code)
	assert.Equal(t, time.Date(2026, 1, 15, 10, 0, 0, 0, tokyo), tanaka.LastLogon)
	assert.Equal(t, tokyo, tanaka.LastLogon.Location())
	assert.Equal(t, "営業部", tanaka.Department)
	assert.Contains(t, tanaka.Reason, "last logon 2026-01-15")

	assert.Equal(t, []string{"suzuki"}, names(rep.ExpiredEnabled))
	assert.Contains(t, rep.ExpiredEnabled[0].Reason, "expired 2026-03-01")
	assert.Equal(t, []string{"Administrators", "ドメイン管理者"}, rep.ExpiredEnabled[0].PrivilegedGrps)

	assert.Equal(t, []string{"leaver", "yamada"}, names(rep.LogonAfterDisable))
	gone := rep.LogonAfterDisable[0]
	assert.True(t, gone.Deleted)
	assert.Equal(t, 1, gone.LogonCount)
	assert.Equal(t, l1, gone.Logons[0].EventID)
	assert.Contains(t, gone.Reason, "after the account was deleted (2026-02-01 09:00:00)")
	yamada := rep.LogonAfterDisable[1]
	assert.True(t, yamada.Disabled)
	assert.Equal(t, 2, yamada.LogonCount, "the logon before the disable and the local yamada do not count")
	assert.Equal(t, []string{y2, y1}, []string{yamada.Logons[0].EventID, yamada.Logons[1].EventID})
	assert.Equal(t, time.Date(2026, 5, 31, 9, 30, 0, 0, tokyo), yamada.Logons[0].Time)
	assert.Contains(t, yamada.Reason, "after the account was disabled (2026-01-10 12:00:00)")

	// With computers: WS01$ never logged on.
	rep, err = directory.StaleAccounts(ctx, st.Store, directory.StaleOptions{Days: 90, Now: now, Location: tokyo, Computers: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"WS01$", "tanaka"}, names(rep.Inactive))
	assert.Contains(t, rep.Inactive[0].Reason, "no logon recorded")
}

func TestStaleAccountsNeedsRecords(t *testing.T) {
	_, err := directory.StaleAccounts(context.Background(), openStore(t), directory.StaleOptions{})
	require.ErrorIs(t, err, directory.ErrNoRecords)
}
