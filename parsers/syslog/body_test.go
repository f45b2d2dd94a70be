package syslog_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/syslog"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// fakeBody recognises bodies starting with "FAKE " and records what it got.
type fakeBody struct {
	got []string
	loc *time.Location
	err error
}

func (f *fakeBody) MatchBody(msg string) bool { return strings.HasPrefix(msg, "FAKE ") }

func (f *fakeBody) ParseBody(msg string, loc *time.Location, e *event.Event) error {
	f.got = append(f.got, msg)
	f.loc = loc
	if f.err != nil {
		e.Message = "partial" // must not leak into the fallback event
		return f.err
	}
	e.Timestamp = time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)
	e.Message = "from body"
	e.Event.Kind = "event"
	e.Log = &event.Log{Level: "information"}
	return nil
}

func TestBodyParserHook(t *testing.T) {
	fb := &fakeBody{}
	p, err := syslog.New(syslog.Config{Location: "UTC"}, syslog.WithBodyParsers(fb))
	require.NoError(t, err)

	// An ordinary message does not reach the body parser.
	var plain event.Event
	require.NoError(t, p.Parse([]byte("<38>Jan 15 10:00:00 web01 sshd[1234]: Failed password"), testMeta, &plain))
	require.Empty(t, fb.got)
	require.Equal(t, "Failed password", plain.Message)

	// A recognised body becomes the body's event plus the syslog facts.
	line := `<38>1 2025-01-15T10:00:00+09:00 web01 agent 77 - [meta seq="5"] FAKE payload`
	var e event.Event
	require.NoError(t, p.Parse([]byte(line), testMeta, &e))
	require.Equal(t, []string{"FAKE payload"}, fb.got)
	require.Equal(t, time.UTC, fb.loc)
	require.Equal(t, "from body", e.Message)
	require.Equal(t, time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC), e.Timestamp)
	require.Equal(t, line, e.Event.Original)
	require.Equal(t, "information", e.Log.Level)
	require.Equal(t, "web01", e.Log.Syslog.Hostname)
	require.Equal(t, "agent", e.Log.Syslog.Appname)
	require.Equal(t, int64(38), *e.Log.Syslog.Priority)
	require.Equal(t, "web01", e.Host.Name, "syslog hostname when the body names no host")
	require.Equal(t, "5", e.Fields["log.syslog.structured_data.meta.seq"])
	require.Nil(t, e.Process, "the sender's process is the agent's, not the event's")

	// A body the parser cannot read stays an ordinary syslog event, tagged.
	fb.err = winevent.NewSnareParser(nil).Parse([]byte("MSWinEventLog\tx"), parsers.Meta{}, &event.Event{})
	require.Error(t, fb.err)
	var bad event.Event
	require.NoError(t, p.Parse([]byte(line), testMeta, &bad))
	require.Equal(t, "FAKE payload", bad.Message)
	require.Equal(t, []string{syslog.TagBodyParseFailure}, bad.Tags)
	require.Equal(t, fb.err.Error(), bad.Fields["error.message"])
	require.Equal(t, "syslog", bad.Event.Dataset)
}

// FuzzBody checks the body path: with the Windows body reader wired in,
// Parse never panics, errors wrap parsers.ErrUnparsable, every event keeps
// the whole message as event.original, encodes, and holds valid UTF-8.
func FuzzBody(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "windows_*", "input.txt"))
	for _, path := range paths {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(bytes.TrimSuffix(b, []byte("\n")))
	}
	f.Add([]byte("<13>Jan 15 09:12:35 DC01 MSWinEventLog|1|Security|1|Wed Jan 15 09:12:34 2025|4624|x|N/A|N/A|Success Audit|PC|Logon||Subject:  Account Name:  a|0"))
	f.Add([]byte(`<14>1 - h a - - - {"EventID":4624,"EventTime":"2025-01-15 09:12:34"}`))
	p, err := syslog.New(syslog.DefaultConfig(), syslog.WithBodyParsers(winevent.NewSyslogBody()))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var e event.Event
		if err := p.Parse(raw, testMeta, &e); err != nil {
			require.ErrorIs(t, err, parsers.ErrUnparsable)
			return
		}
		require.NotEmpty(t, e.Event.Original)
		require.NotNil(t, e.Log)
		require.NotNil(t, e.Log.Syslog, "syslog facts kept")
		_, err := event.Marshal(&e)
		require.NoError(t, err)
		require.True(t, utf8.ValidString(e.Message))
		for k, v := range e.Fields {
			if s, ok := v.(string); ok {
				require.True(t, utf8.ValidString(s), "invalid UTF-8 in %s", k)
			}
		}
	})
}
