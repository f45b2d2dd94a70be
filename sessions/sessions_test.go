package sessions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/sessions"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

// base is 09:00 in Tokyo on a working day.
var base = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

const h = time.Hour

// ev builds ECS documents shaped like the winevent goldens (typed core
// nested, winlog.* dotted).
type ev map[string]any

var docSeq int

func doc(e ev) store.Doc {
	docSeq++
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return store.Doc{ID: fmt.Sprintf("ev%06d", docSeq), Source: b}
}

type logonOpt func(ev)

func withSource(ip, ws string, port int) logonOpt {
	return func(e ev) { e["source"] = map[string]any{"ip": ip, "domain": ws, "port": port} }
}

func linked(id string, elevated bool) logonOpt {
	return func(e ev) {
		e["winlog.event_data.TargetLinkedLogonId"] = id
		e["winlog.event_data.ElevatedToken"] = map[bool]string{true: "%%1842", false: "%%1843"}[elevated]
	}
}

var typeNames = map[int]string{2: "Interactive", 3: "Network", 5: "Service", 10: "RemoteInteractive", 11: "CachedInteractive"}

// logon is a 4624 of user on host with TargetLogonId id. Like Winlogbeat,
// winlog.logon.id holds the SubjectLogonId (0x3e7): pairing on it would
// join every logon of a host.
func logon(t time.Time, host, user, id string, typ int, opts ...logonOpt) store.Doc {
	e := ev{
		"@timestamp": t.Format(time.RFC3339Nano),
		"event": map[string]any{"kind": "event", "category": []string{"authentication"}, "type": []string{"start"},
			"action": "logged-in", "code": "4624", "outcome": "success", "module": "security", "provider": "Microsoft-Windows-Security-Auditing"},
		"host":                                  map[string]any{"name": host},
		"user":                                  map[string]any{"name": user, "domain": "CITY", "id": sid(user)},
		"winlog.channel":                        "Security",
		"winlog.event_id":                       "4624",
		"winlog.logon.id":                       "0x3e7",
		"winlog.logon.type":                     typeNames[typ],
		"winlog.event_data.LogonType":           fmt.Sprint(typ),
		"winlog.event_data.TargetLogonId":       id,
		"winlog.event_data.SubjectLogonId":      "0x3e7",
		"winlog.event_data.TargetUserName":      user,
		"winlog.event_data.TargetLinkedLogonId": "0x0",
		"winlog.event_data.ElevatedToken":       "%%1843",
	}
	for _, o := range opts {
		o(e)
	}
	return doc(e)
}

func sid(user string) string {
	n := 0
	for _, r := range user {
		n = n*31 + int(r)
	}
	return fmt.Sprintf("S-1-5-21-3623811015-3361044348-30300820-%d", 1000+n%100000)
}

// logoff is a 4634 (code "4634") or 4647 (code "4647").
func logoff(code string, t time.Time, host, user, id string) store.Doc {
	e := ev{
		"@timestamp": t.Format(time.RFC3339Nano),
		"event": map[string]any{"kind": "event", "category": []string{"authentication"}, "type": []string{"end"},
			"action": "logged-out", "code": code, "outcome": "success", "provider": "Microsoft-Windows-Security-Auditing"},
		"host":                               map[string]any{"name": host},
		"user":                               map[string]any{"name": user, "domain": "CITY", "id": sid(user)},
		"winlog.event_id":                    code,
		"winlog.logon.id":                    id,
		"winlog.event_data.TargetLogonId":    id,
		"winlog.event_data.TargetUserName":   user,
		"winlog.event_data.TargetUserSid":    sid(user),
		"winlog.event_data.TargetDomainName": "CITY",
	}
	return doc(e)
}

