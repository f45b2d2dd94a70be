package winevent_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/parsertest"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// kafkaMeta is what the parse stage stamps on a record another shipper wrote
// to Kafka: the topic as receiver, Kafka's time as the receive time.
var kafkaMeta = parsers.Meta{
	Received:  time.Date(2025, 1, 15, 0, 12, 36, 0, time.UTC),
	Receiver:  "winlogbeat",
	Transport: "kafka",
}

func readJSONGolden(t *testing.T, dir string) ([]byte, parsers.Meta) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "input.json"))
	require.NoError(t, err)
	return raw, kafkaMeta
}

// TestGoldenWinlogbeat parses every testdata/winlogbeat/<case>/input.json
// and compares the event with expected.json, or the error with expected.err.
func TestGoldenWinlogbeat(t *testing.T) {
	parsertest.Golden(t, winevent.NewWinlogbeatParser(), "testdata/winlogbeat", *update, readJSONGolden)
}

// TestParseWinlogbeatRecord checks the Record ParseWinlogbeat reads: event
// data in document order, the audit bit from event.outcome, numeric ids in
// either spelling.
func TestParseWinlogbeatRecord(t *testing.T) {
	for _, c := range []string{"4625_unknown_user", "4625_unknown_user_7x"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "winlogbeat", c, "input.json"))
		require.NoError(t, err)
		rec, err := winevent.ParseWinlogbeat(raw)
		require.NoError(t, err, c)
		require.Equal(t, uint32(4625), rec.EventID, c)
		require.NotZero(t, rec.RecordID, c)
		require.Equal(t, uint64(0x10000000000000), rec.Keywords, c)
		require.Equal(t, "SubjectUserSid", rec.EventData[0].Name, c)
		require.Equal(t, "Security", rec.Channel, c)
		require.Equal(t, time.Date(2025, 1, 15, 0, 12, 34, 567000000, time.UTC), rec.TimeCreated, c)
	}
}

// TestWinlogbeatTimeCreated checks that winlog.time_created, when a
// document carries it, wins over the millisecond @timestamp.
func TestWinlogbeatTimeCreated(t *testing.T) {
	rec, err := winevent.ParseWinlogbeat([]byte(`{"@timestamp":"2025-01-15T00:12:34.567Z","winlog":{"event_id":"4634","time_created":"2025-01-15T00:12:34.5678901Z"}}`))
	require.NoError(t, err)
	require.Equal(t, time.Date(2025, 1, 15, 0, 12, 34, 567890100, time.UTC), rec.TimeCreated)
}

// TestWinlogbeatKeepsShipperFields checks what Winlogbeat set beyond the
// Record: host.* from add_host_metadata, and nothing of agent.*.
func TestWinlogbeatKeepsShipperFields(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "winlogbeat", "4624_network_ntlm", "input.json"))
	require.NoError(t, err)
	var e event.Event
	require.NoError(t, winevent.NewWinlogbeatParser().Parse(raw, kafkaMeta, &e))
	require.Equal(t, "fs01", e.Host.Name)
	require.Equal(t, []string{"fe80::e2f:4b8a:8c6d:1f3e", "10.20.1.21"}, e.Host.IP)
	require.Equal(t, "Windows Server 2019 Standard", e.Fields["host.os.name"])
	require.Equal(t, "FS01.city.example.lg.jp", e.Fields["winlog.computer_name"])
	require.Equal(t, "wineventlog", e.Fields["winlog.api"])
	require.Nil(t, e.Agent)
	for k := range e.Fields {
		require.NotContains(t, k, "agent.", k)
	}
	require.Equal(t, string(raw), e.Event.Original)
}

// TestWinlogbeatEscapes checks JSON string escapes, surrogate pairs and
// lone surrogates in the values ParseWinlogbeat reads.
func TestWinlogbeatEscapes(t *testing.T) {
	rec, err := winevent.ParseWinlogbeat([]byte(`{"@timestamp":"2025-01-15T00:12:34.567Z","message":"a\tb\nc\\d\"e\/f\u00e9\u7530\u4e2d\ud83d\ude00\ud800x\r\n",` +
		`"winlog":{"event_id":"4624","event_data":{"TargetUserName":"\u7530\u4e2d","N":12,"B":true,"Z":null}}}`))
	require.NoError(t, err)
	require.Equal(t, "a\tb\nc\\d\"e/fé田中😀\uFFFDx\r\n", rec.Message)
	require.Equal(t, []winevent.Pair{{Name: "TargetUserName", Value: "田中"}, {Name: "N", Value: "12"}, {Name: "B", Value: "true"}}, rec.EventData)
}

// TestWinlogbeatNumbers checks numbers written as JSON numbers or strings:
// decimal strings stay decimal even with a leading zero, 0x is hex.
func TestWinlogbeatNumbers(t *testing.T) {
	rec, err := winevent.ParseWinlogbeat([]byte(`{"@timestamp":"2025-01-15T00:12:34.567Z","winlog":{"event_id":"04624","record_id":"0123","version":"0x2","process":{"pid":"684","thread":{"id":2212}}}}`))
	require.NoError(t, err)
	require.Equal(t, uint32(4624), rec.EventID)
	require.Equal(t, uint64(123), rec.RecordID)
	require.Equal(t, uint8(2), rec.Version)
	require.Equal(t, uint32(684), rec.ProcessID)
	require.Equal(t, uint32(2212), rec.ThreadID)
	for _, kw := range []string{`-9214364837600034816`, `"-9214364837600034816"`, `"0x8020000000000000"`, `9232379236109516800`} {
		rec, err := winevent.ParseNXLog([]byte(`{"EventTime":"2025-01-15 09:12:34","EventID":4624,"Keywords":` + kw + `}`))
		require.NoError(t, err, kw)
		require.Equal(t, uint64(0x8020000000000000), rec.Keywords, kw)
	}
}

// TestWinlogbeatOutcomeFromKeywords checks that a document without
// event.outcome takes the audit outcome from the keyword names in
// winlog.keywords, English or Japanese, and that event.outcome, when
// present, wins over them.
func TestWinlogbeatOutcomeFromKeywords(t *testing.T) {
	for _, c := range []struct {
		name, event, keywords, want string
		bits                        uint64
	}{
		{"success", ``, `["Audit Success"]`, "success", 0x20000000000000},
		{"failure", ``, `["Audit Failure"]`, "failure", 0x10000000000000},
		{"japanese success", ``, `["成功の監査"]`, "success", 0x20000000000000},
		{"japanese failure", ``, `["失敗の監査"]`, "failure", 0x10000000000000},
		{"other keywords", ``, `["Classic"]`, "", 0},
		{"no keywords", ``, `null`, "", 0},
		{"event.outcome wins", `"event":{"outcome":"success"},`, `["Audit Failure"]`, "success", 0x20000000000000},
		{"event.outcome wins, japanese", `"event":{"outcome":"failure"},`, `["成功の監査"]`, "failure", 0x10000000000000},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := []byte(`{"@timestamp":"2025-01-15T00:12:34.567Z",` + c.event +
				`"winlog":{"channel":"Security","provider_name":"Microsoft-Windows-Security-Auditing","event_id":"4625","keywords":` + c.keywords + `}}`)
			rec, err := winevent.ParseWinlogbeat(raw)
			require.NoError(t, err)
			require.Equal(t, c.bits, rec.Keywords)

			var e event.Event
			require.NoError(t, winevent.NewWinlogbeatParser().Parse(raw, kafkaMeta, &e))
			require.Equal(t, c.want, e.Event.Outcome)
		})
	}
}
