package winevent_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/japanese"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/parsertest"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// tokyo is the senders' zone in the Snare fixtures.
var tokyo = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return loc
}()

func readSnare(t *testing.T, dir string) ([]byte, parsers.Meta) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "input.txt"))
	require.NoError(t, err)
	return bytes.TrimSuffix(raw, []byte("\n")), testMeta
}

// TestSnareGolden parses every testdata/snare/<case>/input.txt (one Snare
// record, as the agent sends it) and compares the event with expected.json,
// or the error with expected.err.
func TestSnareGolden(t *testing.T) {
	parsertest.Golden(t, winevent.NewSnareParser(tokyo), "testdata/snare", *update, readSnare)
}

// TestSnareAgreesWithXML checks the point of reading EventData back from
// the rendered message: for every Snare fixture rendered from an Event XML
// fixture (same case name), the fields detection rules use come out as
// they do from the XML.
func TestSnareAgreesWithXML(t *testing.T) {
	compared := []string{
		"@timestamp", "event.code", "event.action", "event.outcome", "event.category", "event.type",
		"host.name", "user.name", "user.domain", "user.id", "user.target.name", "user.target.id",
		"user.target.domain", "user.effective.name", "source.ip", "source.port", "source.domain",
		"process.pid", "process.name", "service.name", "related.user", "related.ip",
		"winlog.logon.type", "winlog.logon.id", "winlog.logon.failure.status",
		"winlog.logon.failure.sub_status", "winlog.event_data.TargetLogonId",
		"winlog.event_data.SubjectUserName", "winlog.event_data.TargetUserName",
		"winlog.event_data.Status", "winlog.event_data.StatusDescription",
		"winlog.event_data.TicketOptionsDescription", "winlog.event_data.TicketEncryptionTypeDescription",
		"winlog.event_data.PrivilegeList", "winlog.event_data.NewUACList",
	}
	xmlDirs, err := filepath.Glob(filepath.Join("testdata", "eventxml", "4*"))
	require.NoError(t, err)
	n := 0
	for _, xdir := range xmlDirs {
		base := strings.NewReplacer("_ja_rendered", "", "_ja", "").Replace(filepath.Base(xdir))
		for _, suffix := range []string{"", "_ja"} {
			sdir := filepath.Join("testdata", "snare", base+suffix)
			if _, err := os.Stat(sdir); err != nil {
				continue
			}
			n++
			t.Run(filepath.Base(sdir), func(t *testing.T) {
				xraw := readGolden(t, xdir)
				var xe event.Event
				require.NoError(t, winevent.NewXMLParser().Parse(xraw, testMeta, &xe))
				sraw, _ := readSnare(t, sdir)
				var se event.Event
				require.NoError(t, winevent.NewSnareParser(tokyo).Parse(sraw, testMeta, &se))
				for _, name := range compared {
					xv, xok := xe.Get(name)
					sv, sok := se.Get(name)
					if name == "@timestamp" { // Snare's submit time has whole seconds
						xv = xe.Timestamp.Truncate(time.Second)
					}
					if name == "winlog.event_data.PrivilegeList" && !xok {
						continue
					}
					if name == "event.action" && (xe.Event.Code == "4800" || xe.Event.Code == "4801") {
						continue // the rendered task name, in the language of each fixture
					}
					if x, ok := xv.(string); ok && strings.HasPrefix(x, "0x") {
						xv = strings.ToLower(x) // Snare renders hex as Windows prints it; EventData is lower case
					}
					require.Equal(t, xok, sok, "%s present in XML: %v, in Snare: %v (%v)", name, xok, sok, sv)
					require.Equal(t, xv, sv, name)
				}
			})
		}
	}
	require.Greater(t, n, 40, "Snare fixtures compared with XML")
}

func TestParseSnareRecord(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "snare", "4625_bad_password_ja", "input.txt"))
	require.NoError(t, err)
	rec, err := winevent.ParseSnare(raw, tokyo)
	require.NoError(t, err)
	require.Equal(t, uint32(4625), rec.EventID)
	require.Equal(t, "Security", rec.Channel)
	require.Equal(t, "FS01.city.example.lg.jp", rec.Computer)
	require.Equal(t, "ログオン", rec.TaskText)
	require.Equal(t, time.Date(2025, 1, 15, 0, 12, 34, 0, time.UTC), rec.TimeCreated.UTC())
	for name, want := range map[string]string{
		"TargetUserName": "田中", "TargetDomainName": "営業部", "LogonType": "3",
		"IpAddress": "10.20.12.34", "IpPort": "49812", "WorkstationName": "PC-EIGYO-012",
		"Status": "0xc000006d", "SubStatus": "0xc000006a", "SubjectLogonId": "0x0",
	} {
		got, ok := rec.Data(name)
		require.True(t, ok, name)
		require.Equal(t, want, got, name)
	}
	// The Japanese failure reason is not mapped back to its code: absent,
	// not guessed.
	_, ok := rec.Data("FailureReason")
	require.False(t, ok)

	// The same record in Shift_JIS, as Snare on a Japanese host may send it.
	sjis, err := japanese.ShiftJIS.NewEncoder().Bytes(raw)
	require.NoError(t, err)
	rec2, err := winevent.ParseSnare(sjis, tokyo)
	require.NoError(t, err)
	require.Equal(t, rec, rec2)
}