// rdp is a 4779 (disconnect) or 4778 (reconnect).
func rdp(code string, t time.Time, host, user, id, client, ip string) store.Doc {
	action := map[string]string{"4778": "session-reconnected", "4779": "session-disconnected"}[code]
	return doc(ev{
		"@timestamp": t.Format(time.RFC3339Nano),
		"event": map[string]any{"kind": "event", "category": []string{"authentication", "session"},
			"action": action, "code": code, "outcome": "success", "provider": "Microsoft-Windows-Security-Auditing"},
		"host":                            map[string]any{"name": host},
		"user":                            map[string]any{"name": user, "domain": "CITY"},
		"source":                          map[string]any{"ip": ip, "domain": client},
		"winlog.event_id":                 code,
		"winlog.logon.id":                 id,
		"winlog.event_data.LogonID":       id,
		"winlog.event_data.AccountName":   user,
		"winlog.event_data.SessionName":   "RDP-Tcp#14",
		"winlog.event_data.ClientName":    client,
		"winlog.event_data.ClientAddress": ip,
	})
}

// boot is a host event with the given code and provider: 4608/4609 from
// the Security auditing provider, 1100 from Microsoft-Windows-Eventlog,
// 6005/6006/6008 from EventLog in the System log.
func boot(code string, t time.Time, host, provider string) store.Doc {
	return doc(ev{
		"@timestamp":           t.Format(time.RFC3339Nano),
		"event":                map[string]any{"kind": "event", "code": code, "provider": provider},
		"host":                 map[string]any{"name": host},
		"winlog.event_id":      code,
		"winlog.provider_name": provider,
	})
}

func openStore(t testing.TB, docs ...store.Doc) store.Store {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	index(t, s, docs...)
	return s
}

func index(t testing.TB, s store.Store, docs ...store.Doc) {
	t.Helper()
	if len(docs) == 0 {
		return
	}
	res, err := s.Index(context.Background(), store.Events, docs)
	require.NoError(t, err)
	for _, r := range res {
		require.NoError(t, r.Err)
	}
}

// find resolves the KQL query as an analyst types it and runs it.
func find(t *testing.T, s store.Store, q string, from, to, now time.Time, tweak ...func(*sessions.Request)) *sessions.Result {
	t.Helper()
	node, err := kql.Parse(q)
	require.NoError(t, err)
	cond, err := kql.Plan(node, kql.Options{})
	require.NoError(t, err)
	req := sessions.Request{Filter: cond, From: from, To: to, Now: now}
	for _, f := range tweak {
		f(&req)
	}
	res, err := sessions.Find(context.Background(), s, req)
	require.NoError(t, err)
	return res
}

type brief struct {
	User, Host, ID string
	Start, End     time.Time
	Reason         string
}

func briefs(res *sessions.Result) []brief {
	out := make([]brief, len(res.Sessions))
	for i, s := range res.Sessions {
		out[i] = brief{s.User.Name, s.Host, s.LogonID, s.Start, s.End, s.EndReason.String()}
	}
	return out
}

func TestSimplePair(t *testing.T) {
	s := openStore(t,
		logon(at(0), "PC01.city.example.lg.jp", "tanaka", "0x1a2b3c", 10, withSource("10.20.40.18", "PC-JOHO-002", 61022)),
		logoff("4634", at(8*h+30*time.Minute), "PC01.city.example.lg.jp", "tanaka", "0x1a2b3c"),
		// The same logon id on another host is another session.
		logoff("4634", at(2*h), "PC02.city.example.lg.jp", "tanaka", "0x1a2b3c"),
		// Another user on the same host: the filter leaves it out.
		logon(at(1*h), "PC01.city.example.lg.jp", "sato", "0x99", 2),
	)
	res := find(t, s, "user.name:tanaka", at(-h), at(24*h), at(48*h))
	require.Len(t, res.Sessions, 1)
	got := res.Sessions[0]
	require.Equal(t, "tanaka", got.User.Name)
	require.Equal(t, "CITY", got.User.Domain)
	require.Equal(t, sid("tanaka"), got.User.ID)
	require.Equal(t, "PC01.city.example.lg.jp", got.Host)
	require.Equal(t, "0x1a2b3c", got.LogonID)
	require.Equal(t, sessions.RemoteInteractive, got.LogonType)
	require.Equal(t, sessions.Source{IP: "10.20.40.18", Domain: "PC-JOHO-002", Port: 61022}, got.Source)
	require.Equal(t, at(0), got.Start)
	require.Equal(t, at(8*h+30*time.Minute), got.End)
	require.Equal(t, sessions.Logoff, got.EndReason)
	require.Equal(t, 8*h+30*time.Minute, got.Duration())
	require.False(t, got.Elevated)
	require.False(t, res.Truncated)

	// "Who was on PC01": both users, newest first. The host name is the
	// FQDN Windows reports; a wildcard finds it by its short name.
	res = find(t, s, "host.name:PC01*", at(-h), at(24*h), at(48*h))
	require.Equal(t, []brief{
		{"sato", "PC01.city.example.lg.jp", "0x99", at(h), time.Time{}, "open"},
		{"tanaka", "PC01.city.example.lg.jp", "0x1a2b3c", at(0), at(8*h + 30*time.Minute), "logoff"},
	}, briefs(res))
}

