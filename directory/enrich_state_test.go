package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/directory"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
)

// stateNow is the time of the events of the account-state tests.
var stateNow = time.Date(2026, 6, 1, 1, 0, 0, 0, time.UTC) // 10:00 in Tokyo

// stateRecord is an enabled user of the test domain, created two years
// before stateNow and last logged on the day before, changed by mod.
func stateRecord(name, rid string, mod func(r *directory.Record)) directory.Record {
	r := directory.Record{
		Kind: directory.KindUser, Domain: directory.RecordDomain{DNS: "mamori.test", NetBIOS: "MAMORI", SID: testDom},
		GUID: "u-" + name, SID: testDom + "-" + rid, DN: dn(name, "CN=Users"), SAMAccountName: name,
		UserPrincipalName: name + "@mamori.test", DisplayName: name + " 試験",
		UAC:         &directory.UACState{Flags: []string{"NORMAL_ACCOUNT"}},
		WhenCreated: stateNow.AddDate(-2, 0, 0), LastLogonTimestamp: stateNow.AddDate(0, 0, -1),
	}
	if mod != nil {
		mod(&r)
	}
	return r
}

// accountState enriches a logon of the record's SID at time at and returns
// mamori.user.account_state (nil: not set).
func accountState(t *testing.T, opts directory.EnricherOptions, r directory.Record, at time.Time) []string {
	t.Helper()
	en := directory.NewEnricher(opts)
	en.Use([]directory.Record{r})
	e := &event.Event{Timestamp: at, User: &event.User{ID: r.SID, Name: r.SAMAccountName, Domain: "MAMORI"}}
	en.Enrich(e)
	require.Equal(t, r.DisplayName, e.User.FullName, "the account was found")
	v, ok := e.Get(directory.FieldAccountState)
	if !ok {
		return nil
	}
	return v.([]string)
}