func TestParseSnareLayouts(t *testing.T) {
	const desc = "An account was logged off.    Subject:   Security ID:  S-1-5-21-1-2-3-1001   Account Name:  sato.k   Account Domain:  CITY   Logon ID:  0x9C1D77E    Logon Type:   3    This event is generated when a logon session is destroyed."
	head := "MSWinEventLog\t0\tSecurity\t7\tWed Jan  8 09:12:34 2025\t4634\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tSuccess Audit\tPC01\tLogoff\t"
	for name, tc := range map[string]struct {
		line, msg string
	}{
		"expanded string, counter":      {head + "\t" + desc + "\t812", desc},
		"expanded string, no counter":   {head + "\t" + desc, desc},
		"data string only, counter":     {head + desc + "\t812", desc},
		"both strings, expanded wins":   {head + "legacy data\t" + desc + "\t812", desc},
		"md5 and optional fields":       {head + "\t" + desc + "\t0123456789abcdef0123456789ABCDEF\tEventSourceId=AU_1\tSite=tokyo", desc},
		"line ends kept by a relay":     {head + "\tAn account was logged off.\r\n\r\nSubject:\r\n\tAccount Name:\t\tsato.k\r\n\tLogon ID:\t\t0x9C1D77E\r\n\r\nLogon Type:\t\t\t3\t812", ""},
		"semicolon delimiter":           {strings.ReplaceAll(head, "\t", ";") + ";" + desc + ";812", desc},
		"CR LF framing":                 {head + "\t" + desc + "\t812\r\n", desc},
		"hostname prefix, zero-pad day": {"PC01\t" + strings.Replace(head, "Jan  8", "Jan 08", 1) + "\t" + desc + "\t812", desc},
		"no description":                {strings.TrimSuffix(head, "\t"), ""},
	} {
		t.Run(name, func(t *testing.T) {
			rec, err := winevent.ParseSnare([]byte(tc.line), tokyo)
			require.NoError(t, err)
			if tc.msg != "" {
				require.Equal(t, tc.msg, rec.Message)
			}
			require.Equal(t, time.Date(2025, 1, 8, 0, 12, 34, 0, time.UTC), rec.TimeCreated.UTC())
			require.Equal(t, "PC01", rec.Computer)
			if name == "no description" {
				require.Empty(t, rec.EventData)
				return
			}
			got := map[string]string{}
			for _, p := range rec.EventData {
				got[p.Name] = p.Value
			}
			require.Equal(t, "sato.k", got["TargetUserName"])
			require.Equal(t, "0x9c1d77e", got["TargetLogonId"])
			require.Equal(t, "3", got["LogonType"])
		})
	}
}

// TestSnareValuesNotGuessed checks values that do not render the EventData
// unchanged are left out.
func TestSnareValuesNotGuessed(t *testing.T) {
	line := "MSWinEventLog\t1\tSecurity\t7\tWed Jan 15 09:12:34 2025\t4625\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tFailure Audit\tPC01\tLogon\t\t" +
		"An account failed to log on.    Subject:   Security ID:  NULL SID   Account Name:  -    " +
		"Account For Which Logon Failed:   Security ID:  CITY\\sato.k   Account Name:  sato.k    " +
		"Failure Information:   Failure Reason:  Some reason this parser does not know.   Status:   0xC000006D    " +
		"Network Information:   Workstation Name:   Source Network Address: -   Source Port:  -\t9"
	rec, err := winevent.ParseSnare([]byte(line), tokyo)
	require.NoError(t, err)
	require.Equal(t, []winevent.Pair{
		{Name: "SubjectUserName", Value: "-"},
		{Name: "TargetUserName", Value: "sato.k"},
		{Name: "Status", Value: "0xc000006d"},
		{Name: "IpAddress", Value: "-"},
		{Name: "IpPort", Value: "-"},
	}, rec.EventData)
}

func TestSnareParserErrors(t *testing.T) {
	p := winevent.NewSnareParser(nil)
	for _, raw := range []string{"", "MSWinEventLog", "\xff\xfe\x00", "x\tMSWinEventLog\t1"} {
		var e event.Event
		err := p.Parse([]byte(raw), testMeta, &e)
		require.Error(t, err, "%q", raw)
		require.ErrorIs(t, err, parsers.ErrUnparsable)
		require.Contains(t, err.Error(), "snare")
	}
}

// FuzzSnare checks that ParseSnare and ToECS never panic, that every error
// wraps parsers.ErrUnparsable, and that every event they make has a
// timestamp, encodes, and holds only valid UTF-8 strings.
func FuzzSnare(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "snare", "*", "input.txt"))
	for _, path := range paths {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		rec, err := winevent.ParseSnare(raw, tokyo)
		if err != nil {
			require.ErrorIs(t, err, parsers.ErrUnparsable)
			return
		}
		var e event.Event
		if err := winevent.ToECS(*rec, &e); err != nil {
			require.ErrorIs(t, err, parsers.ErrUnparsable)
			return
		}
		require.False(t, e.Timestamp.IsZero(), "zero @timestamp")
		_, err = event.Marshal(&e)
		require.NoError(t, err)
		for k, v := range e.Fields {
			switch x := v.(type) {
			case string:
				require.True(t, utf8.ValidString(x), "invalid UTF-8 in %s", k)
			case []string:
				for _, s := range x {
					require.True(t, utf8.ValidString(s), "invalid UTF-8 in %s", k)
				}
			}
		}
	})
}

// BenchmarkParseSnare4624 measures a Snare 4624 record to ECS (parse,
// read EventData from the description, map, keep event.original).
func BenchmarkParseSnare4624(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "snare", "4624_network_ntlm", "input.txt"))
	require.NoError(b, err)
	p := winevent.NewSnareParser(tokyo)
	var e event.Event
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		e = event.Event{}
		if err := p.Parse(raw, testMeta, &e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