func TestMissingLogoffIsOpenThenTimesOut(t *testing.T) {
	s := openStore(t, logon(at(0), "PC01", "tanaka", "0x10", 2))
	res := find(t, s, "user.name:tanaka", at(-h), at(h), at(2*h))
	require.Len(t, res.Sessions, 1)
	require.Equal(t, sessions.Open, res.Sessions[0].EndReason)
	require.True(t, res.Sessions[0].End.IsZero())
	require.Equal(t, 2*h, res.Sessions[0].Duration(), "an open session's duration runs to the time of the query")

	// A week later the default maximum has passed: it ended by timeout.
	res = find(t, s, "user.name:tanaka", at(-h), at(h), at(10*24*h))
	require.Equal(t, []brief{{"tanaka", "PC01", "0x10", at(0), at(sessions.DefaultMaxDuration), "timeout"}}, briefs(res))

	// A configured maximum.
	res = find(t, s, "user.name:tanaka", at(-h), at(h), at(10*24*h), func(r *sessions.Request) { r.MaxDuration = 12 * h })
	require.Equal(t, []brief{{"tanaka", "PC01", "0x10", at(0), at(12 * h), "timeout"}}, briefs(res))

	// A logoff after the maximum does not reach back to it.
	index(t, s, logoff("4634", at(13*h), "PC01", "tanaka", "0x10"))
	res = find(t, s, "user.name:tanaka", at(-h), at(h), at(10*24*h), func(r *sessions.Request) { r.MaxDuration = 12 * h })
	require.Equal(t, []brief{{"tanaka", "PC01", "0x10", at(0), at(12 * h), "timeout"}}, briefs(res))
	res = find(t, s, "user.name:tanaka", at(-h), at(h), at(10*24*h))
	require.Equal(t, []brief{{"tanaka", "PC01", "0x10", at(0), at(13 * h), "logoff"}}, briefs(res))
}

func TestRebootEndsEveryOpenSessionOfTheHost(t *testing.T) {
	for _, tc := range []struct{ code, provider string }{
		{"4608", "Microsoft-Windows-Security-Auditing"},
		{"4609", "Microsoft-Windows-Security-Auditing"},
		{"1100", "Microsoft-Windows-Eventlog"},
		{"6005", "EventLog"},
		{"6006", "EventLog"},
		{"6008", "EventLog"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			s := openStore(t,
				logon(at(0), "SRV01", "tanaka", "0x10", 10),
				logon(at(h), "SRV01", "sato", "0x11", 2),
				logon(at(h), "SRV02", "suzuki", "0x10", 2),
				logon(at(2*h), "SRV01", "ito", "0x12", 2),
				logoff("4634", at(2*h+time.Minute), "SRV01", "ito", "0x12"),
				boot(tc.code, at(3*h), "SRV01", tc.provider),
				// Another provider's 6005 is no reboot (and 4608 stands alone).
				boot("6005", at(90*time.Minute), "SRV01", "SomeApp"),
			)
			res := find(t, s, "", at(-h), at(5*h), at(6*h))
			require.Equal(t, []brief{
				{"ito", "SRV01", "0x12", at(2 * h), at(2*h + time.Minute), "logoff"},
				{"sato", "SRV01", "0x11", at(h), at(3 * h), "reboot"},
				{"suzuki", "SRV02", "0x10", at(h), time.Time{}, "open"},
				{"tanaka", "SRV01", "0x10", at(0), at(3 * h), "reboot"},
			}, briefs(res))
			require.NotEmpty(t, res.Sessions[1].EndEvent, "the reboot event is named")
		})
	}
}

