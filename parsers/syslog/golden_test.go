package syslog_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/japanese"

	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/parsertest"
	"github.com/mamori-soc/mamori/parsers/syslog"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

var update = flag.Bool("update", false, "rewrite testdata/*/expected.{json,err} from the parser's output")

// goldenMeta is testdata/<case>/meta.json. Every key is optional.
type goldenMeta struct {
	Received  time.Time `json:"received"`  // default 2025-01-15T10:00:05+09:00
	Peer      string    `json:"peer"`      // default 192.0.2.10:51514
	Transport string    `json:"transport"` // default udp
	Truncated int64     `json:"truncated"`
	// Encoding, when set to Shift_JIS, EUC-JP or ISO-2022-JP, encodes
	// input.txt (kept in UTF-8 so it stays readable) before parsing.
	Encoding string `json:"encoding"`
}

var defaultReceived = time.Date(2025, 1, 15, 10, 0, 5, 0, time.FixedZone("JST", 9*3600))

// readGolden loads a case: input.txt with one final line feed dropped (an
// input that must end in a line feed ends in two), and meta.json.
func readGolden(t *testing.T, dir string) ([]byte, parsers.Meta) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "input.txt"))
	require.NoError(t, err)
	raw = bytes.TrimSuffix(raw, []byte("\n"))
	gm := goldenMeta{Received: defaultReceived, Peer: "192.0.2.10:51514", Transport: "udp"}
	if b, err := os.ReadFile(filepath.Join(dir, "meta.json")); err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&gm), "meta.json")
	} else {
		require.ErrorIs(t, err, os.ErrNotExist)
	}
	switch gm.Encoding {
	case "":
	case "Shift_JIS":
		raw, err = japanese.ShiftJIS.NewEncoder().Bytes(raw)
	case "EUC-JP":
		raw, err = japanese.EUCJP.NewEncoder().Bytes(raw)
	case "ISO-2022-JP":
		raw, err = japanese.ISO2022JP.NewEncoder().Bytes(raw)
	default:
		t.Fatalf("meta.json: unknown encoding %q", gm.Encoding)
	}
	require.NoError(t, err, "encoding input.txt")
	return raw, parsers.Meta{
		Received:  gm.Received,
		Receiver:  "syslog-udp",
		Peer:      gm.Peer,
		Transport: gm.Transport,
		Truncated: gm.Truncated,
	}
}

// TestGolden runs the parser as the parse stage builds it, with the reader
// of Windows event bodies (the windows_* cases); every other case must read
// as it does without it.
func TestGolden(t *testing.T) {
	p, err := syslog.New(syslog.DefaultConfig(), syslog.WithBodyParsers(winevent.NewSyslogBody()))
	require.NoError(t, err)
	parsertest.Golden(t, p, "testdata", *update, readGolden)
}
