package winevent_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers/parsertest"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// TestGoldenNXLog parses every testdata/nxlog/<case>/input.json and
// compares the event with expected.json, or the error with expected.err.
func TestGoldenNXLog(t *testing.T) {
	parsertest.Golden(t, winevent.NewNXLogParser(), "testdata/nxlog", *update, readJSONGolden)
}

// TestNXLogEventTime checks the EventTime spellings: without a zone in the
// parser's location (JST by default), with a zone as written.
func TestNXLogEventTime(t *testing.T) {
	doc := func(ts string) []byte {
		return []byte(`{"EventTime":"` + ts + `","EventID":4634,"Channel":"Security"}`)
	}
	want := time.Date(2025, 1, 15, 0, 12, 34, 0, time.UTC)
	for ts, w := range map[string]time.Time{
		"2025-01-15 09:12:34":              want,
		"2025-01-15T09:12:34":              want,
		"2025-01-15 09:12:34.250000":       want.Add(250 * time.Millisecond),
		"2025-01-15T09:12:34.250000+09:00": want.Add(250 * time.Millisecond),
		"2025-01-15T00:12:34Z":             want,
	} {
		rec, err := winevent.ParseNXLog(doc(ts))
		require.NoError(t, err, ts)
		require.Equal(t, w, rec.TimeCreated, ts)
	}
	// A configured location decides for times without a zone only.
	p := &winevent.NXLogParser{Location: time.UTC}
	var e event.Event
	require.NoError(t, p.Parse(doc("2025-01-15 09:12:34"), kafkaMeta, &e))
	require.Equal(t, want.Add(9*time.Hour), e.Timestamp)
	rec, err := winevent.ParseNXLogIn(doc("2025-01-15T09:12:34+09:00"), time.UTC)
	require.NoError(t, err)
	require.Equal(t, want, rec.TimeCreated)
}

// TestParseNXLogRecord checks the Record ParseNXLog reads: System fields
// from NXLog's names, NXLog's own fields dropped, event data in document
// order, the negative Keywords as the 64-bit mask.
func TestParseNXLogRecord(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "nxlog", "4624_network_ntlm", "input.json"))
	require.NoError(t, err)
	rec, err := winevent.ParseNXLog(raw)
	require.NoError(t, err)
	require.Equal(t, uint64(0x8020000000000000), rec.Keywords)
	require.Equal(t, uint32(4624), rec.EventID)
	require.Equal(t, uint16(12544), rec.Task)
	require.Equal(t, uint8(4), rec.Level)
	require.Equal(t, "Logon", rec.TaskText)
	require.Equal(t, "FS01.city.example.lg.jp", rec.Computer)
	require.Equal(t, "SubjectUserSid", rec.EventData[0].Name)
	require.Equal(t, "ElevatedToken", rec.EventData[len(rec.EventData)-1].Name)
	for _, p := range rec.EventData {
		require.NotContains(t, []string{"EventReceivedTime", "SourceModuleName", "SourceModuleType", "Severity"}, p.Name)
	}
	require.Contains(t, rec.Message, "\r\n", "the message is kept as sent")
}

// TestNXLogAccount checks that NXLog's resolved account of System/Security
// lands where Winlogbeat puts it.
func TestNXLogAccount(t *testing.T) {
	var e event.Event
	require.NoError(t, winevent.NewNXLogParser().Parse([]byte(`{"EventTime":"2025-01-15 09:12:34","Hostname":"DC01.city.example.lg.jp",`+
		`"EventType":"INFO","SeverityValue":2,"EventID":7036,"SourceName":"Service Control Manager","Channel":"System",`+
		`"Domain":"NT AUTHORITY","AccountName":"SYSTEM","UserID":"S-1-5-18","AccountType":"Well Known Group",`+
		`"param1":"Windows Update","param2":"running","EventReceivedTime":"2025-01-15 09:12:35"}`), kafkaMeta, &e))
	require.Equal(t, "S-1-5-18", e.Fields["winlog.user.identifier"])
	require.Equal(t, "SYSTEM", e.Fields["winlog.user.name"])
	require.Equal(t, "NT AUTHORITY", e.Fields["winlog.user.domain"])
	require.Equal(t, "Well Known Group", e.Fields["winlog.user.type"])
	require.Equal(t, "Windows Update", e.Fields["winlog.event_data.param1"])
	require.Empty(t, e.Event.Outcome)
}

// TestJSONGrammar checks the JSON reader against encoding/json on inputs
// near the edges of the grammar: it must reject exactly what is not JSON.
// The values go under a key the Winlogbeat parser skips, so that only the
// grammar decides.
func TestJSONGrammar(t *testing.T) {
	const head = `{"@timestamp":"2025-01-15T00:12:34Z","winlog":{"event_id":4634},"x":`
	var docs []string
	for _, v := range []string{
		`[]`, `{}`, `-0.5e+3`, `"\u00e9\/\ud83d\ude00"`, `[1,[2,{"f":null}]]`, `true`, `false`, `0`,
		`01`, `-`, `1.`, `1e`, `1e+`, `tru`, `nul`, `"\x"`, `"\u12"`, `"\u12g4"`, `[1,]`, `[1 2]`,
		`{,}`, `{"b"}`, `{"b":}`, `{"b":1,}`, `"` + "\x01" + `"`, `+1`, `.5`, `"x`, ``, `[`, `{"b":[}`,
		strings.Repeat("[", 70) + strings.Repeat("]", 70),
	} {
		docs = append(docs, head+v+`}`)
	}
	docs = append(docs, head+`1} x`, head+`1}}`, head+`1,}`, head+`1 "y":2}`, `{"a" 1}`, `{,}`, `{"a":1`)
	for _, doc := range docs {
		_, err := winevent.ParseWinlogbeat([]byte(doc))
		bad := isSyntaxError(err)
		if json.Valid([]byte(doc)) {
			// Valid JSON may be refused for its depth, never as bad syntax.
			if err != nil {
				require.Contains(t, err.Error(), "nested deeper", doc)
			}
			continue
		}
		require.True(t, bad, "%s: accepted or wrong error: %v", doc, err)
	}
}

// isSyntaxError reports an error that says the input is not JSON.
func isSyntaxError(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "bad JSON") || strings.Contains(msg, "truncated JSON") || strings.Contains(msg, "data after the JSON object")
}
