package winevent_test

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// FuzzParseXML checks that ParseXML and ToECS never panic, that every error
// wraps parsers.ErrUnparsable, and that every event they make has a
// timestamp, encodes, and holds only valid UTF-8 strings.
func FuzzParseXML(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "eventxml", "*", "input.xml"))
	for _, path := range paths {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(sample))
	f.Add([]byte("\xff\xfe<\x00E\x00"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rec, err := winevent.ParseXML(raw)
		if err != nil {
			require.ErrorIs(t, err, parsers.ErrUnparsable)
			return
		}
		var e event.Event
		if err := winevent.ToECS(rec, &e); err != nil {
			require.ErrorIs(t, err, parsers.ErrUnparsable)
			return
		}
		require.False(t, e.Timestamp.IsZero(), "zero @timestamp")
		_, err = event.Marshal(&e)
		require.NoError(t, err)
		for k, v := range e.Fields {
			require.True(t, utf8.ValidString(k), "invalid UTF-8 in name %q", k)
			switch x := v.(type) {
			case string:
				require.True(t, utf8.ValidString(x), "invalid UTF-8 in %s", k)
			case []string:
				for _, s := range x {
					require.True(t, utf8.ValidString(s), "invalid UTF-8 in %s", k)
				}
			case int64:
			default:
				t.Fatalf("field %s has type %T", k, v)
			}
		}
	})
}
