package winevent_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/unicode"

	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/parsertest"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

var update = flag.Bool("update", false, "rewrite testdata/*/expected.{json,err} from the parser's output")

// goldenMeta is testdata/<case>/meta.json. Every key is optional.
type goldenMeta struct {
	// Encoding, when UTF-16LE, encodes input.xml (kept in UTF-8 so it
	// stays readable) as UTF-16 with a byte order mark before parsing, as
	// wevtutil and PowerShell write files.
	Encoding string `json:"encoding"`
}

var testMeta = parsers.Meta{
	Received:  time.Date(2025, 1, 15, 10, 0, 5, 0, time.FixedZone("JST", 9*3600)),
	Receiver:  "wef-http",
	Peer:      "192.0.2.30:50412",
	Transport: "tls",
}

func readGolden(t *testing.T, dir string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "input.xml"))
	require.NoError(t, err)
	var gm goldenMeta
	if b, err := os.ReadFile(filepath.Join(dir, "meta.json")); err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&gm), "meta.json")
	} else {
		require.ErrorIs(t, err, os.ErrNotExist)
	}
	switch gm.Encoding {
	case "":
	case "UTF-16LE":
		raw, err = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(raw)
		require.NoError(t, err)
	default:
		t.Fatalf("meta.json: unknown encoding %q", gm.Encoding)
	}
	return raw
}

// TestGolden parses every testdata/<case>/input.xml and compares the event
// with expected.json, or the error with expected.err.
func TestGolden(t *testing.T) {
	p := winevent.NewXMLParser()
	parsertest.Golden(t, p, "testdata/eventxml", *update, func(t *testing.T, dir string) ([]byte, parsers.Meta) { return readGolden(t, dir), testMeta })
}
