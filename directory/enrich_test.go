package directory_test

import (
	"context"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/directory"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/ingest"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
	"github.com/mamori-soc/mamori/pipeline"
)

func testRecords(t *testing.T) []directory.Record {
	t.Helper()
	p, err := directory.NewPrivileged(nil)
	require.NoError(t, err)
	t0 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	plan, err := directory.Compare(nil, directory.BuildRecords(testSnapshot(t0), p), t0)
	require.NoError(t, err)
	out := make([]directory.Record, len(plan.Writes))
	for i := range plan.Writes {
		out[i] = plan.Writes[i].Record
	}
	return out
}

func TestEnricherLookup(t *testing.T) {
	en := directory.NewEnricher(directory.EnricherOptions{})
	_, ok := en.Lookup(testDom+"-1201", "tanaka", "MAMORI")
	assert.False(t, ok, "nothing loaded yet")
	en.Use(testRecords(t))

	for _, tc := range []struct {
		name, sid, user, domain, want string
	}{
		{"by SID", testDom + "-1201", "whatever", "", "tanaka"},
		{"SID wins over name", testDom + "-1202", "tanaka", "MAMORI", "suzuki"},
		{"name in the NetBIOS domain", "", "TANAKA", "mamori", "tanaka"},
		{"name in the DNS domain (Kerberos)", "", "tanaka", "MAMORI.TEST", "tanaka"},
		{"name without domain nor SID (4776)", "", "tanaka", "", "tanaka"},
		{"user principal name", "", "tanaka@mamori.test", "", "tanaka"},
		{"a local account of the same name", "S-1-5-21-9-9-9-1001", "tanaka", "WS-TOKYO-01", ""},
		{"another domain", "", "tanaka", "OTHER", ""},
		{"an unknown SID without domain", "S-1-5-21-9-9-9-1001", "tanaka", "", ""},
		{"an unknown SID in our domain falls back to the name", "S-1-5-21-9-9-9-1001", "tanaka", "MAMORI", "tanaka"},
		{"computer account", "", "ws01$", "MAMORI", "WS01$"},
		{"groups are not accounts", "", "Tokyo Sales", "MAMORI", ""},
		{"unknown", "", "nobody", "MAMORI", ""},
	} {
		r, ok := en.Lookup(tc.sid, tc.user, tc.domain)
		if tc.want == "" {
			assert.False(t, ok, tc.name)
			continue
		}
		require.True(t, ok, tc.name)
		assert.Equal(t, tc.want, r.SAMAccountName, tc.name)
	}
}

func TestEnrichAddsDirectoryContext(t *testing.T) {
	en := directory.NewEnricher(directory.EnricherOptions{})
	en.Use(testRecords(t))

	e := &event.Event{User: &event.User{Name: "suzuki", Domain: "MAMORI", ID: testDom + "-1202"}}
	en.Enrich(e)
	assert.Equal(t, "鈴木 花子", e.User.FullName)
	v, _ := e.Get(directory.FieldDepartment)
	assert.Equal(t, "情報システム部", v)
	v, _ = e.Get(directory.FieldPrivilegedGroups)
	assert.Equal(t, []string{"Administrators", "ドメイン管理者"}, v)

	// A full name the event already carries is kept; a user without title
	// gets no title field.
	e = &event.Event{User: &event.User{Name: "tanaka", FullName: "Taro Tanaka"}}
	en.Enrich(e)
	assert.Equal(t, "Taro Tanaka", e.User.FullName)
	_, ok := e.Get(directory.FieldPrivilegedGroups)
	assert.False(t, ok)
	v, _ = e.Get(directory.FieldTitle)
	assert.Equal(t, "課長", v)

	// Events without a user, or with an unknown one, are left alone.
	e = &event.Event{}
	en.Enrich(e)
	assert.Nil(t, e.User)
	e = &event.Event{User: &event.User{Name: "SYSTEM", ID: "S-1-5-18", Domain: "NT AUTHORITY"}}
	en.Enrich(e)
	assert.Empty(t, e.User.FullName)
	assert.Empty(t, e.Fields)
}

func TestEnricherLoadsFromTheStoreAndServesTheLastCopy(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)}
	src := &fakeSource{testSnapshot(c.t)}
	s, _, st := newSyncer(t, src, c)
	_, err := s.SyncOnce(ctx)
	require.NoError(t, err)

	en := directory.NewEnricher(directory.EnricherOptions{Store: st.Store, Now: c.now})
	require.NoError(t, en.Load(ctx))
	r, ok := en.Lookup("", "tanaka", "MAMORI")
	require.True(t, ok)
	assert.Equal(t, "営業部", r.Department)
	assert.Equal(t, c.t, en.Loaded())

	// A change in the directory reaches the enricher at its next load.
	user(src.snap, "tanaka").Department = "海外営業部"
	user(src.snap, "tanaka").WhenChanged = c.t.Add(time.Minute)
	c.t = c.t.Add(time.Hour)
	_, err = s.SyncOnce(ctx)
	require.NoError(t, err)
	require.NoError(t, en.Load(ctx))
	r, _ = en.Lookup("", "tanaka", "MAMORI")
	assert.Equal(t, "海外営業部", r.Department)

	// The store goes away: loading fails, enrichment keeps the last copy.
	require.NoError(t, st.Close())
	c.t = c.t.Add(time.Hour)
	require.Error(t, en.Load(ctx))
	e := &event.Event{User: &event.User{Name: "tanaka", Domain: "MAMORI"}}
	en.Enrich(e)
	assert.Equal(t, "田中 太郎", e.User.FullName)
	assert.Equal(t, c.t.Add(-time.Hour), en.Loaded(), "the copy in use is still the last good one")
}

// The parse stage's hook: a Windows 4624 event parsed by the real parser
// gets the account's directory context.
func TestParseStageEnrichesWindowsLogons(t *testing.T) {
	xml, err := os.ReadFile("../parsers/winevent/testdata/eventxml/4624_interactive_ja_rendered/input.xml")
	require.NoError(t, err)
	recs := testRecords(t)
	for i := range recs {
		if recs[i].SAMAccountName == "tanaka" {
			recs[i].SID = "S-1-5-21-3623811015-3361044348-30300820-2417" // the fixture's TargetUserSid
		}
	}
	en := directory.NewEnricher(directory.EnricherOptions{})
	en.Use(recs)
	pub := &recorder{}
	p := pipeline.NewParse(map[string]parsers.Parser{winevent.FormatXML: winevent.NewXMLParser()}, pub, nil, nil).WithEnricher(en)
	st := ingest.NewStamper(ingest.StamperConfig{Topic: bus.TopicRawWinlog, Receiver: "wef", Transport: "tls", Format: winevent.FormatXML})
	rec := st.Stamp(ingest.NewPeer(netip.MustParseAddrPort("192.0.2.7:5986")), xml, int64(len(xml)))
	require.NoError(t, p.Handle(context.Background(), []bus.Record{rec}))
	evs := pub.events(t)
	require.Len(t, evs, 1)
	e := evs[0]
	assert.Equal(t, "4624", e.Event.Code)
	assert.Equal(t, "田中 太郎", e.User.FullName)
	v, _ := e.Get(directory.FieldDepartment)
	assert.Equal(t, "営業部", v)
}