func TestLogonIDReusedAfterReboot(t *testing.T) {
	s := openStore(t,
		logon(at(0), "PC01", "tanaka", "0x3e4a1", 2),
		boot("6008", at(2*h), "PC01", "EventLog"),
		logon(at(3*h), "PC01", "sato", "0x3e4a1", 2),
		logoff("4634", at(4*h), "PC01", "sato", "0x3e4a1"),
	)
	res := find(t, s, "", at(-h), at(5*h), at(6*h))
	require.Equal(t, []brief{
		{"sato", "PC01", "0x3e4a1", at(3 * h), at(4 * h), "logoff"},
		{"tanaka", "PC01", "0x3e4a1", at(0), at(2 * h), "reboot"},
	}, briefs(res))
	// The filter loads tanaka's logon only: sato's logoff has another SID
	// and cannot end it.
	res = find(t, s, "user.name:tanaka", at(-h), at(5*h), at(6*h))
	require.Equal(t, []brief{{"tanaka", "PC01", "0x3e4a1", at(0), at(2 * h), "reboot"}}, briefs(res))

	// Without a reboot seen, a logoff pairs with the latest earlier logon of
	// its id still open.
	s = openStore(t,
		logon(at(0), "PC01", "tanaka", "0x77", 2),
		logon(at(3*h), "PC01", "tanaka", "0x77", 2),
		logoff("4634", at(4*h), "PC01", "tanaka", "0x77"),
	)
	res = find(t, s, "", at(-h), at(5*h), at(6*h))
	require.Equal(t, []brief{
		{"tanaka", "PC01", "0x77", at(3 * h), at(4 * h), "logoff"},
		{"tanaka", "PC01", "0x77", at(0), time.Time{}, "open"},
	}, briefs(res))
}

func TestUserLogoffThenLogoffIsOneSession(t *testing.T) {
	host := "PC-EIGYO-012.city.example.lg.jp"
	s := openStore(t,
		logon(at(0), host, "田中", "0x8a3f21c", 2),
		logoff("4647", at(8*h), host, "田中", "0x8a3f21c"),
		logoff("4634", at(8*h+2*time.Second), host, "田中", "0x8a3f21c"),
	)
	res := find(t, s, "user.name:田中", at(-h), at(24*h), at(48*h))
	require.Equal(t, []brief{{"田中", host, "0x8a3f21c", at(0), at(8 * h), "user_logoff"}}, briefs(res))
	line, err := json.Marshal(res.Sessions[0])
	require.NoError(t, err)
	require.Contains(t, string(line), `"name":"田中"`, "Japanese names are written as UTF-8, not escaped")
	require.Contains(t, string(line), `"end_reason":"user_logoff"`)
}

func TestEventsOutOfOrder(t *testing.T) {
	s := openStore(t,
		logoff("4634", at(2*h), "PC01", "tanaka", "0x20"),
		logoff("4634", at(30*time.Minute), "FS01", "tanaka", "0x21"),
	)
	// The logons arrive later (a backlog from the forwarder).
	index(t, s,
		logon(at(30*time.Minute), "FS01", "tanaka", "0x21", 3), // same millisecond as its logoff
		logon(at(h), "PC01", "tanaka", "0x20", 2),
	)
	res := find(t, s, "user.name:tanaka", at(-h), at(5*h), at(6*h), func(r *sessions.Request) { r.Types = sessions.TypeSet{} })
	require.Equal(t, []brief{
		{"tanaka", "PC01", "0x20", at(h), at(2 * h), "logoff"},
		{"tanaka", "FS01", "0x21", at(30 * time.Minute), at(30 * time.Minute), "logoff"},
	}, briefs(res))
}