func TestEnrichAccountState(t *testing.T) {
	const day = 24 * time.Hour
	never, err := directory.ParseFileTime("9223372036854775807")
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		mod   func(r *directory.Record)
		at    time.Time // default stateNow
		stale time.Duration
		want  []string
	}{
		{name: "an active account has no state", want: nil},
		{name: "disabled", mod: func(r *directory.Record) { r.UAC.Disabled = true }, want: []string{"disabled"}},
		{name: "locked out", mod: func(r *directory.Record) { r.UAC.Locked = true }, want: []string{"locked"}},
		{name: "deleted", mod: func(r *directory.Record) { r.Mamori.DeletedAt = stateNow.AddDate(0, 0, -3) },
			want: []string{"deleted"}},
		{name: "password expired is not an account state",
			mod: func(r *directory.Record) { r.UAC.PasswordExpired = true }, want: nil},

		// Expiry is judged at the event's time, not at the wall clock.
		{name: "expired yesterday", mod: func(r *directory.Record) { r.AccountExpires = stateNow.Add(-day) },
			want: []string{"expired"}},
		{name: "expires next week: not expired today",
			mod: func(r *directory.Record) { r.AccountExpires = stateNow.Add(7 * day) }, want: nil},
		{name: "expires next week: expired for an event after the date",
			mod: func(r *directory.Record) { r.AccountExpires = stateNow.Add(7 * day) },
			at:  stateNow.Add(8 * day), want: []string{"expired"}},
		{name: "expired since: an event from before the date is not",
			mod: func(r *directory.Record) { r.AccountExpires = stateNow.Add(-7 * day) },
			at:  stateNow.Add(-8 * day), want: nil},
		{name: "accountExpires 0 never expires",
			mod: func(r *directory.Record) { r.AccountExpires = directory.FileTime(0) }, want: nil},
		{name: "accountExpires 0x7FFFFFFFFFFFFFFF never expires",
			mod: func(r *directory.Record) { r.AccountExpires = directory.FileTime(directory.FileTimeNever) }, want: nil},
		{name: "accountExpires 9223372036854775807 as LDAP returns it never expires",
			mod: func(r *directory.Record) { r.AccountExpires = never }, want: nil},

		// Stale: no logon for 90 days (by default) before the event.
		{name: "last logon 91 days before the event",
			mod: func(r *directory.Record) { r.LastLogonTimestamp = stateNow.Add(-91 * day) }, want: []string{"stale"}},
		{name: "last logon exactly 90 days before the event",
			mod: func(r *directory.Record) { r.LastLogonTimestamp = stateNow.Add(-90 * day) }, want: []string{"stale"}},
		{name: "last logon a second less than 90 days before the event",
			mod: func(r *directory.Record) { r.LastLogonTimestamp = stateNow.Add(-90*day + time.Second) }, want: nil},
		{name: "an old logon is not stale for an event from back then",
			mod: func(r *directory.Record) { r.LastLogonTimestamp = stateNow.Add(-200 * day) },
			at:  stateNow.Add(-150 * day), want: nil},
		{name: "a last logon after the event (a late event) is not stale",
			mod: func(r *directory.Record) { r.LastLogonTimestamp = stateNow.Add(time.Hour) }, want: nil},
		{name: "never logged on, created 100 days before",
			mod: func(r *directory.Record) {
				r.LastLogonTimestamp, r.WhenCreated = time.Time{}, stateNow.Add(-100*day)
			}, want: []string{"stale"}},
		{name: "never logged on, created exactly 90 days before",
			mod: func(r *directory.Record) {
				r.LastLogonTimestamp, r.WhenCreated = time.Time{}, stateNow.Add(-90*day)
			}, want: []string{"stale"}},
		{name: "never logged on, created 10 days before: a new account",
			mod: func(r *directory.Record) {
				r.LastLogonTimestamp, r.WhenCreated = time.Time{}, stateNow.Add(-10*day)
			}, want: nil},
		{name: "StaleAfter 30 days",
			mod:   func(r *directory.Record) { r.LastLogonTimestamp = stateNow.Add(-45 * day) },
			stale: 30 * day, want: []string{"stale"}},
		{name: "StaleAfter 180 days",
			mod:   func(r *directory.Record) { r.LastLogonTimestamp = stateNow.Add(-91 * day) },
			stale: 180 * day, want: nil},

		// Combinations are listed in one order.
		{name: "a leaver: deleted, disabled, expired and stale",
			mod: func(r *directory.Record) {
				r.UAC.Disabled = true
				r.AccountExpires = stateNow.AddDate(0, -3, 0)
				r.LastLogonTimestamp = stateNow.AddDate(0, -4, 0)
				r.Mamori.DeletedAt = stateNow.AddDate(0, 0, -7)
			}, want: []string{"deleted", "disabled", "expired", "stale"}},
		{name: "disabled and locked",
			mod:  func(r *directory.Record) { r.UAC.Disabled, r.UAC.Locked = true, true },
			want: []string{"disabled", "locked"}},
		{name: "expired but still enabled",
			mod: func(r *directory.Record) {
				r.AccountExpires = stateNow.AddDate(0, -1, 0)
				r.LastLogonTimestamp = stateNow.AddDate(0, -6, 0)
			}, want: []string{"expired", "stale"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := tc.at
			if at.IsZero() {
				at = stateNow
			}
			got := accountState(t, directory.EnricherOptions{StaleAfter: tc.stale}, stateRecord("sato", "1210", tc.mod), at)
			assert.Equal(t, tc.want, got)
		})
	}
}

// An event without @timestamp gets the states that do not depend on time.
func TestEnrichAccountStateWithoutTimestamp(t *testing.T) {
	r := stateRecord("sato", "1210", func(r *directory.Record) {
		r.UAC.Disabled = true
		r.AccountExpires = stateNow.AddDate(-1, 0, 0)
		r.LastLogonTimestamp = time.Time{}
	})
	assert.Equal(t, []string{"disabled"}, accountState(t, directory.EnricherOptions{}, r, time.Time{}))
}

