package winevent_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// addJSONSeeds seeds f with every input.json under testdata/<root>.
func addJSONSeeds(f *testing.F, root string) {
	paths, err := filepath.Glob(filepath.Join("testdata", root, "*", "input.json"))
	require.NoError(f, err)
	require.NotEmpty(f, paths)
	for _, path := range paths {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(b)
	}
}

// fuzzParse runs p on raw and checks the contract: no panic, errors wrap
// parsers.ErrUnparsable, and an event has a timestamp, encodes, and holds
// only valid UTF-8 and the types the event model allows.
//
// The JSON reader is checked against encoding/json: it must accept what it
// parses and reject what it calls bad or truncated JSON.
func fuzzParse(t *testing.T, p parsers.Parser, raw []byte) {
	var e event.Event
	err := p.Parse(raw, kafkaMeta, &e)
	plain := utf8.Valid(raw) && !bytes.HasPrefix(raw, []byte("\uFEFF"))
	if err != nil {
		require.ErrorIs(t, err, parsers.ErrUnparsable)
		if plain && isSyntaxError(err) {
			require.False(t, json.Valid(raw), "valid JSON rejected: %v", err)
		}
		return
	}
	if plain {
		require.True(t, json.Valid(raw), "invalid JSON accepted")
	}
	require.False(t, e.Timestamp.IsZero(), "zero @timestamp")
	_, err = event.Marshal(&e)
	require.NoError(t, err)
	require.True(t, utf8.ValidString(e.Message), "invalid UTF-8 in message")
	for k, v := range e.Fields {
		require.True(t, utf8.ValidString(k), "invalid UTF-8 in name %q", k)
		switch x := v.(type) {
		case string:
			require.True(t, utf8.ValidString(x), "invalid UTF-8 in %s", k)
		case []string:
			for _, s := range x {
				require.True(t, utf8.ValidString(s), "invalid UTF-8 in %s", k)
			}
		case int64, float64, bool:
		default:
			t.Fatalf("field %s has type %T", k, v)
		}
	}
}

// FuzzWinlogbeat checks the Winlogbeat parser's contract on any input.
func FuzzWinlogbeat(f *testing.F) {
	addJSONSeeds(f, "winlogbeat")
	f.Add([]byte(`{"@timestamp":"2025-01-15T00:12:34Z","winlog":{"event_id":4624,"event_data":{"a":"\ud800","b":null,"c":1e3},"user_data":{"x":{"y":true}}}}`))
	p := winevent.NewWinlogbeatParser()
	f.Fuzz(func(t *testing.T, raw []byte) { fuzzParse(t, p, raw) })
}