func TestElevatedSplitLogonIsOneSession(t *testing.T) {
	s := openStore(t,
		logon(at(0), "PC01", "adm-suzuki", "0x5a1", 2, linked("0x5a2", false), withSource("127.0.0.1", "PC01", 0)),
		logon(at(0), "PC01", "adm-suzuki", "0x5a2", 2, linked("0x5a1", true), withSource("127.0.0.1", "PC01", 0)),
		logoff("4634", at(h), "PC01", "adm-suzuki", "0x5a2"),
		logoff("4634", at(h+10*time.Millisecond), "PC01", "adm-suzuki", "0x5a1"),
		// An ordinary user's logon is not elevated.
		logon(at(2*h), "PC01", "tanaka", "0x600", 2),
	)
	res := find(t, s, "", at(-h), at(5*h), at(6*h))
	require.Len(t, res.Sessions, 2)
	got := res.Sessions[1]
	require.Equal(t, "adm-suzuki", got.User.Name)
	require.Equal(t, "0x5a1", got.LogonID, "the standard token's logon leads")
	require.Equal(t, "0x5a2", got.LinkedLogonID)
	require.True(t, got.Elevated)
	require.Equal(t, at(h), got.End, "the first half to end ends the session")
	require.Equal(t, sessions.Logoff, got.EndReason)
	require.False(t, res.Sessions[0].Elevated)
	require.Empty(t, res.Sessions[0].LinkedLogonID)
}

func TestRDPDisconnectAndReconnectAreMarks(t *testing.T) {
	host := "RDS01.city.example.lg.jp"
	s := openStore(t,
		logon(at(0), host, "yamada.t", "0x1f7a0b3", 10, withSource("10.20.40.18", "RDS01", 61022)),
		rdp("4779", at(h), host, "yamada.t", "0x1f7a0b3", "PC-JOHO-002", "127.0.0.1"),
		rdp("4778", at(2*h), host, "yamada.t", "0x1f7a0b3", "PC-JOHO-007", "10.20.40.31"),
		logoff("4634", at(3*h), host, "yamada.t", "0x1f7a0b3"),
	)
	res := find(t, s, "user.name:yamada.t", at(-h), at(5*h), at(6*h))
	require.Len(t, res.Sessions, 1)
	got := res.Sessions[0]
	require.Equal(t, sessions.Logoff, got.EndReason)
	require.Equal(t, at(3*h), got.End)
	require.Len(t, got.Marks, 2)
	require.Equal(t, "session-disconnected", got.Marks[0].Action)
	require.Equal(t, at(h), got.Marks[0].Time)
	require.Equal(t, "session-reconnected", got.Marks[1].Action)
	require.Equal(t, sessions.Source{IP: "10.20.40.31", Domain: "PC-JOHO-007"}, got.Marks[1].Source)
	require.Equal(t, "RDP-Tcp#14", got.Marks[1].Session)
}

