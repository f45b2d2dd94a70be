package directory_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/directory"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

const (
	testDom  = "S-1-5-21-100-200-300"
	testBase = "DC=mamori,DC=test"
)

func dn(cn, container string) string { return "CN=" + cn + "," + container + "," + testBase }

// testSnapshot is a small directory: Domain Admins (renamed in Japanese),
// Administrators, Domain Users, a nested Tier0 group, Tokyo Sales, and
// tanaka, suzuki (nested into Domain Admins), yamada (disabled), WS01$.
func testSnapshot(taken time.Time) *directory.Snapshot {
	created := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	changed := time.Date(2026, 1, 10, 3, 0, 0, 0, time.UTC)
	acct := func(guid, cn string, rid string, uac directory.UAC, memberOf ...string) directory.Account {
		return directory.Account{
			DN: dn(cn, "CN=Users"), GUID: guid, SID: testDom + "-" + rid, SAMAccountName: cn, UAC: uac,
			Disabled: uac.Disabled(), PasswordNeverExpires: uac.PasswordNeverExpires(), PrimaryGroupID: 513,
			MemberOf: memberOf, WhenCreated: created, WhenChanged: changed,
		}
	}
	s := &directory.Snapshot{
		BaseDN: testBase, Taken: taken,
		Domain: directory.Domain{DNS: "mamori.test", NetBIOS: "MAMORI", SID: testDom},
		Groups: []directory.Group{
			{DN: dn("ドメイン管理者", "CN=Users"), GUID: "g-da", SID: testDom + "-512", SAMAccountName: "ドメイン管理者",
				Type: directory.GroupGlobal | directory.GroupSecurity, MemberOf: []string{dn("Administrators", "CN=Builtin")}, WhenChanged: changed},
			{DN: dn("Administrators", "CN=Builtin"), GUID: "g-adm", SID: "S-1-5-32-544", SAMAccountName: "Administrators", WhenChanged: changed},
			{DN: dn("Domain Users", "CN=Users"), GUID: "g-du", SID: testDom + "-513", SAMAccountName: "Domain Users", WhenChanged: changed},
			{DN: dn("Tier0", "CN=Users"), GUID: "g-t0", SID: testDom + "-1101", SAMAccountName: "Tier0",
				MemberOf: []string{dn("ドメイン管理者", "CN=Users")}, WhenChanged: changed},
			{DN: dn("Tokyo Sales", "CN=Users"), GUID: "g-ts", SID: testDom + "-1102", SAMAccountName: "Tokyo Sales",
				Description: "東京営業所", WhenChanged: changed},
		},
		Users: []directory.User{
			{Account: acct("u-tanaka", "tanaka", "1201", directory.UACNormalAccount, dn("Tokyo Sales", "CN=Users")),
				DisplayName: "田中 太郎", Department: "営業部", Title: "課長", UserPrincipalName: "tanaka@mamori.test"},
			{Account: acct("u-suzuki", "suzuki", "1202", directory.UACNormalAccount|directory.UACDontExpirePassword, dn("Tier0", "CN=Users")),
				DisplayName: "鈴木 花子", Department: "情報システム部"},
			{Account: acct("u-yamada", "yamada", "1203", directory.UACNormalAccount|directory.UACAccountDisable, dn("Tokyo Sales", "CN=Users")),
				DisplayName: "山田 次郎", Department: "営業部"},
		},
		Computers: []directory.Computer{
			{Account: acct("c-ws01", "WS01$", "1301", directory.UACWorkstationTrustAccount), DNSHostName: "ws01.mamori.test"},
		},
	}
	s.Computers[0].PrimaryGroupID = 515
	directory.Resolve(s)
	return s
}

func user(s *directory.Snapshot, name string) *directory.User {
	u, ok := s.User(name)
	if !ok {
		panic(name)
	}
	return u
}

// fakeSource returns the snapshot its field holds.
type fakeSource struct{ snap *directory.Snapshot }

func (f *fakeSource) Sync(context.Context) (*directory.Snapshot, error) {
	directory.Resolve(f.snap)
	return f.snap, nil
}

// recorder is a bus.Producer that keeps what is published.
type recorder struct {
	mu   sync.Mutex
	recs []bus.Record
}

func (r *recorder) Publish(_ context.Context, recs ...bus.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, recs...)
	return nil
}

func (r *recorder) events(t *testing.T) []*event.Event {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*event.Event
	for _, rec := range r.recs {
		require.Equal(t, bus.TopicEvents, rec.Topic)
		var e event.Event
		require.NoError(t, event.Unmarshal(rec.Value, &e))
		id, ok := rec.Header("mamori.id")
		require.True(t, ok)
		require.Equal(t, e.Event.ID, id)
		out = append(out, &e)
	}
	return out
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.recs = nil
	r.mu.Unlock()
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func actions(es []*event.Event) []string {
	var out []string
	for _, e := range es {
		a := e.Event.Action
		if g, ok := e.Get("group.name"); ok && e.Event.Category[0] == "iam" && e.User != nil {
			a += ":" + g.(string)
		}
		if e.User != nil {
			a = e.User.Name + " " + a
		} else if g, ok := e.Get("group.name"); ok {
			a = g.(string) + " " + a
		}
		out = append(out, a)
	}
	return out
}

// storeOf reads records back.
type storeOf struct{ store.Store }

func (s *storeOf) records(t *testing.T) map[string]*directory.Record {
	t.Helper()
	recs, err := directory.LoadRecords(context.Background(), s.Store)
	require.NoError(t, err)
	out := map[string]*directory.Record{}
	for i := range recs {
		out[recs[i].GUID] = &recs[i].Record
	}
	return out
}
