//go:build integration

package directory_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/directory"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/ingest"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
	"github.com/mamori-soc/mamori/pipeline"
	"github.com/mamori-soc/mamori/store"
)

// sambaTool runs samba-tool against the test domain through
// deploy/local/samba-ad tool.
func sambaTool(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(filepath.Join(repoRoot(t), "deploy", "local", "samba-ad"), append([]string{"tool"}, args...)...).CombinedOutput()
	require.NoError(t, err, "samba-tool %s: %s", strings.Join(args, " "), out)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "repository root not found")
		dir = parent
	}
}

// setAccountExpires writes accountExpires as Administrator over LDAPS
// (samba-tool only sets future expiry dates).
func setAccountExpires(t *testing.T, dnOf string, at time.Time) {
	t.Helper()
	d := sambaDir(t)
	pem, err := os.ReadFile(filepath.Join(d, "domain", "tls", "ca.pem"))
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	conn, err := ldap.DialURL("ldaps://127.0.0.1:636", ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	require.NoError(t, err)
	defer conn.Close()
	pw, err := os.ReadFile(filepath.Join(d, "admin-password"))
	require.NoError(t, err)
	require.NoError(t, conn.Bind("Administrator@mamori.test", strings.TrimSpace(string(pw))))
	req := ldap.NewModifyRequest(dnOf, nil)
	req.Replace("accountExpires", []string{strconv.FormatInt(directory.ToFileTime(at), 10)})
	require.NoError(t, conn.Modify(req))
}

// logonXML is a Windows 4624 event (interactive logon) for an account.
func logonXML(t *testing.T, sid, name string, at time.Time) []byte {
	t.Helper()
	b, err := os.ReadFile("../parsers/winevent/testdata/eventxml/4624_interactive_ja_rendered/input.xml")
	require.NoError(t, err)
	return []byte(strings.NewReplacer(
		"2025-01-15T00:12:34.5678901Z", at.UTC().Format(time.RFC3339Nano),
		"S-1-5-21-3623811015-3361044348-30300820-2417", sid,
		`"TargetUserName">田中<`, `"TargetUserName">`+name+`<`,
		`"TargetDomainName">営業部<`, `"TargetDomainName">MAMORI<`,
	).Replace(string(b)))
}

// parseLogons runs logon events through the parse stage with the enricher.
func parseLogons(t *testing.T, en pipeline.Enricher, xmls ...[]byte) []*event.Event {
	t.Helper()
	pub := &recorder{}
	p := pipeline.NewParse(map[string]parsers.Parser{winevent.FormatXML: winevent.NewXMLParser()}, pub, nil, nil).WithEnricher(en)
	st := ingest.NewStamper(ingest.StamperConfig{Topic: bus.TopicRawWinlog, Receiver: "wef", Transport: "tls", Format: winevent.FormatXML})
	var recs []bus.Record
	for _, x := range xmls {
		recs = append(recs, st.Stamp(ingest.NewPeer(netip.MustParseAddrPort("127.0.0.1:5986")), x, int64(len(x))))
	}
	require.NoError(t, p.Handle(context.Background(), recs))
	evs := pub.events(t)
	require.Len(t, evs, len(xmls))
	for _, e := range evs {
		require.Equal(t, "4624", e.Event.Code, "parsed, not dead-lettered")
	}
	return evs
}

// TestDirectorySyncRecordsChangesEnrichmentStale runs the scheduled sync's
// work against the real Samba AD DC: a baseline into an embedded store,
// directory changes made with samba-tool, the change events of the next
// sync, enrichment of parsed 4624 events and the stale-account report. Its
// objects have names unique to the run and are removed at the end; the
// seeded ones are only read.
func TestDirectorySyncRecordsChangesEnrichmentStale(t *testing.T) {
	ctx := context.Background()
	cfg := sambaConfig(t)
	client, err := directory.New(cfg, nil)
	require.NoError(t, err)
	st := openStore(t)
	pub := &recorder{}
	syncer, err := directory.NewSyncer(client, directory.SyncerOptions{Store: st, Publisher: pub})
	require.NoError(t, err)

	run := strconv.FormatInt(time.Now().UnixNano()%1_000_000, 36)
	name := func(x string) string { return "mt" + run + x } // at most 20 characters
	grp := "mt" + run + "-grp"
	newUser, disabled, leaving, expired, deleted := name("a"), name("b"), name("c"), name("d"), name("e")
	pw, err := os.ReadFile(filepath.Join(sambaDir(t), "user-password"))
	require.NoError(t, err)
	password := strings.TrimSpace(string(pw))
	t.Cleanup(func() {
		for _, u := range []string{newUser, disabled, leaving, expired, deleted} {
			_ = exec.Command(filepath.Join(repoRoot(t), "deploy", "local", "samba-ad"), "tool", "user", "delete", u).Run()
		}
		_ = exec.Command(filepath.Join(repoRoot(t), "deploy", "local", "samba-ad"), "tool", "group", "delete", grp).Run()
	})
	for _, u := range []string{disabled, leaving, expired, deleted} {
		sambaTool(t, "user", "create", u, password, "--use-username-as-cn", "--surname=試験", "--given-name="+u)
	}
	sambaTool(t, "group", "add", grp, "--description=テスト用グループ")
	sambaTool(t, "group", "addmembers", grp, leaving)
	setAccountExpires(t, "CN="+expired+",CN=Users,"+baseDN, time.Now().Add(-48*time.Hour))

	// 1. The baseline: every object recorded, no event.
	res, err := syncer.SyncOnce(ctx)
	require.NoError(t, err)
	require.True(t, res.Baseline)
	require.Empty(t, pub.events(t))
	recs := (&storeOf{st}).records(t)
	require.Equal(t, res.Objects, len(recs))
	var tanaka, suzuki *directory.Record
	for _, r := range recs {
		switch r.SAMAccountName {
		case "tanaka":
			tanaka = r
		case "suzuki":
			suzuki = r
		}
	}
	require.NotNil(t, tanaka)
	require.NotNil(t, suzuki)
	assert.Equal(t, "田中 太郎", tanaka.DisplayName)
	assert.Equal(t, "営業部", tanaka.Department)
	assert.Equal(t, "MAMORI", tanaka.Domain.NetBIOS, "read from the crossRef")
	assert.Equal(t, "mamori.test", tanaka.Domain.DNS)
	assert.True(t, strings.HasPrefix(tanaka.SID, tanaka.Domain.SID+"-"), "domain SID read from the domain object")
	assert.Contains(t, tanaka.NestedMemberOfNames, "Sales", "Sales > Tokyo Sales > tanaka")
	assert.Equal(t, []string{"Administrators", "Domain Admins"}, suzuki.PrivilegedGroups, "nested three levels deep")
	assert.False(t, tanaka.Mamori.FirstSeen.IsZero())

	// 2. Change the directory.
	sambaTool(t, "user", "create", newUser, password, "--use-username-as-cn", "--surname=新人", "--given-name=太郎")
	sambaTool(t, "user", "disable", disabled)
	sambaTool(t, "group", "addmembers", grp, disabled)
	sambaTool(t, "group", "removemembers", grp, leaving)
	sambaTool(t, "user", "delete", deleted)

	res, err = syncer.SyncOnce(ctx)
	require.NoError(t, err)
	require.False(t, res.Baseline)
	evs := pub.events(t)
	var got []string
	for _, e := range evs {
		s := e.User.Name + " " + e.Event.Action
		if g, ok := e.Get("group.name"); ok {
			s += " " + g.(string)
		}
		got = append(got, s)
	}
	sort.Strings(got)
	want := []string{
		newUser + " directory-account-created",
		disabled + " directory-account-added-to-group " + grp,
		disabled + " directory-account-disabled",
		leaving + " directory-account-removed-from-group " + grp,
		deleted + " directory-account-deleted",
	}
	sort.Strings(want)
	require.Equal(t, want, got, "exactly the changes made")
	for _, e := range evs {
		assert.Equal(t, "mamori.directory", e.Event.Dataset)
		assert.Equal(t, []string{"iam"}, e.Event.Category)
		assert.Equal(t, "MAMORI", e.User.Domain)
		assert.Regexp(t, `^S-1-5-21-`, e.User.ID)
		if e.Event.Action == directory.ActionAddedToGroup {
			assert.Equal(t, fmt.Sprintf("Account %s (%s 試験) was added to group %s (テスト用グループ)", disabled, disabled, grp), e.Message)
		}
	}

	// The same directory again: nothing new.
	pub.reset()
	res, err = syncer.SyncOnce(ctx)
	require.NoError(t, err)
	require.Empty(t, pub.events(t), "a change is reported once")
	recs = (&storeOf{st}).records(t)
	var disabledRec *directory.Record
	for _, r := range recs {
		switch r.SAMAccountName {
		case deleted:
			assert.True(t, r.Deleted(), "deleted objects are marked, not removed")
		case disabled:
			disabledRec = r
		}
	}
	require.NotNil(t, disabledRec)
	require.True(t, disabledRec.Disabled())
	require.False(t, disabledRec.Mamori.DisabledAt.IsZero())

	// 3. Enrichment of parsed 4624 events.
	en := directory.NewEnricher(directory.EnricherOptions{Store: st})
	require.NoError(t, en.Load(ctx))
	now := time.Now().UTC()
	logons := parseLogons(t, en,
		logonXML(t, tanaka.SID, "tanaka", now.Add(-time.Minute)),
		logonXML(t, "S-1-5-21-1-2-3-4", "suzuki", now.Add(-time.Minute)), // unknown SID, our domain: by name
		// whenChanged has whole seconds: log on clearly after the disable.
		logonXML(t, disabledRec.SID, disabled, now.Add(2*time.Second)))
	tanakaLogon := logons[0]
	assert.Equal(t, "田中 太郎", tanakaLogon.User.FullName)
	v, _ := tanakaLogon.Get(directory.FieldDepartment)
	assert.Equal(t, "営業部", v)
	v, _ = tanakaLogon.Get(directory.FieldTitle)
	assert.Equal(t, "課長", v)
	_, ok := tanakaLogon.Get(directory.FieldPrivilegedGroups)
	assert.False(t, ok)
	v, _ = logons[1].Get(directory.FieldPrivilegedGroups)
	assert.Equal(t, []any{"Administrators", "Domain Admins"}, v, "read back from the published JSON")
	v, _ = logons[2].Get(directory.FieldAccountState)
	assert.Equal(t, []any{"disabled"}, v, "created in this run: disabled, not stale")

	// 4. The stale report: the disabled account logged on afterwards; the
	// expired one is still enabled.
	var docs []store.Doc
	for _, e := range logons {
		data, err := event.Marshal(e)
		require.NoError(t, err)
		docs = append(docs, store.Doc{ID: e.Event.ID, Source: data})
	}
	_, err = st.Index(ctx, store.Events, docs)
	require.NoError(t, err)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	rep, err := directory.StaleAccounts(ctx, st, directory.StaleOptions{Days: 90, Now: now.Add(time.Minute), Location: tokyo})
	require.NoError(t, err)
	var flagged *directory.StaleAccount
	for i := range rep.LogonAfterDisable {
		if rep.LogonAfterDisable[i].Name == disabled {
			flagged = &rep.LogonAfterDisable[i]
		}
	}
	require.NotNil(t, flagged, "disabled_at %s, logon %s: %+v", disabledRec.Mamori.DisabledAt, now, rep)
	assert.Equal(t, 1, flagged.LogonCount)
	assert.Equal(t, logons[2].Event.ID, flagged.Logons[0].EventID)
	assert.Equal(t, tokyo, flagged.Logons[0].Time.Location())
	var expiredNames []string
	for _, a := range rep.ExpiredEnabled {
		expiredNames = append(expiredNames, a.Name)
	}
	assert.Contains(t, expiredNames, expired)
	for _, a := range rep.Inactive {
		assert.NotEqual(t, newUser, a.Name, "created today: too young to be inactive")
	}
}