func TestSessionsCrossingTheRangeEdges(t *testing.T) {
	s := openStore(t,
		logon(at(-3*h), "PC01", "tanaka", "0x1", 2), // ends before the range
		logoff("4634", at(-2*h), "PC01", "tanaka", "0x1"),
		logon(at(-h), "PC01", "tanaka", "0x2", 2), // starts before, ends inside
		logoff("4634", at(30*time.Minute), "PC01", "tanaka", "0x2"),
		logon(at(-2*h), "PC02", "tanaka", "0x3", 2), // starts before, still open
		logon(at(3*h), "PC01", "tanaka", "0x4", 2),  // starts inside, ends after
		logoff("4634", at(10*h), "PC01", "tanaka", "0x4"),
		logon(at(4*h), "PC01", "tanaka", "0x5", 2), // starts at To: outside
		logoff("4634", at(5*h), "PC01", "tanaka", "0x5"),
		logon(at(-6*24*h), "PC03", "tanaka", "0x6", 2), // six days before, never ended
	)
	res := find(t, s, "user.name:tanaka", at(0), at(4*h), at(12*h))
	require.Equal(t, []brief{
		{"tanaka", "PC01", "0x4", at(3 * h), at(10 * h), "logoff"},
		{"tanaka", "PC01", "0x2", at(-h), at(30 * time.Minute), "logoff"},
		{"tanaka", "PC02", "0x3", at(-2 * h), time.Time{}, "open"},
		{"tanaka", "PC03", "0x6", at(-6 * 24 * h), time.Time{}, "open"},
	}, briefs(res))
}

func TestLogonTypes(t *testing.T) {
	var docs []store.Doc
	for i := range 50 {
		id := fmt.Sprintf("0x%x", 0x9c10000+i)
		docs = append(docs,
			logon(at(time.Duration(i)*time.Minute), "FS01.city.example.lg.jp", "sato", id, 3, withSource("10.20.40.18", "", 50000+i)),
			logoff("4634", at(time.Duration(i)*time.Minute+20*time.Millisecond), "FS01.city.example.lg.jp", "sato", id))
	}
	docs = append(docs,
		logon(at(30*time.Second), "FS01.city.example.lg.jp", "adm-suzuki", "0x77", 10),
		logon(at(40*time.Second), "FS01.city.example.lg.jp", "svc-backup", "0x78", 5),
	)
	s := openStore(t, docs...)
	res := find(t, s, "host.name:FS01*", at(-h), at(2*h), at(3*h))
	require.Equal(t, []brief{{"adm-suzuki", "FS01.city.example.lg.jp", "0x77", at(30 * time.Second), time.Time{}, "open"}}, briefs(res),
		"by default network and service logons are left out")

	types, err := sessions.ParseTypes("network")
	require.NoError(t, err)
	res = find(t, s, "host.name:FS01*", at(-h), at(2*h), at(3*h), func(r *sessions.Request) { r.Types = types })
	require.Len(t, res.Sessions, 50)
	for _, ss := range res.Sessions {
		require.Equal(t, sessions.Logoff, ss.EndReason)
		require.Equal(t, 20*time.Millisecond, ss.Duration())
		require.Equal(t, sessions.Network, ss.LogonType)
	}

	types, err = sessions.ParseTypes("all")
	require.NoError(t, err)
	res = find(t, s, "host.name:FS01*", at(-h), at(2*h), at(3*h), func(r *sessions.Request) { r.Types = types })
	require.Len(t, res.Sessions, 52)
}

func TestLimitTruncates(t *testing.T) {
	var docs []store.Doc
	for i := range 5 {
		id := fmt.Sprintf("0x%x", 0x100+i)
		docs = append(docs, logon(at(time.Duration(i)*h), "PC01", "tanaka", id, 2),
			logoff("4634", at(time.Duration(i)*h+30*time.Minute), "PC01", "tanaka", id))
	}
	s := openStore(t, docs...)
	res := find(t, s, "", at(-h), at(10*h), at(11*h), func(r *sessions.Request) { r.Limit = 2 })
	require.True(t, res.Truncated)
	require.Equal(t, []brief{
		{"tanaka", "PC01", "0x104", at(4 * h), at(4*h + 30*time.Minute), "logoff"},
		{"tanaka", "PC01", "0x103", at(3 * h), at(3*h + 30*time.Minute), "logoff"},
	}, briefs(res))
	res = find(t, s, "", at(-h), at(10*h), at(11*h), func(r *sessions.Request) { r.Limit = 5 })
	require.False(t, res.Truncated)
	require.Len(t, res.Sessions, 5)
}