// Records read back from the store after a sync missed an account: a logon
// by the deleted account's SID, or by its name, is marked deleted; a name a
// live account took over finds the live account.
func TestEnricherFindsDeletedAccounts(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)}
	snap := testSnapshot(c.t)
	snap.Users = append(snap.Users, directory.User{Account: directory.Account{
		DN: dn("taishoku", "CN=Users"), GUID: "u-taishoku", SID: testDom + "-1299", SAMAccountName: "taishoku",
		UAC: directory.UACNormalAccount, PrimaryGroupID: 513, WhenCreated: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC),
		LastLogonTimestamp: time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC)}, DisplayName: "退職 者", Department: "総務部"})
	src := &fakeSource{snap}
	s, _, st := newSyncer(t, src, c)
	_, err := s.SyncOnce(ctx)
	require.NoError(t, err)
	// taishoku leaves on 2026-02-02; yamada's account is deleted and its
	// name given to a new account.
	c.t = time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)
	snap.Users = snap.Users[:len(snap.Users)-1]
	yamada := user(snap, "yamada")
	yamada.GUID, yamada.SID = "u-yamada2", testDom+"-1300"
	yamada.UAC = directory.UACNormalAccount
	yamada.Disabled, yamada.WhenCreated, yamada.LastLogonTimestamp = false, c.t, c.t
	_, err = s.SyncOnce(ctx)
	require.NoError(t, err)

	en := directory.NewEnricher(directory.EnricherOptions{Store: st.Store, Now: c.now})
	require.NoError(t, en.Load(ctx))
	at := time.Date(2026, 2, 10, 0, 30, 0, 0, time.UTC)
	enrich := func(u event.User) *event.Event {
		e := &event.Event{Timestamp: at, User: &u}
		en.Enrich(e)
		return e
	}
	state := func(e *event.Event) any {
		v, _ := e.Get(directory.FieldAccountState)
		return v
	}

	e := enrich(event.User{ID: testDom + "-1299", Name: "taishoku", Domain: "MAMORI"})
	assert.Equal(t, []string{"deleted"}, state(e), "by SID")
	assert.Equal(t, "退職 者", e.User.FullName, "the last known state of the account")
	v, _ := e.Get(directory.FieldDepartment)
	assert.Equal(t, "総務部", v)
	assert.Equal(t, []string{"deleted"}, state(enrich(event.User{Name: "TAISHOKU"})), "by name (NTLM, 4776)")
	assert.Equal(t, []string{"deleted"}, state(enrich(event.User{Name: "taishoku", Domain: "mamori.test"})))

	// The old yamada, deleted while disabled, by its SID; the name is the
	// new yamada's.
	assert.Equal(t, []string{"deleted", "disabled", "stale"},
		state(enrich(event.User{ID: testDom + "-1203", Name: "yamada", Domain: "MAMORI"})))
	e = enrich(event.User{Name: "yamada", Domain: "MAMORI"})
	assert.Nil(t, state(e), "the live account")
	r, ok := en.Lookup("", "yamada", "MAMORI")
	require.True(t, ok)
	assert.Equal(t, testDom+"-1300", r.SID)
	assert.False(t, r.Deleted())
}

// When the accounts outnumber MaxAccounts, deleted ones are left out first.
func TestEnricherKeepsLiveAccountsFirst(t *testing.T) {
	gone := stateRecord("taishoku", "1299", func(r *directory.Record) { r.Mamori.DeletedAt = stateNow.AddDate(0, 0, -1) })
	live := stateRecord("sato", "1210", nil)
	en := directory.NewEnricher(directory.EnricherOptions{MaxAccounts: 1})
	en.Use([]directory.Record{gone, live})
	_, ok := en.Lookup(live.SID, "", "")
	assert.True(t, ok)
	_, ok = en.Lookup(gone.SID, "", "")
	assert.False(t, ok)
}

// The built-in rule's condition matches the enriched field, also once the
// event has travelled as JSON to the detect stage.
func TestAccountStateMatchesTheRuleCondition(t *testing.T) {
	n, err := kql.Parse(`mamori.user.account_state:(disabled or expired or deleted or stale)`)
	require.NoError(t, err)
	c, err := kql.Plan(n, kql.Options{Location: time.UTC})
	require.NoError(t, err)
	m := kql.Compile(c)

	en := directory.NewEnricher(directory.EnricherOptions{})
	en.Use([]directory.Record{
		stateRecord("taishoku", "1299", func(r *directory.Record) { r.UAC.Disabled = true }),
		stateRecord("sato", "1210", nil),
		stateRecord("kato", "1211", func(r *directory.Record) { r.UAC.Locked = true }),
	})
	for name, want := range map[string]bool{"taishoku": true, "sato": false, "kato": false} {
		e := &event.Event{Timestamp: stateNow, User: &event.User{Name: name, Domain: "MAMORI"}}
		en.Enrich(e)
		assert.Equal(t, want, m.Match(e), name)
		data, err := event.Marshal(e)
		require.NoError(t, err)
		var back event.Event
		require.NoError(t, event.Unmarshal(data, &back))
		assert.Equal(t, want, m.Match(&back), name+" read back")
	}
}