// TestWinlogbeatGoldens pairs the parser's own golden output: the 4624 and
// 4647 of 田中 on PC-EIGYO-012, and yamada.t's RDP logon on RDS01 with its
// disconnect and reconnect (all stamped at the same instant).
func TestWinlogbeatGoldens(t *testing.T) {
	var docs []store.Doc
	for i, name := range []string{"4624_interactive_ja_rendered", "4647_user_initiated_logoff",
		"4624_remote_interactive", "4779_session_disconnected", "4778_session_reconnected", "4634_logoff"} {
		b, err := os.ReadFile(filepath.Join("..", "parsers", "winevent", "testdata", "eventxml", name, "expected.json"))
		require.NoError(t, err)
		docs = append(docs, store.Doc{ID: fmt.Sprintf("golden%d", i), Source: b})
	}
	s := openStore(t, docs...)
	from := time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)
	res := find(t, s, "user.name:田中", from, from.Add(24*h), from.Add(48*h))
	require.Len(t, res.Sessions, 1)
	got := res.Sessions[0]
	require.Equal(t, "PC-EIGYO-012.city.example.lg.jp", got.Host)
	require.Equal(t, "0x8a3f21c", got.LogonID)
	require.Equal(t, sessions.Interactive, got.LogonType)
	require.Equal(t, sessions.UserLogoff, got.EndReason)
	require.Equal(t, "営業部", got.User.Domain)
	require.Equal(t, time.Date(2025, 1, 15, 9, 5, 41, 731102600, time.UTC), got.End)
	require.Equal(t, "golden1", got.EndEvent)

	res = find(t, s, "host.name:RDS01*", from, from.Add(24*h), from.Add(48*h))
	require.Len(t, res.Sessions, 1)
	got = res.Sessions[0]
	require.Equal(t, "yamada.t", got.User.Name)
	require.Equal(t, "0x1f7a0b3", got.LogonID)
	require.Equal(t, sessions.RemoteInteractive, got.LogonType)
	require.Equal(t, sessions.Source{IP: "10.20.40.18", Domain: "RDS01", Port: 61022}, got.Source)
	require.Len(t, got.Marks, 2)
	require.Equal(t, sessions.Open, got.EndReason, "no logoff yet, and younger than the maximum")
}

func TestResolve(t *testing.T) {
	now := at(0)
	loc, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	req, err := sessions.Resolve(sessions.Params{Query: "user.name:tanaka", From: "2026-11-26", To: "2026-11-27"}, now, loc, sessions.Defaults{MaxDuration: 24 * h})
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC), req.From.UTC(), "dates are midnight in the configured zone")
	require.Equal(t, 24*h, req.MaxDuration)
	require.Equal(t, sessions.DefaultTypes, req.Types)
	require.Equal(t, sessions.DefaultLimit, req.Limit)

	req, err = sessions.Resolve(sessions.Params{Types: "interactive, RemoteInteractive,3"}, now, loc, sessions.Defaults{})
	require.NoError(t, err)
	require.Equal(t, sessions.TypeSet{sessions.Interactive, sessions.RemoteInteractive, sessions.Network}, req.Types)
	require.Equal(t, sessions.DefaultMaxDuration, req.MaxDuration)
	require.Nil(t, req.Filter, "an empty query reads every logon")

	for _, tc := range []struct {
		p    sessions.Params
		want string
	}{
		{sessions.Params{Query: "user.name:(tanaka"}, "kql"},
		{sessions.Params{Types: "interactive,console"}, `logon type "console"`},
		{sessions.Params{Limit: 10001}, "limit 10001"},
		{sessions.Params{From: "now", To: "now-1h"}, "must be before"},
		{sessions.Params{From: "yesterday"}, "from:"},
	} {
		_, err := sessions.Resolve(tc.p, now, loc, sessions.Defaults{})
		require.ErrorIs(t, err, sessions.ErrBadRequest)
		require.ErrorContains(t, err, tc.want)
	}
}
